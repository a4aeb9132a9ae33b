"""`POST /chatkit`: the protocol's one endpoint, JSON or a stream of Server-Sent Events."""

from __future__ import annotations

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from chatkit_proto.dispatch import NonStreamingResult, error_result
from chatkit_proto.errors import ProtocolError

from .errors import json_response
from .http import authenticate, read_body, request_context
from .request_log import note_of
from .services import services_of
from .streaming import event_stream


async def chatkit_endpoint(request: Request) -> Response:
    """Answer one protocol request."""
    services = services_of(request)
    try:
        identity = await authenticate(request, services)
        body = await read_body(request, services.config.max_request_bytes)
        slot = services.limiter.claim_stream(identity.user_id, body)
    except ProtocolError as exc:
        return json_response(error_result(exc))
    except ClientDisconnect:
        return Response(status_code=499)
    try:
        result = await services.server.process(body, request_context(request, identity))
    except BaseException:
        slot.release()
        raise
    note = note_of(request)
    note.request_type, note.thread_id = result.request_type, result.thread_id
    if isinstance(result, NonStreamingResult):
        slot.release()
        return json_response(result)
    return event_stream(slot.holding(result), services.config.ping_seconds)
