"""The response pipeline's pending copies: buffered text deltas land in the right parts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from chatkit_proto.base import utc_now
from chatkit_proto.content import (
    AssistantMessageContent,
    InferenceOptions,
    UserMessageTextContent,
)
from chatkit_proto.context import RequestContext
from chatkit_proto.events import (
    ProgressUpdateEvent,
    StreamEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.items import AssistantMessageItem, ThreadItem, UserMessageItem, WorkflowItem
from chatkit_proto.pipeline import Turn, run_pipeline
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.streams import Lease, StreamControl
from chatkit_proto.threads import LockedStatus, ThreadMetadata
from chatkit_proto.updates import ContentPartAdded, ContentPartDone, ContentPartTextDelta
from chatkit_proto.workflows import CustomTask, Workflow

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


async def same_ids(turn: Turn, text: str) -> AsyncIterator[StreamEvent]:
    """An answer and a workflow with the same ids every time, as a replaying model's."""
    item = AssistantMessageItem(id="m", thread_id=turn.thread.id, created_at=utc_now(), content=[])
    yield ThreadItemAddedEvent(item=item)
    part = AssistantMessageContent(text="")
    yield ThreadItemUpdatedEvent(
        item_id="m", update=ContentPartAdded(content_index=0, content=part)
    )
    yield TextDelta("m", 0, text)
    yield ThreadItemDoneEvent(
        item=item.model_copy(update={"content": [AssistantMessageContent(text=text)]})
    )
    workflow = Workflow(type="custom", tasks=[CustomTask(title=text)])
    yield ThreadItemDoneEvent(
        item=WorkflowItem(
            id="wf", thread_id=turn.thread.id, created_at=utc_now(), workflow=workflow
        )
    )


async def test_a_new_item_never_overwrites_a_finished_one_with_its_id() -> None:
    store = MemoryStore()
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    await store.save_thread(thread, CTX)
    turn = Turn(thread, CTX, store)
    wires = []
    for text in ("first", "second"):
        frames = run_pipeline(turn, [], lambda text=text: same_ids(turn, text))
        wires.append([json.loads(frame[6:]) async for frame in frames][1:])
    assert [event.get("item_id") or event["item"]["id"] for event in wires[0]] == ["m"] * 4 + ["wf"]
    # The second answer got a fresh id, used by every event that addressed it.
    renamed = {event.get("item_id") or event["item"]["id"] for event in wires[1][:4]}
    (new_id,) = renamed
    assert new_id.startswith("msg_")
    assert wires[1][2]["update"]["delta"] == "second"
    items = (await store.load_thread_items("thr_1", None, 10, "asc", CTX)).data
    assert [(item.id, item.type) for item in items] == [
        ("m", "assistant_message"),
        ("wf", "workflow"),
        (new_id, "assistant_message"),
    ]
    assert [part.text for part in items[0].content] == ["first"]  # type: ignore[union-attr]
    assert [part.text for part in items[2].content] == ["second"]  # type: ignore[union-attr]
    # A workflow may be sent again to continue it (SPEC §18 q46): updated in place.
    assert items[1].workflow.tasks[0].title == "second"  # type: ignore[union-attr]


class _NoItemLookups(MemoryStore):
    """A memory store that fails the test if the pipeline looks an item up."""

    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        raise AssertionError("the pipeline asked the store whether an id is taken")


async def test_known_items_answer_whether_an_id_is_taken_without_the_store() -> None:
    store = _NoItemLookups()
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    await store.save_thread(thread, CTX)
    question = UserMessageItem(
        id="m",
        thread_id="thr_1",
        created_at=utc_now(),
        content=[UserMessageTextContent(text="hi")],
        inference_options=InferenceOptions(),
    )
    await store.add_thread_item("thr_1", question, CTX)
    turn = Turn(thread, CTX, store, known_items=frozenset({"m"}))
    frames = run_pipeline(turn, [], lambda: same_ids(turn, "answer"))
    events = [json.loads(frame[6:]) async for frame in frames][1:]
    # "m" is the user's message: the answer is renamed; "wf" is new and keeps its id.
    (new_id,) = {event.get("item_id") or event["item"]["id"] for event in events[:4]}
    assert new_id.startswith("msg_")
    items = (await store.load_thread_items("thr_1", None, 10, "asc", CTX)).data
    assert [(item.id, item.type) for item in items] == [
        ("m", "user_message"),
        (new_id, "assistant_message"),
        ("wf", "workflow"),
    ]


async def changes_in_place(turn: Turn) -> AsyncIterator[StreamEvent]:
    """Changes to the thread made in place, one per event."""
    turn.thread.metadata["seen"] = True
    yield ProgressUpdateEvent(text="metadata")
    assert isinstance(turn.thread.status, LockedStatus)
    turn.thread.status.reason = "busy"
    yield ProgressUpdateEvent(text="status")
    assert turn.thread.allowed_image_domains is not None
    turn.thread.allowed_image_domains.append("example.com")
    yield ProgressUpdateEvent(text="domains")
    yield ProgressUpdateEvent(text="nothing changed")


async def test_changes_made_in_place_are_saved_and_announced() -> None:
    store = MemoryStore()
    thread = ThreadMetadata(
        id="thr_1", created_at=utc_now(), status=LockedStatus(), allowed_image_domains=[]
    )
    await store.save_thread(thread, CTX)
    turn = Turn(thread, CTX, store)
    frames = run_pipeline(turn, [], lambda: changes_in_place(turn))
    types = [json.loads(frame[6:])["type"] for frame in [frame async for frame in frames]]
    assert types[1:] == ["progress_update", "thread.updated"] * 3 + ["progress_update"]
    saved = await store.load_thread("thr_1", CTX)
    assert saved.metadata == {"seen": True}
    assert saved.status == LockedStatus(reason="busy")
    assert saved.allowed_image_domains == ["example.com"]
