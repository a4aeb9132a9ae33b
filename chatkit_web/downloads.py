"""`GET /chatkit/files/{id}`: attachment bytes behind a signed, expiring URL."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

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
    data = await services.attachments.files.read(owner, attachment_id)
    if data is None:
        raise NotFound("Attachment")
    media = _media_type(record.mime_type)
    inline = media is not None and media.renders_inline
    headers = {
        **_SAFE_HEADERS,
        "content-disposition": content_disposition(
            "inline" if inline else "attachment", record.name
        ),
    }
    media_type = record.mime_type if media is not None else "application/octet-stream"
    return Response(data, media_type=media_type, headers=headers)


def content_disposition(kind: str, filename: str) -> str:
    """The header naming the file, RFC 6266 style: plain when it can be, else UTF-8 encoded."""
    encoded = quote(filename)
    if encoded != filename:
        return f"{kind}; filename*=utf-8''{encoded}"
    return f'{kind}; filename="{filename}"'


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
