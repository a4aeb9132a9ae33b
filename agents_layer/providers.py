"""Choosing the language model from the environment: OpenAI, Gemini, a model script, or offline.

- `LLM_PROVIDER=openai`: needs `OPENAI_API_KEY`; Responses API model `OPENAI_DEFAULT_MODEL`,
  at `OPENAI_BASE_URL` if set.
- `LLM_PROVIDER=gemini`: needs `GEMINI_API_KEY`; Chat Completions model `GEMINI_DEFAULT_MODEL`,
  at `GEMINI_BASE_URL` if set (default: Gemini's OpenAI-compatible endpoint).
- `LLM_PROVIDER=scripted`: needs `MODEL_SCRIPT`; the script's turns, played by `ScriptedModel`.
- `LLM_PROVIDER=offline`: no model; the app uses its built-in offline model.

A script path (the `script_path` argument, else `MODEL_SCRIPT`) always selects `scripted`, so a
test harness gets a deterministic model whatever provider the shell exports. Without a script
and without LLM_PROVIDER the first key present picks the provider (OpenAI before Gemini), and
with no key the choice is offline. API keys never appear in messages, reprs or descriptions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from agents import set_tracing_disabled
from agents.models.interface import Model
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from agents_layer.model_script import ModelScriptError, load_script
from agents_layer.scripted_model import ScriptedModel
from chatkit_proto.errors import ConfigError

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "DEFAULT_OPENAI_MODEL",
    "GEMINI_OPENAI_BASE_URL",
    "OPENAI_BASE_URL",
    "PROVIDERS",
    "ModelChoice",
    "ProviderConfigError",
    "create_model",
]

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
OPENAI_BASE_URL = "https://api.openai.com/v1"
GEMINI_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
PROVIDERS = ("openai", "gemini", "scripted", "offline")


class ProviderConfigError(ConfigError):
    """The environment does not describe a usable model provider."""


def _safe_url(url: str) -> str:
    """The URL without credentials, query or fragment, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


@dataclass(frozen=True)
class ModelChoice:
    """The model the app runs its agents with, and how it was chosen."""

    provider: str
    """One of PROVIDERS."""
    model_name: str
    """The model's name for display (the script file's name when scripted)."""
    model: Model | None = field(default=None, repr=False)
    """The Agents SDK model; None when offline."""
    offline: bool = False
    """True when the app should use its built-in offline model instead."""
    openai_client: AsyncOpenAI | None = field(default=None, repr=False)
    """The provider's OpenAI-compatible client (e.g. for audio transcription), if any."""
    source: str | None = None
    """Where the model comes from: the API base URL (credentials removed), the script path, or
    why the choice is offline."""

    async def aclose(self) -> None:
        """Close the provider's HTTP client (at app shutdown)."""
        if self.openai_client is not None:
            await self.openai_client.close()

    def describe(self) -> str:
        """A one-line description for the start-up log; never contains a key."""
        if self.offline:
            return f"model provider: offline ({self.source}), using the built-in offline model"
        if self.provider == "scripted":
            return f"model provider: scripted, model script {self.source}"
        return f"model provider: {self.provider}, model {self.model_name} at {self.source}"


def _required(env: Mapping[str, str], name: str, provider: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ProviderConfigError(f"LLM_PROVIDER={provider} needs {name}")
    return value


def _openai(env: Mapping[str, str]) -> ModelChoice:
    api_key = _required(env, "OPENAI_API_KEY", "openai")
    model_name = env.get("OPENAI_DEFAULT_MODEL", "").strip() or DEFAULT_OPENAI_MODEL
    # Passed explicitly so that an explicit `env` is not mixed with os.environ by the client.
    base_url = env.get("OPENAI_BASE_URL", "").strip() or OPENAI_BASE_URL
    if _safe_url(base_url).rstrip("/") != OPENAI_BASE_URL:
        # Traces go to OpenAI's platform with this key; a proxy or replay server is no place
        # to send them from.
        set_tracing_disabled(True)
    client = AsyncOpenAI(api_key=api_key, base_url=base_url)
    return ModelChoice(
        provider="openai",
        model_name=model_name,
        model=OpenAIResponsesModel(model=model_name, openai_client=client),
        openai_client=client,
        source=_safe_url(base_url),
    )


def _gemini(env: Mapping[str, str]) -> ModelChoice:
    api_key = _required(env, "GEMINI_API_KEY", "gemini")
    model_name = env.get("GEMINI_DEFAULT_MODEL", "").strip() or DEFAULT_GEMINI_MODEL
    base_url = env.get("GEMINI_BASE_URL", "").strip() or GEMINI_OPENAI_BASE_URL
    # The SDK's default trace exporter uploads to OpenAI, which a Gemini key cannot do.
    set_tracing_disabled(True)
    client = AsyncOpenAI(api_key=api_key, base_url=base_url)
    return ModelChoice(
        provider="gemini",
        model_name=model_name,
        # Gemini's OpenAI-compatible endpoint speaks Chat Completions, not the Responses API.
        model=OpenAIChatCompletionsModel(model=model_name, openai_client=client),
        openai_client=client,
        source=_safe_url(base_url),
    )


def _scripted(script_path: str) -> ModelChoice:
    try:
        script = load_script(script_path)
    except ModelScriptError as exc:
        raise ProviderConfigError(str(exc)) from exc
    set_tracing_disabled(True)
    return ModelChoice(
        provider="scripted",
        model_name=os.path.basename(script_path),
        model=ScriptedModel(script),
        source=script_path,
    )


def _offline(reason: str) -> ModelChoice:
    set_tracing_disabled(True)
    return ModelChoice(provider="offline", model_name="offline", offline=True, source=reason)


def create_model(
    env: Mapping[str, str] | None = None, *, script_path: str | None = None
) -> ModelChoice:
    """Choose and build the model from `env` (default os.environ); see the module docstring."""
    if env is None:
        env = os.environ
    script = script_path or env.get("MODEL_SCRIPT", "").strip()
    provider = env.get("LLM_PROVIDER", "").strip().lower()
    if script:
        return _scripted(script)
    match provider:
        case "openai":
            return _openai(env)
        case "gemini":
            return _gemini(env)
        case "scripted":
            raise ProviderConfigError(
                "LLM_PROVIDER=scripted needs MODEL_SCRIPT (the path of a model-script JSON file)"
            )
        case "offline":
            return _offline("LLM_PROVIDER=offline")
        case "":
            if env.get("OPENAI_API_KEY", "").strip():
                return _openai(env)
            if env.get("GEMINI_API_KEY", "").strip():
                return _gemini(env)
            return _offline("no LLM_PROVIDER, MODEL_SCRIPT, OPENAI_API_KEY or GEMINI_API_KEY set")
        case _:
            raise ProviderConfigError(
                f"LLM_PROVIDER={provider!r} is not one of: {', '.join(PROVIDERS)}"
            )
