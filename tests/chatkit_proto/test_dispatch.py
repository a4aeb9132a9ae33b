"""The dispatcher: every request type, the error rules D1-D4/D14/D15, and persistence."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from chatkit_proto.base import utc_now
from chatkit_proto.codec import MAX_DEPTH
from chatkit_proto.context import RequestContext
from chatkit_proto.dispatch import MAX_PAGE_SIZE
from chatkit_proto.server import (
    ChatKitServer,
    NonStreamingResult,
    ServerOptions,
    StreamingResult,
)
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from tests.apps import ScriptedApp

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")


def user_input(text: str, attachments: list[str] | None = None) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": attachments or [],
        "inference_options": {},
    }


async def call(server: ChatKitServer, type_: str, ctx: RequestContext = ALICE, **params: Any):
    return await server.process(json.dumps({"type": type_, "params": params}), ctx)


async def events(result: StreamingResult | NonStreamingResult) -> list[dict[str, Any]]:
    assert isinstance(result, StreamingResult), result
    frames = [frame async for frame in result.frames]
    for frame in frames:
        assert frame.startswith(b"data: ") and frame.endswith(b"\n\n") and frame.count(b"\n") == 2
    return [json.loads(frame[6:]) for frame in frames]


def body(result: StreamingResult | NonStreamingResult) -> Any:
    assert isinstance(result, NonStreamingResult), result
    return json.loads(result.body)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def server(store: MemoryStore) -> ChatKitServer:
    return ScriptedApp(store)


async def new_thread(
    server: ChatKitServer, text: str = "hello", ctx: RequestContext = ALICE
) -> str:
    stream = await events(await call(server, "threads.create", ctx, input=user_input(text)))
    return stream[0]["thread"]["id"]


async def test_create_thread_prologue_and_persistence(server: ChatKitServer) -> None:
    stream = await events(await call(server, "threads.create", input=user_input("hello")))
    types = [e["type"] for e in stream]
    assert types[:3] == ["thread.created", "thread.item.done", "stream_options"]
    assert stream[1]["item"]["thread_id"] == stream[0]["thread"]["id"]
    assert types[-1] == "thread.item.done" and stream[-1]["item"]["type"] == "assistant_message"
    thread = body(await call(server, "threads.get_by_id", thread_id=stream[0]["thread"]["id"]))
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message", "assistant_message"]
    assert thread["metadata"] == {} and "title" not in thread


async def test_thread_updated_follows_the_next_event(server: ChatKitServer) -> None:
    stream = await events(await call(server, "threads.create", input=user_input("title please")))
    types = [e["type"] for e in stream]
    assert types[3:5] == ["progress_update", "thread.updated"]
    assert stream[4]["thread"]["title"] == "Renamed"
    assert stream[4]["thread"]["items"] == {"data": [], "has_more": False}


async def test_hidden_items_are_persisted_but_never_sent(server: ChatKitServer) -> None:
    stream = await events(await call(server, "threads.create", input=user_input("hidden")))
    assert all(e.get("item", {}).get("type") != "hidden_context_item" for e in stream)
    thread_id = stream[0]["thread"]["id"]
    listed = body(await call(server, "items.list", thread_id=thread_id, limit=1))
    assert listed["data"] == [] and listed["has_more"] is True


async def test_responder_failure_is_one_error_event_and_keeps_what_was_done(
    server: ChatKitServer,
) -> None:
    stream = await events(await call(server, "threads.create", input=user_input("fail")))
    assert stream[-1] == {"type": "error", "code": "stream.error", "allow_retry": True}
    assert [e["type"] for e in stream].count("error") == 1
    thread = body(await call(server, "threads.get_by_id", thread_id=stream[0]["thread"]["id"]))
    assert [i["type"] for i in thread["items"]["data"]] == ["user_message"]


async def test_custom_error_carries_its_message(server: ChatKitServer) -> None:
    stream = await events(await call(server, "threads.create", input=user_input("custom")))
    assert stream[-1] == {
        "type": "error",
        "code": "custom",
        "message": "Not allowed here.",
        "allow_retry": False,
    }


async def test_client_tool_output_completes_the_call_silently(server: ChatKitServer) -> None:
    thread_id = await new_thread(server, "tool")
    stream = await events(
        await call(
            server, "threads.add_client_tool_output", thread_id=thread_id, result={"a": None}
        )
    )
    assert stream[0]["type"] == "stream_options"
    assert all(e.get("item", {}).get("type") != "client_tool_call" for e in stream)
    items = body(await call(server, "threads.get_by_id", thread_id=thread_id))["items"]["data"]
    call_item = next(i for i in items if i["type"] == "client_tool_call")
    assert call_item["status"] == "completed" and call_item["output"] == {"a": None}


async def test_structured_input_is_answered_and_replaced(server: ChatKitServer, store) -> None:
    from chatkit_proto.base import utc_now
    from chatkit_proto.items import StructuredInputItem
    from chatkit_proto.structured_input import ChoiceOption, FreeformInput, MultipleChoiceInput

    thread_id = await new_thread(server)
    item = StructuredInputItem(
        id="si_1",
        thread_id=thread_id,
        created_at=utc_now(),
        inputs=[
            MultipleChoiceInput(id="subject", question="?", options=[ChoiceOption(value="Math")]),
            FreeformInput(id="notes", question="?"),
        ],
    )
    await store.add_thread_item(thread_id, item, ALICE)
    answer = {"answers": {"subject": {"values": ["Math", "Science"]}, "bogus": {"values": ["x"]}}}
    stream = await events(
        await call(
            server,
            "threads.add_structured_input",
            thread_id=thread_id,
            item_id="si_1",
            input=answer,
        )
    )
    replaced = stream[1]
    assert replaced["type"] == "thread.item.replaced"
    inputs = replaced["item"]["inputs"]
    assert inputs[0]["answer"] == {"values": ["Math"], "skipped": False}
    assert inputs[1]["answer"] == {"values": [], "skipped": True}
    again = await call(
        server, "threads.add_structured_input", thread_id=thread_id, item_id="si_1", input=answer
    )
    assert isinstance(again, NonStreamingResult) and again.status == 400


async def test_retry_deletes_newer_items_and_answers_again(server: ChatKitServer) -> None:
    thread_id = await new_thread(server)
    items = body(await call(server, "items.list", thread_id=thread_id, order="asc"))["data"]
    user_id = items[0]["id"]
    stream = await events(
        await call(server, "threads.retry_after_item", thread_id=thread_id, item_id=user_id)
    )
    assert stream[0]["type"] == "stream_options"
    after = body(await call(server, "items.list", thread_id=thread_id, order="asc"))["data"]
    assert [i["type"] for i in after] == ["user_message", "assistant_message"]
    assert after[1]["id"] != items[1]["id"]


@pytest.mark.parametrize(
    ("raw", "path"),
    [
        (b"{not json", None),
        (b'{"type":"threads.nope","params":{}}', "type"),
        (b'{"type":"threads.list"}', "params"),
        (b'{"type":"threads.list","params":{"order":"up"}}', "params.order"),
        (b"[]", ""),
    ],
)
async def test_d1_invalid_requests_answer_400(
    server: ChatKitServer, raw: bytes, path: str | None
) -> None:
    result = await server.process(raw, ALICE)
    assert isinstance(result, NonStreamingResult) and result.status == 400
    error = json.loads(result.body)
    assert error["code"] == "invalid_request" and error["message"]
    if path is not None:
        assert error["details"][0]["path"] == path


async def test_d2_other_users_threads_look_unknown(server: ChatKitServer) -> None:
    thread_id = await new_thread(server)
    for type_, params in [
        ("threads.get_by_id", {"thread_id": thread_id}),
        ("items.list", {"thread_id": thread_id}),
        ("threads.update", {"thread_id": thread_id, "title": "x"}),
        ("threads.add_user_message", {"thread_id": thread_id, "input": user_input("hi")}),
        ("items.feedback", {"thread_id": thread_id, "item_ids": [], "kind": "positive"}),
    ]:
        theirs = await call(server, type_, BOB, **params)
        unknown = await call(server, type_, BOB, **{**params, "thread_id": "thr_missing"})
        assert isinstance(theirs, NonStreamingResult) and theirs.status == 404
        assert theirs.body == unknown.body
    assert body(await call(server, "threads.list", BOB))["data"] == []
    assert body(await call(server, "threads.delete", BOB, thread_id=thread_id)) == {}
    assert body(await call(server, "threads.get_by_id", thread_id=thread_id))["id"] == thread_id


async def test_d3_streams_that_cannot_start_answer_before_any_byte(
    server: ChatKitServer, store: MemoryStore
) -> None:
    thread_id = await new_thread(server)
    before = await store.load_thread_items(thread_id, None, 100, "asc", ALICE)
    cases = [
        ("threads.add_client_tool_output", {"thread_id": thread_id, "result": {}}, 400),
        ("threads.retry_after_item", {"thread_id": thread_id, "item_id": "msg_missing"}, 404),
        ("threads.retry_after_item", {"thread_id": thread_id, "item_id": before.data[1].id}, 400),
        (
            "threads.custom_action",
            {"thread_id": thread_id, "item_id": before.data[0].id, "action": {"type": "x"}},
            400,
        ),
        (
            "threads.sync_custom_action",
            {"thread_id": thread_id, "item_id": before.data[0].id, "action": {"type": "x"}},
            400,
        ),
        (
            "threads.add_user_message",
            {"thread_id": thread_id, "input": user_input("hi", ["atc_missing"])},
            404,
        ),
    ]
    for type_, params, status in cases:
        result = await call(server, type_, **params)
        assert isinstance(result, NonStreamingResult) and result.status == status, (type_, result)
    after = await store.load_thread_items(thread_id, None, 100, "asc", ALICE)
    assert [i.id for i in after.data] == [i.id for i in before.data]
    created = await call(server, "threads.create", input=user_input("hi", ["atc_missing"]))
    assert isinstance(created, NonStreamingResult) and created.status == 404
    assert len((await store.load_threads(100, None, "desc", ALICE)).data) == 1


async def test_d14_items_list_of_unknown_thread_is_404(server: ChatKitServer) -> None:
    result = await call(server, "items.list", thread_id="thr_missing")
    assert isinstance(result, NonStreamingResult) and result.status == 404


async def test_d15_second_stream_on_a_busy_thread_is_409(store: MemoryStore) -> None:
    server = ScriptedApp(store, delay=0.01)
    thread_id = await new_thread(server)
    first = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("a")
    )
    assert isinstance(first, StreamingResult)
    second = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("b")
    )
    assert isinstance(second, NonStreamingResult) and second.status == 409
    assert json.loads(second.body)["code"] == "conflict"
    await events(first)
    third = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("c")
    )
    assert isinstance(third, StreamingResult)
    await events(third)


async def test_listing_and_crud(server: ChatKitServer) -> None:
    ids = [await new_thread(server, f"t{i}") for i in range(3)]
    page = body(await call(server, "threads.list", limit=2))
    assert [t["id"] for t in page["data"]] == ids[::-1][:2]
    assert page["has_more"] is True and page["after"] == ids[1]
    rest = body(await call(server, "threads.list", limit=2, after=page["after"]))
    assert [t["id"] for t in rest["data"]] == [ids[0]] and "after" not in rest
    renamed = body(await call(server, "threads.update", thread_id=ids[0], title="New"))
    assert renamed["title"] == "New" and renamed["items"] == {"data": [], "has_more": False}
    assert body(await call(server, "threads.delete", thread_id=ids[0])) == {}
    gone = await call(server, "threads.get_by_id", thread_id=ids[0])
    assert isinstance(gone, NonStreamingResult) and gone.status == 404


async def test_feedback_transcribe_and_attachments_defaults(server: ChatKitServer) -> None:
    thread_id = await new_thread(server)
    assert (
        body(
            await call(
                server, "items.feedback", thread_id=thread_id, item_ids=["x"], kind="positive"
            )
        )
        == {}
    )
    transcribe = await call(server, "input.transcribe", audio_base64="AAAA", mime_type="audio/webm")
    assert isinstance(transcribe, NonStreamingResult) and transcribe.status == 400
    create = await call(server, "attachments.create", name="a.txt", size=1, mime_type="text/plain")
    assert isinstance(create, NonStreamingResult) and create.status == 400


async def test_retry_walks_back_over_several_pages(server: ChatKitServer) -> None:
    thread_id = await new_thread(server, "first")
    for n in range(12):
        await events(
            await call(
                server, "threads.add_user_message", thread_id=thread_id, input=user_input(f"m{n}")
            )
        )
    items = body(await call(server, "items.list", thread_id=thread_id, order="asc", limit=100))
    assert len(items["data"]) == 26
    first_user = items["data"][0]["id"]
    await events(
        await call(server, "threads.retry_after_item", thread_id=thread_id, item_id=first_user)
    )
    after = body(await call(server, "items.list", thread_id=thread_id, order="asc", limit=100))
    assert [i["type"] for i in after["data"]] == ["user_message", "assistant_message"]
    assert after["data"][0]["id"] == first_user


async def test_d15_a_silent_stream_keeps_the_thread_busy(store: MemoryStore) -> None:
    # Each word comes after a silence longer than the lease: only the lease timer keeps it.
    server = ScriptedApp(store, reply="one two", delay=0.5, options=ServerOptions(0.3))
    thread_id = await new_thread(ScriptedApp(store), "start")
    first = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("a")
    )
    assert isinstance(first, StreamingResult)
    consumer = asyncio.ensure_future(events(first))
    while not consumer.done():
        second = await call(
            server, "threads.add_user_message", thread_id=thread_id, input=user_input("b")
        )
        assert isinstance(second, NonStreamingResult) and second.status == 409
        await asyncio.wait([consumer], timeout=0.1)
    assert (await consumer)[-1]["type"] == "thread.item.done"
    third = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("c")
    )
    assert isinstance(third, StreamingResult)
    await events(third)


async def test_d15_conflict_says_when_to_retry(server: ChatKitServer, store: MemoryStore) -> None:
    thread_id = await new_thread(server)
    # A lease left by a process that crashed mid-stream.
    assert await store.acquire_stream_lease(thread_id, "crashed", 0.4, ALICE)
    busy = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("b")
    )
    assert isinstance(busy, NonStreamingResult) and busy.status == 409
    assert busy.headers["retry-after"] == "1"
    assert json.loads(busy.body)["message"].endswith("Try again in 1 second.")
    await asyncio.sleep(0.5)
    free = await call(
        server, "threads.add_user_message", thread_id=thread_id, input=user_input("c")
    )
    assert isinstance(free, StreamingResult)
    await events(free)


async def test_d15_retry_after_counts_the_seconds_left(
    server: ChatKitServer, store: MemoryStore
) -> None:
    thread_id = await new_thread(server)
    assert await store.acquire_stream_lease(thread_id, "other", 42.5, ALICE)
    busy = await call(server, "threads.retry_after_item", thread_id=thread_id, item_id="x")
    assert isinstance(busy, NonStreamingResult) and busy.status == 409
    assert busy.headers["retry-after"] == "43"


@pytest.mark.parametrize("limit", [2**64 - 1, 2**63 - 1, 101, 100])
async def test_huge_limits_are_cut_to_the_maximum(server: ChatKitServer, limit: int) -> None:
    thread_id = await new_thread(server)
    threads = await server.process(
        json.dumps({"type": "threads.list", "params": {"limit": limit}}), ALICE
    )
    assert body(threads)["data"][0]["id"] == thread_id
    items = body(await call(server, "items.list", thread_id=thread_id, limit=limit))
    assert len(items["data"]) == 2 and items["has_more"] is False


async def test_limit_beyond_the_maximum_gives_a_full_page_and_a_cursor(
    server: ChatKitServer, store: MemoryStore
) -> None:
    for n in range(MAX_PAGE_SIZE + 5):
        await store.save_thread(ThreadMetadata(id=f"thr_{n:03}", created_at=utc_now()), ALICE)
    page = body(await call(server, "threads.list", limit=10**9))
    assert len(page["data"]) == MAX_PAGE_SIZE and page["has_more"] is True
    rest = body(await call(server, "threads.list", limit=10**9, after=page["after"]))
    assert len(rest["data"]) == 5 and rest["has_more"] is False


async def test_zero_limit_means_twenty_and_unreadable_limits_are_refused(
    server: ChatKitServer, store: MemoryStore
) -> None:
    for n in range(25):
        await store.save_thread(ThreadMetadata(id=f"thr_{n:02}", created_at=utc_now()), ALICE)
    assert len(body(await call(server, "threads.list", limit=0))["data"]) == 20
    for type_, params in [("threads.list", {}), ("items.list", {"thread_id": "thr_00"})]:
        for limit in (-1, 10**30):
            refused = await call(server, type_, limit=limit, **params)
            assert isinstance(refused, NonStreamingResult) and refused.status == 400


async def test_a_completed_client_tool_call_cannot_be_answered_again(
    server: ChatKitServer, store: MemoryStore
) -> None:
    thread_id = await new_thread(server, "tool")
    answer = {"thread_id": thread_id, "result": {"first": True}}
    await events(await call(server, "threads.add_client_tool_output", **answer))
    # Make the completed call the newest item again: only its status can refuse it now.
    items = (await store.load_thread_items(thread_id, None, 100, "asc", ALICE)).data
    for item in items:
        if item.type != "client_tool_call" and item.created_at > items[0].created_at:
            await store.delete_thread_item(thread_id, item.id, ALICE)
    newest = (await store.load_thread_items(thread_id, None, 1, "desc", ALICE)).data[0]
    assert newest.type == "client_tool_call" and newest.status == "completed"
    again = await call(
        server, "threads.add_client_tool_output", thread_id=thread_id, result={"second": True}
    )
    assert isinstance(again, NonStreamingResult) and again.status == 400
    stored = await store.load_item(thread_id, newest.id, ALICE)
    assert stored.output == {"first": True}
    assert await store.stream_lease_remaining(thread_id, ALICE) is None


async def test_requests_too_deep_are_refused_before_anything_is_stored(
    server: ChatKitServer, store: MemoryStore
) -> None:
    deep: Any = {}
    for _ in range(250):
        deep = {"a": deep}
    tag = {"type": "input_tag", "id": "t", "text": "@t", "data": deep}
    message = {**user_input("deep"), "content": [tag]}
    refused = await call(server, "threads.create", input=message)
    assert isinstance(refused, NonStreamingResult) and refused.status == 400
    assert f"deeper than {MAX_DEPTH} levels" in json.loads(refused.body)["message"]
    assert (await store.load_threads(100, None, "desc", ALICE)).data == []
