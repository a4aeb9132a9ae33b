"""A message of two content parts: every part update keeps its part's `content_index`.

SPEC §6 addresses assistant-message part updates by `content_index`, and SPEC §17 (A1)
checks per `(item_id, content_index)`; annotation indices count per part (SPEC §16).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, RunConfig, Runner
from agents.models.interface import Model
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
)
from openai.types.responses.response_output_text_annotation_added_event import (
    AnnotationURLCitation,
)

from agents_layer.adapter import stream_agent_response
from agents_layer.context import AgentContext
from chatkit_proto.base import utc_now
from chatkit_proto.codec import encode_event
from chatkit_proto.context import RequestContext
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata

MESSAGE = "msg_parts"
TEXTS = ("Hello", "world")


def _part(index: int, text: str) -> list[Any]:
    """The events of one streamed output_text part with one URL citation."""
    common = {"item_id": MESSAGE, "output_index": 0, "content_index": index, "sequence_number": 0}
    citation = AnnotationURLCitation(
        type="url_citation", url=f"https://example.com/{index}", title=text, start_index=0, end_index=len(text)
    )  # fmt: skip
    empty = ResponseOutputText(annotations=[], text="", type="output_text", logprobs=[])
    return [
        ResponseContentPartAddedEvent(part=empty, type="response.content_part.added", **common),
        ResponseTextDeltaEvent(delta=text, logprobs=[], type="response.output_text.delta", **common),
        ResponseOutputTextAnnotationAddedEvent(
            annotation=citation, annotation_index=0, type="response.output_text.annotation.added", **common
        ),
        ResponseTextDoneEvent(text=text, logprobs=[], type="response.output_text.done", **common),
    ]  # fmt: skip


def _events() -> list[Any]:
    parts = [
        ResponseOutputText(annotations=[], text=t, type="output_text", logprobs=[]) for t in TEXTS
    ]
    message = ResponseOutputMessage(
        id=MESSAGE, content=[], role="assistant", status="in_progress", type="message"
    )
    done = message.model_copy(update={"content": parts, "status": "completed"})
    response = Response(
        id="resp_parts",
        created_at=0.0,
        model="parts",
        object="response",
        output=[done],
        parallel_tool_calls=True,
        tool_choice="auto",
        tools=[],
        status="completed",
    )
    return [
        ResponseOutputItemAddedEvent(item=message, output_index=0, sequence_number=0, type="response.output_item.added"),
        *_part(0, TEXTS[0]),
        *_part(1, TEXTS[1]),
        ResponseOutputItemDoneEvent(item=done, output_index=0, sequence_number=0, type="response.output_item.done"),
        ResponseCompletedEvent(response=response, sequence_number=0, type="response.completed"),
    ]  # fmt: skip


class TwoPartModel(Model):
    """A model that answers with one message of two text parts."""

    async def _play(self) -> AsyncIterator[Any]:
        for event in _events():
            yield event

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._play()

    async def get_response(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the adapter only makes streamed model calls")


async def test_part_updates_carry_their_content_index() -> None:
    store = MemoryStore()
    request = RequestContext(user_id="tester")
    thread = ThreadMetadata(id="thr_parts", created_at=utc_now())
    context = AgentContext(thread, store, request, newest_items=[])
    result = Runner.run_streamed(
        Agent[AgentContext](name="Assistant"),
        "hi",
        context=context,
        run_config=RunConfig(model=TwoPartModel(), tracing_disabled=True),
    )
    wire = [
        json.loads(encode_event(event).removeprefix(b"data: "))
        async for event in stream_agent_response(context, result)
    ]
    updates = [
        (e["update"]["type"].removeprefix("assistant_message.content_part."), e["update"])
        for e in wire
        if e["type"] == "thread.item.updated"
    ]
    indices = [(kind, update["content_index"]) for kind, update in updates]
    assert indices == [
        (kind, index) for index in (0, 1) for kind in ("added", "text_delta", "annotation_added", "done")
    ]  # fmt: skip
    assert [u["delta"] for kind, u in updates if kind == "text_delta"] == list(TEXTS)
    assert [u["content"]["text"] for kind, u in updates if kind == "done"] == list(TEXTS)
    # Annotation indices count per part: each part's first annotation is 0.
    annotations = [u for kind, u in updates if kind == "annotation_added"]
    assert [(u["annotation_index"], u["annotation"]["source"]["url"]) for u in annotations] == [
        (0, "https://example.com/0"),
        (0, "https://example.com/1"),
    ]
    done = wire[-1]["item"]
    assert [part["text"] for part in done["content"]] == list(TEXTS)
