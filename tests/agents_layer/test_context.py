"""AgentContext helpers (AGENTS-ADAPTER §3): the events tools send through the run's queue."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from agents_layer.context import AgentContext, ClientToolCall
from chatkit_proto.base import utc_now
from chatkit_proto.codec import encode_event
from chatkit_proto.context import RequestContext
from chatkit_proto.events import ProgressUpdateEvent, ThreadItemAddedEvent, ThreadItemDoneEvent
from chatkit_proto.items import ClientToolCallItem, WorkflowItem
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.structured_input import FreeformInput
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.widgets import Card, Markdown, Text
from chatkit_proto.workflows import CustomSummary, CustomTask, Workflow


@pytest.fixture
def context() -> AgentContext:
    thread = ThreadMetadata(id="thr_ctx", created_at=utc_now())
    return AgentContext(thread, MemoryStore(), RequestContext(user_id="u"))


def sent(context: AgentContext) -> list[dict[str, Any]]:
    """Everything queued for the client so far, as the client would receive it."""
    events = []
    while not context._events.empty():
        frame = encode_event(context._events.get_nowait())
        events.append(json.loads(frame.removeprefix(b"data: ")))
    return events


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [
        event["update"]["type"] if event["type"] == "thread.item.updated" else event["type"]
        for event in events
    ]


def test_takes_thread_store_and_request_context_by_keyword() -> None:
    thread = ThreadMetadata(id="thr_1", created_at=utc_now())
    store, request = MemoryStore(), RequestContext(user_id="u")
    context = AgentContext(thread=thread, store=store, request_context=request)
    assert (context.thread, context.store, context.request_context) == (thread, store, request)
    assert context.generate_id("workflow").startswith("wf_")
    assert context.client_tool_call is None and context.workflow_item is None
    assert ClientToolCall("get_location").arguments == {}


async def test_static_widget_is_one_done_item(context: AgentContext) -> None:
    item_id = await context.stream_widget(Card(children=[Text(value="Hi")]), copy_text="Hi")
    (event,) = sent(context)
    assert event["type"] == "thread.item.done"
    assert event["item"]["id"] == item_id and item_id.startswith("msg_")
    assert (event["item"]["type"], event["item"]["copy_text"]) == ("widget", "Hi")
    assert event["item"]["thread_id"] == "thr_ctx"


async def test_widget_states_stream_as_added_diffs_done(context: AgentContext) -> None:
    body = Markdown(id="body", value="", streaming=True)
    card = Card(children=[body])

    async def states() -> AsyncIterator[Card]:
        # One tree mutated in place between yields, as generators often do.
        for text in ("", "Hel", "Hello"):
            body.value = text
            yield card
        body.streaming = False
        yield card

    item_id = await context.stream_widget(states())
    events = sent(context)
    assert kinds(events) == [
        "thread.item.added",
        "widget.streaming_text.value_delta",
        "widget.streaming_text.value_delta",
        "widget.root.updated",
        "thread.item.done",
    ]
    assert {event.get("item_id") or event["item"]["id"] for event in events} == {item_id}
    assert events[0]["item"]["widget"]["children"][0]["value"] == ""
    assert [e["update"]["delta"] for e in events[1:3]] == ["Hel", "lo"]
    assert [e["update"]["done"] for e in events[1:3]] == [False, False]
    assert events[-1]["item"]["widget"]["children"][0] == {
        "type": "Markdown",
        "id": "body",
        "value": "Hello",
        "streaming": False,
    }


async def test_widget_stream_blocks_until_the_generator_ends(context: AgentContext) -> None:
    release = asyncio.Event()

    async def states() -> AsyncIterator[Card]:
        yield Card(children=[Text(id="t", value="a")])
        await release.wait()
        yield Card(children=[Text(id="t", value="ab")])

    streaming = asyncio.create_task(context.stream_widget(states()))
    await asyncio.sleep(0.01)
    assert not streaming.done()
    assert kinds(sent(context)) == ["thread.item.added"]
    release.set()
    await streaming
    assert kinds(sent(context)) == ["widget.streaming_text.value_delta", "thread.item.done"]


async def test_custom_workflow_appears_with_its_first_task(context: AgentContext) -> None:
    item = await context.start_workflow(Workflow(type="custom", tasks=[]))
    assert sent(context) == [] and context.workflow_item is item
    assert await context.add_workflow_task(CustomTask(title="Search")) == 0
    assert await context.add_workflow_task(CustomTask(title="Read")) == 1
    await context.update_workflow_task(CustomTask(title="Read", status_indicator="complete"), 1)
    await context.end_workflow()
    events = sent(context)
    assert kinds(events) == [
        "thread.item.added",
        "workflow.task.added",
        "workflow.task.updated",
        "thread.item.done",
    ]
    # Each event shows the workflow as it was when sent, not as it ended up.
    assert [task["title"] for task in events[0]["item"]["workflow"]["tasks"]] == ["Search"]
    assert events[1]["update"]["task_index"] == 1
    assert events[2]["update"]["task"]["status_indicator"] == "complete"
    done = events[3]["item"]
    assert done["id"] == item.id
    assert done["workflow"]["summary"] == {"duration": 0}
    assert done["workflow"]["expanded"] is False
    assert context.workflow_item is None


async def test_reasoning_or_non_empty_workflow_is_announced_at_once(context: AgentContext) -> None:
    await context.start_workflow(Workflow(type="reasoning", tasks=[]))
    assert kinds(sent(context)) == ["thread.item.added"]
    await context.start_workflow(Workflow(type="custom", tasks=[CustomTask(title="x")]))
    # Starting a workflow closes the open one first (the reference leaves it open).
    assert kinds(sent(context)) == ["thread.item.done", "thread.item.added"]


async def test_task_without_workflow_opens_a_custom_one(context: AgentContext) -> None:
    await context.add_workflow_task(CustomTask(content="step"))
    (event,) = sent(context)
    assert event["type"] == "thread.item.added"
    assert event["item"]["id"].startswith("wf_")
    assert event["item"]["workflow"] == {
        "type": "custom",
        "tasks": [{"type": "custom", "status_indicator": "none", "content": "step"}],
        "expanded": False,
    }


async def test_end_workflow_with_summary_and_expanded(context: AgentContext) -> None:
    await context.add_workflow_task(CustomTask(title="a"))
    sent(context)
    await context.end_workflow(CustomSummary(title="Done", icon="check"), expanded=True)
    (event,) = sent(context)
    assert event["item"]["workflow"]["summary"] == {"title": "Done", "icon": "check"}
    assert event["item"]["workflow"]["expanded"] is True
    await context.end_workflow()
    assert sent(context) == []


async def test_workflow_task_changes_need_an_open_workflow(context: AgentContext) -> None:
    with pytest.raises(RuntimeError, match="No workflow is open"):
        await context.update_workflow_task(CustomTask(title="x"), 0)


async def test_other_items_close_the_open_workflow_first(context: AgentContext) -> None:
    await context.add_workflow_task(CustomTask(title="a"))
    workflow_id = context.workflow_item.id if context.workflow_item else None
    await context.hidden_context("note for the model")
    await context.stream(
        ThreadItemDoneEvent(
            item=ClientToolCallItem(
                id="tc_1",
                thread_id="thr_ctx",
                created_at=utc_now(),
                call_id="c",
                name="n",
                arguments={},
            )
        )
    )
    await context.progress("still working")
    assert context.workflow_item is not None
    await context.add_structured_input([FreeformInput(id="q", question="Why?")])
    events = sent(context)
    assert kinds(events) == [
        "thread.item.added",
        "thread.item.done",  # hidden context: the workflow stays open
        "thread.item.done",  # client tool call: same
        "progress_update",
        "thread.item.done",  # the workflow, closed by...
        "thread.item.done",  # ...the structured input
    ]
    assert [events[i]["item"]["type"] for i in (1, 2, 4, 5)] == [
        "hidden_context_item",
        "client_tool_call",
        "workflow",
        "structured_input",
    ]
    assert events[4]["item"]["id"] == workflow_id
    assert context.workflow_item is None


async def test_streamed_workflow_item_becomes_the_open_one(context: AgentContext) -> None:
    item = WorkflowItem(
        id="wf_mine",
        thread_id="thr_ctx",
        created_at=utc_now(),
        workflow=Workflow(type="custom", tasks=[CustomTask(title="a")]),
    )
    await context.stream(ThreadItemAddedEvent(item=item))
    assert context.workflow_item is item
    await context.add_workflow_task(CustomTask(title="b"))
    await context.stream(ThreadItemDoneEvent(item=item))
    assert context.workflow_item is None
    events = sent(context)
    assert kinds(events) == ["thread.item.added", "workflow.task.added", "thread.item.done"]
    assert len(events[0]["item"]["workflow"]["tasks"]) == 1


async def test_progress_effect_structured_input_and_hidden_context(context: AgentContext) -> None:
    await context.progress("Refreshing board", icon="reload")
    await context.client_effect("board.refresh", {"scope": "all"})
    item = await context.add_structured_input([FreeformInput(id="notes", question="Notes?")])
    await context.hidden_context({"done": ["t1"]})
    progress, effect, structured, hidden = sent(context)
    assert progress == {"type": "progress_update", "icon": "reload", "text": "Refreshing board"}
    assert effect == {"type": "client_effect", "name": "board.refresh", "data": {"scope": "all"}}
    assert structured["type"] == "thread.item.done"
    assert structured["item"]["id"] == item.id and item.status == "pending"
    assert structured["item"]["inputs"] == [
        {"type": "freeform", "id": "notes", "question": "Notes?"}
    ]
    assert hidden["item"]["type"] == "hidden_context_item"
    assert hidden["item"]["content"] == {"done": ["t1"]}


# --- Ordering (SPEC §16): one yield per burst of events, not one per event -----------------


async def test_each_burst_lands_after_the_model_events_produced_before_it(
    context: AgentContext,
) -> None:
    # A stand-in for the adapter's pump: it maps what the run produced onto the same queue.
    produced: asyncio.Queue[str] = asyncio.Queue()

    async def pump() -> None:
        while True:
            context._emit(ProgressUpdateEvent(text=await produced.get()))

    mapper = asyncio.create_task(pump())
    await asyncio.sleep(0)  # the pump now waits for the run
    produced.put_nowait("model 1")  # produced, not mapped yet
    await context.progress("tool 1")
    await context.progress("tool 2")
    await asyncio.sleep(0)  # the tool suspends; its next event starts a new burst
    produced.put_nowait("model 2")
    await context.progress("tool 3")
    mapper.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await mapper
    assert [e["text"] for e in sent(context)] == [
        "model 1",
        "tool 1",
        "tool 2",
        "model 2",
        "tool 3",
    ]


async def test_concurrent_senders_interleave_only_where_one_suspends(
    context: AgentContext,
) -> None:
    async def first() -> None:
        await context.progress("a1")
        await asyncio.sleep(0)  # suspends: the other sender's burst goes in between
        await context.progress("a2")
        await context.progress("a3")

    async def second() -> None:
        for text in ("b1", "b2", "b3"):
            await context.progress(text)

    await asyncio.gather(first(), second())
    assert [e["text"] for e in sent(context)] == ["a1", "b1", "b2", "b3", "a2", "a3"]
