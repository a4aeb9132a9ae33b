"""Provider failures: causes, user messages, retry flags, masking, and the SDK's duplicate line."""

from __future__ import annotations

import logging

import httpx2
import pytest
from openai import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)

from agents_layer.provider_errors import (
    ProviderError,
    classify,
    describe_failure,
    mask_secrets,
    provider_error,
    quiet_sdk_failure_lines,
)
from chatkit_proto.errors import CustomStreamError

REQUEST = httpx2.Request("POST", "https://api.example/v1/chat/completions")


def status_error(cls: type[APIError], status: int, body: object) -> APIError:
    response = httpx2.Response(status, request=REQUEST, json=body)
    return cls(f"Error code: {status}", response=response, body=body)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Incorrect API key provided: sk-proj-AbC123xyz.", "Incorrect API key provided: sk-***."),
        ("key AIzaSyA-1234567890_abc is invalid", "key AIza*** is invalid"),
        ("Authorization: Bearer eyJhbGci.eyJzdWIi.sig, then", "Authorization: Bearer ***, then"),
        ("GET /v1/models?key=AIzaXYZ&alt=json", "GET /v1/models?key=***&alt=json"),
        ("(https://h/v1?api_key=s3cr3t)", "(https://h/v1?api_key=***)"),
        (
            "a task-list; sk- alone; basic words; the bearer of news",
            "a task-list; sk- alone; basic words; the bearer of news",
        ),
    ],
)
def test_mask_secrets(text: str, masked: str) -> None:
    assert mask_secrets(text) == masked


@pytest.mark.parametrize(
    ("exc", "cause", "allow_retry"),
    [
        (status_error(AuthenticationError, 401, {"message": "bad key"}), "credentials", False),
        (status_error(PermissionDeniedError, 403, {"message": "no"}), "credentials", False),
        (
            status_error(
                BadRequestError,
                400,
                [{"error": {"message": "API key not valid.", "status": "INVALID_ARGUMENT"}}],
            ),
            "credentials",
            False,
        ),
        (status_error(RateLimitError, 429, {"code": "rate_limit_exceeded"}), "rate_limit", True),
        (status_error(RateLimitError, 429, {"code": "insufficient_quota"}), "quota", False),
        (status_error(InternalServerError, 503, {"message": "overloaded"}), "overloaded", True),
        (status_error(NotFoundError, 404, {"message": "no such model"}), "unknown_model", False),
        (status_error(BadRequestError, 400, {"message": "too long"}), "rejected", False),
        (APITimeoutError(request=REQUEST), "timeout", True),
        (APIConnectionError(request=REQUEST), "connection", True),
        (APIError("stream broke", REQUEST, body=None), "provider_error", True),
    ],
)
def test_classify_names_the_cause(exc: APIError, cause: str, allow_retry: bool) -> None:
    failure = classify(exc)
    assert failure is not None
    assert (failure.cause, failure.allow_retry) == (cause, allow_retry)
    assert failure.message and "Error code" not in failure.message


def test_the_detail_is_the_providers_own_message_masked() -> None:
    gemini = status_error(
        BadRequestError, 400, [{"error": {"message": "API key not valid: AIzaSyLeaked123"}}]
    )
    failure = classify(gemini)
    assert failure is not None and failure.detail == "HTTP 400: API key not valid: AIza***"


def test_other_exceptions_are_not_provider_failures() -> None:
    assert classify(ValueError("x")) is None
    assert provider_error(ValueError("x")) is None
    assert describe_failure(ValueError("key sk-abcdef123\nmore")) == "ValueError: key sk-*** more"
    assert describe_failure(APITimeoutError(request=REQUEST)) == "timeout: Request timed out."


def test_provider_error_is_a_custom_stream_error_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    error = provider_error(status_error(RateLimitError, 429, {"message": "slow down sk-abcdef12"}))
    assert isinstance(error, ProviderError) and isinstance(error, CustomStreamError)
    assert error.allow_retry is True and error.failure.cause == "rate_limit"
    (record,) = caplog.records
    assert record.getMessage() == "model call failed (rate_limit): HTTP 429: slow down sk-***"


def test_the_sdks_own_line_about_a_provider_failure_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet_sdk_failure_lines()
    quiet_sdk_failure_lines()  # idempotent
    sdk = logging.getLogger("openai.agents")
    assert sdk.filters.count(sdk.filters[-1]) == 1
    failure = APITimeoutError(request=REQUEST)
    sdk.error("%s", "Error streaming response")
    sdk.error("%s: %s", "Error getting response", failure)
    sdk.error("%s: %s", "Error streaming response", ValueError("a bug of ours"))
    sdk.error("Unexpected error in output guardrails")
    assert [record.getMessage() for record in caplog.records] == [
        "Error streaming response: a bug of ours",
        "Unexpected error in output guardrails",
    ]
