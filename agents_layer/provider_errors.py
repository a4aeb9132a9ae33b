"""Model provider failures: one clear ChatKit `error` event and one masked log line each.

The openai client raises one exception class per HTTP status or transport failure and the
Agents SDK lets it through unchanged. `classify` names its cause, with a message for the user
that never contains upstream text (which may echo the request's credentials) and a retry flag
that says whether trying again can help. Upstream text goes to the log only, with anything
key-like masked first.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from typing import Literal

from openai import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

from chatkit_proto.errors import CustomStreamError

__all__ = [
    "ProviderCause",
    "ProviderError",
    "ProviderFailure",
    "classify",
    "describe_failure",
    "mask_secrets",
    "provider_error",
    "quiet_sdk_failure_lines",
]

logger = logging.getLogger("agents_layer.provider_errors")

ProviderCause = Literal[
    "credentials",
    "rate_limit",
    "quota",
    "overloaded",
    "timeout",
    "connection",
    "unknown_model",
    "rejected",
    "provider_error",
]

_USER_MESSAGES: dict[ProviderCause, tuple[str, bool]] = {
    "credentials": (
        "The model provider rejected this server's model credentials. "
        "The server's administrator needs to check its API key.",
        False,
    ),
    "rate_limit": ("The model provider is rate-limiting this server. Try again in a moment.", True),
    "quota": ("This server's model provider account has run out of quota.", False),
    "overloaded": ("The model provider is overloaded or failing. Try again in a moment.", True),
    "timeout": ("The model provider did not answer in time. Try again in a moment.", True),
    "connection": ("The server could not reach its model provider. Try again in a moment.", True),
    "unknown_model": (
        "The model provider does not know the model this server is configured to use.",
        False,
    ),
    "rejected": ("The model provider rejected the request.", False),
    "provider_error": ("The model provider failed while answering. Try again.", True),
}

# Gemini's OpenAI-compatible endpoint answers a wrong key with 400 INVALID_ARGUMENT.
_KEY_REJECTED_MARKERS = ("API_KEY_INVALID", "API key not valid")

_SECRETS = (
    (re.compile(r"\bsk-[A-Za-z0-9_\-*]{4,}"), "sk-***"),
    (re.compile(r"\bAIza[A-Za-z0-9_\-]{4,}"), "AIza***"),
    (re.compile(r"\b([Bb]earer|Basic)\s+[^\s\"',;)]{6,}"), r"\1 ***"),
    (re.compile(r"([?&](?:api[_-]?)?key=)[^&\s\"',;)]+", re.IGNORECASE), r"\1***"),
)
_DETAIL_LENGTH = 500


def mask_secrets(text: str) -> str:
    """`text` with API keys (`sk-…`, `AIza…`), bearer tokens and `key=` parameters masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


@dataclass(frozen=True, slots=True)
class ProviderFailure:
    """Why a model call failed: what the user is told, and the masked upstream text."""

    cause: ProviderCause
    message: str
    allow_retry: bool
    detail: str


class ProviderError(CustomStreamError):
    """A model provider failure, raised mid-stream as the `error` event the user sees."""

    def __init__(self, failure: ProviderFailure) -> None:
        super().__init__(failure.message, allow_retry=failure.allow_retry)
        self.failure = failure


def _cause(exc: APIError) -> ProviderCause:
    # Timeout first: APITimeoutError is an APIConnectionError.
    if isinstance(exc, APITimeoutError):
        return "timeout"
    if isinstance(exc, APIConnectionError):
        return "connection"
    if isinstance(exc, AuthenticationError | PermissionDeniedError):
        return "credentials"
    if isinstance(exc, RateLimitError):
        return "quota" if exc.code == "insufficient_quota" else "rate_limit"
    if isinstance(exc, NotFoundError):
        return "unknown_model"
    if isinstance(exc, InternalServerError):
        return "overloaded"
    if isinstance(exc, APIStatusError):
        upstream = str(exc.body)
        if any(marker in upstream for marker in _KEY_REJECTED_MARKERS):
            return "credentials"
        return "rejected"
    return "provider_error"


def _upstream_message(exc: APIStatusError) -> str:
    """The provider's own error message: OpenAI's `{"error": …}`, or Gemini's list of them."""
    body = exc.body
    if isinstance(body, list) and body:
        body = body[0]
    if isinstance(body, dict):
        error = body.get("error", body)
        message = error.get("message") if isinstance(error, dict) else None
        if isinstance(message, str):
            return message
    return exc.message


def _detail(exc: APIError) -> str:
    text = (
        f"HTTP {exc.status_code}: {_upstream_message(exc)}"
        if isinstance(exc, APIStatusError)
        else str(exc)
    )
    if isinstance(exc, APIConnectionError) and exc.__cause__ is not None:
        text = f"{text} ({type(exc.__cause__).__name__}: {exc.__cause__})"
    text = mask_secrets(" ".join(text.split()))
    return text if len(text) <= _DETAIL_LENGTH else f"{text[:_DETAIL_LENGTH]}…"


def classify(exc: BaseException) -> ProviderFailure | None:
    """The failure an openai client exception stands for; None for any other exception."""
    if not isinstance(exc, APIError):
        return None
    cause = _cause(exc)
    message, allow_retry = _USER_MESSAGES[cause]
    return ProviderFailure(cause, message, allow_retry, _detail(exc))


def describe_failure(exc: BaseException) -> str:
    """A one-line, masked description of any exception, fit for a log line."""
    failure = classify(exc)
    if failure is not None:
        return f"{failure.cause}: {failure.detail}"
    return mask_secrets(" ".join(f"{type(exc).__name__}: {exc}".split()))


class _SDKFailureLines(logging.Filter):
    """Drops the Agents SDK's own line about a failed model call that we report ourselves.

    The SDK logs "Error streaming response" / "Error getting response" at ERROR for every
    failed call of its Responses model: a second line per failure, and with
    OPENAI_AGENTS_DONT_LOG_MODEL_DATA=0 a traceback holding the unmasked upstream text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        if not args or not str(args[0]).startswith(_SDK_FAILURE_LINES):
            return True
        # Redacted lines carry no exception; a non-provider one is reported by the pipeline.
        return len(args) > 1 and classify(args[1]) is None  # type: ignore[arg-type]


_SDK_FAILURE_LINES = ("Error streaming response", "Error getting response")
_SDK_FILTER = _SDKFailureLines()


def quiet_sdk_failure_lines() -> None:
    """Leave provider failures to `provider_error`'s one line (idempotent)."""
    logging.getLogger("openai.agents").addFilter(_SDK_FILTER)


def provider_error(exc: BaseException, action: str = "model call") -> ProviderError | None:
    """The `error` to raise for a provider failure, logged once; None for other exceptions.

    The warning names the cause and the masked upstream text; the traceback (frames only:
    the exception's text may hold what the mask missed) is logged at DEBUG.
    """
    failure = classify(exc)
    if failure is None:
        return None
    logger.warning("%s failed (%s): %s", action, failure.cause, failure.detail)
    if logger.isEnabledFor(logging.DEBUG):
        frames = "".join(traceback.format_tb(exc.__traceback__))
        logger.debug("%s failure traceback:\n%s", action, frames)
    return ProviderError(failure)
