"""Server-Sent Events responses for the protocol server's streams."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse
from starlette.types import Message, Send

from chatkit_proto.dispatch import StreamingResult
from chatkit_proto.streams import StreamControl

SHUTDOWN_GRACE_SECONDS = 5.0
"""How long a stream may take to send its final `error` frame once the server shuts down."""


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


class StopOnShutdown:
    """Stops a stream when sse-starlette sees the server shut down.

    Left alone, sse-starlette cancels every stream at shutdown and the client gets no last
    frame. Given this event and a grace period it waits instead, while the stream, stopped
    here, sends its final `error` event and ends by itself.
    """

    def __init__(self, control: StreamControl) -> None:
        self.control = control
        self.shutdown = anyio.Event()

    async def watch(self) -> None:
        """Run beside the stream (sse-starlette cancels it when the stream ends)."""
        await self.shutdown.wait()
        self.control.stop()


def event_stream(result: StreamingResult, ping_seconds: float) -> EventStream:
    """The SSE response for a stream (the request log notes how it ended)."""
    frames = _closing(result.frames)
    ping = PingComment if ping_seconds else None
    if result.control is None:
        return EventStream(frames, sep="\n", ping=ping_seconds, ping_message_factory=ping)
    stopper = StopOnShutdown(result.control)
    return EventStream(
        frames,
        sep="\n",
        ping=ping_seconds,
        ping_message_factory=ping,
        data_sender_callable=stopper.watch,
        shutdown_event=stopper.shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )


async def _closing(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for frame in frames:
            yield frame
    finally:
        # Closed mid-stream (sse-starlette closes us when a send fails), close the pipeline
        # too, at once: it persists the partial answer now, not whenever it is collected.
        aclose = getattr(frames, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()
