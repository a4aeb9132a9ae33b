"""What attachments the server accepts: a size cap and a list of MIME types."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidRequest, ProtocolError
from .media_types import MediaType, parse_media_type

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MIME_TYPES = (
    "image/",
    "text/",
    "application/pdf",
    "application/json",
    "audio/",
)


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """A size cap and allowed MIME types (entries ending in `/` are prefixes)."""

    max_bytes: int = DEFAULT_MAX_BYTES
    mime_types: tuple[str, ...] = DEFAULT_MIME_TYPES

    def check(self, size: int, mime_type: str) -> MediaType:
        """Raise a clear error for an attachment the server will not take."""
        self.check_size(size)
        return self.check_type(mime_type)

    def check_type(self, mime_type: str) -> MediaType:
        """The parsed MIME type, if well-formed and accepted; else `InvalidRequest`."""
        media = parse_media_type(mime_type)
        base = media.base
        if not any(base == t or (t.endswith("/") and base.startswith(t)) for t in self.mime_types):
            raise InvalidRequest(f"Attachments of type {base} are not accepted")
        return media

    def check_size(self, size: int) -> None:
        """Raise `payload_too_large` for more bytes than the cap."""
        if size > self.max_bytes:
            raise ProtocolError(
                "payload_too_large", f"Attachments are limited to {self.max_bytes} bytes"
            )
