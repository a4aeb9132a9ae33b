"""The JSON Schema CLI (`python -m chatkit_conformance.schema`) and what its document accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given
from pydantic import TypeAdapter, ValidationError

from chatkit_conformance import schema as schema_cli
from chatkit_proto.codec import dump_json, encode_body
from chatkit_proto.events import ThreadStreamEvent
from chatkit_proto.requests import NonStreamingReq, StreamingReq
from chatkit_proto.schema import build_schema, render
from chatkit_proto.testing import strategies as S
from chatkit_proto.widgets import WidgetRoot
from tests.chatkit_proto.test_reference_fixtures import FIXTURE_NAMES, RESPONSE_MODELS, exchanges
from tests.profiles import CODEC_SETTINGS

try:
    import jsonschema
except ImportError:  # pragma: no cover - the structural fallback below runs instead
    jsonschema = None

needs_jsonschema = pytest.mark.skipif(jsonschema is None, reason="jsonschema not installed")

REQUEST_CLASSES = [*get_args(StreamingReq), *get_args(NonStreamingReq)]
EVENT_CLASSES = list(get_args(get_args(ThreadStreamEvent)[0]))
RESPONSE_DEFS = {
    "threads.get_by_id": "Thread",
    "threads.update": "Thread",
    "threads.list": "Page_Thread",
    "items.list": "Page_ThreadItem",
    "attachments.create": "Attachment",
    "input.transcribe": "TranscriptionResult",
    "threads.sync_custom_action": "SyncCustomActionResponse",
}


@cache
def document() -> dict[str, Any]:
    """The schema as the CLI writes it (built once)."""
    return json.loads(render(build_schema()))


@cache
def validator(name: str) -> Any:
    """A draft 2020-12 validator of one `$defs` entry."""
    assert jsonschema is not None
    doc = document()
    root = {"$schema": doc["$schema"], "$defs": doc["$defs"], "$ref": f"#/$defs/{name}"}
    return jsonschema.Draft202012Validator(root)


def assert_valid(name: str, instance: Any) -> None:
    """Validate, reporting the best error."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(instance))
    assert error is None, f"{name}: {error.message} at {list(error.absolute_path)}"


# --- The CLI -------------------------------------------------------------------------------


def test_cli_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "chatkit.schema.json"
    assert schema_cli.main(["--output", str(target)]) == 0
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == document()
    assert written["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_cli_writes_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert schema_cli.main([]) == 0
    assert json.loads(capsys.readouterr().out) == document()


def test_cli_runs_as_a_module(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    done = subprocess.run(
        [sys.executable, "-m", "chatkit_conformance.schema", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == document()


def test_cli_rejects_unknown_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        schema_cli.main(["--frobnicate"])
    assert info.value.code == 2
    assert "usage" in capsys.readouterr().err


# --- The document --------------------------------------------------------------------------


def test_defs_cover_every_request_and_event() -> None:
    defs = document()["$defs"]
    for name in ("ChatKitReq", "ThreadStreamEvent", "ThreadItem", "ThreadItemUpdate"):
        assert name in defs
    for cls in (*REQUEST_CLASSES, *EVENT_CLASSES):
        assert cls.__name__ in defs, cls.__name__
    refs = {choice["$ref"].rsplit("/", 1)[-1] for choice in defs["ChatKitReq"]["oneOf"]}
    assert refs == {cls.__name__ for cls in REQUEST_CLASSES}
    assert len(refs) == 16
    refs = {choice["$ref"].rsplit("/", 1)[-1] for choice in defs["ThreadStreamEvent"]["oneOf"]}
    assert refs == {cls.__name__ for cls in EVENT_CLASSES}
    assert len(refs) == 12


def test_every_ref_resolves() -> None:
    doc = document()
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        assert ref.startswith("#/$defs/") and ref.removeprefix("#/$defs/") in doc["$defs"], ref


def test_private_attachment_metadata_is_not_in_the_wire_schema() -> None:
    defs = document()["$defs"]
    for name in ("FileAttachment", "ImageAttachment"):
        assert "metadata" not in defs[name]["properties"]


def test_events_use_wire_names() -> None:
    """Aliased props appear under their wire names (by_alias)."""
    assert "loadingBehavior" in document()["$defs"]["ActionConfig"]["properties"]


@needs_jsonschema
def test_document_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(document())


# --- Fixtures validate against it ----------------------------------------------------------


@needs_jsonschema
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_messages_validate(name: str) -> None:
    """Every recorded event, accepted request and JSON body fits the schema."""
    for exchange in exchanges(name):
        for event in exchange.get("events") or []:
            assert_valid("ThreadStreamEvent", event)
        request = exchange.get("request")
        if isinstance(request, dict) and exchange.get("status") == 200:
            assert_valid("ChatKitReq", request)
        kind = request.get("type") if isinstance(request, dict) else None
        if exchange.get("status") == 200 and kind in RESPONSE_DEFS:
            assert_valid(RESPONSE_DEFS[kind], exchange["response"])


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_events_name_known_defs(name: str) -> None:
    """Without a validator: each event's `type` is the const of exactly one event def."""
    defs = document()["$defs"]
    consts = {
        defs[choice["$ref"].rsplit("/", 1)[-1]]["properties"]["type"]["const"]
        for choice in defs["ThreadStreamEvent"]["oneOf"]
    }
    for exchange in exchanges(name):
        for event in exchange.get("events") or []:
            assert event["type"] in consts


def test_response_defs_match_the_fixture_models() -> None:
    assert set(RESPONSE_DEFS) <= set(RESPONSE_MODELS)


@needs_jsonschema
@pytest.mark.parametrize(
    "body",
    [
        {"type": "threads.frobnicate", "params": {}},
        {"type": "threads.get_by_id"},
        {"type": "threads.list", "params": {"order": "up"}},
        {"type": "threads.create", "params": {"input": {"content": []}}},
    ],
)
def test_invalid_requests_do_not_validate(body: dict[str, Any]) -> None:
    assert not validator("ChatKitReq").is_valid(body)


# --- What the codec writes validates -------------------------------------------------------


@needs_jsonschema
@CODEC_SETTINGS
@given(event=S.stream_events)
def test_encoded_events_validate(event: Any) -> None:
    """Events from every strategy (widgets with unknown props and types too) fit the schema."""
    assert_valid("ThreadStreamEvent", json.loads(dump_json(event)))


@needs_jsonschema
@CODEC_SETTINGS
@given(request=S.requests)
def test_encoded_requests_validate(request: Any) -> None:
    assert_valid("ChatKitReq", json.loads(encode_body(request)))


# --- Widgets: the schema says what the widget unions accept -------------------------------


@needs_jsonschema
@pytest.mark.parametrize(
    ("widget", "valid"),
    [
        ({"type": "ListView", "children": [{"type": "ListViewItem", "children": []}]}, True),
        ({"type": "Card", "children": [{"type": "ListViewItem", "children": []}]}, False),
        ({"type": "Basic", "children": [{"type": "ListViewItem", "children": []}]}, False),
        ({"type": "Card", "children": [{"type": "Gauge", "level": 3}]}, True),
        (
            {
                "type": "Card",
                "children": [
                    {
                        "type": "Table",
                        "children": [
                            {
                                "type": "Table.Row",
                                "header": True,
                                "children": [{"type": "Table.Cell", "colSpan": 2}],
                            }
                        ],
                    }
                ],
            },
            True,
        ),
        ({"type": "Card", "children": [{"type": "Table", "children": [{"type": "Gauge"}]}]}, False),
        ({"type": "Card", "children": [{"type": "Table.Cell", "vAlign": "stretch"}]}, False),
    ],
)
def test_widget_placement_matches_the_models(widget: dict[str, Any], valid: bool) -> None:
    assert validator("WidgetRoot").is_valid(widget) is valid
    try:
        TypeAdapter(WidgetRoot).validate_python(widget)
    except ValidationError:
        assert not valid
    else:
        assert valid
