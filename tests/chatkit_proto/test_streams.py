"""Open streams at server shutdown: a final `error` event, the partial answer kept, no lease."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from chatkit_proto.context import RequestContext
from chatkit_proto.events import StreamEvent
from chatkit_proto.items import AssistantMessageItem, ThreadItem, UserMessageItem
from chatkit_proto.pipeline import RESTART_MESSAGE, RESTART_NOTE
from chatkit_proto.server import ChatKitServer, StreamingResult
from chatkit_proto.store import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from tests.apps import ScriptedApp

CTX = RequestContext(user_id="u")
CREATE = json.dumps(
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
RESTART_EVENT = {"type": "error", "code": "custom", "message": RESTART_MESSAGE, "allow_retry": True}


def parsed(frames: list[bytes]) -> list[dict[str, Any]]:
    return [json.loads(frame.removeprefix(b"data: ")) for frame in frames]


def answered_text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["update"]["delta"]
        for e in events
        if e["type"] == "thread.item.updated"
        and e["update"]["type"] == "assistant_message.content_part.text_delta"
    )


async def stored(store: MemoryStore, thread_id: str) -> list[ThreadItem]:
    return (await store.load_thread_items(thread_id, None, 100, "asc", CTX)).data


def assert_kept(items: list[ThreadItem], text: str) -> None:
    assert [item.type for item in items] == [
        "user_message",
        "assistant_message",
        "sdk_hidden_context",
    ]
    answer = items[1]
    assert isinstance(answer, AssistantMessageItem) and answer.content[0].text == text
    assert items[2].content == RESTART_NOTE  # type: ignore[union-attr]


async def start(server: ChatKitServer) -> StreamingResult:
    result = await server.process(CREATE, CTX)
    assert isinstance(result, StreamingResult)
    return result


async def read_until_deltas(frames: AsyncIterator[bytes], count: int) -> list[bytes]:
    seen: list[bytes] = []
    async for frame in frames:
        seen.append(frame)
        if sum(b"text_delta" in f for f in seen) == count:
            return seen
    raise AssertionError("the stream ended early")


async def test_shutdown_while_the_responder_is_silent() -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three four", delay=0.05)
    server = app
    result = await start(server)
    seen = await read_until_deltas(result.frames, 2)
    # The responder now sleeps before its next word; the consumer waits for a frame.
    rest = asyncio.ensure_future(_drain(result.frames))
    await asyncio.sleep(0.01)
    await server.shutdown()
    events = parsed(seen + await rest)
    assert events[-1] == RESTART_EVENT
    assert [e["type"] for e in events].count("error") == 1
    assert app.running == 0 and app.finished_cleanly == 0
    assert_kept(await stored(store, result.thread_id), answered_text(events))
    assert await store.stream_lease_remaining(result.thread_id, CTX) is None
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []


async def test_shutdown_while_the_client_is_being_sent_a_frame() -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three four")
    server = app
    result = await start(server)
    seen = await read_until_deltas(result.frames, 2)
    # The stream is suspended at a frame, not in the responder: it stops when it resumes.
    stopping = asyncio.ensure_future(server.shutdown())
    await asyncio.sleep(0)
    events = parsed(seen + await _drain(result.frames))
    await stopping
    assert events[-1] == RESTART_EVENT
    assert answered_text(events) == "one two"
    assert app.running == 0 and app.finished_cleanly == 0
    assert_kept(await stored(store, result.thread_id), "one two")
    assert await store.stream_lease_remaining(result.thread_id, CTX) is None


async def test_a_stream_not_yet_started_ends_at_once_and_frees_its_thread() -> None:
    store = MemoryStore()
    server = ScriptedApp(store)
    result = await start(server)
    await server.shutdown()
    assert await store.stream_lease_remaining(result.thread_id, CTX) is None
    events = parsed(await _drain(result.frames))
    assert [e["type"] for e in events] == [
        "thread.created",
        "thread.item.done",
        "stream_options",
        "error",
    ]
    assert events[-1] == RESTART_EVENT
    items = await stored(store, result.thread_id)
    assert [item.type for item in items] == ["user_message", "sdk_hidden_context"]


async def test_streams_started_after_shutdown_end_at_once() -> None:
    store = MemoryStore()
    app = ScriptedApp(store)
    server = app
    await server.shutdown()
    result = await start(server)
    events = parsed(await _drain(result.frames))
    assert events[-1] == RESTART_EVENT
    assert app.running == 0 and app.closed == 0
    assert await store.stream_lease_remaining(result.thread_id, CTX) is None


class _Stubborn(ChatKitServer):
    """A responder that turns the cancellation into an ordinary failure, as some SDKs do."""

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise RuntimeError("the run was cancelled") from None
        yield  # pragma: no cover - never reached: the stream is stopped while it sleeps


async def test_a_responder_failing_on_stop_still_ends_with_one_restart_event() -> None:
    store = MemoryStore()
    server = _Stubborn(store)
    result = await start(server)
    rest = asyncio.ensure_future(_drain(result.frames))
    await asyncio.sleep(0.01)
    await server.shutdown()
    events = parsed(await rest)
    assert [e["type"] for e in events].count("error") == 1
    assert events[-1] == RESTART_EVENT


async def test_a_client_disconnect_during_shutdown_still_cancels() -> None:
    store = MemoryStore()
    app = ScriptedApp(store, reply="one two three", delay=0.05)
    server = app
    result = await start(server)
    consumer = asyncio.ensure_future(_drain(result.frames))
    await asyncio.sleep(0.01)
    consumer.cancel()
    await server.shutdown()
    assert consumer.cancelled()
    assert app.running == 0
    assert await store.stream_lease_remaining(result.thread_id, CTX) is None


async def _drain(frames: AsyncIterator[bytes]) -> list[bytes]:
    drained = [frame async for frame in frames]
    # The cancellation that stopped the responder was taken back: none is left pending.
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    return drained
