"""Attachment uploads: direct (multipart to `/chatkit/upload`) and two-phase (signed URL)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from chatkit_proto.codec import dump_json
from chatkit_proto.errors import InvalidRequest, NotFound
from chatkit_proto.store.base import NotFoundError

from .http import authenticate, read_body, request_context
from .services import services_of


async def direct_upload(request: Request) -> Response:
    """Store a multipart `file` part and answer its attachment record."""
    services = services_of(request)
    ctx = request_context(request, await authenticate(request, services))
    data, name, mime_type = await _multipart_file(request)
    record = services.attachments.record_for_upload(name, mime_type, len(data), ctx)
    await services.attachments.files.write(ctx.user_id, record.id, data)
    await services.store.save_attachment(record, ctx)
    return Response(dump_json(record), media_type="application/json")


async def two_phase_upload(request: Request) -> Response:
    """Store the bytes of an attachment created by `attachments.create`."""
    services = services_of(request)
    attachment_id = request.path_params["attachment_id"]
    owner = request.query_params.get("owner", "")
    token = request.headers.get("x-upload-token", "")
    if not services.attachments.signer.verify("upload", owner, attachment_id, token):
        raise NotFound("Attachment")
    ctx = request_context(request, owner)
    try:
        record = await services.store.load_attachment(attachment_id, ctx)
    except NotFoundError:
        raise NotFound("Attachment") from None
    limits = services.attachments.limits
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        data, _, _ = await _multipart_file(request)
    else:
        data = await read_body(request, limits.max_bytes)
    limits.check(len(data), record.mime_type)
    await services.attachments.files.write(owner, attachment_id, data)
    record.upload_descriptor = None
    await services.store.save_attachment(record, ctx)
    return Response(dump_json(record), media_type="application/json")


async def _multipart_file(request: Request) -> tuple[bytes, str, str]:
    form = await request.form(max_files=1, max_fields=10)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InvalidRequest("Send the file as a multipart part named 'file'")
    data = await upload.read()
    return data, upload.filename or "upload", upload.content_type or "application/octet-stream"
