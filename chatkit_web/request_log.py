"""The request log: a pure ASGI middleware writing exactly one line per HTTP request.

It gives each request an id (a sane incoming `X-Request-ID`, else a new one) that is sent
back as `x-request-id`, times the request, reads the status from `http.response.start` and,
for a stream, whether its final body message went out (completed) or not (cancelled).
Routes add what only they know (user, request type, thread) to the request's `RequestNote`.
"""

from __future__ import annotations

import logging
import re
import secrets
import time

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import CURRENT_REQUEST, RequestNote, log_request

NOTE_KEY = "chatkit.request_note"
REQUEST_ID_HEADER = b"x-request-id"
QUIET_PATHS = frozenset({"/healthz"})
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class RequestLogMiddleware:
    """Wraps the application: one log line per request, and the request id header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request and log it once it is over, however it ends."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        note = RequestNote(request_id_of(scope), scope["method"], scope["path"])
        scope.setdefault("state", {})[NOTE_KEY] = note
        reset = CURRENT_REQUEST.set(note)
        watch = _ResponseWatch(send, note.request_id.encode())
        started = time.perf_counter()
        try:
            await self.app(scope, receive, watch)
        finally:
            level = logging.DEBUG if note.path in QUIET_PATHS else logging.INFO
            ms = (time.perf_counter() - started) * 1000
            log_request(note, watch.status, ms, watch.outcome(), level)
            CURRENT_REQUEST.reset(reset)


class _ResponseWatch:
    """The `send` of a request, noting what went out and adding the request id header."""

    def __init__(self, send: Send, request_id: bytes) -> None:
        self.send = send
        self.request_id = request_id
        self.status = 500
        self.streaming = False
        self.finished = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            self.status = message["status"]
            self.streaming = any(
                name.lower() == b"content-type" and value.startswith(b"text/event-stream")
                for name, value in headers
            )
            headers.append((REQUEST_ID_HEADER, self.request_id))
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
        await self.send(message)

    def outcome(self) -> str | None:
        """For a stream, whether it ran to its end; None for other responses."""
        if not self.streaming:
            return None
        return "completed" if self.finished else "cancelled"


def request_id_of(scope: Scope) -> str:
    """The client's `X-Request-ID` if it is short and plain, else a new random id."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            text: str = value.decode("latin-1")
            if _SANE_ID.fullmatch(text):
                return text
            break
    return secrets.token_hex(16)


def note_of(request: Request) -> RequestNote:
    """The note of a request, for a route to add what it knows (outside the middleware: a blank)."""
    state = request.scope.setdefault("state", {})
    note = state.get(NOTE_KEY)
    if not isinstance(note, RequestNote):
        note = state[NOTE_KEY] = RequestNote(request_id="-")
    return note
