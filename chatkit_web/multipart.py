"""The `file` part of a multipart/form-data upload, read as it arrives and never held whole."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from chatkit_proto.errors import InvalidRequest, ProtocolError

from .http import body_chunks

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FIELD = "file"
MAX_PARTS = 16
MAX_OVERHEAD_BYTES = 64 * 1024
"""Bytes of a body that are not the file: boundaries, part headers, other fields."""

# python-multipart logs every malformed body as a warning; the client gets a 400 instead.
_PARSER_LOG = logging.getLogger("chatkit.multipart")
_PARSER_LOG.setLevel(logging.ERROR)

NO_FILE = "Send the file as a multipart/form-data part named 'file'"
MALFORMED = "The multipart/form-data body is malformed"


@dataclass(frozen=True, slots=True)
class FilePart:
    """The `file` part: its declared name and type, and its bytes as they arrive."""

    filename: str
    content_type: str
    chunks: AsyncIterator[bytes]


@dataclass(slots=True)
class _Headers:
    values: dict[bytes, bytes]


@dataclass(slots=True)
class _Data:
    data: bytes


@dataclass(slots=True)
class _End:
    """The part is complete."""


_Event = _Headers | _Data | _End


async def open_file_part(request: Request, max_bytes: int) -> FilePart:
    """Read up to the `file` part's data; its bytes beyond `max_bytes` raise 413 as they come."""
    reader = _Reader(request, max_bytes + MAX_OVERHEAD_BYTES)
    while True:
        event = await reader.next()
        if event is None:
            raise InvalidRequest(NO_FILE)
        if isinstance(event, _Headers) and _field_name(event.values) == FIELD:
            filename, content_type = _describe(event.values)
            return FilePart(filename, content_type, _file_data(reader, max_bytes))
        if isinstance(event, _Data):
            reader.count_overhead(len(event.data))


async def _file_data(reader: _Reader, max_bytes: int) -> AsyncIterator[bytes]:
    size = 0
    while True:
        event = await reader.next()
        if isinstance(event, _End):
            return
        if not isinstance(event, _Data):
            raise InvalidRequest("The upload ended before the file did")
        size += len(event.data)
        if size > max_bytes:
            raise ProtocolError(
                "payload_too_large", f"Attachments are limited to {max_bytes} bytes"
            )
        yield event.data


@dataclass(slots=True)
class _Parts:
    """python-multipart's callbacks, turned into a queue of events."""

    events: deque[_Event] = field(default_factory=deque)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    name: bytearray = field(default_factory=bytearray)
    value: bytearray = field(default_factory=bytearray)
    count: int = 0

    def on_part_begin(self) -> None:
        self.count += 1
        if self.count > MAX_PARTS:
            raise InvalidRequest(f"A multipart upload may have at most {MAX_PARTS} parts")
        self.headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[bytes(self.name).lower()] = bytes(self.value)
        self.name.clear()
        self.value.clear()

    def on_headers_finished(self) -> None:
        self.events.append(_Headers(self.headers))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        self.events.append(_Data(data[start:end]))

    def on_part_end(self) -> None:
        self.events.append(_End())


class _Reader:
    """Feeds the request body to a streaming multipart parser, one network read at a time."""

    def __init__(self, request: Request, max_body_bytes: int) -> None:
        self._chunks = body_chunks(request, max_body_bytes)
        self._parts = _Parts()
        self._parser = MultipartParser(_boundary(request), _callbacks(self._parts))
        self._parser.logger = _PARSER_LOG
        self._overhead = 0

    async def next(self) -> _Event | None:
        """The next event, or None when the body has ended."""
        events = self._parts.events
        while not events:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                return None
            try:
                self._parser.write(chunk)
            except FormParserError:
                raise InvalidRequest(MALFORMED) from None
        return events.popleft()

    def count_overhead(self, size: int) -> None:
        """Account for bytes of parts other than the file; too many is a 413."""
        self._overhead += size
        if self._overhead > MAX_OVERHEAD_BYTES:
            raise ProtocolError(
                "payload_too_large",
                f"Parts other than 'file' are limited to {MAX_OVERHEAD_BYTES} bytes",
            )


def _callbacks(parts: _Parts) -> MultipartCallbacks:
    return {
        "on_part_begin": parts.on_part_begin,
        "on_header_field": parts.on_header_field,
        "on_header_value": parts.on_header_value,
        "on_header_end": parts.on_header_end,
        "on_headers_finished": parts.on_headers_finished,
        "on_part_data": parts.on_part_data,
        "on_part_end": parts.on_part_end,
    }


def _boundary(request: Request) -> bytes:
    kind, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise InvalidRequest(NO_FILE)
    if len(boundary) > 70:
        # RFC 2046 §5.1.1 caps boundaries at 70 characters.
        raise InvalidRequest(MALFORMED)
    return boundary


def _field_name(headers: dict[bytes, bytes]) -> str | None:
    _, options = parse_options_header(headers.get(b"content-disposition"))
    name = options.get(b"name")
    return None if name is None else name.decode("utf-8", "replace")


def _describe(headers: dict[bytes, bytes]) -> tuple[str, str]:
    _, options = parse_options_header(headers.get(b"content-disposition"))
    filename = options.get(b"filename", b"").decode("utf-8", "replace") or "upload"
    content_type = headers.get(b"content-type", b"").decode("latin-1").strip()
    return filename, content_type or "application/octet-stream"
