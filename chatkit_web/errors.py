"""One way to answer an error on every route: the protocol's JSON error body."""

from __future__ import annotations

import logging

from python_multipart.exceptions import FormParserError
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from chatkit_proto.dispatch import NonStreamingResult, error_result
from chatkit_proto.errors import ErrorCode, ProtocolError

logger = logging.getLogger("chatkit.server")

_CODE_OF_STATUS: dict[int, ErrorCode] = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limited",
}
MALFORMED_FORM = "The form body is malformed"
INTERNAL = "Something went wrong on the server."


def json_response(result: NonStreamingResult) -> Response:
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
    fallback: ErrorCode = "internal" if exc.status_code >= 500 else "invalid_request"
    code = _CODE_OF_STATUS.get(exc.status_code, fallback)
    message = exc.detail if isinstance(exc.detail, str) else "The request cannot be served"
    response = error_response(ProtocolError(code, message))
    response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def form_error_handler(request: Request, exc: Exception) -> Response:
    """A malformed form or multipart body parsed by Starlette or python-multipart: a 400."""
    assert isinstance(exc, MultiPartException | FormParserError)
    return error_response(ProtocolError("invalid_request", MALFORMED_FORM))


async def disconnect_handler(request: Request, exc: Exception) -> Response:
    """The client left while its body was being read: nobody is there to read an answer."""
    return Response(status_code=499)


async def internal_error_handler(request: Request, exc: Exception) -> Response:
    """Any other exception: a generic 500 JSON body (D8), no internals; logged by the server."""
    return error_response(ProtocolError("internal", INTERNAL))


EXCEPTION_HANDLERS = {
    ProtocolError: protocol_error_handler,
    HTTPException: http_error_handler,
    MultiPartException: form_error_handler,
    FormParserError: form_error_handler,
    ClientDisconnect: disconnect_handler,
    Exception: internal_error_handler,
}
"""Every handler, for `Starlette(exception_handlers=...)`."""
