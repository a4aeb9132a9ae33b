"""Client disconnects mid-stream (D9): what is persisted, and that nothing keeps running."""

from __future__ import annotations

import asyncio
import json

import anyio
import pytest

from chatkit_proto.context import RequestContext
from chatkit_proto.pipeline import CANCELLED_NOTE
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore
from tests.apps import ScriptedApp

CTX = RequestContext(user_id="u")
REQUEST = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hi"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
)
WORDS = ["one", " two", " three", " four", " five"]


async def stored(store: MemoryStore, thread_id: str) -> list:
    return (await store.load_thread_items(thread_id, None, 100, "asc", CTX)).data


def check_persisted(items: list, deltas_seen: int) -> None:
    types = [item.type for item in items]
    assert types[0] == "user_message"
    assert types[-1] == "sdk_hidden_context" and items[-1].content == CANCELLED_NOTE
    partial = "".join(WORDS[:deltas_seen])
    if partial.strip():
        assert types[1:-1] == ["assistant_message"]
        assert items[1].content[0].text == partial
    else:
        assert types[1:-1] == []


@pytest.mark.parametrize("deltas_seen", [0, 1, 3, 5])
async def test_close_after_nth_delta(deltas_seen: int) -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three four five")
    result = await app.process(REQUEST, CTX)
    assert isinstance(result, StreamingResult)
    seen = 0
    async for frame in result.frames:
        if b"text_delta" in frame:
            seen += 1
        if seen == deltas_seen and (deltas_seen or b"thread.item.added" in frame):
            break
    # sse-starlette closes the generator when a send fails: GeneratorExit at the yield.
    await result.frames.aclose()
    assert app.running == 0 and app.finished_cleanly == 0
    check_persisted(await stored(store, result.thread_id), deltas_seen)


@pytest.mark.parametrize("deltas_seen", [1, 2, 4])
async def test_cancel_while_waiting_for_the_responder(deltas_seen: int) -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three four five", delay=0.02)
    result = await app.process(REQUEST, CTX)
    assert isinstance(result, StreamingResult)
    reached = anyio.Event()

    async def consume() -> None:
        seen = 0
        async for frame in result.frames:
            seen += frame.count(b"text_delta")
            if seen == deltas_seen:
                reached.set()

    # sse-starlette cancels the streaming task when the client disconnects: the
    # cancellation lands inside the pipeline while it awaits the responder.
    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await reached.wait()
        await asyncio.sleep(0.005)
        group.cancel_scope.cancel()
    assert app.running == 0 and app.finished_cleanly == 0
    check_persisted(await stored(store, result.thread_id), deltas_seen)
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []


async def test_cancelled_stream_releases_the_thread() -> None:
    store = MemoryStore()
    app = ScriptedApp(store, delay=0.01)
    server = app
    result = await server.process(REQUEST, CTX)
    assert isinstance(result, StreamingResult)
    async for _ in result.frames:
        break
    await result.frames.aclose()
    again = json.dumps(
        {
            "type": "threads.add_user_message",
            "params": {
                "thread_id": result.thread_id,
                "input": json.loads(REQUEST)["params"]["input"],
            },
        }
    )
    follow_up = await server.process(again, CTX)
    assert isinstance(follow_up, StreamingResult)
    _ = [event async for event in follow_up.frames]
