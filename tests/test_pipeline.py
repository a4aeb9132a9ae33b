"""The response pipeline's pending copies: buffered text deltas land in the right parts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from chatkit_proto._base import utc_now
from chatkit_proto.app import StreamEvent, Turn
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.events import TextDelta, ThreadItemAddedEvent, ThreadItemUpdatedEvent
from chatkit_proto.items import AssistantMessageItem
from chatkit_proto.pipeline import run_pipeline
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.streams import Lease, StreamControl
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import ContentPartAdded, ContentPartDone, ContentPartTextDelta

CTX = RequestContext(user_id="u")


async def two_parts(turn: Turn) -> AsyncIterator[StreamEvent]:
    item = AssistantMessageItem(id="m", thread_id=turn.thread.id, created_at=utc_now(), content=[])
    yield ThreadItemAddedEvent(item=item)
    empty = AssistantMessageContent(text="")
    yield ThreadItemUpdatedEvent(
        item_id="m", update=ContentPartAdded(content_index=0, content=empty)
    )
    yield TextDelta("m", 0, "a")
    yield TextDelta("m", 0, "b")
    done = AssistantMessageContent(text="AB")
    yield ThreadItemUpdatedEvent(item_id="m", update=ContentPartDone(content_index=0, content=done))
    yield ThreadItemUpdatedEvent(
        item_id="m", update=ContentPartAdded(content_index=1, content=empty)
    )
    yield TextDelta("m", 1, "c")
    yield ThreadItemUpdatedEvent(
        item_id="m", update=ContentPartTextDelta(content_index=1, delta="d")
    )
    await asyncio.sleep(10)


async def test_cancelled_message_keeps_every_part_in_order() -> None:
    store = MemoryStore()
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    await store.save_thread(thread, CTX)
    turn = Turn(thread, CTX, store)
    frames = run_pipeline(turn, [], lambda: two_parts(turn))
    count = 0
    async for _ in frames:
        count += 1
        if count == 9:  # stream_options + the 8 events before the sleep
            break
    await frames.aclose()
    items = (await store.load_thread_items("thr_1", None, 10, "asc", CTX)).data
    message = items[0]
    assert isinstance(message, AssistantMessageItem)
    # The part's `done` replaced the streamed "ab"; the second part is "c" + "d".
    assert [part.text for part in message.content] == ["AB", "cd"]


async def test_a_silent_responder_keeps_its_lease() -> None:
    # The lease is renewed by a timer, not by events: a responder silent for several lease
    # times (a slow tool, a thinking model) still holds the thread.
    store = MemoryStore()
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    await store.save_thread(thread, CTX)
    turn = Turn(thread, CTX, store)
    lease = Lease("thr_1", "mine", ttl_seconds=0.3)
    assert await store.acquire_stream_lease("thr_1", "mine", 0.3, CTX)
    silence_over = asyncio.Event()

    async def silent() -> AsyncIterator[StreamEvent]:
        yield TextDelta("m", 0, "x")
        await silence_over.wait()
        yield TextDelta("m", 0, "y")

    frames = run_pipeline(turn, [], silent, StreamControl(store, CTX, lease))
    seen = [await anext(frames), await anext(frames)]
    waiting = asyncio.ensure_future(anext(frames))
    for _ in range(10):
        await asyncio.sleep(0.1)
        assert not await store.acquire_stream_lease("thr_1", "theirs", 0.3, CTX)
    silence_over.set()
    seen.append(await waiting)
    seen += [frame async for frame in frames]
    assert len(seen) == 3
    assert await store.stream_lease_remaining("thr_1", CTX) is None


async def test_the_responder_is_closed_before_the_partial_answer_is_saved() -> None:
    # Closing first means no model call can still be under way (or start) while, or after,
    # the partial answer is written (D9).
    log: list[str] = []

    class LoggingStore(MemoryStore):
        async def add_thread_item(self, thread_id: str, item: object, ctx: RequestContext) -> None:
            log.append(f"saved {getattr(item, 'type', '?')}")
            await super().add_thread_item(thread_id, item, ctx)  # type: ignore[arg-type]

    store = LoggingStore()
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    await store.save_thread(thread, CTX)
    turn = Turn(thread, CTX, store)

    async def answering() -> AsyncIterator[StreamEvent]:
        try:
            async for event in two_parts(turn):
                yield event
        finally:
            log.append("responder closed")

    frames = run_pipeline(turn, [], answering)
    for _ in range(9):
        await anext(frames)
    await frames.aclose()
    assert log == ["responder closed", "saved assistant_message", "saved sdk_hidden_context"]
