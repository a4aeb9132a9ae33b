"""Choosing the language model from the environment: OpenAI, Gemini, any OpenAI-compatible
server, a model script, or offline.

- `LLM_PROVIDER=openai`: needs `OPENAI_API_KEY`; Responses API model `OPENAI_DEFAULT_MODEL`,
  at `OPENAI_BASE_URL` if set.
- `LLM_PROVIDER=gemini`: needs `GEMINI_API_KEY`; Chat Completions model `GEMINI_DEFAULT_MODEL`,
  at `GEMINI_BASE_URL` if set (default: Gemini's OpenAI-compatible endpoint).
- `LLM_PROVIDER=openai-compatible`: needs `LLM_BASE_URL` and `LLM_MODEL`; `LLM_API_KEY` if the
  server wants one (else the placeholder `not-needed` is sent, as keyless servers such as
  Ollama or vLLM expect); `LLM_API=chat_completions` (default) or `responses`.
- `LLM_PROVIDER=scripted`: needs `MODEL_SCRIPT`; the script's turns, played by `ScriptedModel`.
- `LLM_PROVIDER=offline`: no model; the app uses its built-in offline model.

Every hosted provider's client waits at most `MODEL_TIMEOUT_SECONDS` (default 60) to connect
and for each next piece of an answer, and retries a failed call `MODEL_MAX_RETRIES` times
(default 2) on connection errors, timeouts, 408/409/429 and 5xx answers.

A script path (the `script_path` argument, else `MODEL_SCRIPT`) always selects `scripted`, so a
test harness gets a deterministic model whatever provider the shell exports. Without a script
and without LLM_PROVIDER the first key present picks the provider (OpenAI before Gemini), and
with no key the choice is offline. API keys never appear in messages, reprs or descriptions.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from agents import set_tracing_disabled
from agents.models.interface import Model
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI

from agents_layer.model_script import ModelScriptError, load_script
from agents_layer.provider_errors import quiet_sdk_failure_lines
from agents_layer.scripted_model import ScriptedModel
from chatkit_proto.errors import ConfigError

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_OPENAI_MODEL",
    "DEFAULT_TIMEOUT_SECONDS",
    "GEMINI_OPENAI_BASE_URL",
    "KEYLESS_API_KEY",
    "OPENAI_BASE_URL",
    "PROVIDERS",
    "ModelApi",
    "ModelChoice",
    "ProviderConfigError",
    "create_model",
]

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
OPENAI_BASE_URL = "https://api.openai.com/v1"
GEMINI_OPENAI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
PROVIDERS = ("openai", "gemini", "openai-compatible", "scripted", "offline")
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_RETRIES = 2
# The openai client refuses to run without a key; servers that need none ignore this one.
KEYLESS_API_KEY = "not-needed"

ModelApi = Literal["responses", "chat_completions"]
_APIS: tuple[ModelApi, ...] = ("responses", "chat_completions")


class ProviderConfigError(ConfigError):
    """The environment does not describe a usable model provider."""


def _safe_url(url: str) -> str:
    """The URL without credentials, query or fragment, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _host(url: str) -> str:
    """The host (and port) of a URL: all a start-up line needs to say where the model is."""
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port is not None else host


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
    api: ModelApi | None = None
    """Which API a hosted model speaks; None when scripted or offline."""

    async def aclose(self) -> None:
        """Close the provider's HTTP client (at app shutdown)."""
        if self.openai_client is not None:
            await self.openai_client.close()

    def describe(self) -> str:
        """A one-line description for the start-up log: provider, model, API and host; no key."""
        if self.offline:
            return f"model provider: offline ({self.source}), using the built-in offline model"
        if self.provider == "scripted":
            return f"model provider: scripted, model script {self.source}"
        return (
            f"model provider: {self.provider}, model {self.model_name}, "
            f"{self.api} API at {_host(self.source or '')}"
        )


def _required(env: Mapping[str, str], name: str, provider: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ProviderConfigError(f"LLM_PROVIDER={provider} needs {name}")
    return value


def _timeout(env: Mapping[str, str]) -> float:
    raw = env.get("MODEL_TIMEOUT_SECONDS", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ProviderConfigError(
            f"MODEL_TIMEOUT_SECONDS must be a positive number of seconds, not {raw!r}"
        )
    return seconds


def _max_retries(env: Mapping[str, str]) -> int:
    raw = env.get("MODEL_MAX_RETRIES", "").strip()
    if not raw:
        return DEFAULT_MAX_RETRIES
    if not raw.isdigit():
        raise ProviderConfigError(f"MODEL_MAX_RETRIES must be a whole number ≥ 0, not {raw!r}")
    return int(raw)


def _hosted(
    env: Mapping[str, str],
    provider: str,
    *,
    api: ModelApi,
    model_name: str,
    base_url: str,
    api_key: str,
) -> ModelChoice:
    """A model behind an OpenAI-compatible HTTP API, with the configured timeout and retries."""
    quiet_sdk_failure_lines()
    # Every argument explicit, so that an explicit `env` is not mixed with os.environ by the
    # client.
    client = AsyncOpenAI(
        api_key=api_key,
        base_url=base_url,
        timeout=_timeout(env),
        max_retries=_max_retries(env),
    )
    model: Model
    if api == "responses":
        model = OpenAIResponsesModel(model=model_name, openai_client=client)
    else:
        model = OpenAIChatCompletionsModel(model=model_name, openai_client=client)
    return ModelChoice(
        provider=provider,
        model_name=model_name,
        model=model,
        openai_client=client,
        source=_safe_url(base_url),
        api=api,
    )


def _openai(env: Mapping[str, str]) -> ModelChoice:
    api_key = _required(env, "OPENAI_API_KEY", "openai")
    base_url = env.get("OPENAI_BASE_URL", "").strip() or OPENAI_BASE_URL
    if _safe_url(base_url).rstrip("/") != OPENAI_BASE_URL:
        # Traces go to OpenAI's platform with this key; a proxy or replay server is no place
        # to send them from.
        set_tracing_disabled(True)
    return _hosted(
        env,
        "openai",
        api="responses",
        model_name=env.get("OPENAI_DEFAULT_MODEL", "").strip() or DEFAULT_OPENAI_MODEL,
        base_url=base_url,
        api_key=api_key,
    )


def _gemini(env: Mapping[str, str]) -> ModelChoice:
    api_key = _required(env, "GEMINI_API_KEY", "gemini")
    # The SDK's default trace exporter uploads to OpenAI, which a Gemini key cannot do.
    set_tracing_disabled(True)
    return _hosted(
        env,
        "gemini",
        # Gemini's OpenAI-compatible endpoint speaks Chat Completions, not the Responses API.
        api="chat_completions",
        model_name=env.get("GEMINI_DEFAULT_MODEL", "").strip() or DEFAULT_GEMINI_MODEL,
        base_url=env.get("GEMINI_BASE_URL", "").strip() or GEMINI_OPENAI_BASE_URL,
        api_key=api_key,
    )


def _openai_compatible(env: Mapping[str, str]) -> ModelChoice:
    provider = "openai-compatible"
    base_url = _required(env, "LLM_BASE_URL", provider)
    model_name = _required(env, "LLM_MODEL", provider)
    api = env.get("LLM_API", "").strip().lower() or "chat_completions"
    if api not in _APIS:
        raise ProviderConfigError(f"LLM_API={api!r} is not one of: {', '.join(_APIS)}")
    # Traces would go to OpenAI's platform, which the server's key (if any) is not for.
    set_tracing_disabled(True)
    return _hosted(
        env,
        provider,
        api="responses" if api == "responses" else "chat_completions",
        model_name=model_name,
        base_url=base_url,
        api_key=env.get("LLM_API_KEY", "").strip() or KEYLESS_API_KEY,
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
        case "openai-compatible":
            return _openai_compatible(env)
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
