"""Errors: one root, the JSON error body of DEVIATIONS D1-D15, and the exceptions that carry it.

Every error of ours derives from `ChatKitError`, which carries a machine-readable `code`, a
message a person understands, and the HTTP status it would answer with.
"""

from __future__ import annotations

from typing import Literal

from ._base import ProtoModel

ErrorCode = Literal[
    "invalid_request",
    "not_found",
    "unauthorized",
    "forbidden",
    "conflict",
    "payload_too_large",
    "rate_limited",
    "internal",
    "store.unavailable",
]

STATUS_OF_CODE: dict[str, int] = {
    "invalid_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "payload_too_large": 413,
    "rate_limited": 429,
    "internal": 500,
    "store.unavailable": 503,
}


class ErrorDetail(ProtoModel):
    """One validation problem: where it is in the request body, and what it is."""

    path: str
    message: str


class ErrorBody(ProtoModel):
    """The JSON body of every 4xx/5xx answer; `message` is shown to the user by the client."""

    message: str
    code: ErrorCode
    details: list[ErrorDetail] | None = None


class ChatKitError(Exception):
    """The root of every error this project raises."""

    code: str = "internal"
    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProtocolError(ChatKitError):
    """A request that cannot be answered normally; becomes an error body before any SSE byte."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        details: list[ErrorDetail] | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.status = STATUS_OF_CODE[code]
        self.details = details
        self.retry_after = retry_after

    def body(self) -> ErrorBody:
        """The JSON body to answer with."""
        return ErrorBody(message=self.message, code=self.code, details=self.details)


class InvalidRequest(ProtocolError):
    """The body is not a valid request (D1) or the request cannot start (D3, D4)."""

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__("invalid_request", message, details)


class NotFound(ProtocolError):
    """A thread, item or attachment the caller cannot see (D2): never says whose it is."""

    def __init__(self, what: str) -> None:
        super().__init__("not_found", f"{what} not found")


class Conflict(ProtocolError):
    """The thread is already streaming a response (D15)."""

    def __init__(self, message: str) -> None:
        super().__init__("conflict", message)


class ConfigError(ChatKitError, ValueError):
    """A setting, script or configuration file the server cannot start with."""

    code = "config.invalid"


class StoreUnavailable(ProtocolError):
    """The database cannot be reached just now: a 503 the client may retry (with Retry-After)."""

    def __init__(self) -> None:
        super().__init__(
            "store.unavailable",
            "The server cannot reach its database right now. Try again in a moment.",
            retry_after=1,
        )


class StreamError(ChatKitError):
    """Raised by a responder mid-stream: becomes `{"type":"error","code":code}` (SPEC §11.2)."""

    def __init__(self, code: str = "stream.error", *, allow_retry: bool | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.allow_retry = allow_retry if allow_retry is not None else code == "stream.error"


class CustomStreamError(ChatKitError):
    """Raised by a responder mid-stream: becomes an `error` event showing `message` as is."""

    code = "stream.custom"

    def __init__(self, message: str, *, allow_retry: bool = False) -> None:
        super().__init__(message)
        self.allow_retry = allow_retry
