"""MIME types parsed strictly: parameters handled, CR/LF and malformed types refused."""

from __future__ import annotations

import pytest

from chatkit_proto.attachment_limits import AttachmentLimits
from chatkit_proto.errors import InvalidRequest
from chatkit_proto.media_types import MediaType, parse_media_type


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("image/png", MediaType("image", "png")),
        ("IMAGE/PNG", MediaType("image", "png")),
        ("image/svg+xml; charset=utf-8", MediaType("image", "svg+xml", (("charset", "utf-8"),))),
        ('text/plain; Charset="UTF-8"', MediaType("text", "plain", (("charset", "UTF-8"),))),
        ("application/pdf ; a=1; b=2", MediaType("application", "pdf", (("a", "1"), ("b", "2")))),
    ],
)
def test_well_formed_types_parse(text: str, expected: MediaType) -> None:
    assert parse_media_type(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "png", "image/", "/png", "a/b/c", "image/p ng", "text/plain\r\nX: 1", "text/plain\n",
     "text/\x00plain", "t\u00e9xt/plain", 'text/plain; a="b', "text/plain; charset", "x/" + "y" * 300],
)  # fmt: skip
def test_malformed_types_are_refused(text: str) -> None:
    with pytest.raises(InvalidRequest):
        parse_media_type(text)


@pytest.mark.parametrize(
    ("text", "inline"),
    [("image/png", True), ("image/svg+xml", False), ("IMAGE/SVG+XML; charset=utf-8", False),
     ("image/foo+xml", False), ("text/html", False), ("application/pdf", False)],
)  # fmt: skip
def test_only_raster_images_render_inline(text: str, inline: bool) -> None:
    assert parse_media_type(text).renders_inline is inline


def test_limits_check_the_parsed_base_type() -> None:
    limits = AttachmentLimits(mime_types=("image/", "application/pdf"))
    assert limits.check(10, "application/pdf; version=1.7").base == "application/pdf"
    with pytest.raises(InvalidRequest):
        limits.check(10, "application/pdfx")
    with pytest.raises(InvalidRequest):
        limits.check(10, "image/png\r\nSet-Cookie: a=b")
