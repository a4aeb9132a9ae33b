"""Server-Sent Events responses for the protocol server's streams."""

from __future__ import annotations

from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse
from starlette.types import Message, Send

from chatkit_proto.dispatch import StreamResult


class EventStream(EventSourceResponse):
    """sse-starlette's response (pings, disconnects, shutdown), minus one idle cost per frame."""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        # Without a send timeout, the cancel scope sse-starlette opens around every send is
        # a no-op that still costs microseconds per frame, the largest share of its overhead.
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)


class PingComment(ServerSentEvent):
    """A bare `: ping` comment line (D10): no blank line follows, so nothing is dispatched."""

    def encode(self) -> bytes:
        """The comment line."""
        return b": ping\n"


def event_stream(result: StreamResult, ping_seconds: float) -> EventStream:
    """The SSE response for a stream (the request log notes how it ended)."""
    if not ping_seconds:
        return EventStream(result.frames, sep="\n", ping=0)
    return EventStream(result.frames, sep="\n", ping=ping_seconds, ping_message_factory=PingComment)
