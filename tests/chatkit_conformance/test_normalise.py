"""Normalisation as CONFORMANCE.md "Normalisation" describes it."""

from __future__ import annotations

import json
from pathlib import Path

from chatkit_conformance.normalise import (
    Normaliser,
    normalise,
    normalise_transcript,
    template_literals,
)

REFERENCE = Path(__file__).parents[2] / "fixtures" / "reference"


def test_ids_are_numbered_by_first_appearance_over_sorted_keys() -> None:
    value = {"b": {"id": "thr_1a2b3c4d"}, "a": {"item_id": "msg_9f8e7d6c"}}
    assert normalise(value) == {"b": {"id": "<id:2>"}, "a": {"item_id": "<id:1>"}}


def test_every_id_key_counts_and_item_ids_elements_too() -> None:
    value = {
        "after": "msg_00000001",
        "attachment_id": "atc_00000002",
        "call_id": "call_t1_0",
        "id": "fc_t1_0",
        "item_ids": ["msg_t0_0", "msg_00000001"],
        "thread_id": "thr_00000003",
    }
    assert normalise(value) == {
        "after": "<id:1>",
        "attachment_id": "<id:2>",
        "call_id": "<id:3>",
        "id": "<id:4>",
        "item_ids": ["<id:5>", "<id:1>"],
        "thread_id": "<id:6>",
    }


def test_known_ids_are_replaced_as_keys_and_inside_longer_strings() -> None:
    value = {
        "response": {
            "id": "atc_f06b2181",
            "upload_descriptor": {
                "url": "https://uploads.example.invalid/upload/atc_f06b2181",
                "headers": {"x-upload-token": "token-atc_f06b2181"},
            },
        },
        "by_id": {"atc_f06b2181": 1},
    }
    assert normalise(value) == {
        "response": {
            "id": "<id:1>",
            "upload_descriptor": {
                "url": "https://uploads.example.invalid/upload/<id:1>",
                "headers": {"x-upload-token": "token-<id:1>"},
            },
        },
        "by_id": {"<id:1>": 1},
    }


def test_short_or_plain_ids_are_not_replaced_inside_text() -> None:
    value = {"a": {"id": "t_1"}, "b": {"id": "abcdefgh"}, "text": "t_1 abcdefgh"}
    assert normalise(value)["text"] == "t_1 abcdefgh"


def test_request_template_literals_are_never_ids() -> None:
    template = {"type": "threads.get_by_id", "params": {"thread_id": "thr_missing"}}
    literals = template_literals([template])
    value = {"request": template["params"], "thread": {"id": "thr_12345678"}}
    assert normalise(value, literals) == {
        "request": {"thread_id": "thr_missing"},
        "thread": {"id": "<id:1>"},
    }


def test_request_templates_are_not_searched_nor_rewritten() -> None:
    document = {
        "exchanges": [
            {
                "request_template": {"params": {"thread_id": "{{thread_id}}", "id": "tag_1234"}},
                "events": [{"thread": {"id": "thr_12345678"}}],
            }
        ]
    }
    normalised = normalise_transcript(document)
    exchange = normalised["exchanges"][0]
    assert exchange["request_template"] == document["exchanges"][0]["request_template"]
    assert exchange["events"] == [{"thread": {"id": "<id:1>"}}]


def test_widget_and_component_ids_are_app_chosen() -> None:
    value = {
        "item": {
            "id": "msg_12345678",
            "widget": {"type": "Card", "id": "note_body", "children": [{"id": "row_1"}]},
        },
        "update": {"component": {"id": "note_body"}, "payload": {"item": "msg_12345678"}},
    }
    normalised = normalise(value)
    assert normalised["item"]["widget"]["id"] == "note_body"
    assert normalised["item"]["widget"]["children"] == [{"id": "row_1"}]
    assert normalised["update"] == {"component": {"id": "note_body"}, "payload": {"item": "<id:1>"}}


def test_timestamps_naive_utc_and_offset_forms() -> None:
    value = {
        "naive": "2026-11-22T09:45:32.555865",
        "utc": "2026-11-22T09:45:32.555865Z",
        "offset": "2026-11-22T09:45:32+02:00",
        "minutes": "2026-11-22T09:45",
        "text": "at 2026-11-22T09:45:32.555865Z, and later",
        "date_only": "2026-11-22",
    }
    assert normalise(value) == {
        "naive": "<timestamp>",
        "utc": "<timestamp>",
        "offset": "<timestamp>",
        "minutes": "<timestamp>",
        "text": "at <timestamp>, and later",
        "date_only": "2026-11-22",
    }


def test_workflow_durations_also_in_raw_text() -> None:
    item = {"type": "workflow", "workflow": {"summary": {"duration": 3}, "expanded": False}}
    raw = 'data: {"workflow":{"summary":{"duration":12},"expanded":false}}\n\n'
    value = {"item": item, "raw": raw, "other": {"summary": {"duration": 3}}}
    assert normalise(value) == {
        "item": {
            "type": "workflow",
            "workflow": {"summary": {"duration": "<duration>"}, "expanded": False},
        },
        "raw": 'data: {"workflow":{"summary":{"duration":"<duration>"},"expanded":false}}\n\n',
        "other": {"summary": {"duration": 3}},
    }


def test_collecting_in_turns_numbers_like_one_document() -> None:
    first, second = {"id": "thr_aaaaaaaa"}, {"id": "msg_bbbbbbbb", "thread_id": "thr_aaaaaaaa"}
    normaliser = Normaliser()
    normaliser.collect(first)
    normaliser.collect(second)
    assert normaliser.apply(second) == {"id": "<id:2>", "thread_id": "<id:1>"}


def test_reference_transcripts_normalise_stably() -> None:
    for path in sorted(REFERENCE.glob("*.json")):
        document = json.loads(path.read_text())
        once = normalise_transcript(document)
        assert normalise_transcript(once) == once, path.name
        text = json.dumps(once)
        assert "thr_" not in text.replace("thr_missing", ""), path.name
        assert "2026-" not in text, path.name
