"""Example tests of the codec: decode errors (D1), the encoding rules of SPEC §2 and D13."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from chatkit_proto.actions import Action
from chatkit_proto.attachments import FileAttachment, ImageAttachment, UploadDescriptor
from chatkit_proto.base import utc_now
from chatkit_proto.codec import (
    MAX_DEPTH,
    decode_request,
    dump_json,
    dump_plain,
    encode_body,
    encode_event,
)
from chatkit_proto.content import (
    AssistantMessageContent,
    InferenceOptions,
    ToolChoice,
    UserMessageTagContent,
    UserMessageTextContent,
)
from chatkit_proto.errors import ErrorDetail, InvalidRequest
from chatkit_proto.events import (
    ClientEffectEvent,
    ErrorEvent,
    NoticeEvent,
    ProgressUpdateEvent,
    ThreadItemDoneEvent,
    ThreadStreamEvent,
)
from chatkit_proto.items import (
    AssistantMessageItem,
    ClientToolCallItem,
    GeneratedImage,
    GeneratedImageItem,
    HiddenContextItem,
    ThreadItem,
    UserMessageItem,
    WidgetItem,
)
from chatkit_proto.requests import (
    ThreadsAddClientToolOutputReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsListReq,
)
from chatkit_proto.responses import SyncCustomActionResponse, TranscriptionResult
from chatkit_proto.sources import Annotation, EntitySource, FileSource, URLSource
from chatkit_proto.structured_input import (
    ChoiceOption,
    FreeformInput,
    MultipleChoiceInput,
    StructuredInputAnswer,
)
from chatkit_proto.threads import (
    ClosedStatus,
    LockedStatus,
    Page,
    Thread,
    ThreadMetadata,
    to_wire_thread,
)
from chatkit_proto.updates import GeneratedImageUpdated
from chatkit_proto.widgets import WidgetRoot
from chatkit_proto.workflows import (
    CustomSummary,
    CustomTask,
    DurationSummary,
    FileTask,
    ImageTask,
    SearchTask,
    ThoughtTask,
    Workflow,
)

EVENT = TypeAdapter(ThreadStreamEvent)
WIDGET = TypeAdapter(WidgetRoot)
T0 = datetime(2026, 11, 22, 9, 40, 50, 874151, tzinfo=UTC)
T0_WIRE = "2026-11-22T09:40:50.874151Z"


def wire(model: BaseModel | dict[str, Any]) -> Any:
    """The parsed JSON a model goes out as."""
    return json.loads(encode_body(model))


def refused(body: bytes | str) -> InvalidRequest:
    """The InvalidRequest a body raises."""
    with pytest.raises(InvalidRequest) as info:
        decode_request(body)
    return info.value


def paths(error: InvalidRequest) -> list[tuple[str, str]]:
    """(path, message) of each detail."""
    return [(d.path, d.message) for d in error.details or []]


def create(input_: dict[str, Any]) -> bytes:
    """A `threads.create` body with the given input."""
    return json.dumps({"type": "threads.create", "params": {"input": input_}}).encode()


# --- Decode errors (DEVIATIONS D1, SPEC §1.2, §11.3) ---------------------------------------


def test_malformed_json() -> None:
    error = refused(b'{"type": "threads.list", "params": ')
    assert (error.code, error.status) == ("invalid_request", 400)
    assert error.message == "Request body is not valid JSON"
    assert not error.details


@pytest.mark.parametrize("body", [b"", b"   ", b"\xff\xfe\x00", b"{'type': 1}", b"[1,]"])
def test_not_json_at_all(body: bytes) -> None:
    assert refused(body).message == "Request body is not valid JSON"


def test_unknown_request_type() -> None:
    error = refused(b'{"type":"threads.frobnicate","params":{}}')
    assert paths(error) == [("type", "Unknown type 'threads.frobnicate'")]
    assert error.message == "Invalid request: type: Unknown type 'threads.frobnicate'"


def test_missing_type() -> None:
    assert paths(refused(b'{"params":{}}')) == [("type", "Field required")]


@pytest.mark.parametrize("body", [b"[]", b"5", b'"threads.list"', b"null"])
def test_body_not_an_object(body: bytes) -> None:
    error = refused(body)
    assert paths(error) == [("", "Input should be an object")]
    assert error.message == "Invalid request: Input should be an object"


def test_missing_params() -> None:
    error = refused(b'{"type":"threads.get_by_id"}')
    assert paths(error) == [("params", "Field required")]
    assert error.message == "Invalid request: params: Field required"


def test_several_problems_are_all_listed() -> None:
    """The reference transcript's "without attachments / inference_options" case."""
    error = refused(create({"content": [{"type": "input_text", "text": "hi"}]}))
    assert paths(error) == [
        ("params.input.attachments", "Field required"),
        ("params.input.inference_options", "Field required"),
    ]
    assert error.message == "Invalid request: params.input.attachments: Field required (and 1 more)"


def test_path_into_a_list() -> None:
    body = create(
        {
            "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": 5}],
            "attachments": [],
            "inference_options": {},
        }
    )
    assert paths(refused(body)) == [
        ("params.input.content[1].text", "Input should be a valid string")
    ]


def test_unknown_content_type() -> None:
    body = create(
        {"content": [{"type": "input_image"}], "attachments": [], "inference_options": {}}
    )
    assert paths(refused(body)) == [("params.input.content[0].type", "Unknown type 'input_image'")]


def test_content_without_type() -> None:
    body = create({"content": [{"text": "x"}], "attachments": [], "inference_options": {}})
    assert paths(refused(body)) == [("params.input.content[0].type", "Field required")]


def test_wrong_literal() -> None:
    error = refused(b'{"type":"threads.list","params":{"order":"up"}}')
    assert paths(error) == [("params.order", "Input should be 'asc' or 'desc'")]


def test_negative_limit() -> None:
    error = refused(b'{"type":"threads.list","params":{"limit":-1}}')
    assert [p for p, _ in paths(error)] == ["params.limit"]


def _metadata_nested(depth: int) -> bytes:
    """A request whose body nests `depth` levels: two of its own, the rest in `metadata`."""
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return f'{{"type":"threads.list","params":{{}},"metadata":{{"x":{inner}}}}}'.encode()


def test_nesting_up_to_the_limit_is_accepted() -> None:
    request = decode_request(_metadata_nested(MAX_DEPTH))
    assert request.type == "threads.list"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 201, 255, 1025, 5000])
def test_nesting_beyond_the_limit_is_refused(depth: int) -> None:
    error = refused(_metadata_nested(depth))
    assert (
        error.message == f"Invalid request: objects and arrays nest deeper than {MAX_DEPTH} levels"
    )


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = "[{" * 5_000
    body = json.dumps({"type": "threads.update", "params": {"thread_id": "t", "title": text}})
    assert decode_request(body).params.title == text  # type: ignore[union-attr]


def test_wide_values_are_not_deep() -> None:
    wide = [[[1]] for _ in range(1_000)]
    body = json.dumps({"type": "threads.list", "params": {}, "metadata": {"wide": wide}})
    assert decode_request(body).metadata["wide"] == wide


def test_nested_param_paths() -> None:
    body = (
        b'{"type":"threads.add_structured_input","params":{"thread_id":"t","item_id":"i",'
        b'"input":{"answers":{"subject":{"values":["Math",3]}}}}}'
    )
    assert paths(refused(body)) == [
        ("params.input.answers.subject.values[1]", "Input should be a valid string")
    ]


def test_action_without_type() -> None:
    body = b'{"type":"threads.custom_action","params":{"thread_id":"t","action":{"payload":1}}}'
    assert paths(refused(body)) == [("params.action.type", "Field required")]


def test_title_may_not_be_null() -> None:
    error = refused(b'{"type":"threads.update","params":{"thread_id":"t","title":null}}')
    assert [p for p, _ in paths(error)] == ["params.title"]


def test_error_body_shape() -> None:
    """`{"message", "code", "details": [{"path", "message"}]}`, and no null `details`."""
    error = refused(b'{"type":"threads.get_by_id","params":{}}')
    assert wire(error.body()) == {
        "message": "Invalid request: params.thread_id: Field required",
        "code": "invalid_request",
        "details": [{"path": "params.thread_id", "message": "Field required"}],
    }
    assert wire(refused(b"{").body()) == {
        "message": "Request body is not valid JSON",
        "code": "invalid_request",
    }


def test_text_bodies_decode_like_bytes() -> None:
    body = '{"type":"threads.list","params":{"after":"é😀"}}'
    assert decode_request(body) == decode_request(body.encode())


def test_unknown_keys_are_ignored() -> None:
    request = decode_request(b'{"type":"threads.list","params":{"limit":3,"x":1},"extra":true}')
    assert isinstance(request, ThreadsListReq)
    assert request.params.limit == 3
    assert request.metadata == {}


def test_request_metadata_keeps_nulls() -> None:
    request = decode_request(
        b'{"type":"threads.list","params":{},"metadata":{"a":null,"b":[null]}}'
    )
    assert request.metadata == {"a": None, "b": [None]}
    assert json.loads(encode_body(request))["metadata"] == {"a": None, "b": [None]}


def test_client_tool_result_may_be_null() -> None:
    request = decode_request(
        b'{"type":"threads.add_client_tool_output","params":{"thread_id":"t","result":null}}'
    )
    assert isinstance(request, ThreadsAddClientToolOutputReq)
    assert request.params.result is None
    # A missing result reads as null, so our own encoding (nulls left out) round-trips.
    missing = decode_request(
        b'{"type":"threads.add_client_tool_output","params":{"thread_id":"t"}}'
    )
    assert isinstance(missing, ThreadsAddClientToolOutputReq)
    assert missing.params.result is None


def test_custom_action_defaults() -> None:
    request = decode_request(
        b'{"type":"threads.custom_action","params":{"thread_id":"t","action":{"type":"go"}}}'
    )
    assert isinstance(request, ThreadsCustomActionReq)
    assert request.params.item_id is None
    assert request.params.action == Action(type="go", payload=None)


# --- Decode errors: non-finite numbers, odd keys, tag-like values ---------------------------

_JSON_PATH_STEP = re.compile(r'(?:^|\.)([^.\[\]"]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def _resolve(body: Any, path: str) -> Any:
    """Follow `a.b[0]["odd.key"]`: dotted keys, indices, and JSON-quoted keys in brackets."""
    position = 0
    node = body
    while position < len(path):
        match = _JSON_PATH_STEP.match(path, position)
        assert match and match.start() == position, f"ill-formed path {path!r}"
        key, index, quoted = match.groups()
        if index is not None:
            node = node[int(index)]
        else:
            step = json.loads(quoted) if quoted is not None else key
            assert isinstance(node, dict) and step in node, f"{path!r}: no key {step!r}"
            node = node[step]
        position = match.end()
    return node


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(number: str) -> None:
    prefix = '{"type":"threads.add_client_tool_output","params":{"thread_id":"t","result":{"x":'
    body = prefix + number + "}}}"
    refused(body.encode())


@pytest.mark.parametrize("number", ["NaN", "1" + "0" * 400])
def test_paths_survive_numbers_orjson_cannot_read(number: str) -> None:
    body = (
        '{"type":"threads.create","params":{"input":{"content":[{"type":"input_text"}],'
        '"attachments":[],"inference_options":{}}},"metadata":{"n":' + number + "}}"
    )
    error = refused(body.encode())
    # Either fix passes: refusing the body outright (no details), or a correct path.
    for path, _ in paths(error):
        assert path == "params.input.content[0].text"


@pytest.mark.parametrize("key", ["a.b", "", "x[0]"])
def test_paths_quote_unusual_keys(key: str) -> None:
    body = {
        "type": "threads.add_structured_input",
        "params": {"thread_id": "t", "item_id": "i", "input": {"answers": {key: {"values": 5}}}},
    }
    error = refused(json.dumps(body).encode())
    (path,) = [p for p, _ in paths(error)]
    assert _resolve(body, path) == 5


def test_path_of_missing_field_named_like_the_type_value() -> None:
    error = refused(b'{"type":"threads.delete","params":{"type":"thread_id"}}')
    assert paths(error) == [("params.thread_id", "Field required")]


# --- SPEC §2.2: every null model field is omitted -------------------------------------------


def _item_base() -> dict[str, Any]:
    return {"id": "i", "thread_id": "t", "created_at": T0}


def test_thread_nulls_omitted() -> None:
    thread = Thread(id="thr_1", created_at=T0)
    assert wire(thread) == {
        "id": "thr_1",
        "created_at": T0_WIRE,
        "status": {"type": "active"},
        "metadata": {},
        "items": {"data": [], "has_more": False},
    }


@pytest.mark.parametrize("status", [LockedStatus(), ClosedStatus()])
def test_status_reason_omitted(status: LockedStatus | ClosedStatus) -> None:
    assert wire(status) == {"type": status.type}


def test_page_after_omitted() -> None:
    assert encode_body(Page[ThreadItem]()) == b'{"data":[],"has_more":false}'
    assert wire(Page[ThreadItem](has_more=True, after="x")) == {
        "data": [],
        "has_more": True,
        "after": "x",
    }


def test_user_message_nulls_omitted() -> None:
    item = UserMessageItem(
        **_item_base(),
        content=[UserMessageTagContent(id="e", text="E", data={"k": None})],
        inference_options=InferenceOptions(),
    )
    assert wire(item) == {
        "id": "i",
        "thread_id": "t",
        "created_at": T0_WIRE,
        "type": "user_message",
        "content": [
            {"type": "input_tag", "id": "e", "text": "E", "data": {"k": None}, "interactive": False}
        ],
        "attachments": [],
        "inference_options": {},
    }


def test_inference_options() -> None:
    assert encode_body(InferenceOptions()) == b"{}"
    assert wire(InferenceOptions(tool_choice=ToolChoice(id="s"), model=None)) == {
        "tool_choice": {"id": "s"}
    }


@pytest.mark.parametrize("output", [None, {"alt_m": None}, [None], 0, ""])
def test_client_tool_call_output(output: Any) -> None:
    """A null output is absent; nulls inside it are kept (SPEC §2.2 exception)."""
    item = ClientToolCallItem(
        **_item_base(), call_id="c", name="n", arguments={"a": None}, output=output
    )
    sent = wire(item)
    assert sent["arguments"] == {"a": None}
    if output is None:
        assert "output" not in sent
    else:
        assert sent["output"] == output


def test_widget_item_copy_text_and_props_omitted() -> None:
    widget = WIDGET.validate_python(
        {"type": "Card", "children": [{"type": "Text", "value": "x", "color": None}], "size": None}
    )
    sent = wire(WidgetItem(**_item_base(), widget=widget))
    assert "copy_text" not in sent
    assert sent["widget"] == {"type": "Card", "children": [{"type": "Text", "value": "x"}]}


def test_generated_image_nulls_omitted() -> None:
    assert "image" not in wire(GeneratedImageItem(**_item_base()))
    update = GeneratedImageUpdated(image=GeneratedImage(id="ig", url="data:,"))
    assert wire(update) == {
        "type": "generated_image.updated",
        "image": {"id": "ig", "url": "data:,"},
    }


def test_source_and_annotation_nulls_omitted() -> None:
    assert wire(Annotation(source=URLSource(title="X", url="https://x.com"))) == {
        "type": "annotation",
        "source": {"title": "X", "type": "url", "url": "https://x.com"},
    }
    assert wire(FileSource(title="F", filename="f.txt")) == {
        "title": "F",
        "type": "file",
        "filename": "f.txt",
    }
    assert wire(EntitySource(title="E", id="e1")) == {
        "title": "E",
        "type": "entity",
        "id": "e1",
        "interactive": False,
        "data": {},
    }


def test_workflow_and_task_nulls_omitted() -> None:
    workflow = Workflow(
        type="custom",
        tasks=[CustomTask(), SearchTask(), ThoughtTask(content="c"), FileTask(), ImageTask()],
    )
    assert wire(workflow) == {
        "type": "custom",
        "tasks": [
            {"status_indicator": "none", "type": "custom"},
            {"status_indicator": "none", "type": "web_search", "queries": [], "sources": []},
            {"status_indicator": "none", "type": "thought", "content": "c"},
            {"status_indicator": "none", "type": "file", "sources": []},
            {"status_indicator": "none", "type": "image"},
        ],
        "expanded": False,
    }
    assert wire(CustomSummary(title="T")) == {"title": "T"}
    assert wire(DurationSummary(duration=3)) == {"duration": 3}


def test_structured_input_nulls_omitted() -> None:
    assert wire(FreeformInput(id="q", question="Q?")) == {
        "id": "q",
        "question": "Q?",
        "type": "freeform",
    }
    choice = MultipleChoiceInput(
        id="q", question="Q?", options=[ChoiceOption(value="a")], answer=StructuredInputAnswer()
    )
    assert wire(choice) == {
        "id": "q",
        "question": "Q?",
        "answer": {"values": [], "skipped": False},
        "type": "multiple_choice",
        "options": [{"value": "a"}],
        "multiple": False,
    }


def test_attachment_nulls_omitted() -> None:
    assert wire(FileAttachment(id="a", name="n", mime_type="text/plain")) == {
        "id": "a",
        "name": "n",
        "mime_type": "text/plain",
        "type": "file",
    }
    descriptor = UploadDescriptor(url="https://u.example/a", method="PUT")
    assert wire(descriptor) == {"url": "https://u.example/a", "method": "PUT", "headers": {}}


def test_event_nulls_omitted() -> None:
    assert wire(ErrorEvent()) == {"type": "error", "code": "custom", "allow_retry": False}
    assert wire(ProgressUpdateEvent(text="t")) == {"type": "progress_update", "text": "t"}
    assert wire(NoticeEvent(level="info", message="m")) == {
        "type": "notice",
        "level": "info",
        "message": "m",
    }
    assert wire(ClientEffectEvent(name="n")) == {"type": "client_effect", "name": "n", "data": {}}


def test_sync_custom_action_response_without_item_is_empty_object() -> None:
    assert encode_body(SyncCustomActionResponse()) == b"{}"


@pytest.mark.parametrize(
    "payload", [None, {"a": None}, [None, 1], "s"], ids=["null", "obj", "list", "str"]
)
def test_free_form_values_keep_their_nulls(payload: Any) -> None:
    """Action payloads inside widgets, effect data, hidden context: nulls inside stay."""
    widget = WIDGET.validate_python(
        {
            "type": "Card",
            "children": [{"type": "Button", "onClickAction": {"type": "go", "payload": payload}}],
        }
    )
    action = wire(widget)["children"][0]["onClickAction"]
    expected = {"type": "go", "handler": "server", "loadingBehavior": "auto", "streaming": True}
    if payload is not None:
        expected = {
            "type": "go",
            "payload": payload,
            **{k: v for k, v in expected.items() if k != "type"},
        }
    assert action == expected
    assert wire(ClientEffectEvent(name="n", data={"x": payload}))["data"] == {"x": payload}
    if payload is not None:
        hidden = HiddenContextItem(**_item_base(), content=payload)
        assert wire(hidden)["content"] == payload


def test_empty_lists_and_objects_are_kept() -> None:
    content = AssistantMessageContent(text="")
    assert wire(content) == {"annotations": [], "text": "", "type": "output_text"}


# --- SPEC §5/§6 examples, byte for byte ----------------------------------------------------

SPEC_EVENT_LINES = [
    '{"type":"thread.item.updated","item_id":"msg_474981ab","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":"Hi"}}',
    '{"type":"thread.item.removed","item_id":"msg_474981ab"}',
    '{"type":"stream_options","stream_options":{"allow_cancel":true}}',
    '{"type":"progress_update","icon":"search","text":"Searching tickets…"}',
    '{"type":"client_effect","name":"highlight_text","data":{"index":142,"length":35}}',
    '{"type":"error","code":"stream.error","allow_retry":true}',
    '{"type":"error","code":"custom","message":"We blocked that message for safety.","allow_retry":false}',
    '{"type":"notice","level":"warning","message":"You have 3 messages left. [Upgrade](https://example.com)","title":"Almost out"}',
]
SPEC_UPDATES = [
    '{"type":"assistant_message.content_part.added","content_index":0,"content":{"annotations":[],"text":"","type":"output_text"}}',
    '{"type":"assistant_message.content_part.annotation_added","content_index":0,"annotation_index":0,"annotation":{"type":"annotation","source":{"title":"X","type":"url","url":"https://x.com"},"index":2}}',
    '{"type":"assistant_message.content_part.done","content_index":0,"content":{"annotations":[],"text":"Hi","type":"output_text"}}',
    '{"type":"widget.streaming_text.value_delta","component_id":"summary","delta":"lo,","done":false}',
    '{"type":"widget.root.updated","widget":{"type":"Card","children":[{"type":"Text","value":"Email sent!"}]}}',
    '{"type":"workflow.task.added","task_index":0,"task":{"status_indicator":"none","type":"thought","content":"Considering options"}}',
    '{"type":"generated_image.updated","image":{"id":"ig_1","url":"data:image/png;base64,iVBOR…"},"progress":0.33}',
]


@pytest.mark.parametrize(
    "line",
    SPEC_EVENT_LINES
    + [f'{{"type":"thread.item.updated","item_id":"m","update":{u}}}' for u in SPEC_UPDATES],
)
def test_spec_examples_byte_for_byte(line: str) -> None:
    """SPEC §5/§6 examples re-encode to the very same frame (key order included)."""
    frame = encode_event(EVENT.validate_json(line))
    assert frame == b"data: " + line.encode() + b"\n\n"


def test_spec_thread_example_with_utc_timestamp() -> None:
    """SPEC §5 `thread.created`, with D13's UTC `Z` in place of the naive local time."""
    line = '{"type":"thread.created","thread":{"id":"thr_43022761","created_at":"2026-11-22T09:40:50.874151","status":{"type":"active"},"metadata":{},"items":{"data":[],"has_more":false}}}'
    frame = encode_event(EVENT.validate_json(line))
    assert frame == b"data: " + line.replace(".874151", ".874151Z").encode() + b"\n\n"


def test_frames_never_span_lines() -> None:
    event = ProgressUpdateEvent(text="a\nb\r\nc\u2028d\x00e")
    frame = encode_event(event)
    assert frame.count(b"\n") == 2 and frame.endswith(b"\n\n") and b"\r" not in frame
    assert "\u2028".encode() in frame  # raw non-ASCII (SPEC §1.4)
    assert b"\\n" in frame and b"\\r\\n" in frame and b"\\u0000" in frame


def test_literal_empty_bodies() -> None:
    """F6: `items.feedback`, `attachments.delete`, `threads.delete` answer exactly `{}`."""
    assert encode_body({}) == b"{}"


def test_transcription_result() -> None:
    assert encode_body(TranscriptionResult(text="hé")) == '{"text":"hé"}'.encode()


def test_dump_plain_matches_dump_json() -> None:
    item = AssistantMessageItem(**_item_base(), content=[AssistantMessageContent(text="x")])
    assert dump_plain(item) == json.loads(dump_json(item))


# --- SPEC §2.5 / §2.6: private data --------------------------------------------------------


def test_wire_thread_blanks_private_metadata() -> None:
    stored = ThreadMetadata(
        id="thr_1", title="T", created_at=T0, metadata={"owner": "alice", "secret": 1}
    )
    sent = wire(to_wire_thread(stored))
    assert sent["metadata"] == {}
    assert sent["items"] == {"data": [], "has_more": False}
    assert "alice" not in encode_body(to_wire_thread(stored)).decode()


def _image_with_metadata() -> ImageAttachment:
    return ImageAttachment(
        id="atc_1",
        name="cat.png",
        mime_type="image/png",
        preview_url="https://cdn.example/atc_1",
        metadata={"storage_key": "s3://secret/atc_1"},
    )


def test_attachment_metadata_is_never_sent() -> None:
    attachment = _image_with_metadata()
    assert attachment.metadata == {"storage_key": "s3://secret/atc_1"}
    item = UserMessageItem(
        **_item_base(),
        content=[UserMessageTextContent(text="look")],
        attachments=[attachment],
        inference_options=InferenceOptions(),
    )
    for body in (
        encode_body(attachment),  # attachments.create
        encode_event(ThreadItemDoneEvent(item=item)),  # stream
        encode_body(Page[ThreadItem](data=[item])),  # items.list
        encode_body(to_wire_thread(ThreadMetadata(id="t", created_at=T0), Page(data=[item]))),
    ):
        assert b'metadata":{"storage' not in body and b"s3://secret" not in body
    assert "metadata" not in wire(attachment)


def test_bare_origin_url_gains_trailing_slash() -> None:
    attachment = ImageAttachment(
        id="a", name="n", mime_type="image/png", preview_url="https://example.com"
    )
    assert wire(attachment)["preview_url"] == "https://example.com/"


# --- DEVIATIONS D13: timestamps are UTC with Z ---------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (datetime(2026, 11, 22, 9, 45, 32, 555865, tzinfo=UTC), "2026-11-22T09:45:32.555865Z"),
        (datetime(2026, 11, 22, 9, 45, 32, 555865), "2026-11-22T09:45:32.555865Z"),  # naive
        (
            datetime(2026, 11, 22, 11, 45, 32, tzinfo=timezone(timedelta(hours=2))),
            "2026-11-22T09:45:32Z",
        ),
        (
            datetime(2026, 11, 22, 0, 30, tzinfo=timezone(timedelta(hours=-5, minutes=-30))),
            "2026-11-22T06:00:00Z",
        ),
        (datetime(2024, 1, 1), "2024-01-01T00:00:00Z"),
    ],
)
def test_timestamps_are_utc_with_z(given: datetime, expected: str) -> None:
    thread = Thread(id="t", created_at=given)
    assert wire(thread)["created_at"] == expected
    item = AssistantMessageItem(id="m", thread_id="t", created_at=given, content=[])
    assert wire(item)["created_at"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-22T09:45:32.555865",
        "2026-11-22T09:45:32.555865Z",
        "2026-11-22T10:45:32.555865+01:00",
        "2026-11-22T04:15:32.555865-05:30",
    ],
)
def test_any_iso_8601_input_is_read_as_an_instant(text: str) -> None:
    """Stored or reference timestamps in any ISO-8601 form come out as the same UTC instant."""
    event = EVENT.validate_python(
        {"type": "thread.updated", "thread": {"id": "t", "created_at": text}}
    )
    assert wire(event)["thread"]["created_at"] == "2026-11-22T09:45:32.555865Z"


def test_utc_now_is_aware_utc() -> None:
    now = utc_now()
    assert now.utcoffset() == timedelta(0)
    assert wire(Thread(id="t", created_at=now))["created_at"].endswith("Z")


def test_error_detail_model() -> None:
    assert wire(ErrorDetail(path="params", message="m")) == {"path": "params", "message": "m"}


def test_requests_encode_compactly() -> None:
    request = ThreadsCreateReq.model_validate(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": "Hi é\n"}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
    )
    assert (
        encode_body(request)
        == (
            '{"metadata":{},"type":"threads.create","params":{"input":{"content":'
            '[{"type":"input_text","text":"Hi é\\n"}],"attachments":[],"inference_options":{}}}}'
        ).encode()
    )
