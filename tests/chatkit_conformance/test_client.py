"""The protocol client: SSE parsing, error handling, typed results, disconnects."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from chatkit_conformance.client import (
    ChatKitClient,
    ChatKitHTTPError,
    ChatKitProtocolError,
    SSEDecoder,
)
from chatkit_proto.events import (
    StreamOptionsEvent,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.items import AssistantMessageItem
from tests.chatkit_conformance.fixed_app import build_app, serving

URL = "http://chatkit.test/chatkit"
BODY = (
    b': hello\n\ndata: {"a":1}\n\n'
    b'event: ignored\nid: 7\nretry: 10\ndata: {"b":"\xc3\xa9\xe2\x82\xac"}\n\n'
    b"data: first\ndata: second\n\n"
)
EXPECTED = ['{"a":1}', '{"b":"é€"}', "first\nsecond"]


def messages(chunks: list[bytes]) -> list[str]:
    decoder = SSEDecoder()
    return [m.data for chunk in chunks for m in decoder.feed_bytes(chunk)]


def test_sse_whole_body() -> None:
    assert messages([BODY]) == EXPECTED


def test_sse_split_at_every_byte() -> None:
    for cut in range(len(BODY) + 1):
        assert messages([BODY[:cut], BODY[cut:]]) == EXPECTED, cut
    assert messages([bytes([b]) for b in BODY]) == EXPECTED


@pytest.mark.parametrize("eol", [b"\r\n", b"\r", b"\n"])
def test_sse_line_endings(eol: bytes) -> None:
    body = BODY.replace(b"\n", eol)
    assert messages([body]) == EXPECTED
    assert messages([bytes([b]) for b in body]) == EXPECTED


def test_sse_cr_then_lf_in_the_next_chunk_is_one_line_break() -> None:
    assert messages([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == ["a\nb"]


def test_sse_field_syntax() -> None:
    body = b"data:x\n\ndata:  two spaces\n\ndata\n\n:comment\n\nfoo: bar\n\n"
    assert messages([body]) == ["x", " two spaces", ""]


def test_sse_data_without_a_blank_line_is_discarded() -> None:
    assert messages([b'data: {"a":1}\n\ndata: {"b":2}\n']) == ['{"a":1}']


def test_sse_byte_order_mark_and_offsets() -> None:
    decoder = SSEDecoder()
    text = "\ufeffdata: a\n\n: ping\ndata: b\r\n\r\n"
    found = decoder.feed(text)
    assert [(m.data, text[: m.end]) for m in found] == [
        ("a", "\ufeffdata: a\n\n"),
        ("b", text),
    ]


def _app(handler: object) -> Starlette:
    return Starlette(routes=[Route("/chatkit", handler, methods=["POST"])])  # type: ignore[arg-type]


def client_for(app: Starlette) -> ChatKitClient:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app))
    return ChatKitClient(URL, http_client=http)


async def test_stream_yields_typed_events_and_requests_parse_json() -> None:
    async with client_for(build_app()) as client:
        events = [event async for event in client.create_thread("Hi")]
        assert isinstance(events[0], ThreadCreatedEvent)
        assert isinstance(events[2], StreamOptionsEvent)
        assert isinstance(events[-1], ThreadItemDoneEvent)
        assert isinstance(events[-1].item, AssistantMessageItem)
        thread_id = events[0].thread.id
        more = [e async for e in client.add_user_message(thread_id, "Again")]
        deltas = [
            e.update.delta
            for e in more
            if isinstance(e, ThreadItemUpdatedEvent) and e.update.type.endswith("text_delta")
        ]  # type: ignore[union-attr]
        assert deltas == ["Hello", " there."]
        thread = await client.get_thread(thread_id)
        assert [item.type for item in thread.items.data] == [
            "user_message",
            "assistant_message",
        ] * 2
        page = await client.list_items(thread_id, limit=3, order="asc")
        assert (len(page.data), page.has_more) == (3, True)
        renamed = await client.update_thread(thread_id, "Renamed")
        assert renamed.title == "Renamed"
        assert [t.title for t in (await client.list_threads()).data] == ["Renamed"]
        await client.delete_thread(thread_id)
        assert (await client.list_threads()).data == []
        raw = await client.request({"type": "threads.list", "params": {"limit": 1}})
        assert raw == {"data": [], "has_more": False}


async def test_4xx_surfaces_the_error_message() -> None:
    async with client_for(build_app()) as client:
        with pytest.raises(ChatKitHTTPError) as caught:
            await client.get_thread("thr_missing")
        assert (caught.value.status, caught.value.code) == (404, "not_found")
        assert caught.value.message == "Thread not found"
        with pytest.raises(ChatKitHTTPError) as caught:
            _ = [event async for event in client.add_user_message("thr_missing", "Hello?")]
        assert (caught.value.status, caught.value.message) == (404, "Thread not found")
        with pytest.raises(ChatKitHTTPError) as caught:
            await client.request({"type": "threads.frobnicate", "params": {}})
        assert caught.value.code == "invalid_request"
        assert caught.value.body["details"][0]["path"] == "type"


async def test_5xx_without_a_json_body() -> None:
    async def crash(request: Request) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=500)

    async with client_for(_app(crash)) as client:
        with pytest.raises(ChatKitHTTPError) as caught:
            await client.request({"type": "threads.list", "params": {}})
    error = caught.value
    assert (error.status, error.message, error.code, error.body) == (
        500,
        "Internal Server Error",
        "http_500",
        "Internal Server Error",
    )


async def test_a_2xx_that_is_not_an_event_stream_is_rejected_for_a_stream() -> None:
    async def json_ok(request: Request) -> Response:
        return JSONResponse({"ok": True})

    async with client_for(_app(json_ok)) as client:
        with pytest.raises(ChatKitProtocolError, match="expected text/event-stream"):
            _ = [event async for event in client.create_thread("Hi")]


async def test_invalid_event_json_is_a_protocol_error() -> None:
    async def bad_stream(request: Request) -> Response:
        return Response(b"data: {nope}\n\n", media_type="text/event-stream")

    async with client_for(_app(bad_stream)) as client:
        with pytest.raises(ChatKitProtocolError, match="invalid stream event"):
            _ = [event async for event in client.create_thread("Hi")]


async def test_streaming_types_are_refused_by_request() -> None:
    async with client_for(build_app()) as client:
        with pytest.raises(ValueError, match="use stream"):
            await client.request({"type": "threads.create", "params": {}})


async def test_upload_sends_a_multipart_file_part() -> None:
    async def upload(request: Request) -> Response:
        form = await request.form()
        part = form["file"]
        assert not isinstance(part, str)
        body = await part.read()
        return JSONResponse({"name": part.filename, "type": part.content_type, "size": len(body)})

    async with client_for(_app(upload)) as client:
        answer = await client.upload(URL, "notes.txt", b"hello", "text/plain")
    assert answer == {"name": "notes.txt", "type": "text/plain", "size": 5}


async def test_closing_a_stream_early_cancels_the_response() -> None:
    script = {
        "turns": [
            {"output": [{"type": "message", "text": ["a", "b", "c", "d", "e"]}], "delay": 0.05}
        ]
    }

    async def stop_after_first_delta(client: ChatKitClient) -> str:
        """Read until the first text delta, then close the stream (the Stop button)."""
        thread_id = ""
        async with aclosing(client.create_thread("Story")) as events:
            async for event in events:
                if isinstance(event, ThreadCreatedEvent):
                    thread_id = event.thread.id
                elif isinstance(event, ThreadItemUpdatedEvent) and event.update.type.endswith(
                    "text_delta"
                ):
                    break
        return thread_id

    with serving(build_app(script)) as base:
        async with ChatKitClient(f"{base}/chatkit") as client:
            thread_id = await stop_after_first_delta(client)
            for _ in range(100):
                items = (await client.get_thread(thread_id)).items.data
                if len(items) == 2:
                    break
                await asyncio.sleep(0.02)
    assert isinstance(items[1], AssistantMessageItem)
    assert items[1].content[0].text == "a"
