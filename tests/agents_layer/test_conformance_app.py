"""The reference app of CONFORMANCE.md ("The reference app"): the tools the transcripts don't pin.

Every expectation below is the text of CONFORMANCE.md, not what the app happens to produce.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from agents_layer.apps.conformance import ConformanceServer, note_frames
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from chatkit_proto.context import RequestContext
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore

RECORDER = RequestContext(user_id="recorder-user")


def calling(tool: str, **arguments: Any) -> ScriptedModel:
    """A model that calls `tool` once, then answers "Done."."""
    turns = [
        {"output": [{"type": "function_call", "name": tool, "arguments": arguments}]},
        {"output": [{"type": "message", "text": ["Done."]}]},
    ]
    return ScriptedModel(parse_script({"turns": turns}))


def tool_outputs(scripted: ScriptedModel) -> list[Any]:
    """What the tools returned, as the second model call received it."""
    items: list[Any] = list(scripted.calls[1].input)
    return [
        i["output"]
        for i in items
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]


async def create_thread(model: ScriptedModel) -> list[dict[str, Any]]:
    """`threads.create` with one message; the events after `stream_options`."""
    server = ConformanceServer(MemoryStore(), model)
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "Go"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    result = await server.process(json.dumps(body), RECORDER)
    assert isinstance(result, StreamingResult)
    events = [json.loads(frame[6:]) async for frame in result.frames]
    start = next(i for i, e in enumerate(events) if e["type"] == "stream_options") + 1
    return events[start:]


def widget_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    widget_ids = {e["item"]["id"] for e in events if e.get("item", {}).get("type") == "widget"}
    return [e for e in events if (e.get("item") or {}).get("id", e.get("item_id")) in widget_ids]


def note(value: str, streaming: bool) -> dict[str, Any]:
    body = {"type": "Markdown", "id": "note_body", "value": value, "streaming": streaming}
    return {"type": "Card", "children": [body]}


def frame_values(text: str) -> list[tuple[str, bool]]:
    frames = [frame.model_dump(mode="json", exclude_none=True) for frame in note_frames(text)]
    return [(f["children"][0]["value"], f["children"][0]["streaming"]) for f in frames]


@pytest.mark.parametrize(
    ("text", "frames"),
    [
        ("Buy milk", [("", True), ("Buy", True), ("Buy milk", False)]),
        # Split on each single space, empty words kept: "a  b" is three words.
        ("a  b", [("", True), ("a", True), ("a ", True), ("a  b", False)]),
        # "" is one empty word: the note still ends with a frame that is not streaming.
        ("", [("", True), ("", False)]),
        (" x", [("", True), ("", True), (" x", False)]),
    ],
)
def test_draft_note_frames_split_on_each_single_space(
    text: str, frames: list[tuple[str, bool]]
) -> None:
    assert frame_values(text) == frames


async def test_draft_note_streams_a_card_with_the_whole_text_to_copy() -> None:
    model = calling("draft_note", text="Buy oat milk")
    events = widget_events(await create_thread(model))
    assert [e["type"] for e in events] == [
        "thread.item.added",
        "thread.item.updated",
        "thread.item.updated",
        "thread.item.updated",
        "thread.item.done",
    ]
    added, first, second, last, done = events
    assert added["item"]["widget"] == note("", True)
    assert [first["update"]["delta"], second["update"]["delta"]] == ["Buy", " oat"]
    # The last frame flips `streaming`, which only a whole-root update can say (SPEC §10.2).
    assert last["update"] == {"type": "widget.root.updated", "widget": note("Buy oat milk", False)}
    assert done["item"]["widget"] == note("Buy oat milk", False)
    assert added["item"]["copy_text"] == done["item"]["copy_text"] == "Buy oat milk"
    assert tool_outputs(model) == ["Note drafted"]


async def test_draft_note_of_an_empty_text_stops_streaming() -> None:
    events = widget_events(await create_thread(calling("draft_note", text="")))
    assert events[0]["item"]["widget"] == note("", True)
    assert events[-1]["type"] == "thread.item.done"
    assert events[-1]["item"]["widget"] == note("", False)
    assert events[-1]["item"]["copy_text"] == ""


async def test_ask_priority_asks_the_two_questions_and_stops() -> None:
    model = calling("ask_priority")
    events = await create_thread(model)
    (item,) = [e["item"] for e in events if e["type"] == "thread.item.done"]
    assert item["type"] == "structured_input"
    assert item["inputs"] == [
        {
            "type": "multiple_choice",
            "id": "priority",
            "question": "What priority should I use?",
            "options": [{"value": "Low"}, {"value": "High"}],
            "multiple": False,
        },
        {
            "type": "freeform",
            "id": "notes",
            "question": "Any extra context?",
            "description": "Optional details.",
        },
    ]
    assert len(model.calls) == 1  # the agent stops after ask_priority
