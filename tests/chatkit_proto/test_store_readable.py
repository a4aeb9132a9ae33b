"""Every request the server accepts leaves the thread readable and replayable, on every store.

A request once could be accepted and stored, yet make its thread unreadable for good (JSON
nested deeper than a decoder on the way back allows). Here random sequences of requests,
some carrying values nested around and far beyond the codec's limit, run against the memory
and the SQLite store; after each one the thread must still load, list, encode as events,
convert to agent input, and answer a further message.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from agents_layer.history import simple_to_agent_input
from chatkit_proto.codec import MAX_DEPTH, encode_body, encode_event
from chatkit_proto.context import RequestContext
from chatkit_proto.events import ThreadItemDoneEvent
from chatkit_proto.items import ThreadItem
from chatkit_proto.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit_proto.store.base import Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.testing import strategies as S
from chatkit_stores.sqlite import SQLiteStore
from tests.apps import ScriptedApp
from tests.profiles import CODEC_SETTINGS

CTX = RequestContext(user_id="u")
ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)

FOLLOW_UPS = [
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.add_structured_input",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.sync_custom_action",
    "threads.update",
    "items.feedback",
]


def nested(depth: int) -> dict[str, Any]:
    """An object whose objects and arrays nest `depth` levels (itself included)."""
    value: Any = "leaf"
    for level in range(depth - 1):
        value = [value] if level % 2 else {"k": value}
    return {"top": value}


# Around the limit, and where orjson's and pydantic's own limits used to bite.
depths = st.one_of(
    st.integers(1, 8), st.integers(MAX_DEPTH - 8, MAX_DEPTH + 2), st.integers(190, 260)
)


@st.composite
def requests(draw: st.DrawFn, kind: str) -> dict[str, Any]:
    """A request of `kind` as JSON, maybe with a deeply nested value put where clients may."""
    request = json.loads(encode_body(draw(S.REQUESTS[kind])))
    params = request["params"]
    deep = nested(draw(depths))
    place = draw(st.sampled_from(["none", "metadata", "tag", "result", "payload", "text"]))
    if place == "metadata":
        request["metadata"] = {"deep": deep}
    elif place == "tag" and "input" in params and "content" in params["input"]:
        tag = {"type": "input_tag", "id": "t", "text": "@t", "data": deep}
        params["input"]["content"] = [tag]
    elif place == "result" and "result" in params:
        params["result"] = deep
    elif place == "payload" and "action" in params:
        params["action"]["payload"] = deep
    elif place == "text" and "input" in params:
        # "tool" makes the scripted app end with a pending client tool call.
        params["input"]["content"] = [{"type": "input_text", "text": "tool"}]
    return request


@st.composite
def plans(draw: st.DrawFn) -> list[tuple[dict[str, Any], bool]]:
    """A `threads.create`, then up to three requests on that thread (maybe on its items)."""
    steps = [(draw(requests("threads.create")), False)]
    for kind in draw(st.lists(st.sampled_from(FOLLOW_UPS), max_size=3)):
        steps.append((draw(requests(kind)), draw(st.booleans())))
    return steps


async def open_store(kind: str, directory: Path) -> Store:
    if kind == "memory":
        return MemoryStore()
    store = SQLiteStore(directory / "db.sqlite")
    await store.open()
    return store


async def frames_of(result: StreamingResult) -> list[dict[str, Any]]:
    return [orjson.loads(frame.removeprefix(b"data: ")) async for frame in result.frames]


async def check_readable(server: ChatKitServer, store: Store, thread_id: str) -> None:
    for request in [
        {"type": "threads.get_by_id", "params": {"thread_id": thread_id}},
        {"type": "items.list", "params": {"thread_id": thread_id, "order": "asc"}},
        {"type": "items.list", "params": {"thread_id": thread_id, "limit": 100}},
        {"type": "threads.list", "params": {}},
    ]:
        answer = await server.process(json.dumps(request), CTX)
        assert isinstance(answer, NonStreamingResult) and answer.status == 200, answer
    items = (await store.load_thread_items(thread_id, None, 1000, "asc", CTX)).data
    for item in items:
        frame = encode_event(ThreadItemDoneEvent(item=item))
        assert ITEM.validate_python(orjson.loads(frame[6:])["item"]).id == item.id
    json.dumps(await simple_to_agent_input(items))
    follow_up = {
        "type": "threads.add_user_message",
        "params": {
            "thread_id": thread_id,
            "input": {
                "content": [{"type": "input_text", "text": "next"}],
                "attachments": [],
                "inference_options": {},
            },
        },
    }
    answer = await server.process(json.dumps(follow_up), CTX)
    assert isinstance(answer, StreamingResult), answer
    events = await frames_of(answer)
    assert events[-1]["type"] == "thread.item.done", events[-1]


async def run(kind: str, plan: list[tuple[dict[str, Any], bool]], directory: Path) -> None:
    store = await open_store(kind, directory)
    try:
        server = ScriptedApp(store)
        thread_id: str | None = None
        for request, on_first_item in plan:
            params = request["params"]
            if thread_id is not None:
                params["thread_id"] = thread_id
                if on_first_item and "item_id" in params:
                    first = await store.load_thread_items(thread_id, None, 1, "asc", CTX)
                    params["item_id"] = first.data[0].id
            answer = await server.process(json.dumps(request), CTX)
            if isinstance(answer, NonStreamingResult):
                assert answer.status < 500, (answer.status, answer.body)
                if answer.status >= 400:
                    continue
            else:
                await frames_of(answer)
                thread_id = answer.thread_id
            if thread_id is not None:
                await check_readable(server, store, thread_id)
        if thread_id is None:
            threads = await store.load_threads(100, None, "desc", CTX)
            assert threads.data == [], "a refused threads.create left a thread"
    finally:
        await store.close()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(CODEC_SETTINGS, max_examples=CODEC_SETTINGS.max_examples)
@given(plan=plans())
def test_accepted_requests_leave_the_thread_readable(
    kind: str, plan: list[tuple[dict[str, Any], bool]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run(kind, plan, Path(directory)))
