"""One way to answer an error on every route: the protocol's JSON error body."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from chatkit_proto.dispatch import JSONResult, error_result
from chatkit_proto.errors import ErrorCode, ProtocolError

logger = logging.getLogger("chatkit.server")

_CODE_OF_STATUS: dict[int, ErrorCode] = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
}


def json_response(result: JSONResult) -> Response:
    """A JSON answer of the protocol server as an HTTP response."""
    return Response(
        result.body,
        status_code=result.status,
        media_type="application/json",
        headers=result.headers,
    )


def error_response(error: ProtocolError) -> Response:
    """The JSON error body for a request that could not run."""
    return json_response(error_result(error))


async def protocol_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's handler for `ProtocolError` raised on any route."""
    assert isinstance(exc, ProtocolError)
    return error_response(exc)


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 and friends, as the protocol's JSON error body."""
    assert isinstance(exc, HTTPException)
    code = _CODE_OF_STATUS.get(exc.status_code, "invalid_request")
    message = exc.detail if isinstance(exc.detail, str) else "The request cannot be served"
    response = error_response(ProtocolError(code, message))
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response
