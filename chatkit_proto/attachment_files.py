"""Attachment bytes on the local disk, behind signed upload and download URLs."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import anyio

from .attachments import (
    Attachment,
    AttachmentCreateParams,
    FileAttachment,
    ImageAttachment,
    UploadDescriptor,
)
from .context import RequestContext
from .errors import InvalidRequest, ProtocolError
from .ids import new_attachment_id

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MIME_TYPES = (
    "image/",
    "text/",
    "application/pdf",
    "application/json",
    "audio/",
)
PREVIEW_TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """What the server accepts: a size cap and allowed MIME types (prefixes end in `/`)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    mime_types: tuple[str, ...] = DEFAULT_MIME_TYPES

    def check(self, size: int, mime_type: str) -> None:
        """Raise a clear error for an attachment the server will not take."""
        if size > self.max_bytes:
            raise ProtocolError(
                "payload_too_large", f"Attachments are limited to {self.max_bytes} bytes"
            )
        base = mime_type.split(";", 1)[0].strip().lower()
        if not any(base == t or (t.endswith("/") and base.startswith(t)) for t in self.mime_types):
            raise InvalidRequest(f"Attachments of type {base or 'unknown'} are not accepted")


class LocalAttachments:
    """Stores attachment bytes under a directory, one folder per user.

    Upload and download URLs carry an HMAC signature over the owner and the attachment id,
    because the browser fetches image previews without the app's auth headers.
    """

    def __init__(self, root: Path, secret: bytes, limits: AttachmentLimits | None = None) -> None:
        self.root = root
        self.secret = secret
        self.limits = limits or AttachmentLimits()

    # -- AttachmentService -------------------------------------------------------------------

    async def create(self, params: AttachmentCreateParams, ctx: RequestContext) -> Attachment:
        """A record for a two-phase upload, with a signed upload URL of our own."""
        self.limits.check(params.size, params.mime_type)
        attachment_id = new_attachment_id()
        token = self.sign("upload", ctx.user_id, attachment_id)
        descriptor = UploadDescriptor(
            url=f"{_base(ctx)}/chatkit/upload/{attachment_id}?{urlencode({'owner': ctx.user_id})}",
            method="POST",
            headers={"x-upload-token": token},
        )
        return self._record(attachment_id, params.name, params.mime_type, ctx, descriptor)

    async def delete(self, attachment: Attachment, ctx: RequestContext) -> None:
        """Delete the stored bytes, if any."""
        path = self.path(ctx.user_id, attachment.id)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    # -- uploads and downloads ---------------------------------------------------------------

    def record_for_upload(
        self, name: str, mime_type: str, size: int, ctx: RequestContext
    ) -> Attachment:
        """A record for a direct upload (no upload descriptor)."""
        self.limits.check(size, mime_type)
        return self._record(new_attachment_id(), name, mime_type, ctx, None)

    async def write(self, owner: str, attachment_id: str, data: bytes) -> None:
        """Store the bytes of an attachment, atomically."""
        path = self.path(owner, attachment_id)

        def _write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            os.replace(partial, path)

        await anyio.to_thread.run_sync(_write)

    def path(self, owner: str, attachment_id: str) -> Path:
        """Where the bytes of an attachment live; names are hashed so no input forms a path."""
        folder = hashlib.sha256(owner.encode()).hexdigest()[:32]
        name = hashlib.sha256(attachment_id.encode()).hexdigest()[:32]
        return self.root / folder / name

    def sign(self, purpose: str, owner: str, attachment_id: str, expires: int = 0) -> str:
        """An HMAC over what a URL grants, so it cannot be forged or moved to another file."""
        message = f"{purpose}\n{owner}\n{attachment_id}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def verify(
        self, purpose: str, owner: str, attachment_id: str, signature: str, expires: int = 0
    ) -> bool:
        """Check a signature made by `sign`, and that it has not expired."""
        if expires and expires < time.time():
            return False
        expected = self.sign(purpose, owner, attachment_id, expires)
        return hmac.compare_digest(expected, signature)

    def download_url(self, owner: str, attachment_id: str, base_url: str) -> str:
        """A signed, expiring URL for the bytes of an attachment."""
        expires = int(time.time()) + PREVIEW_TTL_SECONDS
        signature = self.sign("download", owner, attachment_id, expires)
        query = urlencode({"owner": owner, "expires": expires, "sig": signature})
        return f"{base_url}/chatkit/files/{attachment_id}?{query}"

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


def _base(ctx: RequestContext) -> str:
    return (ctx.base_url or "").rstrip("/")
