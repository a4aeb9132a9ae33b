"""Reading requests: the caller, the request context, and bodies within their limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from chatkit_proto.context import RequestContext
from chatkit_proto.errors import ProtocolError

from .auth import Identity
from .request_log import note_of
from .services import Services


async def authenticate(request: Request, services: Services) -> Identity:
    """The authenticated caller, within their rate limit; raises `ProtocolError`."""
    identity = await services.auth.identify(request)
    note_of(request).user_id = identity.user_id
    await services.limiter.check_request(identity.user_id)
    return identity


def request_context(request: Request, caller: Identity | str) -> RequestContext:
    """The protocol's context for a request of an authenticated caller (or a URL's signer)."""
    identity = caller if isinstance(caller, Identity) else Identity(caller)
    note_of(request).user_id = identity.user_id
    return RequestContext(
        user_id=identity.user_id,
        locale=request.headers.get("accept-language"),
        base_url=base_url(request),
        claims=identity.claims,
        tenant_id=identity.tenant_id,
    )


def base_url(request: Request) -> str:
    """The public root of this server as the client reached it (cheaper than `base_url`)."""
    scope = request.scope
    host = request.headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes as soon as that is known."""
    if _declared_length(request, limit) is not None:
        # The server enforces the declared length, so the body can be read in one go.
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def body_chunks(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives, refusing more than `limit` bytes before holding them."""
    _declared_length(request, limit)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        if chunk:
            yield chunk


def _declared_length(request: Request, limit: int) -> int | None:
    declared = request.headers.get("content-length")
    if declared is None or not (declared.isascii() and declared.isdigit()):
        return None
    if len(declared) > 18 or int(declared) > limit:
        raise _too_large(limit)
    return int(declared)


def _too_large(limit: int) -> ProtocolError:
    return ProtocolError("payload_too_large", f"Request bodies are limited to {limit} bytes")
