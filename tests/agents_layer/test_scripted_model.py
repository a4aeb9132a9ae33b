"""ScriptedModel: genuine Responses events, in API order, driven through the real Runner."""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, ModelSettings, Runner, function_tool, set_tracing_disabled
from agents.exceptions import ModelBehaviorError
from agents.models.interface import ModelTracing
from openai.types.chat import ChatCompletionChunk
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseStreamEvent,
)
from openai.types.responses.response_output_text import AnnotationURLCitation
from pydantic import TypeAdapter

from agents_layer.model_script import ModelScript, Turn, parse_script
from agents_layer.scripted_model import (
    ScriptedModel,
    ScriptExhausted,
    iter_turn_events,
    scripted_turn_chat_chunks,
    scripted_turn_response_frames,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "fixtures" / "reference"

TOOL_TURN = {
    "output": [
        {"type": "reasoning", "summary": ["Checking", " the weather."]},
        {"type": "function_call", "name": "get_weather", "arguments": {"city": "Paris"}},
    ]
}
ANSWER_TURN = {"output": [{"type": "message", "text": ["It is ", "sunny in ", "Paris."]}]}

MESSAGE_EVENTS = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]


@pytest.fixture(autouse=True)
def _no_tracing() -> None:
    set_tracing_disabled(True)


def _script(*turns: dict[str, Any]) -> ModelScript:
    return parse_script({"turns": list(turns)})


def _weather_agent(model: ScriptedModel, seen: list[str]) -> Agent[None]:
    @function_tool
    async def get_weather(city: str) -> str:
        """Report the weather in a city."""
        seen.append(city)
        return f"Sunny, 21C in {city}"

    return Agent(name="Assistant", instructions="Be brief.", model=model, tools=[get_weather])


def _label(event: Any) -> str:
    if event.type == "raw_response_event":
        return event.data.type
    if event.type == "run_item_stream_event":
        return f"item:{event.name}"
    return "agent_updated"


async def test_tool_call_then_answer_through_the_runner() -> None:
    model = ScriptedModel(_script(TOOL_TURN, ANSWER_TURN), id_tag="")
    seen: list[str] = []
    result = Runner.run_streamed(_weather_agent(model, seen), "Weather in Paris?")
    events = [event async for event in result.stream_events()]

    assert [_label(event) for event in events] == [
        "agent_updated",
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
        "item:reasoning_item_created",
        "item:tool_called",
        "item:tool_output",
        "response.created",
        "response.in_progress",
        *MESSAGE_EVENTS,
        "response.completed",
        "item:message_output_created",
    ]
    assert seen == ["Paris"]
    assert result.final_output == "It is sunny in Paris."
    assert result.last_response_id == "resp_t1"

    raw = [event.data for event in events if event.type == "raw_response_event"]
    first_turn, second_turn = raw[:14], raw[14:]
    assert [event.sequence_number for event in first_turn] == list(range(14))
    assert [event.sequence_number for event in second_turn] == list(range(11))
    assert raw[2].item.id == "rs_t0_0"
    assert raw[9].item.id == "fc_t0_1"
    assert raw[9].item.call_id == "call_t0_1"
    assert raw[10].delta == raw[11].arguments == '{"city":"Paris"}'
    assert raw[16].item.id == "msg_t1_0"
    assert [event.delta for event in raw[18:21]] == ["It is ", "sunny in ", "Paris."]

    first_call, second_call = model.calls
    assert (first_call.turn, second_call.turn) == (0, 1)
    assert first_call.tools == ("get_weather",)
    assert first_call.system_instructions == "Be brief."
    assert first_call.input == [{"content": "Weather in Paris?", "role": "user"}]
    assert [item.get("type") for item in second_call.input] == [
        None,
        "reasoning",
        "function_call",
        "function_call_output",
    ]
    assert second_call.input[-1]["call_id"] == "call_t0_1"
    assert second_call.input[-1]["output"] == "Sunny, 21C in Paris"


async def test_each_model_tags_its_ids_so_a_restart_does_not_repeat_them() -> None:
    first, second = (ScriptedModel(_script(TOOL_TURN)) for _ in range(2))
    ids = []
    for model in (first, second):
        stream = model.stream_response(
            None, "x", ModelSettings(), [], None, [], ModelTracing.DISABLED
        )
        done = [e.item for e in [e async for e in stream] if e.type == "response.output_item.done"]
        assert [item.id for item in done] == [
            f"rs_{model.id_tag}_t0_0",
            f"fc_{model.id_tag}_t0_1",
        ]
        assert done[1].call_id == f"call_{model.id_tag}_t0_1"
        ids.extend(item.id for item in done)
    assert first.id_tag != second.id_tag
    assert len(set(ids)) == 4


async def test_turns_count_across_runs_and_exhaustion_is_clear() -> None:
    model = ScriptedModel(_script(ANSWER_TURN, {"output": [{"type": "message", "text": ["2"]}]}))
    agent = Agent(name="Assistant", model=model)
    assert (await Runner.run(agent, "one")).final_output == "It is sunny in Paris."
    streamed = Runner.run_streamed(agent, "two")
    assert [e async for e in streamed.stream_events()]
    assert streamed.final_output == "2"

    exhausted = Runner.run_streamed(agent, "three")
    with pytest.raises(ScriptExhausted, match=r"^model script has no turn 2 \(it has 2 turns\)$"):
        _ = [event async for event in exhausted.stream_events()]
    with pytest.raises(ScriptExhausted, match="no turn 3"):
        await Runner.run(agent, "four")
    assert [call.turn for call in model.calls] == [0, 1, 2, 3]
    assert model.calls[3].input == [{"content": "four", "role": "user"}]


async def test_exhaustion_message_for_a_single_turn_script() -> None:
    model = ScriptedModel(_script(ANSWER_TURN))
    stream = model.stream_response(None, "x", ModelSettings(), [], None, [], ModelTracing.DISABLED)
    assert [event async for event in stream][-1].type == "response.completed"
    again = model.stream_response(None, "x", ModelSettings(), [], None, [], ModelTracing.DISABLED)
    with pytest.raises(ScriptExhausted, match=r"has no turn 1 \(it has 1 turn\)"):
        await anext(again)


async def test_non_streaming_runner_executes_the_scripted_tool() -> None:
    model = ScriptedModel(_script(TOOL_TURN, ANSWER_TURN), id_tag="")
    seen: list[str] = []
    result = await Runner.run(_weather_agent(model, seen), "Weather?")
    assert seen == ["Paris"]
    assert result.final_output == "It is sunny in Paris."
    assert [response.response_id for response in result.raw_responses] == ["resp_t0", "resp_t1"]


async def test_delay_is_slept_before_every_event() -> None:
    delay = 0.01
    model = ScriptedModel(_script({**ANSWER_TURN, "delay": delay}))
    stream = model.stream_response(None, "x", ModelSettings(), [], None, [], ModelTracing.DISABLED)
    started = time.perf_counter()
    stamps = [time.perf_counter() - started async for _ in stream]
    assert len(stamps) == 11
    assert stamps[0] >= delay * 0.9
    assert stamps[-1] >= 11 * delay * 0.9


async def test_streams_yield_to_the_event_loop_between_events() -> None:
    model = ScriptedModel(_script(ANSWER_TURN, ANSWER_TURN))
    order: list[int] = []

    async def consume(which: int) -> None:
        stream = model.stream_response(
            None, "x", ModelSettings(), [], None, [], ModelTracing.DISABLED
        )
        async for _ in stream:
            order.append(which)

    await asyncio.gather(consume(0), consume(1))
    assert order == [0, 1] * 11


def test_message_with_annotations_in_api_order() -> None:
    transcript = json.loads((REFERENCE / "annotations.json").read_text(encoding="utf-8"))
    turn = parse_script(transcript["script"]).turns[0]
    events = list(iter_turn_events(turn, 0))
    assert [event.type for event in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.annotation.added",
        "response.output_text.annotation.added",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert {getattr(event, "item_id", "msg_t0_0") for event in events} == {"msg_t0_0"}

    first, second = events[7:9]
    assert isinstance(first, ResponseOutputTextAnnotationAddedEvent)
    assert isinstance(second, ResponseOutputTextAnnotationAddedEvent)
    assert (first.annotation_index, second.annotation_index) == (0, 1)
    # A plain dict, as the reference recorder's fake model delivered it.
    assert first.annotation == {
        "type": "url_citation",
        "url": "https://example.com/docs",
        "title": "Docs",
        "start_index": 13,
        "end_index": 21,
    }
    assert events[9].text == "According to the docs, yes."

    done, completed = events[11], events[12]
    assert isinstance(done, ResponseOutputItemDoneEvent)
    assert isinstance(completed, ResponseCompletedEvent)
    # Built once: the item that is done is the very object in the completed response.
    assert completed.response.output == [done.item]
    assert completed.response.output[0] is done.item
    assert done.item.content[0] is events[10].part
    annotations = done.item.content[0].annotations
    assert all(isinstance(annotation, AnnotationURLCitation) for annotation in annotations)
    assert [annotation.url for annotation in annotations] == [
        "https://example.com/docs",
        "https://example.com/faq",
    ]
    assert completed.response.status == "completed"
    assert events[0].response.status == "in_progress"
    assert events[0].response is events[1].response


def test_empty_reasoning_summary_has_no_summary_parts() -> None:
    turn = Turn.model_validate(
        {"output": [{"type": "reasoning", "summary": []}, *ANSWER_TURN["output"]]}
    )
    events = list(iter_turn_events(turn, 4))
    assert [event.type for event in events[2:4]] == [
        "response.output_item.added",
        "response.output_item.done",
    ]
    assert events[3].item.summary == []
    assert events[4].item.id == "msg_t4_1"


@pytest.mark.parametrize(
    "scenario", ["server_tool_call", "errors", "widget_from_tool", "custom_action"]
)
async def test_runner_reproduces_the_reference_model_calls(scenario: str) -> None:
    """Same ids, argument JSON and item shapes as the reference fake model produced."""
    transcript = json.loads((REFERENCE / f"{scenario}.json").read_text(encoding="utf-8"))
    model = ScriptedModel(parse_script(transcript["script"]), id_tag="")

    @function_tool
    def add_task(title: str) -> str:
        """Add a task."""
        return f"Added task: {title}"

    @function_tool
    def show_tasks() -> None:
        """Show the task list."""

    agent = Agent(name="Assistant", model=model, tools=[add_task, show_tasks])
    for call in transcript["model_calls"]:
        if call["input"][-1].get("role") != "user":
            continue  # a continuation inside the previous run
        result = Runner.run_streamed(agent, call["input"])
        # Runs that end in the transcript's model error still record their model input.
        with suppress(ModelBehaviorError, ScriptExhausted):
            _ = [event async for event in result.stream_events()]
    recorded = [json.loads(json.dumps(call.input)) for call in model.calls]
    assert recorded == [call["input"] for call in transcript["model_calls"]]


def test_response_frames_parse_back_to_the_same_events() -> None:
    turn = Turn.model_validate(
        {
            "output": [
                *TOOL_TURN["output"],
                {
                    "type": "message",
                    "text": ["See ", "docs."],
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://example.com",
                            "title": "Ex",
                            "start_index": 4,
                            "end_index": 8,
                        }
                    ],
                },
            ]
        }
    )
    frames = scripted_turn_response_frames(turn, 3)
    events = list(iter_turn_events(turn, 3))
    adapter: TypeAdapter[ResponseStreamEvent] = TypeAdapter(ResponseStreamEvent)
    assert len(frames) == len(events)
    for frame, event in zip(frames, events, strict=True):
        event_line, data_line, blank, end = frame.decode().split("\n")
        assert (blank, end) == ("", "")
        assert event_line == f"event: {event.type}"
        assert data_line.startswith("data: {")
        parsed = adapter.validate_json(data_line.removeprefix("data: "))
        assert parsed.model_dump(mode="json") == event.model_dump(mode="json", warnings=False)
    assert json.loads(frames[-1].decode().split("data: ")[1])["response"]["id"] == "resp_t3"


def test_chat_chunks_carry_the_same_turn() -> None:
    turn = Turn.model_validate(
        {
            "output": [
                {"type": "reasoning", "summary": ["Think", "ing"]},
                {
                    "type": "message",
                    "text": ["Hi ", "there"],
                    "annotations": [
                        {
                            "type": "url_citation",
                            "url": "https://example.com",
                            "title": "Ex",
                            "start_index": 0,
                            "end_index": 2,
                        },
                        {"type": "file_citation", "file_id": "f", "filename": "a", "index": 0},
                    ],
                },
                {"type": "function_call", "name": "a", "arguments": {"x": [1, "é"]}},
                {"type": "function_call", "name": "b", "arguments": {}},
            ]
        }
    )
    chunks = scripted_turn_chat_chunks(turn, 2, model="gemini-test")
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk)
    assert {chunk["id"] for chunk in chunks} == {"chatcmpl_t2"}
    assert {chunk["model"] for chunk in chunks} == {"gemini-test"}
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    assert deltas[0]["role"] == "assistant"
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "Thinking"
    assert "".join(d.get("content", "") for d in deltas) == "Hi there"
    citations = [a for d in deltas for a in d.get("annotations", [])]
    assert citations == [
        {
            "type": "url_citation",
            "url_citation": {
                "url": "https://example.com",
                "title": "Ex",
                "start_index": 0,
                "end_index": 2,
            },
        }
    ]
    calls = [call for d in deltas for call in d.get("tool_calls", [])]
    assert calls == [
        {
            "index": 0,
            "id": "call_t2_2",
            "type": "function",
            "function": {"name": "a", "arguments": ""},
        },
        {"index": 0, "function": {"arguments": '{"x":[1,"é"]}'}},
        {
            "index": 1,
            "id": "call_t2_3",
            "type": "function",
            "function": {"name": "b", "arguments": ""},
        },
        {"index": 1, "function": {"arguments": "{}"}},
    ]
    assert chunks[-2]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["total_tokens"] == 0

    text_only = scripted_turn_chat_chunks(Turn.model_validate(ANSWER_TURN))
    assert text_only[-2]["choices"][0]["finish_reason"] == "stop"
