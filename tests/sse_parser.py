"""An independent Server-Sent Events parser, written from the WHATWG HTML "event stream
interpretation" rules, used as the oracle for our SSE framing.

It knows nothing of the codec: it decodes UTF-8 (dropping one leading BOM), splits lines on
CRLF, LF or CR (a CR at the end of one chunk and an LF at the start of the next are one line
end), ignores comment lines (a leading `:`), splits `field: value` (removing one space after
the colon), accumulates `data` lines joined by LF, and dispatches on a blank line. An event
whose data buffer is empty is not dispatched, and an unterminated event at the end of the
stream is discarded.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SSEEvent", "SSEParser", "parse_stream"]

_BOM = "\ufeff"
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event."""

    data: str
    event: str = "message"
    last_event_id: str = ""


class SSEParser:
    """Incremental parser: `feed` chunks of bytes, `close` at the end of the stream."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""  # text not yet ended by a line terminator
        self._started = False  # whether the leading BOM has been dealt with
        self._pending_cr = False  # the previous chunk ended with CR: skip one LF
        self._data: list[str] = []
        self._event_type = ""
        self._last_event_id = ""
        self.retry: int | None = None
        self.comments: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume bytes; return the events they complete."""
        return self._text(self._decoder.decode(chunk))

    def close(self) -> list[SSEEvent]:
        """End of stream: flush the decoder; an unfinished event is discarded."""
        events = self._text(self._decoder.decode(b"", final=True))
        self._buffer = ""
        self._data = []
        self._event_type = ""
        return events

    def _text(self, text: str) -> list[SSEEvent]:
        if not self._started and text:
            self._started = True
            if text.startswith(_BOM):
                text = text[1:]
        if self._pending_cr and text:
            self._pending_cr = False
            if text.startswith("\n"):
                text = text[1:]
        events: list[SSEEvent] = []
        buffer = self._buffer + text
        start = 0
        for match in _LINE_END.finditer(buffer):
            if match.group() == "\r" and match.end() == len(buffer):
                # a CR ending the chunk: the LF that may follow in the next chunk is ours too
                self._pending_cr = True
            event = self._line(buffer[start : match.start()])
            if event is not None:
                events.append(event)
            start = match.end()
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str) -> SSEEvent | None:
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            self.comments.append(line[1:])
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "event":
            self._event_type = value
        elif field == "data":
            self._data.append(value)
        elif field == "id":
            if "\x00" not in value:
                self._last_event_id = value
        elif field == "retry" and value and all("0" <= c <= "9" for c in value):
            self.retry = int(value)
        # any other field name is ignored
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, self._data = self._data, []
        event_type, self._event_type = self._event_type, ""
        if not data:
            return None
        return SSEEvent(
            data="\n".join(data), event=event_type or "message", last_event_id=self._last_event_id
        )


def parse_stream(body: bytes | Iterable[bytes]) -> list[SSEEvent]:
    """Every event of a whole stream, given as bytes or as an iterable of byte chunks."""
    parser = SSEParser()
    chunks = [body] if isinstance(body, bytes | bytearray) else body
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(bytes(chunk)))
    events.extend(parser.close())
    return events
