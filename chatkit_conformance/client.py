"""An async ChatKit client that talks to a server the way the ChatKit widget does.

Every protocol call is a JSON `POST` to one URL. Streaming requests are accepted only as a
2xx `text/event-stream` answer; a 4xx/5xx answer surfaces the `message` of its JSON error
body. In a notebook::

    async with ChatKitClient("http://127.0.0.1:8000/chatkit") as client:
        events = [event async for event in client.create_thread("Hello")]
        thread = await client.get_thread(events[0].thread.id)

Leaving an `async for` over a stream early does not close the connection until the
generator is closed; wrap it in `contextlib.aclosing(...)` to cancel (the Stop button).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from chatkit_proto.attachments import Attachment
from chatkit_proto.codec import dump_json
from chatkit_proto.errors import ChatKitError
from chatkit_proto.events import ThreadStreamEvent
from chatkit_proto.items import ThreadItem
from chatkit_proto.requests import STREAMING_TYPES
from chatkit_proto.threads import Page, Thread

RequestLike = BaseModel | Mapping[str, Any]
"""A request model (`ThreadsCreateReq`, ...) or the equivalent JSON object."""

_EVENT_ADAPTER: TypeAdapter[ThreadStreamEvent] = TypeAdapter(ThreadStreamEvent)
_ATTACHMENT_ADAPTER: TypeAdapter[Attachment] = TypeAdapter(Attachment)
_END_OF_LINE = re.compile(r"\r\n|\r|\n")

M = TypeVar("M", bound=BaseModel)


class ClientError(ChatKitError):
    """Base of every error the client raises for an answer it cannot use."""

    code = "client.unusable_answer"
    status = 502


class ChatKitHTTPError(ClientError):
    """A 4xx/5xx answer; `message` is what the widget would show."""

    def __init__(self, status: int, message: str, code: str | None, body: Any) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.code = code or f"http_{status}"
        self.body = body


class ChatKitProtocolError(ClientError):
    """An answer that breaks the protocol: wrong content type, bad JSON, a cut-off stream."""


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a `content-type` header, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def encode_request(request: RequestLike) -> bytes:
    """The compact JSON body for a request model or object."""
    if isinstance(request, BaseModel):
        return dump_json(request)
    return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class SSEMessage:
    """One dispatched SSE message; `end` is its end offset in the decoded stream text."""

    data: str
    end: int


class SSEDecoder:
    """An incremental parser of `text/event-stream` bodies, as the HTML standard defines it.

    Chunks may be split anywhere (inside a UTF-8 sequence or between `\\r` and `\\n`). Only
    `data` matters to ChatKit: `event`, `id` and `retry` fields are parsed and ignored.
    A message is dispatched on a blank line; data not followed by one is discarded at EOF.
    """

    def __init__(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._data: list[str] = []
        self._offset = 0
        self._started = False
        self._skip_lf = False

    def feed_bytes(self, chunk: bytes) -> list[SSEMessage]:
        """Feed raw body bytes; return the messages they complete."""
        return self.feed(self._utf8.decode(chunk))

    def feed(self, chunk: str) -> list[SSEMessage]:
        """Feed decoded text; return the messages it completes."""
        if not self._started and chunk:
            self._started = True
            if chunk.startswith("\ufeff"):
                chunk = chunk[1:]
                self._offset += 1
        if self._skip_lf and chunk:
            # A `\r` that ended the previous chunk already ended the line; its `\n` is not
            # a second (blank) line.
            self._skip_lf = False
            if chunk.startswith("\n"):
                chunk = chunk[1:]
                self._offset += 1
        text = self._pending + chunk
        base = self._offset - len(self._pending)
        messages: list[SSEMessage] = []
        start = 0
        for match in _END_OF_LINE.finditer(text):
            if match.end() == len(text) and match.group() == "\r":
                self._skip_lf = True
            message = self._line(text[start : match.start()], base + match.end())
            if message is not None:
                messages.append(message)
            start = match.end()
        self._pending = text[start:]
        self._offset += len(chunk)
        return messages

    def _line(self, line: str, end: int) -> SSEMessage | None:
        if not line:
            if not self._data:
                return None
            data = "\n".join(self._data)
            self._data = []
            return SSEMessage(data, end)
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        return None


class ChatKitClient:
    """A ChatKit protocol client: JSON `POST`s to one URL, SSE answers parsed into events."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = url
        self.headers = {"content-type": "application/json", **(headers or {})}
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client, unless it was handed in by the caller."""
        if self._owns_http:
            await self._http.aclose()

    # -- the two shapes of the protocol ------------------------------------------------------

    async def request(self, request: RequestLike) -> Any:
        """Send a non-streaming request; return its parsed JSON answer."""
        kind = _request_type(request)
        if kind in STREAMING_TYPES:
            raise ValueError(f"{kind} is a streaming request: use stream()")
        response = await self._http.post(
            self.url, content=encode_request(request), headers=self.headers
        )
        _raise_for_status(response.status_code, response.content)
        if media_type(response.headers.get("content-type")) != "application/json":
            raise ChatKitProtocolError(
                f"expected application/json, got {response.headers.get('content-type')!r}"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ChatKitProtocolError(f"the answer is not valid JSON: {exc}") from None

    async def stream(self, request: RequestLike) -> AsyncGenerator[ThreadStreamEvent, None]:
        """Send a streaming request; yield its events as they arrive."""
        body = encode_request(request)
        async with self._http.stream("POST", self.url, content=body, headers=self.headers) as r:
            if r.status_code >= 300:
                _raise_for_status(r.status_code, await r.aread())
            content_type = r.headers.get("content-type")
            if media_type(content_type) != "text/event-stream":
                # The widget re-sends such a request, so treating it as an answer would hide
                # a server bug (DEVIATIONS "Errors").
                raise ChatKitProtocolError(f"expected text/event-stream, got {content_type!r}")
            decoder = SSEDecoder()
            try:
                async for chunk in r.aiter_bytes():
                    for message in decoder.feed_bytes(chunk):
                        yield _parse_event(message.data)
            except httpx.TransportError as exc:
                raise ChatKitProtocolError(f"the stream was cut off: {exc}") from exc

    async def upload(self, url: str, filename: str, data: bytes, mime_type: str) -> Any:
        """Upload bytes as the multipart `file` part (direct or two-phase); return the JSON."""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-type"}
        response = await self._http.post(
            url, files={"file": (filename, data, mime_type)}, headers=headers
        )
        _raise_for_status(response.status_code, response.content)
        if media_type(response.headers.get("content-type")) == "application/json":
            return response.json()
        return None

    # -- conveniences ------------------------------------------------------------------------

    def create_thread(
        self, text: str, *, attachments: Sequence[str] = ()
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """Start a thread with a text message; yield the answer's events."""
        return self.stream(
            {"type": "threads.create", "params": {"input": _user_input(text, attachments)}}
        )

    def add_user_message(
        self, thread_id: str, text: str, *, attachments: Sequence[str] = ()
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """Add a text message to a thread; yield the answer's events."""
        params = {"thread_id": thread_id, "input": _user_input(text, attachments)}
        return self.stream({"type": "threads.add_user_message", "params": params})

    def add_client_tool_output(
        self, thread_id: str, result: Any
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """Complete the pending client tool call; yield the answer's events."""
        params = {"thread_id": thread_id, "result": result}
        return self.stream({"type": "threads.add_client_tool_output", "params": params})

    async def get_thread(self, thread_id: str) -> Thread:
        """Load a thread with its first page of items."""
        body = await self.request({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
        return _validate(Thread, body)

    async def list_threads(
        self,
        *,
        limit: int | None = None,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
    ) -> Page[Thread]:
        """List the caller's threads."""
        params = _without_none({"limit": limit, "order": order, "after": after})
        body = await self.request({"type": "threads.list", "params": params})
        return _validate(Page[Thread], body)

    async def list_items(
        self,
        thread_id: str,
        *,
        limit: int | None = None,
        order: Literal["asc", "desc"] = "desc",
        after: str | None = None,
    ) -> Page[ThreadItem]:
        """List a thread's items."""
        params = _without_none(
            {"thread_id": thread_id, "limit": limit, "order": order, "after": after}
        )
        body = await self.request({"type": "items.list", "params": params})
        return _validate(Page[ThreadItem], body)

    async def update_thread(self, thread_id: str, title: str) -> Thread:
        """Rename a thread."""
        params = {"thread_id": thread_id, "title": title}
        return _validate(Thread, await self.request({"type": "threads.update", "params": params}))

    async def delete_thread(self, thread_id: str) -> None:
        """Delete a thread."""
        await self.request({"type": "threads.delete", "params": {"thread_id": thread_id}})

    async def create_attachment(self, name: str, size: int, mime_type: str) -> Attachment:
        """Start a two-phase upload; the attachment carries its `upload_descriptor`."""
        params = {"name": name, "size": size, "mime_type": mime_type}
        body = await self.request({"type": "attachments.create", "params": params})
        try:
            return _ATTACHMENT_ADAPTER.validate_python(body)
        except ValidationError as exc:
            raise ChatKitProtocolError(f"unexpected attachment: {exc}") from None


def _request_type(request: RequestLike) -> object:
    if isinstance(request, BaseModel):
        return getattr(request, "type", None)
    return request.get("type")


def _user_input(text: str, attachments: Sequence[str]) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": list(attachments),
        "inference_options": {},
    }


def _without_none(params: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in params.items() if value is not None}


def _validate(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ChatKitProtocolError(f"unexpected {model.__name__}: {exc}") from None


def _parse_event(data: str) -> ThreadStreamEvent:
    try:
        return _EVENT_ADAPTER.validate_json(data)
    except ValidationError as exc:
        raise ChatKitProtocolError(f"invalid stream event {data[:200]!r}: {exc}") from None


def _raise_for_status(status: int, content: bytes) -> None:
    if status < 400:
        return
    text = content.decode("utf-8", errors="replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        code = body.get("code")
        raise ChatKitHTTPError(
            status, body["message"], code if isinstance(code, str) else None, body
        )
    raise ChatKitHTTPError(status, text.strip()[:500] or f"HTTP {status}", None, body)


__all__ = [
    "ChatKitClient",
    "ChatKitError",
    "ChatKitHTTPError",
    "ChatKitProtocolError",
    "RequestLike",
    "SSEDecoder",
    "SSEMessage",
    "encode_request",
    "media_type",
]
