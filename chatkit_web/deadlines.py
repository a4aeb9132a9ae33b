"""A deadline for request bodies: a client that stalls or trickles gets a 408 and is closed.

The deadline starts at `seconds` when the application first reads the body, and each chunk
that arrives extends it by the time that chunk takes at `MIN_BODY_RATE`, so a large upload
on a slow link is fine while a body sent a byte at a time cannot hold a connection for long.
"""

from __future__ import annotations

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chatkit_proto.errors import ProtocolError

MIN_BODY_RATE = 16 * 1024
"""Bytes per second a request body must keep up, on average, once its first `seconds` pass."""

SLOW_BODY = "The request body arrived too slowly. Try again."


class BodyDeadline:
    """Pure ASGI middleware: reading the body past its deadline raises `request_timeout`."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request with a timed `receive`."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = TimedBody(receive, send, self.seconds)
        await self.app(scope, body.receive, body.send)


class TimedBody:
    """The `receive` and `send` of one request, with the body's deadline between them."""

    __slots__ = ("_deadline", "_done", "_receive", "_seconds", "_send", "expired")

    def __init__(self, receive: Receive, send: Send, seconds: float) -> None:
        self._receive = receive
        self._send = send
        self._seconds = seconds
        self._deadline: float | None = None
        self._done = False
        self.expired = False

    async def receive(self) -> Message:
        """The next body chunk, within the deadline; after the body, as the server gives it."""
        if self._done:
            return await self._receive()
        now = anyio.current_time()
        if self._deadline is None:
            self._deadline = now + self._seconds
        try:
            with anyio.fail_after(max(0.0, self._deadline - now)):
                message = await self._receive()
        except TimeoutError:
            self.expired = True
            raise ProtocolError("request_timeout", SLOW_BODY) from None
        if message["type"] == "http.request" and message.get("more_body", False):
            self._deadline += len(message.get("body", b"")) / MIN_BODY_RATE
        else:
            self._done = True
        return message

    async def send(self, message: Message) -> None:
        """Pass a message on; the answer to an expired body also closes the connection."""
        if self.expired and message["type"] == "http.response.start":
            headers = [*message.get("headers", ()), (b"connection", b"close")]
            message = {**message, "headers": headers}
        await self._send(message)
