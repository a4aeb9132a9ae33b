"""`GET /chatkit/files/{id}`: attachment bytes behind a signed, expiring URL."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from chatkit_proto.errors import InvalidRequest, NotFound
from chatkit_proto.media_types import MediaType, parse_media_type
from chatkit_proto.store.base import NotFoundError

from .http import request_context
from .services import services_of

# User-supplied bytes served from our origin: never let a browser run them.
_SAFE_HEADERS = {"x-content-type-options": "nosniff", "content-security-policy": "sandbox"}


async def download(request: Request) -> Response:
    """Serve the bytes of an attachment to whoever holds a valid signed URL."""
    services = services_of(request)
    attachment_id = request.path_params["attachment_id"]
    owner = request.query_params.get("owner", "")
    expires = _int(request.query_params.get("expires", "0"))
    signature = request.query_params.get("sig", "")
    signer = services.attachments.signer
    if not expires or not signer.verify("download", owner, attachment_id, signature, expires):
        raise NotFound("Attachment")
    try:
        record = await services.store.load_attachment(
            attachment_id, request_context(request, owner)
        )
    except NotFoundError:
        raise NotFound("Attachment") from None
    path = services.attachments.files.path(owner, attachment_id)
    if not path.exists():
        raise NotFound("Attachment")
    media = _media_type(record.mime_type)
    return FileResponse(
        path,
        media_type=record.mime_type if media is not None else "application/octet-stream",
        filename=record.name,
        content_disposition_type="inline" if media and media.renders_inline else "attachment",
        headers=_SAFE_HEADERS,
    )


def _media_type(text: str) -> MediaType | None:
    """The parsed type of a stored record; None for one saved before types were checked."""
    try:
        return parse_media_type(text)
    except InvalidRequest:
        return None


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
