"""Attachment records whose bytes this server keeps, behind signed upload and download URLs."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from chatkit_proto.attachment_limits import AttachmentLimits
from chatkit_proto.attachments import (
    Attachment,
    AttachmentCreateParams,
    FileAttachment,
    ImageAttachment,
    UploadDescriptor,
)
from chatkit_proto.context import RequestContext
from chatkit_proto.ids import new_attachment_id
from chatkit_stores.files import AttachmentFiles

from .signing import URLSigner

UPLOAD_PATH = "/chatkit/upload/{attachment_id}"
DIRECT_UPLOAD_PATH = "/chatkit/upload"
FILES_PATH = "/chatkit/files/{attachment_id}"
PREVIEW_TTL_SECONDS = 7 * 24 * 3600
UPLOAD_TTL_SECONDS = 3600


class HostedAttachments:
    """The `AttachmentService` of the server: bytes in `files`, URLs signed by `signer`."""

    def __init__(
        self, files: AttachmentFiles, signer: URLSigner, limits: AttachmentLimits | None = None
    ) -> None:
        self.files = files
        self.signer = signer
        self.limits = limits or AttachmentLimits()

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        """A record for a two-phase upload, with a signed upload URL of our own."""
        params, ctx = input, context
        self.limits.check(params.size, params.mime_type)
        attachment_id = new_attachment_id()
        expires = int(time.time()) + UPLOAD_TTL_SECONDS
        token = self.signer.sign(_upload_purpose(params.size), ctx.user_id, attachment_id, expires)
        path = UPLOAD_PATH.format(attachment_id=attachment_id)
        query = urlencode({"owner": ctx.user_id, "expires": expires, "size": params.size})
        descriptor = UploadDescriptor(
            url=f"{_base(ctx)}{path}?{query}",
            method="POST",
            headers={"x-upload-token": token},
        )
        return self._record(attachment_id, params.name, params.mime_type, ctx, descriptor)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Delete the stored bytes, if any."""
        await self.files.delete(context.user_id, attachment_id)

    def verify_upload(
        self, owner: str, attachment_id: str, size: int, expires: int, token: str
    ) -> bool:
        """Whether `token` grants uploading `size` bytes to the attachment, and is still valid."""
        purpose = _upload_purpose(size)
        return bool(expires) and self.signer.verify(purpose, owner, attachment_id, token, expires)

    def record_for_upload(self, name: str, mime_type: str, ctx: RequestContext) -> Attachment:
        """A record for a direct upload (no upload descriptor); its size is capped as it arrives."""
        self.limits.check_type(mime_type)
        return self._record(new_attachment_id(), name, mime_type, ctx, None)

    def present_attachment(self, attachment: Attachment, context: RequestContext) -> Attachment:
        """An image's preview URL signed afresh, so previews in old threads keep loading."""
        if not isinstance(attachment, ImageAttachment):
            return attachment
        url = self.download_url(context.user_id, attachment.id, _base(context))
        return attachment.model_copy(update={"preview_url": url})

    def download_url(self, owner: str, attachment_id: str, base_url: str) -> str:
        """A signed, expiring URL for the bytes of an attachment."""
        expires = int(time.time()) + PREVIEW_TTL_SECONDS
        signature = self.signer.sign("download", owner, attachment_id, expires)
        query = urlencode({"owner": owner, "expires": expires, "sig": signature})
        return f"{base_url}{FILES_PATH.format(attachment_id=attachment_id)}?{query}"

    def _record(
        self,
        attachment_id: str,
        name: str,
        mime_type: str,
        ctx: RequestContext,
        descriptor: UploadDescriptor | None,
    ) -> Attachment:
        if mime_type.lower().startswith("image/"):
            return ImageAttachment(
                id=attachment_id,
                name=name,
                mime_type=mime_type,
                upload_descriptor=descriptor,
                preview_url=self.download_url(ctx.user_id, attachment_id, _base(ctx)),
            )
        return FileAttachment(
            id=attachment_id, name=name, mime_type=mime_type, upload_descriptor=descriptor
        )


def _upload_purpose(size: int) -> str:
    # The declared size is signed with the grant, so an upload cannot claim more room.
    return f"upload {size}"


def _base(ctx: RequestContext) -> str:
    return (ctx.base_url or "").rstrip("/")
