"""Thread items → agent input (AGENTS-ADAPTER §2.5), checked against the reference's model calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from agents.models.chatcmpl_converter import Converter
from pydantic import TypeAdapter

from agents_layer.history import TAG_INSTRUCTIONS, ThreadItemConverter, simple_to_agent_input
from chatkit_proto import widgets as w
from chatkit_proto.attachments import Attachment, FileAttachment
from chatkit_proto.content import (
    AssistantMessageContent,
    InferenceOptions,
    UserMessageTagContent,
    UserMessageTextContent,
)
from chatkit_proto.items import (
    AssistantMessageItem,
    ClientToolCallItem,
    EndOfTurnItem,
    GeneratedImage,
    GeneratedImageItem,
    HiddenContextItem,
    StructuredInputItem,
    TaskItem,
    ThreadItem,
    UserMessageItem,
    WidgetItem,
    WorkflowItem,
)
from chatkit_proto.sources import Annotation, URLSource
from chatkit_proto.structured_input import (
    ChoiceOption,
    FreeformInput,
    MultipleChoiceInput,
    StructuredInputAnswer,
)
from chatkit_proto.workflows import CustomTask, ThoughtTask, Workflow
from tests.fakes.openai_fake import DATA, check_chat_messages, check_responses_input

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
ITEM = TypeAdapter(ThreadItem)
ITEM_TYPES = {
    "user_message", "assistant_message", "client_tool_call", "widget", "generated_image",
    "structured_input", "workflow", "task", "end_of_turn", "hidden_context_item",
    "sdk_hidden_context",
}  # fmt: skip
NOW = datetime(2026, 1, 1, tzinfo=UTC)


# --- Reference model calls ---------------------------------------------------------------


def _thread_snapshots(fixture: dict[str, Any]) -> list[list[ThreadItem]]:
    """The thread's items as each streaming request's responder saw them, in request order.

    Rebuilt from the transcript: items from `thread.item.done`/`replaced` events, client tool
    output applied to the pending call, and store observations (hidden items included).
    """
    threads: dict[str, list[dict[str, Any]]] = {}
    snapshots: list[list[ThreadItem]] = []
    for exchange in fixture["exchanges"]:
        observation = exchange.get("observation")
        if isinstance(observation, list) and all(
            item.get("type") in ITEM_TYPES for item in observation
        ):
            for item in observation:
                threads[item["thread_id"]] = []
            for item in observation:
                threads[item["thread_id"]].append(item)
            continue
        request = exchange.get("request") or {}
        params = request.get("params") or {}
        if request.get("type") == "threads.add_client_tool_output":
            pending = [
                item
                for item in threads.get(params["thread_id"], [])
                if item["type"] == "client_tool_call" and item["status"] == "pending"
            ]
            if pending:  # the `errors` transcript also posts output with nothing pending
                pending[-1].update(status="completed", output=params["result"])
        thread_id = params.get("thread_id")
        for event in exchange.get("events", []):
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
                threads[thread_id] = []
            elif event["type"] in ("thread.item.done", "thread.item.replaced"):
                item = event["item"]
                items = threads.setdefault(item["thread_id"], [])
                items[:] = [old for old in items if old["id"] != item["id"]]
                items.append(dict(item))
            elif event["type"] == "stream_options" and thread_id is not None:
                snapshots.append([ITEM.validate_python(item) for item in threads[thread_id]])
    return snapshots


def _from_the_run(item: dict[str, Any]) -> bool:
    """Items the Runner itself adds within a run (model output and tool results)."""
    return "id" in item or item.get("type") == "function_call_output"


def _as_we_send_it(item: dict[str, Any]) -> dict[str, Any]:
    """A reference input item, an earlier answer (no id) in our plain-text form.

    The reference sends `output_text` parts without an id, which the Agents SDK's Chat
    Completions converter rejects (`Unknown content`); the text is the same.
    """
    if item.get("role") != "assistant" or "id" in item:
        return item
    return {
        "type": "message",
        "role": "assistant",
        "content": "\n".join(part["text"] for part in item["content"] if part["text"]),
    }


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.stem)
async def test_model_input_matches_the_reference(path: Path) -> None:
    fixture = json.loads(path.read_text())
    snapshots = iter(_thread_snapshots(fixture))
    expected = await simple_to_agent_input(next(snapshots, []))
    for call in fixture["model_calls"]:
        model_input = [_as_we_send_it(item) for item in call["input"]]
        # A call belongs to the first request (from the current one on) whose history is a
        # prefix of its input followed only by what the run itself produced.
        while not (
            model_input[: len(expected)] == expected
            and all(_from_the_run(item) for item in model_input[len(expected) :])
        ):
            snapshot = next(snapshots, None)
            assert snapshot is not None, f"turn {call['turn']}: no request history matches"
            expected = await simple_to_agent_input(snapshot)


def test_the_reference_transcripts_cover_the_fixture_conventions() -> None:
    # Guard the test above against matching nothing: these inputs must have been seen.
    seen = [
        item
        for path in FIXTURES.glob("*.json")
        for call in json.loads(path.read_text())["model_calls"]
        for item in call["input"]
    ]
    texts = [part.get("text", "") for item in seen for part in item.get("content") or []]
    assert any(text.startswith("<ATTACHMENT ") for text in texts)
    assert any("<HiddenContext>" in text for text in texts)
    assert any(item.get("role") == "assistant" and "id" not in item for item in seen)
    assert any(item.get("type") == "function_call" and "id" not in item for item in seen)


# --- Conversions the transcripts do not show -----------------------------------------------


def user_message(*content: Any, quoted_text: str | None = None, **kwargs: Any) -> UserMessageItem:
    return UserMessageItem(
        id="msg_u",
        thread_id="thr_1",
        created_at=NOW,
        content=list(content),
        quoted_text=quoted_text,
        inference_options=InferenceOptions(),
        **kwargs,
    )


def texts_of(item: dict[str, Any]) -> list[str]:
    return [part["text"] for part in item["content"]]


async def test_user_message_joins_text_and_renders_tags_inline() -> None:
    bob = UserMessageTagContent(id="u1", text="Bob", data={}, group="people")
    converted = await simple_to_agent_input(
        [
            user_message(
                UserMessageTextContent(text="Ask "),
                bob,
                UserMessageTextContent(text=" and "),
                bob,
            )
        ]
    )
    assert texts_of(converted[0]) == ["Ask @Bob and @Bob"]
    assert converted[0]["role"] == "user"
    # One tag message, with each distinct tag once, after the instructions.
    assert texts_of(converted[1]) == [TAG_INSTRUCTIONS, "<TAG id=u1 group=people>Bob</TAG>"]
    assert len(converted) == 2


async def test_tag_without_group_omits_the_group() -> None:
    tag = UserMessageTagContent(id="p9", text="Plan", data={})
    converted = await simple_to_agent_input([user_message(tag)])
    assert converted[1]["content"][1]["text"] == "<TAG id=p9>Plan</TAG>"


async def test_quoted_text_only_for_the_newest_message() -> None:
    older = user_message(UserMessageTextContent(text="first"), quoted_text="old quote")
    newest = user_message(UserMessageTextContent(text="second"), quoted_text="the Lisbon part")
    converted = await simple_to_agent_input([older, newest])
    assert [texts_of(item) for item in converted[:2]] == [["first"], ["second"]]
    assert len(converted) == 3
    (quote,) = texts_of(converted[2])
    assert "the Lisbon part" in quote
    assert "old quote" not in json.dumps(converted)


async def test_quote_comes_before_tags() -> None:
    tag = UserMessageTagContent(id="u1", text="Bob", data={})
    converted = await simple_to_agent_input([user_message(tag, quoted_text="quoted")])
    assert "quoted" in texts_of(converted[1])[0]
    assert texts_of(converted[2])[0] == TAG_INSTRUCTIONS


async def test_attachment_and_tag_hooks_can_be_overridden() -> None:
    class Converter(ThreadItemConverter):
        async def attachment_to_message_content(self, attachment: Attachment) -> Any:
            return {"type": "input_file", "file_id": attachment.id}

        async def tag_to_message_content(self, tag: UserMessageTagContent) -> Any:
            return {"type": "input_text", "text": f"#{tag.id}"}

    attachment = FileAttachment(id="atc_1", name="a.txt", mime_type="text/plain")
    item = user_message(
        UserMessageTextContent(text="see"),
        UserMessageTagContent(id="t1", text="T", data={}),
        attachments=[attachment],
    )
    converted = await Converter().to_agent_input([item])
    assert converted[0]["content"][1] == {"type": "input_file", "file_id": "atc_1"}
    assert converted[1]["content"][1] == {"type": "input_text", "text": "#t1"}


async def test_assistant_message_is_its_text_without_annotations() -> None:
    annotation = Annotation(source=URLSource(url="https://x.example", title="X"), index=1)
    item = AssistantMessageItem(
        id="msg_a",
        thread_id="thr_1",
        created_at=NOW,
        content=[
            AssistantMessageContent(text="A", annotations=[annotation]),
            AssistantMessageContent(text="B"),
        ],
    )
    assert await simple_to_agent_input([item]) == [
        {"type": "message", "role": "assistant", "content": "A\nB"}
    ]


async def test_assistant_message_without_text_is_left_out() -> None:
    empty = AssistantMessageItem(
        id="msg_a", thread_id="thr_1", created_at=NOW, content=[AssistantMessageContent(text="")]
    )
    assert await simple_to_agent_input([empty]) == []


async def test_the_second_message_of_a_thread_converts_for_chat_completions() -> None:
    # The reproduction: this raised `UserError: Unknown content`.
    question = user_message(UserMessageTextContent(text="Hi"))
    answer = AssistantMessageItem(
        id="msg_a", thread_id="thr_1", created_at=NOW, content=[AssistantMessageContent(text="Yo")]
    )
    messages = Converter.items_to_messages(
        await simple_to_agent_input([question, answer, question])
    )
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Yo"},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
    ]


def every_item_kind() -> list[ThreadItem]:
    data = json.loads((DATA / "every_item_kind.json").read_text(encoding="utf-8"))
    return [ITEM.validate_python(item) for item in data["items"]]


async def test_every_item_kind_is_valid_input_for_both_apis() -> None:
    items = every_item_kind()
    assert {item.type for item in items} == ITEM_TYPES
    agent_input = await simple_to_agent_input(items)
    # As the Responses API's published request types accept it, and as the Agents SDK
    # converts it for Chat Completions (which raises on what it cannot convert).
    check_responses_input(agent_input)
    messages = Converter.items_to_messages(agent_input)
    check_chat_messages(messages)
    # user+tags, thought-less workflow task, answer, widget, client tool call and output,
    # answer, structured input, task, hidden context, cancellation note, generated image.
    assert [message["role"] for message in messages] == [
        "user", "user", "user", "assistant", "user", "assistant", "tool", "assistant",
        "user", "user", "user", "user", "user",
    ]  # fmt: skip
    assert messages[5]["tool_calls"][0]["id"] == messages[6]["tool_call_id"] == "call_loc"
    assert messages[12]["content"][1]["type"] == "image_url"


async def test_pending_client_tool_call_is_not_sent() -> None:
    item = ClientToolCallItem(
        id="fc_1", thread_id="thr_1", created_at=NOW, call_id="call_1", name="t", arguments={}
    )
    assert await simple_to_agent_input([item]) == []


async def test_widget_is_described_with_its_json() -> None:
    widget = w.Card(children=[w.Text(value="Buy milk")])
    item = WidgetItem(id="msg_w", thread_id="thr_1", created_at=NOW, widget=widget)
    (converted,) = await simple_to_agent_input([item])
    (text,) = texts_of(converted)
    assert "msg_w" in text
    assert text.endswith(widget.model_dump_json(by_alias=True, exclude_none=True))


async def test_workflow_keeps_only_custom_tasks_with_a_title_or_content() -> None:
    workflow = Workflow(
        type="custom",
        tasks=[
            CustomTask(title="Searched", content="3 results"),
            ThoughtTask(content="hmm"),
            CustomTask(),
            CustomTask(content="only content"),
        ],
    )
    item = WorkflowItem(id="wf_1", thread_id="thr_1", created_at=NOW, workflow=workflow)
    converted = await simple_to_agent_input([item])
    assert [texts_of(message)[0].split("\n", 1)[1] for message in converted] == [
        "<Task>\nSearched: 3 results\n</Task>",
        "<Task>\nonly content\n</Task>",
    ]
    standalone = TaskItem(id="tsk_1", thread_id="thr_1", created_at=NOW, task=workflow.tasks[0])
    assert await simple_to_agent_input([standalone]) == converted[:1]


async def test_structured_input_lists_every_answer() -> None:
    item = StructuredInputItem(
        id="msg_s",
        thread_id="thr_1",
        created_at=NOW,
        status="answered",
        inputs=[
            MultipleChoiceInput(
                id="p",
                question="Which priority?",
                options=[ChoiceOption(value="Low"), ChoiceOption(value="High")],
                answer=StructuredInputAnswer(values=["High", "Low"]),
            ),
            FreeformInput(id="n", question="Notes?", answer=StructuredInputAnswer(skipped=True)),
            FreeformInput(id="x", question="Extra?"),
        ],
    )
    (text,) = texts_of((await simple_to_agent_input([item]))[0])
    assert "answered" in text
    body = text.split("<StructuredInput>\n", 1)[1]
    assert (
        body
        == "Which priority?: High, Low\nNotes?: skipped\nExtra?: unanswered\n</StructuredInput>"
    )


async def test_hidden_context_wraps_any_json_content() -> None:
    items = [
        HiddenContextItem(id="h1", thread_id="thr_1", created_at=NOW, content="plain note"),
        HiddenContextItem(id="h2", thread_id="thr_1", created_at=NOW, content={"k": [1]}),
    ]
    texts = [texts_of(item)[0] for item in await simple_to_agent_input(items)]
    assert texts[0].endswith("<HiddenContext>\nplain note\n</HiddenContext>")
    assert texts[1].endswith('<HiddenContext>\n{"k": [1]}\n</HiddenContext>')


async def test_generated_image_is_shown_again_and_unfinished_one_skipped() -> None:
    done = GeneratedImageItem(
        id="msg_i",
        thread_id="thr_1",
        created_at=NOW,
        image=GeneratedImage(id="ig_1", url="https://img.example/1.png"),
    )
    unfinished = GeneratedImageItem(id="msg_j", thread_id="thr_1", created_at=NOW)
    (converted,) = await simple_to_agent_input([done, unfinished])
    assert converted["content"][1] == {
        "type": "input_image",
        "image_url": "https://img.example/1.png",
        "detail": "auto",
    }


async def test_end_of_turn_is_not_sent() -> None:
    assert (
        await simple_to_agent_input([EndOfTurnItem(id="e", thread_id="thr_1", created_at=NOW)])
        == []
    )
