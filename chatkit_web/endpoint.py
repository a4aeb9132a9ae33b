"""`POST /chatkit`: the protocol's one endpoint, JSON or a stream of Server-Sent Events."""

from __future__ import annotations

import time

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from chatkit_proto.dispatch import JSONResult, error_result
from chatkit_proto.errors import ProtocolError

from .errors import json_response
from .http import authenticate, read_body, request_context
from .logs import log_request
from .services import services_of
from .streaming import event_stream


async def chatkit_endpoint(request: Request) -> Response:
    """Answer one protocol request."""
    services = services_of(request)
    started = time.perf_counter()
    try:
        user_id = authenticate(request, services)
        body = await read_body(request, services.config.max_request_bytes)
    except ProtocolError as exc:
        return _logged(error_result(exc), started)
    except ClientDisconnect:
        return Response(status_code=499)
    result = await services.server.process(body, request_context(request, user_id))
    if isinstance(result, JSONResult):
        return _logged(result, started)
    return event_stream(result, started, services.config.ping_seconds)


def _logged(result: JSONResult, started: float) -> Response:
    log_request(result.request_type, result.thread_id, result.status, started)
    return json_response(result)
