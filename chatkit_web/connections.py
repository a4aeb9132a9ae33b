"""Connections under uvicorn: deadlines for headers and for slow readers, and a cap.

uvicorn closes an idle keep-alive connection, but not one that never sends a request, nor one
that sends its headers a byte at a time, nor one that stops reading its response; and its
`limit_concurrency` counts idle connections, so idle sockets would turn real requests away.
Here every connection must complete its request headers within `header_timeout` seconds of
connecting (or of its first byte after a response); a connection whose writes stay blocked
for `send_timeout` seconds (the client reads nothing) is dropped, which the application sees
as a disconnect, so a stream ends as a cancel does and keeps its partial answer (D9); and
once `max_connections` are open a new connection closes the longest-idle ones: idle sockets
never keep a real request from being served. Request headers are capped at
`MAX_HEADER_BYTES` (httptools itself buffers any amount).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from http import HTTPStatus
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from chatkit_proto.codec import encode_body
from chatkit_proto.errors import InvalidRequest, ProtocolError

logger = logging.getLogger("chatkit.server")

HEADERS_TOO_LARGE = "The request headers are too large."

RESERVED_DESCRIPTORS = 64
"""File descriptors kept for the store, attachment files and logs beyond the connections."""

MAX_HEADER_BYTES = 64 * 1024
"""Bytes a request line and headers may take (counted by network read, so up to one more)."""


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration plus the connection rules of `GuardedProtocol`."""

    def __init__(
        self,
        app: Any,
        *,
        header_timeout: float,
        send_timeout: float | None,
        max_connections: int,
        **options: Any,
    ) -> None:
        super().__init__(app, http=GuardedProtocol, **options)
        self.header_timeout = header_timeout
        self.send_timeout = send_timeout
        self.max_connections = max_connections


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header and send deadlines and idle-first shedding."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        assert isinstance(config, ServerConfig)
        self.header_timeout = config.header_timeout
        self.send_timeout = config.send_timeout
        self.max_connections = config.max_connections
        self.idle_since = self.loop.time()
        self._header_timer: asyncio.TimerHandle | None = None
        self._send_timer: asyncio.TimerHandle | None = None
        self._in_headers = True
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the header deadline, and make room if the server is at its cap."""
        super().connection_made(transport)
        self._arm_header_timer()
        self._shed_idle()

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the deadlines."""
        self._disarm_header_timer()
        self._disarm_send_timer()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The client is not keeping up: it has `send_timeout` seconds to read again."""
        super().pause_writing()
        if self.send_timeout and self._send_timer is None:
            self._send_timer = self.loop.call_later(self.send_timeout, self._reader_too_slow)

    def resume_writing(self) -> None:
        """The client reads again."""
        self._disarm_send_timer()
        super().resume_writing()

    def data_received(self, data: bytes) -> None:
        """The first byte of a new request starts its header deadline; headers are capped."""
        if self._header_timer is None and self.awaiting_request():
            self._arm_header_timer()
        counted = self._in_headers
        if counted:
            self._header_bytes += len(data)
        super().data_received(data)
        if counted and self._in_headers and self._header_bytes > MAX_HEADER_BYTES:
            self._refuse(431, ProtocolError("headers_too_large", HEADERS_TOO_LARGE))

    def on_headers_complete(self) -> None:
        """Headers arrived in time; the body has its own deadline (`BodyDeadline`)."""
        self._disarm_header_timer()
        self._in_headers = False
        self._header_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """What follows a request is the headers of the next."""
        self._in_headers = True
        super().on_message_complete()

    def on_response_complete(self) -> None:
        """The connection is idle from now on, until its next request."""
        self.idle_since = self.loop.time()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """Bytes that are not HTTP: the JSON error body (not uvicorn's text), then close."""
        self._refuse(400, InvalidRequest("The request is not valid HTTP/1.1"))

    def _refuse(self, status: int, error: ProtocolError) -> None:
        if self.transport.is_closing():
            return
        body = encode_body(error.body())
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, HTTPStatus(status).phrase.encode(), len(body), body)
        )
        self.transport.close()

    def awaiting_request(self) -> bool:
        """No request of this connection is being served or queued."""
        return (self.cycle is None or self.cycle.response_complete) and not self.pipeline

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.awaiting_request() and not self.transport.is_closing():
            self.transport.close()

    def _disarm_send_timer(self) -> None:
        if self._send_timer is not None:
            self._send_timer.cancel()
            self._send_timer = None

    def _reader_too_slow(self) -> None:
        self._send_timer = None
        logger.warning("connection dropped: the client read nothing for %ss", self.send_timeout)
        # abort, not close: close would wait for the unread buffer to drain, which never comes.
        self.transport.abort()

    def _shed_idle(self) -> None:
        open_ = [c for c in self.connections if not _closing(c)]
        excess = len(open_) - self.max_connections
        if excess <= 0:
            return
        idle = sorted(
            (c for c in open_ if isinstance(c, GuardedProtocol) and c is not self),
            key=lambda c: c.idle_since,
        )
        idle = [c for c in idle if c.awaiting_request()][:excess]
        for connection in idle:
            connection.transport.close()
        if len(idle) < excess:
            # Every other connection is serving a request: this one cannot be taken on.
            logger.warning("connection refused: %d connections are busy", len(open_) - 1)
            self.transport.close()


def _closing(connection: object) -> bool:
    transport = getattr(connection, "transport", None)
    return transport is None or transport.is_closing()


def connection_cap(wanted: int) -> int:
    """Raise the descriptor limit toward `wanted` connections; the cap that fits under it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + RESERVED_DESCRIPTORS
    if soft != resource.RLIM_INFINITY and soft < needed:
        ceiling = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        if ceiling > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
            soft = ceiling
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    cap = max(1, soft - RESERVED_DESCRIPTORS)
    logger.warning("only %d connections fit in %d file descriptors (wanted %d)", cap, soft, wanted)
    return cap
