"""The Agents SDK → ChatKit adapter (AGENTS-ADAPTER §2.2, DEVIATIONS D9, D11, D12).

Scenario tests replay the reference transcripts' model scripts through a real Runner and
compare the adapter's events with the recorded ones; the rest target one mapping rule each
with hand-built Responses event streams.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    ModelBehaviorError,
    ModelRefusalError,
    OpenAIChatCompletionsModel,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    RunContextWrapper,
    Runner,
    RunResultStreaming,
    StopAtTools,
    function_tool,
    input_guardrail,
    output_guardrail,
)
from agents.models.interface import Model
from openai import AsyncOpenAI
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseImageGenCallPartialImageEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response_output_item import ImageGenerationCall
from openai.types.responses.response_output_text_annotation_added_event import (
    AnnotationURLCitation,
)
from pydantic import TypeAdapter

from agents_layer.adapter import StreamConverter, stream_agent_response
from agents_layer.context import AgentContext, ClientToolCall
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel, ScriptExhausted, scripted_turn_chat_chunks
from chatkit_proto.base import utc_now
from chatkit_proto.codec import encode_event
from chatkit_proto.context import RequestContext
from chatkit_proto.events import (
    StreamEvent,
    TextDelta,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
)
from chatkit_proto.items import AssistantMessageItem, ClientToolCallItem, WorkflowItem
from chatkit_proto.sources import FileSource
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.widgets import Card, Text, WidgetRoot
from chatkit_proto.workflows import ThoughtTask, Workflow

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
ID_KEYS = frozenset({"id", "thread_id", "item_id", "call_id"})
WIDGET = TypeAdapter(WidgetRoot)


# --- Harness -----------------------------------------------------------------------------


def load(scenario: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{scenario}.json").read_text())


def wire(event: StreamEvent) -> dict[str, Any]:
    """An event as the client receives it."""
    return json.loads(encode_event(event).removeprefix(b"data: "))


def normalize(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids numbered by first appearance; timestamps and durations dropped (CONFORMANCE.md)."""
    ids: dict[str, str] = {}

    def walk(node: Any, in_widget: bool) -> Any:
        if isinstance(node, list):
            return [walk(value, in_widget) for value in node]
        if not isinstance(node, dict):
            return node
        out = {}
        for key in sorted(node):
            value = node[key]
            if key == "created_at" or key == "duration":
                continue
            if key in ID_KEYS and isinstance(value, str) and not in_widget:
                out[key] = ids.setdefault(value, f"<id:{len(ids)}>")
            else:
                out[key] = walk(value, in_widget or key in ("widget", "component"))
        return out

    return [walk(event, False) for event in events]


def responder_events(exchange: dict[str, Any]) -> list[dict[str, Any]]:
    """What the responder produced: the events after `stream_options`, minus the error."""
    events = exchange["events"]
    start = next(i for i, event in enumerate(events) if event["type"] == "stream_options") + 1
    return [event for event in events[start:] if event["type"] not in ("error", "thread.updated")]


class Harness:
    """One thread, one agent and one model, run turn after turn like the server would."""

    def __init__(self, model: Model, tools: Sequence[Any] = (), **agent: Any) -> None:
        self.model = model
        self.store = MemoryStore()
        self.request = RequestContext(user_id="tester")
        self.thread = ThreadMetadata(id="thr_test", created_at=utc_now())
        self.agent = Agent[AgentContext](name="Assistant", tools=list(tools), **agent)
        self.events: list[StreamEvent] = []
        self.wire: list[dict[str, Any]] = []

    async def start(self) -> tuple[AgentContext, RunResultStreaming]:
        """Start a run on the (saved) thread, without consuming it."""
        await self.store.save_thread(self.thread, self.request)
        context = AgentContext(self.thread, self.store, self.request)
        result = Runner.run_streamed(
            self.agent,
            "hi",
            context=context,
            run_config=RunConfig(model=self.model, tracing_disabled=True),
        )
        return context, result

    async def run(self) -> list[StreamEvent]:
        """Stream one response; events are kept (also on failure) and persisted as they come."""
        self.events, self.wire = [], []
        context, result = await self.start()
        async for event in stream_agent_response(context, result):
            # Serialized at once: later events may change objects an earlier one refers to.
            self.events.append(event)
            self.wire.append(wire(event))
            if isinstance(event, ThreadItemDoneEvent):
                await self.store.add_thread_item(self.thread.id, event.item, self.request)
            elif isinstance(event, ThreadItemRemovedEvent):
                await self.store.delete_thread_item(self.thread.id, event.item_id, self.request)
        return self.events

    async def items(self) -> list[Any]:
        page = await self.store.load_thread_items(self.thread.id, None, 100, "asc", self.request)
        return page.data

    def types(self) -> list[str]:
        return [
            f"{event['type']}:{event['update']['type']}"
            if event["type"] == "thread.item.updated"
            else f"{event['type']}:{event['item']['type']}"
            if "item" in event
            else event["type"]
            for event in self.wire
        ]


def scripted(*turns: dict[str, Any], delay: float | None = None) -> ScriptedModel:
    if delay is not None:
        turns = tuple({**turn, "delay": delay} for turn in turns)
    # The reference's model ids (msg_t0_0 …), the same in every run of every process.
    return ScriptedModel(parse_script({"turns": list(turns)}), id_tag="")


def message(*deltas: str) -> dict[str, Any]:
    return {"type": "message", "text": list(deltas)}


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"type": "function_call", "name": name, "arguments": arguments}


def reasoning(*deltas: str) -> dict[str, Any]:
    return {"type": "reasoning", "summary": list(deltas)}


@function_tool
async def add_task(ctx: RunContextWrapper[AgentContext], title: str) -> str:
    """Add a task."""
    return f"Added task: {title}"


@function_tool
async def get_location(ctx: RunContextWrapper[AgentContext], precision: str) -> None:
    """Ask the client where the user is."""
    ctx.context.client_tool_call = ClientToolCall(
        name="get_location", arguments={"precision": precision}
    )


@function_tool
async def show_card(ctx: RunContextWrapper[AgentContext]) -> None:
    """Show a card."""
    await ctx.context.stream_widget(Card(children=[Text(value="Hello")]))


CLIENT_TOOL = {"tool_use_behavior": StopAtTools(stop_at_tool_names=["get_location"])}


# --- Reference scenarios -----------------------------------------------------------------


@pytest.mark.parametrize(
    "scenario", ["create_thread_text", "add_user_message", "reasoning_then_answer", "annotations"]
)
async def test_model_only_scenarios_match_the_reference(scenario: str) -> None:
    fixture = load(scenario)
    harness = Harness(ScriptedModel(parse_script(fixture["script"])))
    for exchange in fixture["exchanges"]:
        if "events" in exchange:
            await harness.run()
            assert normalize(harness.wire) == normalize(responder_events(exchange))


async def test_text_deltas_use_the_hot_path_event() -> None:
    harness = Harness(scripted({"output": [message("a", "b")]}))
    events = await harness.run()
    item_id = harness.wire[0]["item"]["id"]
    assert [event for event in events if isinstance(event, TextDelta)] == [
        TextDelta(item_id, 0, "a"),
        TextDelta(item_id, 0, "b"),
    ]


async def test_every_item_id_is_ours_though_the_model_repeats_its_ids() -> None:
    # The model says msg_t0_0 / fc_t0_0 in both runs, as a restarted process would.
    harness = Harness(
        scripted({"output": [message("One")]}, {"output": [message("Two")]}),
    )
    ids = []
    for _ in range(2):
        await harness.run()
        (item_id,) = {e.get("item_id") or e["item"]["id"] for e in harness.wire}
        assert item_id.startswith("msg_") and "_t0_0" not in item_id
        ids.append(item_id)
    assert ids[0] != ids[1]
    assert [item.id for item in await harness.items()] == ids


async def test_server_tool_call_produces_no_event() -> None:
    fixture = load("server_tool_call")
    harness = Harness(ScriptedModel(parse_script(fixture["script"])), [add_task])
    await harness.run()
    assert normalize(harness.wire) == normalize(responder_events(fixture["exchanges"][0]))


async def test_widget_from_tool_matches_the_reference() -> None:
    fixture = load("widget_from_tool")
    expected = responder_events(fixture["exchanges"][0])
    shown = expected[0]["item"]

    @function_tool
    async def show_tasks(ctx: RunContextWrapper[AgentContext]) -> None:
        """Show the task list."""
        widget = WIDGET.validate_python(shown["widget"])
        await ctx.context.stream_widget(widget, copy_text=shown["copy_text"])

    harness = Harness(ScriptedModel(parse_script(fixture["script"])), [show_tasks])
    await harness.run()
    assert normalize(harness.wire) == normalize(expected)


async def test_client_tool_round_trip_matches_the_reference() -> None:
    fixture = load("client_tool_round_trip")
    harness = Harness(ScriptedModel(parse_script(fixture["script"])), [get_location], **CLIENT_TOOL)
    await harness.run()
    assert normalize(harness.wire) == normalize(responder_events(fixture["exchanges"][0]))
    pending = harness.events[-1].item
    assert isinstance(pending, ClientToolCallItem)
    # threads.add_client_tool_output completes the call, then the run resumes.
    completed = pending.model_copy(update={"status": "completed", "output": {"city": "Paris"}})
    await harness.store.add_thread_item(harness.thread.id, completed, harness.request)
    await harness.run()
    assert normalize(harness.wire) == normalize(responder_events(fixture["exchanges"][1]))


async def test_model_errors_pass_through_after_the_streamed_output() -> None:
    fixture = load("errors")
    exchange = next(e for e in fixture["exchanges"] if e["note"].startswith("model streams"))
    harness = Harness(
        ScriptedModel(parse_script({"turns": fixture["script"]["turns"][2:]})), [add_task]
    )
    with pytest.raises(ScriptExhausted, match="no turn 1"):
        await harness.run()
    assert normalize(harness.wire) == normalize(responder_events(exchange))


async def test_unknown_tool_raises_without_events() -> None:
    harness = Harness(scripted({"output": [call("no_such_tool")]}))
    with pytest.raises(ModelBehaviorError, match="no_such_tool"):
        await harness.run()
    assert harness.wire == []


# --- Hand-built Responses streams ---------------------------------------------------------


class EventModel(Model):
    """A model whose n-th call streams the n-th list of events, then `response.completed`."""

    def __init__(self, *turns: Sequence[Any]) -> None:
        self.turns = list(turns)
        self.calls = 0

    async def _play(self) -> AsyncIterator[Any]:
        events = self.turns[self.calls]
        self.calls += 1
        output = [event.item for event in events if event.type == "response.output_item.done"]
        for event in [*events, completed(output)]:
            await asyncio.sleep(0)
            yield event

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._play()

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the adapter only makes streamed model calls")


def completed(output: list[Any]) -> ResponseCompletedEvent:
    response = Response(
        id="resp_1",
        created_at=0.0,
        model="events",
        object="response",
        output=output,
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        status="completed",
    )
    return ResponseCompletedEvent(response=response, sequence_number=0, type="response.completed")


def item_added(item: Any, index: int = 0) -> ResponseOutputItemAddedEvent:
    return ResponseOutputItemAddedEvent(
        item=item, output_index=index, sequence_number=0, type="response.output_item.added"
    )


def item_done(item: Any, index: int = 0) -> ResponseOutputItemDoneEvent:
    return ResponseOutputItemDoneEvent(
        item=item, output_index=index, sequence_number=0, type="response.output_item.done"
    )


def text_message_events(item_id: str, text: str, index: int = 0, **extra: Any) -> list[Any]:
    """A one-part text message; `extra` events go between the delta and `output_text.done`."""
    part = ResponseOutputText(annotations=[], text=text, type="output_text", logprobs=[])
    common = {"item_id": item_id, "output_index": index, "content_index": 0, "sequence_number": 0}
    return [
        item_added(
            ResponseOutputMessage(
                id=item_id, content=[], role="assistant", status="in_progress", type="message"
            ),
            index,
        ),
        ResponseContentPartAddedEvent(
            part=part.model_copy(update={"text": ""}), type="response.content_part.added", **common
        ),
        ResponseTextDeltaEvent(
            delta=text, logprobs=[], type="response.output_text.delta", **common
        ),
        *extra.get("before_done", []),
        ResponseTextDoneEvent(text=text, logprobs=[], type="response.output_text.done", **common),
        item_done(
            ResponseOutputMessage(
                id=item_id, content=[part], role="assistant", status="completed", type="message"
            ),
            index,
        ),
    ]


def reasoning_events(item_id: str, *summaries: Sequence[str], index: int = 0) -> list[Any]:
    """A reasoning item with one summary per argument, each streamed as the given deltas."""
    events: list[Any] = [
        item_added(ResponseReasoningItem(id=item_id, summary=[], type="reasoning"), index)
    ]
    for summary_index, deltas in enumerate(summaries):
        common = {"item_id": item_id, "output_index": index, "summary_index": summary_index}
        events.extend(
            ResponseReasoningSummaryTextDeltaEvent(
                delta=delta,
                sequence_number=0,
                type="response.reasoning_summary_text.delta",
                **common,
            )
            for delta in deltas
        )
        events.append(
            ResponseReasoningSummaryTextDoneEvent(
                text="".join(deltas),
                sequence_number=0,
                type="response.reasoning_summary_text.done",
                **common,
            )
        )
    events.append(item_done(ResponseReasoningItem(id=item_id, summary=[], type="reasoning"), index))
    return events


def updates(harness: Harness, kind: str) -> list[dict[str, Any]]:
    return [
        event["update"]
        for event in harness.wire
        if event["type"] == "thread.item.updated" and event["update"]["type"] == kind
    ]


async def test_openai3_typed_annotation_streams_as_the_reference(  # D11
) -> None:
    citation = AnnotationURLCitation(
        type="url_citation",
        url="https://example.com/docs",
        title="Docs",
        start_index=0,
        end_index=4,
    )
    added = ResponseOutputTextAnnotationAddedEvent(
        annotation=citation,
        annotation_index=7,
        content_index=0,
        item_id="msg_1",
        output_index=0,
        sequence_number=0,
        type="response.output_text.annotation.added",
    )
    harness = Harness(EventModel(text_message_events("msg_1", "Docs", before_done=[added, added])))
    await harness.run()
    annotation = {
        "type": "annotation",
        "source": {"type": "url", "url": "https://example.com/docs", "title": "Docs"},
        "index": 4,
    }
    # The adapter counts converted annotations itself: 0, 1 — not the API's index.
    assert updates(harness, "assistant_message.content_part.annotation_added") == [
        {"type": "assistant_message.content_part.annotation_added", "content_index": 0, "annotation_index": i, "annotation": annotation}
        for i in (0, 1)
    ]  # fmt: skip
    assert (
        updates(harness, "assistant_message.content_part.done")[0]["content"]["annotations"] == []
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "file_citation", "file_id": "f", "filename": "a.pdf", "index": 3}, ("a.pdf", 3)),
        ({"type": "file_citation", "file_id": "f", "filename": "", "index": 3}, None),
        (
            {"type": "container_file_citation", "container_id": "c", "file_id": "f", "filename": "b.csv", "start_index": 1, "end_index": 9},
            ("b.csv", 9),
        ),
        ({"type": "file_path", "file_id": "f", "index": 2}, None),
    ],
)  # fmt: skip
def test_file_citations_convert_or_drop(
    raw: dict[str, Any], expected: tuple[str, int] | None
) -> None:
    annotation = StreamConverter().annotation(raw)
    if expected is None:
        assert annotation is None
    else:
        assert annotation is not None
        assert annotation.source == FileSource(filename=expected[0], title=expected[0])
        assert annotation.index == expected[1]


async def test_refusal_part_becomes_text_at_done_only() -> None:
    refusal = ResponseOutputRefusal(refusal="I cannot.", type="refusal")
    text = ResponseOutputText(annotations=[], text="Sorry.", type="output_text", logprobs=[])
    events = [
        item_added(ResponseOutputMessage(id="msg_r", content=[], role="assistant", status="in_progress", type="message")),
        ResponseContentPartAddedEvent(part=refusal.model_copy(update={"refusal": ""}), content_index=0, item_id="msg_r", output_index=0, sequence_number=0, type="response.content_part.added"),
        item_done(ResponseOutputMessage(id="msg_r", content=[refusal, text], role="assistant", status="completed", type="message")),
    ]  # fmt: skip
    harness = Harness(EventModel(events))
    # The SDK refuses to go on after a refusal; the message has streamed by then.
    with pytest.raises(ModelRefusalError):
        await harness.run()
    assert updates(harness, "assistant_message.content_part.added")[0]["content"]["text"] == ""
    done = harness.wire[-1]["item"]
    assert [part["text"] for part in done["content"]] == ["I cannot.", "Sorry."]


async def test_generated_image_streams_partials_then_the_image() -> None:
    call_item = ImageGenerationCall(id="ig_1", status="in_progress", type="image_generation_call")
    partials = [
        ResponseImageGenCallPartialImageEvent(item_id="ig_1", output_index=0, partial_image_b64=b64, partial_image_index=index, sequence_number=0, type="response.image_generation_call.partial_image")
        for index, b64 in enumerate(["AAA", "BBB"])
    ]  # fmt: skip
    final = call_item.model_copy(update={"status": "completed", "result": "CCC"})
    # An image call is a hosted tool call: the Runner asks the model again afterwards.
    harness = Harness(
        EventModel(
            [item_added(call_item), *partials, item_done(final)], text_message_events("m", "Done")
        )
    )
    context, result = await harness.start()
    converter = StreamConverter(partial_images=2)
    harness.wire = [
        wire(event) async for event in stream_agent_response(context, result, converter)
    ]
    added, first, second, done = harness.wire[:4]
    image_id = added["item"]["id"]
    assert added["item"]["type"] == "generated_image" and "image" not in added["item"]
    assert image_id.startswith("msg_")
    assert [first["update"]["progress"], second["update"]["progress"]] == [0.0, 0.5]
    assert second["update"]["image"] == {"id": "ig_1", "url": "data:image/png;base64,BBB"}
    assert done["type"] == "thread.item.done" and done["item"]["id"] == image_id
    assert done["item"]["image"] == {"id": "ig_1", "url": "data:image/png;base64,CCC"}


# --- Reasoning and workflows -------------------------------------------------------------


async def test_only_the_first_thought_streams() -> None:
    events = [
        *reasoning_events("rs_1", ["Think", "ing 1"], ["Think", "ing 2"]),
        *reasoning_events("rs_2", ["More", " thoughts"], index=1),
        *text_message_events("msg_1", "Answer", index=2),
    ]
    harness = Harness(EventModel(events))
    await harness.run()
    flow = [(e["update"]["type"], e["update"]["task_index"], e["update"]["task"]["content"]) for e in harness.wire if e["type"] == "thread.item.updated" and e["update"]["type"].startswith("workflow")]  # fmt: skip
    assert flow == [
        ("workflow.task.added", 0, "Think"),
        ("workflow.task.updated", 0, "Thinking 1"),
        ("workflow.task.updated", 0, "Thinking 1"),
        ("workflow.task.added", 1, "Thinking 2"),
        ("workflow.task.added", 2, "More thoughts"),
    ]
    assert harness.types() == [
        "thread.item.added:workflow",
        *["thread.item.updated:" + kind for kind, _, _ in flow],
        "thread.item.done:workflow",
        "thread.item.added:assistant_message",
        "thread.item.updated:assistant_message.content_part.added",
        "thread.item.updated:assistant_message.content_part.text_delta",
        "thread.item.updated:assistant_message.content_part.done",
        "thread.item.done:assistant_message",
    ]
    done = harness.wire[6]["item"]["workflow"]
    assert done["expanded"] is False and done["summary"] == {"duration": 0}
    assert [task["content"] for task in done["tasks"]] == [
        "Thinking 1",
        "Thinking 2",
        "More thoughts",
    ]


async def test_workflow_ends_before_a_tool_widget() -> None:
    harness = Harness(
        scripted({"output": [reasoning("Hmm"), call("show_card")]}, {"output": [message("Here.")]}),
        [show_card],
    )
    await harness.run()
    assert harness.types()[:5] == [
        "thread.item.added:workflow",
        "thread.item.updated:workflow.task.added",
        "thread.item.updated:workflow.task.updated",
        "thread.item.done:workflow",
        "thread.item.done:widget",
    ]
    assert harness.types()[5] == "thread.item.added:assistant_message"


async def test_open_workflow_is_stored_and_resumed_after_a_client_tool() -> None:
    harness = Harness(
        scripted(
            {"output": [reasoning("Need", " location"), call("get_location", precision="city")]},
            {"output": [reasoning("Got", " it"), message("Paris.")]},
        ),
        [get_location],
        **CLIENT_TOOL,
    )
    await harness.run()
    # A client tool call does not close the workflow; it is stored as is, not `done`.
    assert harness.types() == [
        "thread.item.added:workflow",
        "thread.item.updated:workflow.task.added",
        "thread.item.updated:workflow.task.updated",
        "thread.item.updated:workflow.task.updated",
        "thread.item.done:client_tool_call",
    ]
    workflow, tool_call = await harness.items()
    assert isinstance(workflow, WorkflowItem) and workflow.workflow.summary is None
    # Our item id; the model's call id, which pairs the call with its output.
    assert tool_call.id.startswith("tc_") and tool_call.call_id == "call_t0_1"
    completed = tool_call.model_copy(update={"status": "completed", "output": "Paris"})
    await harness.store.add_thread_item(harness.thread.id, completed, harness.request)

    await harness.run()
    # The resumed workflow already has a thought: the new one arrives whole, then it ends.
    first, done = harness.wire[0], harness.wire[1]
    assert first == {
        "type": "thread.item.updated",
        "item_id": workflow.id,
        "update": {"type": "workflow.task.added", "task_index": 1, "task": {"status_indicator": "none", "type": "thought", "content": "Got it"}},
    }  # fmt: skip
    assert done["type"] == "thread.item.done" and done["item"]["id"] == workflow.id
    assert [t["content"] for t in done["item"]["workflow"]["tasks"]] == ["Need location", "Got it"]
    assert harness.types()[2] == "thread.item.added:assistant_message"


async def stored_workflow(harness: Harness) -> WorkflowItem:
    await harness.store.save_thread(harness.thread, harness.request)
    workflow = WorkflowItem(
        id="wf_old",
        thread_id=harness.thread.id,
        created_at=utc_now(),
        workflow=Workflow(type="reasoning", tasks=[ThoughtTask(content="Earlier")]),
    )
    await harness.store.add_thread_item(harness.thread.id, workflow, harness.request)
    return workflow


async def test_newest_workflow_is_resumed() -> None:
    harness = Harness(scripted({"output": [reasoning("New"), message("x")]}))
    await stored_workflow(harness)
    await harness.run()
    assert harness.types()[:2] == [
        "thread.item.updated:workflow.task.added",
        "thread.item.done:workflow",
    ]
    assert harness.wire[0]["item_id"] == "wf_old"


async def test_workflow_behind_another_item_is_not_resumed() -> None:
    harness = Harness(scripted({"output": [reasoning("New"), message("x")]}))
    await stored_workflow(harness)
    between = AssistantMessageItem(
        id="msg_between", thread_id=harness.thread.id, created_at=utc_now(), content=[]
    )
    await harness.store.add_thread_item(harness.thread.id, between, harness.request)
    await harness.run()
    assert harness.types()[0] == "thread.item.added:workflow"
    assert harness.wire[0]["item"]["id"] != "wf_old"


# --- Tools, client tool calls, guardrails ------------------------------------------------


async def test_tool_events_flow_in_order_while_the_tool_runs() -> None:
    release = asyncio.Event()
    model = scripted({"output": [message("Working"), call("slow")]}, {"output": [message("Done")]})

    @function_tool
    async def slow(ctx: RunContextWrapper[AgentContext]) -> str:
        """A tool that waits for the test."""
        await ctx.context.progress("Step 1")
        await release.wait()
        await ctx.context.stream_widget(Card(children=[Text(value="Result")]))
        return "ok"

    harness = Harness(model, [slow])
    context, result = await harness.start()
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(5):
        async for event in stream_agent_response(context, result):
            seen.append(wire(event))
            if event.type == "progress_update":
                # The tool is blocked until we release it, and we already have its event.
                assert len(model.calls) == 1
                release.set()
    harness.wire = seen
    assert harness.types() == [
        "thread.item.added:assistant_message",
        "thread.item.updated:assistant_message.content_part.added",
        "thread.item.updated:assistant_message.content_part.text_delta",
        "thread.item.updated:assistant_message.content_part.done",
        "thread.item.done:assistant_message",
        "progress_update",
        "thread.item.done:widget",
        "thread.item.added:assistant_message",
        "thread.item.updated:assistant_message.content_part.added",
        "thread.item.updated:assistant_message.content_part.text_delta",
        "thread.item.updated:assistant_message.content_part.done",
        "thread.item.done:assistant_message",
    ]


async def test_client_tool_call_is_the_last_event() -> None:
    @function_tool
    async def locate_and_note(ctx: RunContextWrapper[AgentContext]) -> None:
        """Ask the client for the location after a progress line."""
        ctx.context.client_tool_call = ClientToolCall(name="get_location", arguments={"p": 1})
        await ctx.context.progress("Asking the browser")

    harness = Harness(
        scripted({"output": [call("locate_and_note")]}),
        [locate_and_note],
        tool_use_behavior=StopAtTools(stop_at_tool_names=["locate_and_note"]),
    )
    await harness.run()
    assert harness.types() == ["progress_update", "thread.item.done:client_tool_call"]
    item = harness.wire[-1]["item"]
    assert item["id"].startswith("tc_")
    assert (item["call_id"], item["status"]) == ("call_t0_0", "pending")
    assert (item["name"], item["arguments"]) == ("get_location", {"p": 1})


@output_guardrail
async def no_forbidden(
    ctx: RunContextWrapper[AgentContext], agent: Agent[AgentContext], output: object
) -> GuardrailFunctionOutput:
    """Trip on FORBIDDEN."""
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="FORBIDDEN" in str(output))


async def test_output_guardrail_removes_everything_the_run_produced() -> None:
    harness = Harness(
        scripted(
            {"output": [reasoning("Hmm"), call("show_card")]}, {"output": [message("FORBIDDEN")]}
        ),
        [show_card],
        output_guardrails=[no_forbidden],
    )
    with pytest.raises(OutputGuardrailTripwireTriggered):
        await harness.run()
    produced = [e["item"]["id"] for e in harness.wire if e["type"] == "thread.item.added"]
    workflow_id, message_id = produced
    widget_id = next(e["item"]["id"] for e in harness.wire if e["type"] == "thread.item.done" and e["item"]["type"] == "widget")  # fmt: skip
    removed = [e["item_id"] for e in harness.wire if e["type"] == "thread.item.removed"]
    # The function call's id is removed too (it never was an item), in production order.
    assert removed[0] == workflow_id and removed[2:] == [widget_id, message_id]
    assert removed[1].startswith("tc_")
    assert harness.types()[-4:] == ["thread.item.removed"] * 4
    assert await harness.items() == []


async def test_blocking_input_guardrail_streams_nothing() -> None:
    @input_guardrail(run_in_parallel=False)
    async def refuse(ctx: Any, agent: Any, input: Any) -> GuardrailFunctionOutput:
        """Trip always."""
        return GuardrailFunctionOutput(output_info=None, tripwire_triggered=True)

    model = scripted({"output": [message("never")]})
    harness = Harness(model, input_guardrails=[refuse])
    with pytest.raises(InputGuardrailTripwireTriggered):
        await harness.run()
    assert harness.wire == [] and model.calls == []


# --- D12: Chat Completions ids -------------------------------------------------------------


def chat_completions_model(*turns: dict[str, Any]) -> OpenAIChatCompletionsModel:
    """The SDK's real Chat Completions model (the Gemini path) against a replayed stream."""
    script = parse_script({"turns": list(turns)})
    played = iter(range(len(turns)))

    async def handler(request: httpx2.Request) -> httpx2.Response:
        index = next(played)
        chunks = scripted_turn_chat_chunks(script.turns[index], index)
        body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
        return httpx2.Response(
            200, headers={"content-type": "text/event-stream"}, content=body.encode()
        )

    client = AsyncOpenAI(
        base_url="http://replay.invalid/v1",
        api_key="test",
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler)),
    )
    return OpenAIChatCompletionsModel(model="gemini-test", openai_client=client)


async def test_fake_ids_become_unique_ids_across_runs() -> None:
    harness = Harness(
        chat_completions_model({"output": [message("One", ".")]}, {"output": [message("Two")]})
    )
    ids = []
    for _ in range(2):
        await harness.run()
        item_ids = {e.get("item_id") or e["item"]["id"] for e in harness.wire}
        # Every event of the message names the same fresh id.
        (item_id,) = item_ids
        ids.append(item_id)
        assert harness.types()[0] == "thread.item.added:assistant_message"
    assert ids[0] != ids[1]
    assert all(item_id.startswith("msg_") and item_id != "__fake_id__" for item_id in ids)
    assert [item.id for item in await harness.items()] == ids


async def test_fake_function_call_id_becomes_a_fresh_tool_call_id() -> None:
    harness = Harness(
        chat_completions_model({"output": [call("get_location", precision="city")]}),
        [get_location],
        **CLIENT_TOOL,
    )
    await harness.run()
    item = harness.wire[-1]["item"]
    assert item["type"] == "client_tool_call" and item["id"].startswith("tc_")
    assert item["call_id"] == "call_t0_0"


# --- D9: cancellation, and the cost of merging --------------------------------------------


class CountingModel(ScriptedModel):
    """Counts the events the model has produced."""

    produced = 0

    async def _play(self, *args: Any) -> AsyncIterator[Any]:
        async for event in super()._play(*args):
            self.produced += 1
            yield event


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def test_closing_the_stream_stops_the_model_at_once() -> None:
    model = CountingModel(
        parse_script({"turns": [{"output": [message(*["word "] * 200)], "delay": 0.005}]})
    )
    harness = Harness(model)
    context, result = await harness.start()
    stream = stream_agent_response(context, result)
    deltas = 0
    async for event in stream:
        deltas += isinstance(event, TextDelta)
        if deltas == 3:
            break
    await stream.aclose()  # what the pipeline does when the client disconnects
    assert result.run_loop_task is not None and result.run_loop_task.done()
    assert other_tasks() == set()
    produced = model.produced
    await asyncio.sleep(0.1)
    assert model.produced == produced < 50


async def test_cancelling_the_consumer_stops_a_running_tool_and_the_run() -> None:
    tool_cancelled = asyncio.Event()

    @function_tool
    async def slow(ctx: RunContextWrapper[AgentContext]) -> str:
        """A tool that takes a while."""
        await ctx.context.progress("Working")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            tool_cancelled.set()
            raise
        return "done"

    model = scripted({"output": [call("slow")]}, {"output": [message("After")]})
    harness = Harness(model, [slow])
    context, result = await harness.start()
    started = asyncio.Event()

    async def consume() -> None:
        async for event in stream_agent_response(context, result):
            if event.type == "progress_update":
                started.set()

    consumer = asyncio.create_task(consume())
    await started.wait()
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert tool_cancelled.is_set()
    assert other_tasks() == set()
    await asyncio.sleep(0.05)
    assert len(model.calls) == 1


async def test_merging_creates_no_task_per_event() -> None:
    loop = asyncio.get_running_loop()
    created = 0

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        nonlocal created
        created += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    counts = []
    loop.set_task_factory(factory)
    try:
        for size in (5, 300):
            created = 0
            await Harness(scripted({"output": [message(*["x"] * size)]})).run()
            counts.append(created)
    finally:
        loop.set_task_factory(None)
    # The SDK starts a fixed number of tasks per run; the merge adds one, never one per event.
    assert counts[0] == counts[1]


async def test_failing_workflow_lookup_still_cancels_the_run() -> None:
    class BrokenStore(MemoryStore):
        async def load_thread_items(self, *args: Any) -> Any:
            raise RuntimeError("store down")

    harness = Harness(scripted({"output": [message("x")]}))
    harness.store = BrokenStore()
    context, result = await harness.start()
    with pytest.raises(RuntimeError, match="store down"):
        _ = [event async for event in stream_agent_response(context, result)]
    assert result.run_loop_task is not None and result.run_loop_task.done()
    assert other_tasks() == set()
