"""A deterministic Agents SDK model that plays a model script as a genuine Responses stream.

Every model call plays the next script turn as the same `openai.types.responses` event objects,
in the same order, as a hosted Responses API stream, so the Runner, the tools and the ChatKit
adapter downstream all run for real. Model-produced ids are deterministic per turn and output
index after a tag (`msg_{tag}_t{turn}_{index}`, `fc_…`, `call_…`, `rs_…`). A `ScriptedModel`
draws its tag at random, so a restarted server's model does not repeat the ids of the last
one; the empty tag gives the reference transcripts' ids (`msg_t0_0`).

The same turn can also be rendered as Responses SSE frames or Chat Completions chunks, for
loopback replay servers that drive the real OpenAI client (and with it the SDK's Chat
Completions → Responses event synthesis that the Gemini path goes through).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from abc import abstractmethod
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

from agents.agent_output import AgentOutputSchemaBase
from agents.exceptions import AgentsException
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseOutputItem
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelTracing
from agents.tool import Tool
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseFunctionToolCall,
    ResponseInProgressEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_prompt_param import ResponsePromptParam
from openai.types.responses.response_reasoning_item import Summary
from openai.types.responses.response_reasoning_summary_part_added_event import (
    Part as SummaryPartAdded,
)
from openai.types.responses.response_reasoning_summary_part_done_event import (
    Part as SummaryPartDone,
)
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from agents_layer.model_script import (
    ModelScript,
    ScriptFunctionCall,
    ScriptMessage,
    ScriptReasoning,
    Turn,
)

__all__ = [
    "SCRIPTED_MODEL_NAME",
    "ModelCall",
    "ScriptExhausted",
    "ScriptedModel",
    "iter_turn_events",
    "scripted_turn_chat_chunks",
    "scripted_turn_response_frames",
]

SCRIPTED_MODEL_NAME = "scripted-model"

_Seq = Iterator[int]


class ScriptExhausted(AgentsException):
    """The model was called more often than the script has turns."""


@dataclass(frozen=True, slots=True)
class ModelCall:
    """What one model call received (the transcripts' `model_calls` entries)."""

    turn: int
    input: str | list[TResponseInputItem]
    tools: tuple[str, ...]
    system_instructions: str | None


def _stem(id_tag: str, turn: int) -> str:
    """What a turn's model ids share after their kind, e.g. `3fa2_t4`."""
    return f"{id_tag}_t{turn}" if id_tag else f"t{turn}"


def _message_events(
    item: ScriptMessage, stem: str, index: int, seq: _Seq
) -> Generator[ResponseStreamEvent, None, ResponseOutputMessage]:
    item_id = f"msg_{stem}_{index}"
    text = item.full_text
    yield ResponseOutputItemAddedEvent(
        item=ResponseOutputMessage(
            id=item_id, content=[], role="assistant", status="in_progress", type="message"
        ),
        output_index=index,
        sequence_number=next(seq),
        type="response.output_item.added",
    )
    yield ResponseContentPartAddedEvent(
        content_index=0,
        item_id=item_id,
        output_index=index,
        part=ResponseOutputText(annotations=[], text="", type="output_text", logprobs=[]),
        sequence_number=next(seq),
        type="response.content_part.added",
    )
    for delta in item.text:
        yield ResponseTextDeltaEvent(
            content_index=0,
            delta=delta,
            item_id=item_id,
            logprobs=[],
            output_index=index,
            sequence_number=next(seq),
            type="response.output_text.delta",
        )
    annotations = [annotation.model_dump() for annotation in item.annotations]
    for annotation_index, annotation in enumerate(annotations):
        event = ResponseOutputTextAnnotationAddedEvent(
            annotation=None,
            annotation_index=annotation_index,
            content_index=0,
            item_id=item_id,
            output_index=index,
            sequence_number=next(seq),
            type="response.output_text.annotation.added",
        )
        # openai 3.x would parse the annotation into event-module classes that chatkit 1.6.5
        # (the reference recorder) cannot convert; its fake model delivered a plain dict, as
        # openai 1.x did, so the transcripts were recorded with dicts.
        event.annotation = dict(annotation)  # type: ignore[assignment]
        yield event
    yield ResponseTextDoneEvent(
        content_index=0,
        item_id=item_id,
        logprobs=[],
        output_index=index,
        sequence_number=next(seq),
        text=text,
        type="response.output_text.done",
    )
    part = ResponseOutputText(
        annotations=annotations,  # type: ignore[arg-type]  # validated into typed annotations
        text=text,
        type="output_text",
        logprobs=[],
    )
    yield ResponseContentPartDoneEvent(
        content_index=0,
        item_id=item_id,
        output_index=index,
        part=part,
        sequence_number=next(seq),
        type="response.content_part.done",
    )
    done = ResponseOutputMessage(
        id=item_id, content=[part], role="assistant", status="completed", type="message"
    )
    yield ResponseOutputItemDoneEvent(
        item=done, output_index=index, sequence_number=next(seq), type="response.output_item.done"
    )
    return done


def _reasoning_events(
    item: ScriptReasoning, stem: str, index: int, seq: _Seq
) -> Generator[ResponseStreamEvent, None, ResponseReasoningItem]:
    item_id = f"rs_{stem}_{index}"
    yield ResponseOutputItemAddedEvent(
        item=ResponseReasoningItem(id=item_id, summary=[], type="reasoning"),
        output_index=index,
        sequence_number=next(seq),
        type="response.output_item.added",
    )
    summary: list[Summary] = []
    # An empty script summary means a reasoning item without summary parts, as the API sends
    # when it has nothing to summarise.
    if item.summary:
        text = item.full_text
        yield ResponseReasoningSummaryPartAddedEvent(
            item_id=item_id,
            output_index=index,
            part=SummaryPartAdded(text="", type="summary_text"),
            sequence_number=next(seq),
            summary_index=0,
            type="response.reasoning_summary_part.added",
        )
        for delta in item.summary:
            yield ResponseReasoningSummaryTextDeltaEvent(
                delta=delta,
                item_id=item_id,
                output_index=index,
                sequence_number=next(seq),
                summary_index=0,
                type="response.reasoning_summary_text.delta",
            )
        yield ResponseReasoningSummaryTextDoneEvent(
            item_id=item_id,
            output_index=index,
            sequence_number=next(seq),
            summary_index=0,
            text=text,
            type="response.reasoning_summary_text.done",
        )
        yield ResponseReasoningSummaryPartDoneEvent(
            item_id=item_id,
            output_index=index,
            part=SummaryPartDone(text=text, type="summary_text"),
            sequence_number=next(seq),
            summary_index=0,
            type="response.reasoning_summary_part.done",
        )
        summary.append(Summary(text=text, type="summary_text"))
    done = ResponseReasoningItem(id=item_id, summary=summary, type="reasoning")
    yield ResponseOutputItemDoneEvent(
        item=done, output_index=index, sequence_number=next(seq), type="response.output_item.done"
    )
    return done


def _function_call_events(
    item: ScriptFunctionCall, stem: str, index: int, seq: _Seq
) -> Generator[ResponseStreamEvent, None, ResponseFunctionToolCall]:
    item_id = f"fc_{stem}_{index}"
    call_id = f"call_{stem}_{index}"
    arguments = item.arguments_json
    yield ResponseOutputItemAddedEvent(
        item=ResponseFunctionToolCall(
            arguments="",
            call_id=call_id,
            name=item.name,
            type="function_call",
            id=item_id,
            status="in_progress",
        ),
        output_index=index,
        sequence_number=next(seq),
        type="response.output_item.added",
    )
    yield ResponseFunctionCallArgumentsDeltaEvent(
        delta=arguments,
        item_id=item_id,
        output_index=index,
        sequence_number=next(seq),
        type="response.function_call_arguments.delta",
    )
    yield ResponseFunctionCallArgumentsDoneEvent(
        arguments=arguments,
        item_id=item_id,
        output_index=index,
        sequence_number=next(seq),
        type="response.function_call_arguments.done",
    )
    done = ResponseFunctionToolCall(
        arguments=arguments,
        call_id=call_id,
        name=item.name,
        type="function_call",
        id=item_id,
        status="completed",
    )
    yield ResponseOutputItemDoneEvent(
        item=done, output_index=index, sequence_number=next(seq), type="response.output_item.done"
    )
    return done


def _response(
    stem: str, model: str, output: list[TResponseOutputItem], *, completed: bool
) -> Response:
    extra: dict[str, Any] = {}
    if completed:
        extra["usage"] = ResponseUsage(
            input_tokens=0,
            input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
            output_tokens=0,
            output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
            total_tokens=0,
        )
    return Response(
        id=f"resp_{stem}",
        created_at=0.0,
        model=model,
        object="response",
        output=output,
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        status="completed" if completed else "in_progress",
        **extra,
    )


def iter_turn_events(
    turn: Turn, turn_index: int, *, model: str = SCRIPTED_MODEL_NAME, id_tag: str = ""
) -> Iterator[ResponseStreamEvent]:
    """Yield one script turn as Responses stream events, in API order, building each on demand."""
    seq = itertools.count()
    stem = _stem(id_tag, turn_index)
    started = _response(stem, model, [], completed=False)
    yield ResponseCreatedEvent(response=started, sequence_number=next(seq), type="response.created")
    yield ResponseInProgressEvent(
        response=started, sequence_number=next(seq), type="response.in_progress"
    )
    output: list[TResponseOutputItem] = []
    for index, item in enumerate(turn.output):
        done: TResponseOutputItem
        match item:
            case ScriptMessage():
                done = yield from _message_events(item, stem, index, seq)
            case ScriptReasoning():
                done = yield from _reasoning_events(item, stem, index, seq)
            case ScriptFunctionCall():
                done = yield from _function_call_events(item, stem, index, seq)
        output.append(done)
    yield ResponseCompletedEvent(
        response=_response(stem, model, output, completed=True),
        sequence_number=next(seq),
        type="response.completed",
    )


def scripted_turn_response_frames(
    turn: Turn, turn_index: int = 0, *, model: str = SCRIPTED_MODEL_NAME, id_tag: str = ""
) -> list[bytes]:
    """One script turn as Responses API SSE frames (`event: <type>`, `data: <json>`)."""
    # warnings=False: the annotation events carry plain dicts (see _message_events), which
    # serialise to the same JSON but make pydantic warn about the declared union type.
    return [
        f"event: {event.type}\ndata: {event.to_json(indent=None, warnings=False)}\n\n".encode()
        for event in iter_turn_events(turn, turn_index, model=model, id_tag=id_tag)
    ]


def scripted_turn_chat_chunks(
    turn: Turn, turn_index: int = 0, *, model: str = SCRIPTED_MODEL_NAME, id_tag: str = ""
) -> list[dict[str, Any]]:
    """One script turn as Chat Completions `chat.completion.chunk` dicts, usage chunk last.

    Chat Completions has one assistant message per response, so several script messages in a
    turn stream into the same message; only `url_citation` annotations exist there (sent on a
    chunk after the message's text); reasoning is sent as `reasoning_content`.
    """

    stem = _stem(id_tag, turn_index)

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": f"chatcmpl_{stem}",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    deltas: list[dict[str, Any]] = []
    tool_call_count = 0
    for index, item in enumerate(turn.output):
        match item:
            case ScriptReasoning():
                deltas.extend({"reasoning_content": delta} for delta in item.summary)
            case ScriptMessage():
                deltas.extend({"content": delta} for delta in item.text)
                citations = [
                    {
                        "type": "url_citation",
                        "url_citation": annotation.model_dump(exclude={"type"}),
                    }
                    for annotation in item.annotations
                    if annotation.type == "url_citation"
                ]
                if citations:
                    deltas.append({"annotations": citations})
            case ScriptFunctionCall():
                call_index = tool_call_count
                tool_call_count += 1
                deltas.append(
                    {
                        "tool_calls": [
                            {
                                "index": call_index,
                                "id": f"call_{stem}_{index}",
                                "type": "function",
                                "function": {"name": item.name, "arguments": ""},
                            }
                        ]
                    }
                )
                deltas.append(
                    {
                        "tool_calls": [
                            {"index": call_index, "function": {"arguments": item.arguments_json}}
                        ]
                    }
                )
    if deltas:
        deltas[0] = {"role": "assistant", **deltas[0]}
    chunks = [chunk(delta) for delta in deltas]
    chunks.append(chunk({}, "tool_calls" if tool_call_count else "stop"))
    usage_chunk = chunk({})
    usage_chunk["choices"] = []
    usage_chunk["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    chunks.append(usage_chunk)
    return chunks


class PlayedModel(Model):
    """A model that plays ready-made Responses events; subclasses say which, in `_play`."""

    @abstractmethod
    def _play(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        tools: list[Tool],
    ) -> AsyncIterator[ResponseStreamEvent]:
        """The events of one model call, ending with `response.completed`."""

    def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> AsyncIterator[ResponseStreamEvent]:
        """Stream one model call as Responses events."""
        return self._play(system_instructions, input, tools)

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None = None,
        conversation_id: str | None = None,
        prompt: ResponsePromptParam | None = None,
    ) -> ModelResponse:
        """Play one model call (taking as long as streaming it would) and return it whole."""
        last = None
        async for event in self._play(system_instructions, input, tools):
            last = event
        # Every played call ends with response.completed.
        assert isinstance(last, ResponseCompletedEvent)
        return ModelResponse(
            output=last.response.output, usage=Usage(requests=1), response_id=last.response.id
        )


class ScriptedModel(PlayedModel):
    """An Agents SDK model whose every call plays the next turn of a model script."""

    def __init__(
        self,
        script: ModelScript,
        *,
        model_name: str = SCRIPTED_MODEL_NAME,
        id_tag: str | None = None,
    ) -> None:
        self.script = script
        self.model_name = model_name
        self.id_tag = secrets.token_hex(4) if id_tag is None else id_tag
        self.calls: list[ModelCall] = []
        # One counter per model instance: the server shares one instance, so turns count model
        # calls across the whole process, as the model-script format specifies.
        self._turn_counter = itertools.count()

    def __repr__(self) -> str:
        return f"ScriptedModel({len(self.script.turns)} turns, {len(self.calls)} played)"

    async def _play(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        tools: list[Tool],
    ) -> AsyncIterator[ResponseStreamEvent]:
        turn_index = next(self._turn_counter)
        self.calls.append(
            ModelCall(
                turn=turn_index,
                input=input if isinstance(input, str) else list(input),
                tools=tuple(tool.name for tool in tools),
                system_instructions=system_instructions,
            )
        )
        turns = self.script.turns
        if turn_index >= len(turns):
            plural = "" if len(turns) == 1 else "s"
            raise ScriptExhausted(
                f"model script has no turn {turn_index} (it has {len(turns)} turn{plural})"
            )
        turn = turns[turn_index]
        for event in iter_turn_events(turn, turn_index, model=self.model_name, id_tag=self.id_tag):
            # Sleeping (even for 0 s) before every event makes the Runner's consumer see each
            # event as it is produced, as with a real socket, instead of a whole queued turn.
            await asyncio.sleep(turn.delay)
            yield event
