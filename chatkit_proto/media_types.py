"""MIME types as clients declare them, parsed strictly so that no header built from one breaks."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import ContentTypeHeader, HeaderRegistry

from .errors import InvalidRequest

MAX_LENGTH = 255
_REGISTRY = HeaderRegistry()


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed `type/subtype; name=value` (type and subtype lower-cased)."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...] = ()

    @property
    def base(self) -> str:
        """`type/subtype` without parameters."""
        return f"{self.type}/{self.subtype}"

    @property
    def renders_inline(self) -> bool:
        """Whether a browser may show it in place: raster images only, never SVG or XML."""
        return self.type == "image" and not self.subtype.endswith("+xml")


def parse_media_type(text: str) -> MediaType:
    """Parse a declared MIME type; `InvalidRequest` for anything a header could not carry."""
    # CR/LF would split a response header; other controls and non-ASCII have no place here.
    if not text or len(text) > MAX_LENGTH or not all(" " <= c <= "~" or c == "\t" for c in text):
        raise _invalid(text)
    header = _REGISTRY("content-type", text)
    assert isinstance(header, ContentTypeHeader)
    if header.defects:
        raise _invalid(text)
    params = tuple((name.lower(), str(value)) for name, value in header.params.items())
    return MediaType(header.maintype, header.subtype, params)


def _invalid(text: str) -> InvalidRequest:
    shown = text if len(text) <= 60 else text[:60] + "..."
    return InvalidRequest(f"{shown!r} is not a MIME type such as text/plain or image/png")
