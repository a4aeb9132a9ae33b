"""Server-Sent Events framing: one `data:` line per event, nothing else (SPEC §1.4)."""

from __future__ import annotations

FRAME_PREFIX = b"data: "
FRAME_SUFFIX = b"\n\n"


def frame(payload: bytes) -> bytes:
    """Wrap one compact JSON object (which never holds a raw newline) as an SSE frame."""
    return FRAME_PREFIX + payload + FRAME_SUFFIX
