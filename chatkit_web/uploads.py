"""Attachment uploads: direct (multipart to `/chatkit/upload`) and two-phase (signed URL).

Bytes go to storage as they arrive, capped as they come: no upload is ever held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from starlette.requests import Request
from starlette.responses import Response

from chatkit_proto.attachments import Attachment
from chatkit_proto.codec import dump_json
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import Conflict, InvalidRequest, NotFound, ProtocolError
from chatkit_proto.store.base import NotFoundError

from .http import authenticate, body_chunks, request_context
from .multipart import open_file_part
from .services import Services, services_of

ALREADY_UPLOADED = "This attachment's file has already been uploaded"


async def direct_upload(request: Request) -> Response:
    """Store a multipart `file` part and answer its attachment record."""
    services = services_of(request)
    ctx = request_context(request, await authenticate(request, services))
    attachments = services.attachments
    part = await open_file_part(request, attachments.limits.max_bytes)
    record = attachments.record_for_upload(part.filename, part.content_type, ctx)
    await attachments.files.write_stream(ctx.user_id, record.id, part.chunks)
    await _save(services, record, ctx)
    return Response(dump_json(record), media_type="application/json")


async def two_phase_upload(request: Request) -> Response:
    """Store the bytes of an attachment created by `attachments.create`, once, before expiry."""
    services = services_of(request)
    attachment_id = request.path_params["attachment_id"]
    owner, size = _granted(request, services, attachment_id)
    ctx = request_context(request, owner)
    try:
        record = await services.store.load_attachment(attachment_id, ctx)
    except NotFoundError:
        raise NotFound("Attachment") from None
    if record.upload_descriptor is None:
        raise Conflict(ALREADY_UPLOADED)
    limit = services.attachments.limits.max_bytes
    if request.headers.get("content-type", "").lower().startswith("multipart/"):
        chunks = (await open_file_part(request, limit)).chunks
    else:
        chunks = body_chunks(request, limit)
    files = services.attachments.files
    try:
        await files.write_stream(owner, attachment_id, _declared(chunks, size), replace=False)
    except FileExistsError:
        raise Conflict(ALREADY_UPLOADED) from None
    record.upload_descriptor = None
    await _save(services, record, ctx)
    return Response(dump_json(record), media_type="application/json")


def _granted(request: Request, services: Services, attachment_id: str) -> tuple[str, int]:
    """The owner and declared size an upload URL grants; 404 if forged, altered or expired."""
    query = request.query_params
    owner = query.get("owner", "")
    size, expires = _int(query.get("size", "")), _int(query.get("expires", ""))
    token = request.headers.get("x-upload-token", "")
    if size < 0 or not services.attachments.verify_upload(
        owner, attachment_id, size, expires, token
    ):
        raise NotFound("Attachment")
    return owner, size


async def _declared(chunks: AsyncIterator[bytes], size: int) -> AsyncIterator[bytes]:
    """Exactly the `size` bytes declared at `attachments.create`, or an error before storing."""
    received = 0
    async for chunk in chunks:
        received += len(chunk)
        if received > size:
            raise ProtocolError(
                "payload_too_large", f"This upload is larger than the {size} bytes declared"
            )
        yield chunk
    if received != size:
        raise InvalidRequest(f"This upload has {received} bytes, not the {size} declared")


async def _save(services: Services, record: Attachment, ctx: RequestContext) -> None:
    """Save the record; without it the stored bytes are unreachable, so they go too."""
    try:
        await services.store.save_attachment(record, ctx)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await services.attachments.files.delete(ctx.user_id, record.id)
        raise


def _int(text: str) -> int:
    # ASCII digits only, and few enough for int(): anything else grants nothing.
    return int(text) if text.isascii() and text.isdigit() and len(text) < 20 else -1
