"""Server-Sent Events responses for the protocol server's streams."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse, SendTimeoutError
from starlette.types import Message, Receive, Scope, Send

from chatkit_proto.dispatch import StreamResult

from .logs import log_request

logger = logging.getLogger("chatkit.server")


class EventStream(EventSourceResponse):
    """sse-starlette's response (pings, disconnects, shutdown) with a cheap send timeout.

    sse-starlette's own `send_timeout` opens a cancel scope around every send, which costs
    more per frame than the rest of its work together. Here a send only notes when it began;
    a watchdog task ends the response once one has been blocked for `send_timeout` seconds
    (a client that stopped reading). The stream then ends as a cancellation does: the
    pipeline persists the partial answer (D9).
    """

    def __init__(self, *args: Any, send_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stall_limit = send_timeout
        self._sends = 0
        self._blocked_since = 0.0
        if send_timeout:
            self.data_sender_callable = self._watch_sends

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream; a client that stopped reading is let go with one warning."""
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            logger.warning("stream ended: the client read nothing for %ss", self.stall_limit)

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        if self._sends == 0:
            self._blocked_since = time.monotonic()
        self._sends += 1
        try:
            await send(message)
        finally:
            self._sends -= 1

    async def _watch_sends(self) -> None:
        limit = self.stall_limit or 0.0
        while True:
            await anyio.sleep(limit / 4)
            if self._sends and time.monotonic() - self._blocked_since > limit:
                raise SendTimeoutError()


class PingComment(ServerSentEvent):
    """A bare `: ping` comment line (D10): no blank line follows, so nothing is dispatched."""

    def encode(self) -> bytes:
        """The comment line."""
        return b": ping\n"


def event_stream(
    result: StreamResult, started: float, ping_seconds: float, send_timeout: float | None = None
) -> EventStream:
    """The SSE response for a stream, logged when it ends."""
    frames = _logged(result.frames, result.request_type, result.thread_id, started)
    if not ping_seconds:
        return EventStream(frames, sep="\n", ping=0, send_timeout=send_timeout)
    return EventStream(
        frames,
        sep="\n",
        ping=ping_seconds,
        ping_message_factory=PingComment,
        send_timeout=send_timeout,
    )


async def _logged(
    frames: AsyncIterator[bytes], request_type: str | None, thread_id: str | None, started: float
) -> AsyncIterator[bytes]:
    outcome = "cancelled"
    try:
        async for frame in frames:
            yield frame
        outcome = "completed"
    finally:
        # Closed mid-stream (a disconnect, a send timeout), close the pipeline too, at once:
        # it persists the partial answer now, not whenever the generator is collected.
        aclose = getattr(frames, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()
        log_request(request_type, thread_id, 200, started, outcome)
