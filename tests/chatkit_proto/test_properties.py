"""Property tests of the wire codec (SPEC §1.4, §2, §17.1 F1-F5; DEVIATIONS D1, D13).

Round trips (requests, events through an independent SSE parser, items, widgets, response
bodies), framing, compactness, null omission, private data, the `TextDelta` fast path, and
the decoder's promise to raise nothing but `InvalidRequest` with well-formed paths.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter

from chatkit_proto.attachments import Attachment, AttachmentBase
from chatkit_proto.codec import decode_request, dump_json, encode_body, encode_event
from chatkit_proto.errors import ErrorBody, InvalidRequest
from chatkit_proto.events import (
    TextDelta,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)
from chatkit_proto.items import ClientToolCallItem, HiddenContextItem, ThreadItem
from chatkit_proto.requests import (
    ChatKitReq,
    ThreadAddClientToolOutputParams,
    ThreadsAddClientToolOutputReq,
)
from chatkit_proto.responses import SyncCustomActionResponse, TranscriptionResult
from chatkit_proto.testing import strategies as S
from chatkit_proto.threads import Page, Thread
from tests.profiles import CODEC_SETTINGS, examples
from tests.sse_parser import SSEParser, parse_stream

EVENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(ThreadStreamEvent)
ITEM_ADAPTER: TypeAdapter[Any] = TypeAdapter(ThreadItem)
REQUEST_ADAPTER: TypeAdapter[Any] = TypeAdapter(ChatKitReq)
ATTACHMENT_ADAPTER: TypeAdapter[Any] = TypeAdapter(Attachment)

# Every event type, plus `thread.item.updated` once per update type so each update is covered.
EVENT_CASES: dict[str, Any] = {
    **S.EVENTS,
    **{
        f"thread.item.updated/{kind}": st.builds(
            ThreadItemUpdatedEvent, item_id=S.ids, update=strategy
        )
        for kind, strategy in S.UPDATES.items()
    },
}

BODY_CASES: dict[str, tuple[Any, Any]] = {
    "Thread": (S.threads_with_items, TypeAdapter(Thread)),
    "Page[Thread]": (S.thread_pages, TypeAdapter(Page[Thread])),
    "Page[ThreadItem]": (S.item_pages, TypeAdapter(Page[ThreadItem])),
    "Attachment": (S.attachments, ATTACHMENT_ADAPTER),
    "TranscriptionResult": (S.transcription_results, TypeAdapter(TranscriptionResult)),
    "SyncCustomActionResponse": (
        S.sync_custom_action_responses,
        TypeAdapter(SyncCustomActionResponse),
    ),
}
"""Every JSON response model, with the adapter that reads it back."""


# --- Helpers -------------------------------------------------------------------------------


def strip_private(value: Any) -> Any:
    """A copy of a model tree with every `exclude=True` field (attachment metadata) unset."""
    if isinstance(value, BaseModel):
        updates: dict[str, Any] = {}
        for name, field in type(value).model_fields.items():
            current = getattr(value, name)
            if field.exclude:
                if current is not None:
                    updates[name] = field.get_default(call_default_factory=True)
                continue
            stripped = strip_private(current)
            if stripped is not current:
                updates[name] = stripped
        return value.model_copy(update=updates) if updates else value
    if isinstance(value, list):
        items = [strip_private(v) for v in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        entries = {k: strip_private(v) for k, v in value.items()}
        return entries if any(entries[k] is not value[k] for k in value) else value
    return value


def frame_payload(frame: bytes) -> bytes:
    """Check one SSE frame's shape (SPEC §1.4, F1) and return its JSON payload."""
    assert frame.startswith(b"data: "), frame[:40]
    assert frame.endswith(b"\n\n"), frame[-40:]
    payload = frame[len(b"data: ") : -2]
    assert b"\n" not in payload and b"\r" not in payload, "a frame spans more than one line"
    payload.decode("utf-8")  # strict UTF-8
    return payload


def canonical_compact(text: str) -> str:
    """`json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)`.

    Number tokens keep their own spelling: Python writes `1e+16` where serde/orjson write
    `1e16`, and that is not what compactness is about.
    """
    marker = "\ue000"
    while marker in text:
        marker += "\ue000"
    floats: list[str] = []

    def keep(token: str) -> str:
        floats.append(token)
        return f"{marker}{len(floats) - 1}{marker}"

    dumped = json.dumps(
        json.loads(text, parse_float=keep), separators=(",", ":"), ensure_ascii=False
    )
    return re.sub(f'"{marker}(\\d+){marker}"', lambda m: floats[int(m.group(1))], dumped)


def assert_compact(payload: bytes) -> None:
    """The payload is compact JSON with raw (unescaped) non-ASCII (SPEC §1.4, §2.1)."""
    text = payload.decode("utf-8")
    assert canonical_compact(text) == text


def assert_wire_matches(value: Any, wire: Any, where: str = "$") -> None:
    """Walk a model tree alongside its output JSON (SPEC §2.2, F3, F5, D13).

    * no model field is ever null, and a field is absent exactly when its value is None or
      it is private (`exclude=True`, attachment `metadata`);
    * free-form JSON (any dict/list that is not a model) comes out exactly as it is held,
      its nulls included;
    * timestamps in UTC are written with `Z`.
    """
    if isinstance(value, BaseModel):
        assert isinstance(wire, dict), f"{where}: expected an object, got {wire!r:.80}"
        fields = type(value).model_fields
        by_key = {(field.alias or name): name for name, field in fields.items()}
        extra = value.__pydantic_extra__ or {}
        for key, sub in wire.items():
            assert sub is not None, f"{where}.{key}: a model field is null"
            if key in by_key:
                field = fields[by_key[key]]
                assert not field.exclude, f"{where}.{key}: a private field was sent"
                assert_wire_matches(getattr(value, by_key[key]), sub, f"{where}.{key}")
            else:
                assert key in extra, f"{where}.{key}: not a field of {type(value).__name__}"
                assert_wire_matches(extra[key], sub, f"{where}.{key}")
        for key, name in by_key.items():
            if not fields[name].exclude and getattr(value, name) is not None:
                assert key in wire, f"{where}.{key}: a non-null field is missing"
        for key, held in extra.items():
            assert (key in wire) == (held is not None), f"{where}.{key}: extra prop mishandled"
    elif isinstance(value, list | tuple):
        assert isinstance(wire, list) and len(wire) == len(value), f"{where}: list differs"
        for i, (held, sub) in enumerate(zip(value, wire, strict=True)):
            assert_wire_matches(held, sub, f"{where}[{i}]")
    elif isinstance(value, dict):
        assert isinstance(wire, dict) and list(wire) == list(value), f"{where}: keys differ"
        for key, held in value.items():
            assert_wire_matches(held, wire[key], f"{where}.{key}")
    elif isinstance(value, datetime):
        assert isinstance(wire, str), f"{where}: datetime not a string"
        if value.utcoffset() == timedelta(0):
            assert wire.endswith("Z"), f"{where}: UTC written as {wire!r}, not with Z (D13)"
        assert datetime.fromisoformat(wire) == value, f"{where}: {wire!r} != {value!r}"
    elif value is None:
        # Reached only inside free-form JSON: model fields holding None are never walked.
        assert wire is None, f"{where}: free-form null became {wire!r}"
    else:
        assert type(wire) is type(value) and wire == value, f"{where}: {wire!r} != {value!r}"


def as_event(value: Any) -> Any:
    """The pydantic event a stream value stands for."""
    return value.to_event() if isinstance(value, TextDelta) else value


# --- Round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(S.REQUESTS))
@CODEC_SETTINGS
@given(data=st.data())
def test_request_round_trip(kind: str, data: st.DataObject) -> None:
    """decode_request(encode_body(req)) == req, for every request type."""
    request = data.draw(S.REQUESTS[kind])
    body = encode_body(request)
    assert decode_request(body) == request
    assert decode_request(body.decode("utf-8")) == request


@pytest.mark.parametrize("kind", sorted(EVENT_CASES))
@CODEC_SETTINGS
@given(data=st.data())
def test_event_round_trip_through_sse(kind: str, data: st.DataObject) -> None:
    """SSE frame -> independent parser -> JSON -> ThreadStreamEvent is the identity."""
    event = data.draw(EVENT_CASES[kind])
    frame = encode_event(event)
    events = parse_stream(frame)
    assert len(events) == 1 and events[0].event == "message"
    assert events[0].data.encode("utf-8") == frame_payload(frame)
    assert EVENT_ADAPTER.validate_json(events[0].data) == strip_private(event)


@pytest.mark.parametrize("kind", sorted(S.ITEMS))
@CODEC_SETTINGS
@given(data=st.data())
def test_item_round_trip(kind: str, data: st.DataObject) -> None:
    """Every item type reads back as itself (hidden ones too: stores and tools use them)."""
    item = data.draw(S.ITEMS[kind])
    encoded = dump_json(item)
    assert ITEM_ADAPTER.validate_json(encoded) == strip_private(item)
    assert_wire_matches(item, json.loads(encoded))
    assert_compact(encoded)


@CODEC_SETTINGS
@given(root=S.widget_roots)
def test_widget_root_round_trip(root: Any) -> None:
    """Widget trees (nested, unknown props, unknown component types) read back as themselves."""
    encoded = dump_json(root)
    assert S.WIDGET_ROOT_ADAPTER.validate_json(encoded) == root
    assert_wire_matches(root, json.loads(encoded))


@CODEC_SETTINGS
@given(source=S.widget_root_dicts)
def test_widget_json_is_stable(source: dict[str, Any]) -> None:
    """A widget's wire JSON is a fixed point: validating it and dumping again changes nothing."""
    once = dump_json(S.WIDGET_ROOT_ADAPTER.validate_python(source))
    twice = dump_json(S.WIDGET_ROOT_ADAPTER.validate_json(once))
    assert once == twice


@CODEC_SETTINGS
@given(component=S.widget_components)
def test_widget_component_round_trip(component: Any) -> None:
    """Single components (as `widget.component.updated` carries them) read back as themselves."""
    encoded = dump_json(component)
    assert S.WIDGET_COMPONENT_ADAPTER.validate_json(encoded) == component
    assert_wire_matches(component, json.loads(encoded))


@pytest.mark.parametrize("kind", sorted(BODY_CASES))
@CODEC_SETTINGS
@given(data=st.data())
def test_response_body_round_trip(kind: str, data: st.DataObject) -> None:
    """JSON response bodies read back as their model; compact, no null model field."""
    strategy, adapter = BODY_CASES[kind]
    body = data.draw(strategy)
    encoded = encode_body(body)
    assert adapter.validate_json(encoded) == strip_private(body)
    assert_wire_matches(body, json.loads(encoded))
    assert_compact(encoded)


# --- Framing and serialization rules -------------------------------------------------------


@examples(4)
@given(event=st.one_of(S.stream_events, S.text_deltas))
def test_frame_is_one_compact_data_line(event: Any) -> None:
    """F1: `data: ` + one line of compact JSON + `\\n\\n`, whatever the text holds."""
    payload = frame_payload(encode_event(event))
    assert_compact(payload)
    obj = orjson.loads(payload)
    assert isinstance(obj, dict) and obj["type"] == event.type


@examples(4)
@given(event=S.stream_events)
def test_no_model_field_is_null(event: Any) -> None:
    """F3/F5: nulls only inside free-form JSON; private attachment metadata never sent."""
    assert_wire_matches(event, json.loads(frame_payload(encode_event(event))))


@CODEC_SETTINGS
@given(
    item=S.user_message_items.filter(lambda i: i.attachments)
    | S.image_attachments
    | S.file_attachments
)
def test_attachment_metadata_never_appears(item: Any) -> None:
    """SPEC §2.6: `metadata` is dropped from every attachment the client sees."""
    attachments = item.attachments if hasattr(item, "attachments") else [item]
    for encoded in (dump_json(item), encode_body(item)):
        wire = json.loads(encoded)
        for sent in wire.get("attachments", [wire]):
            assert "metadata" not in sent
    for attachment in attachments:
        assert isinstance(attachment, AttachmentBase)
        assert "metadata" not in orjson.loads(dump_json(attachment))


@CODEC_SETTINGS
@given(thread=S.thread_metadata)
def test_wire_threads_blank_private_metadata(thread: Any) -> None:
    """F4: every thread the server builds carries `"metadata":{}` and an empty item page."""
    from chatkit_proto.threads import to_wire_thread

    wire = orjson.loads(dump_json(to_wire_thread(thread)))
    assert wire["metadata"] == {}
    assert wire["items"] == {"data": [], "has_more": False}


@examples(4)
@given(
    item_id=S.ids,
    content_index=st.one_of(S.indices, st.integers(min_value=-(2**70), max_value=2**70)),
    delta=S.texts(),
)
def test_text_delta_frame_equals_pydantic_frame(
    item_id: str, content_index: int, delta: str
) -> None:
    """The hot path writes the very bytes of the equivalent `ThreadItemUpdatedEvent`."""
    fast = TextDelta(item_id, content_index, delta)
    assert encode_event(fast) == encode_event(fast.to_event())


@CODEC_SETTINGS
@given(
    values=st.lists(st.one_of(S.stream_events, S.text_deltas), min_size=1, max_size=5),
    pings=st.lists(st.booleans(), min_size=5, max_size=5),
    data=st.data(),
)
def test_stream_of_frames_parses_in_order(
    values: list[Any], pings: list[bool], data: st.DataObject
) -> None:
    """Concatenated frames, cut anywhere and with `: ping` comments (D10), parse in order."""
    frames = [encode_event(v) for v in values]
    parts: list[bytes] = []
    for frame, ping in zip(frames, pings, strict=False):
        if ping:
            parts.append(b": ping\n")
        parts.append(frame)
    stream = b"".join(parts)
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6))
    bounds = [0, *sorted(cuts), len(stream)]
    parsed = parse_stream([stream[a:b] for a, b in pairwise(bounds)])
    assert [e.data.encode("utf-8") for e in parsed] == [frame_payload(f) for f in frames]
    decoded = [EVENT_ADAPTER.validate_json(e.data) for e in parsed]
    assert decoded == [strip_private(as_event(v)) for v in values]


# --- Decoding anything raises only InvalidRequest ------------------------------------------

_PATH = re.compile(r"[^.\[\]]+(?:\.[^.\[\]]+|\[\d+\])*")
_STEP = re.compile(r"(?:^|\.)([^.\[\]]+)|\[(\d+)\]")
_NOT_JSON = object()


def assert_path_points_into(body: Any, path: str, *, missing_ok: bool) -> None:
    """A detail path is `a.b[0].c` and leads into the body; only a missing field's last key
    may be absent (then its parent must be an object)."""
    if path == "":
        return  # the body itself
    assert _PATH.fullmatch(path), f"ill-formed path {path!r}"
    steps = list(_STEP.finditer(path))
    node = body
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        key, index = step.group(1), step.group(2)
        if key is not None:
            assert isinstance(node, dict), f"{path!r}: {key!r} steps into a non-object"
            if key not in node:
                assert last and missing_ok, f"{path!r}: no key {key!r} in the body"
                return
            node = node[key]
        else:
            assert isinstance(node, list), f"{path!r}: [{index}] steps into a non-array"
            assert int(index) < len(node), f"{path!r}: [{index}] is out of range"
            node = node[int(index)]
    assert not missing_ok, f"{path!r}: reported missing but present in the body"


def check_decode(body: bytes) -> Any:
    """Decode; the only exception allowed is a well-formed `InvalidRequest` (D1)."""
    try:
        return decode_request(body)
    except InvalidRequest as exc:
        assert exc.code == "invalid_request" and exc.status == 400
        assert isinstance(exc.message, str) and exc.message
        error_body = orjson.loads(encode_body(exc.body()))
        assert ErrorBody.model_validate(error_body).code == "invalid_request"
        try:
            parsed = json.loads(body)
        except (ValueError, RecursionError):
            parsed = _NOT_JSON
        for detail in exc.details or []:
            assert detail.message
            assert parsed is not _NOT_JSON, "details for a body that is not JSON"
            assert_path_points_into(
                parsed, detail.path, missing_ok=detail.message == "Field required"
            )
        return None


@examples(8)
@given(body=st.binary(max_size=300))
def test_decoding_arbitrary_bytes(body: bytes) -> None:
    """Random bytes never raise anything but InvalidRequest."""
    check_decode(body)


_unknown_types = st.sampled_from(["threads.frobnicate", "", "THREADS.CREATE", "input_text"])


@examples(8)
@given(
    value=st.one_of(
        S.json_values,
        st.fixed_dictionaries(
            {
                "type": st.one_of(st.sampled_from(sorted(S.REQUESTS)), _unknown_types),
                "params": st.one_of(S.json_objects, S.json_values),
            },
            optional={"metadata": S.json_values},
        ),
    )
)
def test_decoding_arbitrary_json(value: Any) -> None:
    """Any JSON value, or any object that looks like a request, decodes or is refused cleanly."""
    check_decode(json.dumps(value, ensure_ascii=False).encode("utf-8"))


def _all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            paths += _all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            paths += _all_paths(value, (*prefix, index))
    return paths


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


_WRONG_VALUES = (None, 0, -1, 1.5, "x", "", True, [], {}, [1], {"type": 7}, {"type": "x"})


@st.composite
def mutated_requests(draw: st.DrawFn) -> bytes:
    """A valid request body with one key dropped, one value retyped or one `type` unknown."""
    body = json.loads(encode_body(draw(S.requests)))
    paths = [p for p in _all_paths(body) if p]
    path = draw(st.sampled_from(paths))
    typed = [p for p in paths if p[-1] == "type"]
    mutation = draw(st.sampled_from(["drop", "retype", "unknown_type"]))
    if mutation == "unknown_type" and typed:
        path = draw(st.sampled_from(typed))
        _at(body, path[:-1])[path[-1]] = draw(_unknown_types)
    elif mutation == "drop":
        parent = _at(body, path[:-1])
        del parent[path[-1]]
    else:
        _at(body, path[:-1])[path[-1]] = draw(st.sampled_from(_WRONG_VALUES))
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@examples(12)
@given(body=mutated_requests())
def test_decoding_mutated_requests(body: bytes) -> None:
    """Dropped keys, wrong types and unknown `type`s give InvalidRequest with exact paths."""
    check_decode(body)


def test_error_paths_example() -> None:
    """The documented example path (DEVIATIONS D1) comes out verbatim."""
    body = b'{"type":"threads.create","params":{"input":{"content":[{"type":"input_text","text":5}],"attachments":[],"inference_options":{}}}}'
    with pytest.raises(InvalidRequest) as info:
        decode_request(body)
    assert [d.path for d in info.value.details or []] == ["params.input.content[0].text"]


# --- The oracle parser itself --------------------------------------------------------------


@pytest.mark.parametrize(
    ("stream", "expected"),
    [
        (b"data: a\n\n", ["a"]),
        (b"data: a\r\n\r\n", ["a"]),
        (b"data: a\r\r", ["a"]),
        (b"data:a\n\n", ["a"]),
        (b"data:  a\n\n", [" a"]),
        (b"data: a\ndata: b\n\n", ["a\nb"]),
        (b"data\n\n", [""]),
        (b"data:\ndata:\n\n", ["\n"]),
        (b": comment\ndata: a\n: another\n\n", ["a"]),
        (b"event: x\nid: 1\nretry: 5\nfoo: bar\ndata: a\n\n", ["a"]),
        (b"\n\n: only comments\n\n", []),
        (b"data: a\n\ndata: unterminated\n", ["a"]),
        (b"\xef\xbb\xbfdata: bom\n\n", ["bom"]),
        (b"data: \xe2\x80\xa8 stays\n\n", ["\u2028 stays"]),
    ],
)
def test_oracle_parser_examples(stream: bytes, expected: list[str]) -> None:
    """The oracle follows the HTML event-stream rules on the cases our framing relies on."""
    assert [e.data for e in parse_stream(stream)] == expected


def test_oracle_parser_fields() -> None:
    """`event`, `id` and `retry` fields land where the HTML rules put them."""
    parser = SSEParser()
    events = parser.feed(b"event: x\nid: 7\nretry: 10\ndata: a\n\ndata: b\n\n")
    assert [(e.event, e.last_event_id, e.data) for e in events] == [
        ("x", "7", "a"),
        ("message", "7", "b"),
    ]
    assert parser.retry == 10


@CODEC_SETTINGS
@given(
    lines=st.lists(
        st.tuples(
            st.sampled_from(["data", "event", ": c", "id", "bogus", ""]),
            st.text(st.characters(blacklist_characters="\r\n"), max_size=5),
        ),
        max_size=10,
    ),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    data=st.data(),
)
def test_oracle_parser_is_chunking_invariant(
    lines: list[tuple[str, str]], ending: str, data: st.DataObject
) -> None:
    """Cutting the byte stream anywhere (even inside a CRLF or a UTF-8 sequence) changes nothing."""
    text = "".join(f"{name}:{value}{ending}" if name else ending for name, value in lines)
    stream = text.encode("utf-8")
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(stream)), max_size=6))
    bounds = [0, *sorted(cuts), len(stream)]
    assert parse_stream([stream[a:b] for a, b in pairwise(bounds)]) == parse_stream(stream)


# --- Nullable fields and non-finite numbers ------------------------------------------------


def test_null_client_tool_result_round_trips() -> None:
    """`result` may be JSON null (SPEC §4.3); encoding such a request must keep it readable."""
    request = ThreadsAddClientToolOutputReq(
        params=ThreadAddClientToolOutputParams(thread_id="thr_1", result=None)
    )
    assert decode_request(encode_body(request)) == request


def test_hidden_context_item_with_null_content_round_trips() -> None:
    """`content` is any JSON, null included; the item must read back."""
    item = HiddenContextItem(
        id="hc_1", thread_id="thr_1", created_at=datetime(2026, 1, 1), content=None
    )
    assert ITEM_ADAPTER.validate_json(dump_json(item)) == item


def test_non_finite_tool_result_never_becomes_a_null_field() -> None:
    """F3 end to end: a client tool result read from a request and sent back in the item.

    The body is not JSON (RFC 8259 has no NaN); it must be refused. Today it is accepted and
    the completed tool call goes out as `"output":null`, a null model field.
    """
    body = b'{"type":"threads.add_client_tool_output","params":{"thread_id":"t","result":NaN}}'
    try:
        request = decode_request(body)
    except InvalidRequest:
        return
    item = ClientToolCallItem(
        id="tc_1",
        thread_id="t",
        created_at=datetime(2026, 1, 1),
        status="completed",
        call_id="call_1",
        name="get_selection",
        arguments={},
        output=request.params.result,
    )
    event = ThreadItemDoneEvent(item=item)
    assert_wire_matches(event, json.loads(frame_payload(encode_event(event))))
