"""The codec against the reference transcripts (fixtures/reference/*.json, CONFORMANCE.md).

Every request decodes (or, where the reference failed validation, is refused with
InvalidRequest); every recorded event and every 200 JSON body reads into its model and
re-encodes to the same JSON. "Same" normalises only timestamps: the reference writes naive
local times, we write UTC with `Z` (DEVIATIONS D13), so both sides are compared as instants.
Raw SSE bodies are additionally compared frame by frame, byte for byte (key order included).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from chatkit_proto.attachments import Attachment
from chatkit_proto.codec import decode_request, dump_json, encode_body, encode_event
from chatkit_proto.errors import InvalidRequest
from chatkit_proto.events import ThreadStreamEvent
from chatkit_proto.items import ThreadItem
from chatkit_proto.responses import SyncCustomActionResponse, TranscriptionResult
from chatkit_proto.threads import Page, Thread
from tests.sse_parser import parse_stream

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "reference"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))

EVENT: TypeAdapter[Any] = TypeAdapter(ThreadStreamEvent)
ITEM: TypeAdapter[Any] = TypeAdapter(ThreadItem)
ATTACHMENT: TypeAdapter[Any] = TypeAdapter(Attachment)

EMPTY_BODY = "{}"
RESPONSE_MODELS: dict[str, Any] = {
    "threads.get_by_id": TypeAdapter(Thread),
    "threads.update": TypeAdapter(Thread),
    "threads.list": TypeAdapter(Page[Thread]),
    "items.list": TypeAdapter(Page[ThreadItem]),
    "attachments.create": ATTACHMENT,
    "attachments.delete": EMPTY_BODY,
    "items.feedback": EMPTY_BODY,
    "threads.delete": EMPTY_BODY,
    "input.transcribe": TypeAdapter(TranscriptionResult),
    "threads.sync_custom_action": TypeAdapter(SyncCustomActionResponse),
}
"""The model of the 200 JSON answer to each non-streaming request (SPEC §4)."""

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)?")
_NAIVE_IN_JSON = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?)"')


def load(name: str) -> dict[str, Any]:
    """One transcript."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def exchanges(name: str) -> list[dict[str, Any]]:
    """The HTTP exchanges of a transcript (observations left out)."""
    return [e for e in load(name)["exchanges"] if "observation" not in e]


def instants(value: Any) -> Any:
    """A JSON value with every ISO-8601 timestamp string replaced by its UTC instant (D13)."""
    if isinstance(value, dict):
        return {k: instants(v) for k, v in value.items()}
    if isinstance(value, list):
        return [instants(v) for v in value]
    if isinstance(value, str) and _ISO.fullmatch(value):
        moment = datetime.fromisoformat(value)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return value


def rejected_by_reference(exchange: dict[str, Any]) -> bool:
    """The reference raised a validation error for this body (DEVIATIONS D1)."""
    return any(
        e.get("exception", "").startswith("ValidationError")
        for e in exchange.get("server_exceptions") or []
    )


def test_fixtures_are_present() -> None:
    assert len(FIXTURE_NAMES) >= 13


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_requests_decode(name: str) -> None:
    """Every recorded request decodes; those the reference refused are InvalidRequest."""
    seen = 0
    for exchange in exchanges(name):
        if "request_raw" in exchange:
            with pytest.raises(InvalidRequest):
                decode_request(exchange["request_raw"].encode())
            continue
        body = json.dumps(exchange["request"], separators=(",", ":")).encode()
        if rejected_by_reference(exchange):
            with pytest.raises(InvalidRequest) as info:
                decode_request(body)
            assert info.value.details, "a validation failure names where it is"
            continue
        request = decode_request(body)
        assert request.type == exchange["request"]["type"]
        assert decode_request(encode_body(request)) == request
        seen += 1
    assert seen


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_events_round_trip(name: str) -> None:
    """Every recorded event reads as a ThreadStreamEvent and re-encodes to the same JSON."""
    count = 0
    for exchange in exchanges(name):
        for recorded in exchange.get("events") or []:
            event = EVENT.validate_python(recorded)
            frame = encode_event(event)
            assert frame.startswith(b"data: ") and frame.endswith(b"\n\n")
            assert instants(json.loads(frame[6:-2])) == instants(recorded)
            assert EVENT.validate_json(frame[6:-2]) == event
            count += 1
    if any("events" in e for e in exchanges(name)):
        assert count


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_raw_streams_frame_by_frame(name: str) -> None:
    """Our frames equal the reference's bytes once its naive timestamps gain the `Z` (D13)."""
    for exchange in exchanges(name):
        raw = exchange.get("raw")
        if not raw:
            continue
        parsed = parse_stream(raw.encode("utf-8"))
        assert [json.loads(e.data) for e in parsed] == exchange["events"]
        for sse in parsed:
            expected = "data: " + _NAIVE_IN_JSON.sub(r'"\1Z"', sse.data) + "\n\n"
            assert encode_event(EVENT.validate_json(sse.data)).decode("utf-8") == expected


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_json_responses_round_trip(name: str) -> None:
    """Every 200 JSON body reads as the model of its request type and re-encodes equal."""
    for exchange in exchanges(name):
        if exchange.get("status") != 200 or "response" not in exchange:
            continue
        kind = exchange["request"]["type"]
        model = RESPONSE_MODELS[kind]
        recorded = exchange["response"]
        if model is EMPTY_BODY:
            assert recorded == {}
            assert encode_body({}) == b"{}"
            continue
        value = model.validate_python(recorded)
        encoded = encode_body(value)
        assert instants(json.loads(encoded)) == instants(recorded), kind
        assert model.validate_json(encoded) == value


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_store_observations(name: str) -> None:
    """Stored items (hidden ones included) round-trip; stored attachment metadata is dropped."""
    for exchange in load(name)["exchanges"]:
        observed = exchange.get("observation")
        if not isinstance(observed, list):
            continue
        for entry in observed:
            if not isinstance(entry, dict) or (
                "created_at" not in entry and "mime_type" not in entry
            ):
                continue  # e.g. recorded feedback calls
            if "mime_type" in entry:
                attachment = ATTACHMENT.validate_python(entry)
                assert attachment.metadata == entry.get("metadata")
                sent = json.loads(encode_body(attachment))
                assert sent == {k: v for k, v in entry.items() if k != "metadata"}
            else:
                item = ITEM.validate_python(entry)
                assert instants(json.loads(dump_json(item))) == instants(entry)
