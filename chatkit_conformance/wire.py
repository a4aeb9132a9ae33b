"""Exchanges with a server under test: send one body, read the whole answer as it came."""

from __future__ import annotations

import asyncio
import codecs
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from .client import SSEDecoder, encode_request, media_type
from .compare import ABSENT
from .templates import capture, matches, substitute
from .transcript import CapturePath, DisconnectAfter

JSON_HEADERS = {"content-type": "application/json"}
CANCELLATION_WAIT_SECONDS = 5.0
_POLL_INTERVAL = 0.05


@dataclass(slots=True)
class Answer:
    """Everything observable about one HTTP answer."""

    status: int
    content_type: str
    headers: dict[str, str]
    events: list[Any] | None = None
    raw: str | None = None
    response: Any = ABSENT
    response_text: str | None = None
    transport_error: str | None = None
    client_disconnected: bool = False

    @property
    def is_stream(self) -> bool:
        """True for a `text/event-stream` answer."""
        return media_type(self.content_type) == "text/event-stream"

    @property
    def has_response(self) -> bool:
        """True when the body was parsed as JSON."""
        return self.response is not ABSENT


class Request(Protocol):
    """The request side of an exchange, shared by transcripts and request scripts."""

    note: str
    request_template: Any
    request_raw: str | None
    captures: dict[str, CapturePath] | None
    disconnect_after: DisconnectAfter | None


@dataclass(slots=True)
class Step:
    """One performed exchange: what was sent, what came back, what it bound."""

    request: Any
    body: bytes
    answer: Answer
    bound: dict[str, Any] = field(default_factory=dict)
    settled: bool = True
    """False when a disconnected stream's cancellation could not be seen within the wait."""


async def perform(
    http: httpx.AsyncClient, url: str, exchange: Request, variables: dict[str, Any]
) -> Step:
    """Fill the template, send it, wait out a disconnect, bind the captures into `variables`.

    Raises `TemplateError` for a missing variable or a capture path that leads nowhere.
    """
    if exchange.request_template is None and exchange.request_raw is not None:
        request: Any = None
        body = exchange.request_raw.encode()
    else:
        request = substitute(exchange.request_template, variables)
        body = encode_request(request)
    answer = await send(http, url, body, exchange.disconnect_after)
    step = Step(request, body, answer)
    if answer.client_disconnected:
        step.settled = await wait_for_cancellation(http, url, request, answer)
    if exchange.captures:
        response = answer.response if answer.has_response else None
        step.bound = capture(exchange.captures, response, answer.events)
        variables.update(step.bound)
    return step


async def send(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    disconnect_after: DisconnectAfter | None = None,
) -> Answer:
    """POST one body and read the answer; a dropped connection is recorded, not raised."""
    async with http.stream("POST", url, content=body, headers=JSON_HEADERS) as response:
        headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
        answer = Answer(response.status_code, response.headers.get("content-type", ""), headers)
        try:
            if answer.is_stream:
                await _read_stream(response, answer, disconnect_after)
            else:
                await _read_body(response, answer)
        except httpx.TransportError as exc:
            answer.transport_error = f"{type(exc).__name__}: {exc}"
    # Leaving the block with the body unread closes the connection: that is the disconnect.
    return answer


async def _read_stream(
    response: httpx.Response, answer: Answer, disconnect_after: DisconnectAfter | None
) -> None:
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    decoder = SSEDecoder()
    received: list[str] = []
    events: list[Any] = []
    answer.events = events
    seen = 0
    try:
        async for chunk in response.aiter_bytes():
            text = utf8.decode(chunk)
            received.append(text)
            for message in decoder.feed(text):
                event = _json_or_text(message.data)
                events.append(event)
                if disconnect_after is not None and matches(event, disconnect_after.event):
                    seen += 1
                    if seen == disconnect_after.count:
                        answer.raw = "".join(received)[: message.end]
                        answer.client_disconnected = True
                        return
        received.append(utf8.decode(b"", final=True))
    finally:
        if not answer.client_disconnected:
            answer.raw = "".join(received)


async def _read_body(response: httpx.Response, answer: Answer) -> None:
    content = await response.aread()
    text = content.decode("utf-8", errors="replace")
    kind = media_type(answer.content_type)
    if kind == "application/json" or kind.endswith("+json"):
        # A body that claims JSON but is not is kept as text.
        with suppress(ValueError):
            answer.response = json.loads(text)
            return
    answer.response_text = text


def _json_or_text(data: str) -> Any:
    # A frame that is not JSON is kept as its text, so that the comparison shows it.
    try:
        return json.loads(data)
    except ValueError:
        return data


async def wait_for_cancellation(
    http: httpx.AsyncClient,
    url: str,
    request: Any,
    answer: Answer,
    timeout: float = CANCELLATION_WAIT_SECONDS,
) -> bool:
    """After a disconnect, poll `threads.get_by_id` until the partial answer is persisted.

    The server keeps each unfinished assistant message that had text (SPEC §17.3 E4); once
    all of them are visible the cancellation has been handled. Returns False on timeout.
    """
    thread_id = _thread_of(request, answer.events or [])
    if thread_id is None:
        return True
    expected = _unfinished_messages(answer.events or [])
    body = encode_request({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await http.post(url, content=body, headers=JSON_HEADERS)
        if response.status_code == 200 and expected <= _item_ids(response):
            # The hidden cancellation note and the stream lease follow the partial message.
            await asyncio.sleep(_POLL_INTERVAL)
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_POLL_INTERVAL)


def _thread_of(request: Any, events: Sequence[Any]) -> str | None:
    for event in events:
        if isinstance(event, dict) and event.get("type") == "thread.created":
            thread = event.get("thread")
            thread_id = thread.get("id") if isinstance(thread, dict) else None
            if isinstance(thread_id, str):
                return thread_id
    params = request.get("params") if isinstance(request, dict) else None
    thread_id = params.get("thread_id") if isinstance(params, dict) else None
    return thread_id if isinstance(thread_id, str) else None


def _unfinished_messages(events: Sequence[Any]) -> set[str]:
    """Ids of assistant messages added but not done or removed, with non-blank text."""
    texts: dict[str, dict[int, str]] = {}
    for event in events:
        if not isinstance(event, Mapping):
            continue
        kind = event.get("type")
        item = event.get("item")
        if kind == "thread.item.added" and isinstance(item, Mapping):
            if item.get("type") == "assistant_message":
                parts = item.get("content") or []
                texts[item["id"]] = {i: part.get("text", "") for i, part in enumerate(parts)}
        elif kind in ("thread.item.done", "thread.item.replaced") and isinstance(item, Mapping):
            texts.pop(item.get("id"), None)  # type: ignore[arg-type]
        elif kind == "thread.item.removed":
            texts.pop(event.get("item_id"), None)  # type: ignore[arg-type]
        elif kind == "thread.item.updated" and event.get("item_id") in texts:
            _apply_text_update(texts[event["item_id"]], event.get("update") or {})
    return {item_id for item_id, parts in texts.items() if any(t.strip() for t in parts.values())}


def _apply_text_update(parts: dict[int, str], update: Mapping[str, Any]) -> None:
    index = update.get("content_index", 0)
    kind = update.get("type")
    if kind in ("assistant_message.content_part.added", "assistant_message.content_part.done"):
        parts[index] = (update.get("content") or {}).get("text", "")
    elif kind == "assistant_message.content_part.text_delta":
        parts[index] = parts.get(index, "") + update.get("delta", "")


def _item_ids(response: httpx.Response) -> set[str]:
    try:
        data = response.json()["items"]["data"]
    except (ValueError, KeyError, TypeError):
        return set()
    return {
        item["id"] for item in data if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
