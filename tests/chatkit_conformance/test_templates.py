"""Placeholders and capture paths (CONFORMANCE.md "Placeholders", "Capture paths")."""

from __future__ import annotations

import pytest

from chatkit_conformance.templates import (
    TemplateError,
    capture,
    evaluate,
    matches,
    substitute,
)

EVENTS = [
    {"type": "thread.created", "thread": {"id": "thr_1"}},
    {"type": "thread.item.done", "item": {"id": "msg_1", "type": "user_message"}},
    {"type": "thread.item.done", "item": {"id": "msg_2", "type": "widget"}},
]


def test_whole_string_placeholder_takes_the_json_value() -> None:
    variables = {"thread_id": "thr_1", "result": {"x": [1, 2]}, "limit": 3}
    template = {"thread_id": "{{thread_id}}", "result": "{{result}}", "limit": "{{ limit }}"}
    assert substitute(template, variables) == {
        "thread_id": "thr_1",
        "result": {"x": [1, 2]},
        "limit": 3,
    }


def test_placeholder_inside_a_string_is_textual() -> None:
    variables = {"id": "thr_1", "n": 2, "obj": {"a": 1}}
    assert substitute(["Thread {{id}} #{{n}} {{obj}}"], variables) == ['Thread thr_1 #2 {"a":1}']


def test_substitution_reaches_keys_and_leaves_other_values_alone() -> None:
    template = {"answers": {"{{key}}": {"values": ["{{value}}"]}}, "flag": True, "none": None}
    assert substitute(template, {"key": "priority", "value": "High"}) == {
        "answers": {"priority": {"values": ["High"]}},
        "flag": True,
        "none": None,
    }


def test_substituted_values_are_copies() -> None:
    shared = {"x": [1]}
    result = substitute({"a": "{{v}}"}, {"v": shared})
    result["a"]["x"].append(2)
    assert shared == {"x": [1]}


def test_a_missing_variable_is_an_error() -> None:
    with pytest.raises(TemplateError, match=r"no value for \{\{cursor\}\}"):
        substitute({"after": "{{cursor}}"}, {})


def test_capture_paths_from_the_spec() -> None:
    root = {"response": {"after": "msg_9", "data": []}, "events": EVENTS}
    assert evaluate(["events", {"type": "thread.created"}, 0, "thread", "id"], root) == "thr_1"
    widget = ["events", {"type": "thread.item.done", "item.type": "widget"}, 0, "item", "id"]
    assert evaluate(widget, root) == "msg_2"
    assert evaluate(["response", "after"], root) == "msg_9"
    assert evaluate(["events", -1, "item", "id"], root) == "msg_2"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            ["events", {"type": "thread.updated"}, 0],
            r'\["events",\{"type":"thread.updated"\},0\]: no index 0 in 0 element\(s\)',
        ),
        (["response", "after"], r"no key 'after' in an object"),
        (["response", {"a": 1}], r"a filter needs a list, found an object"),
        (["events", True], r"a step must be a key, an index or a filter"),
    ],
)
def test_capture_path_errors_name_the_failing_step(path: list[object], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        evaluate(path, {"response": {}, "events": EVENTS})


def test_capture_binds_every_name() -> None:
    bound = capture(
        {"thread_id": ["events", 0, "thread", "id"], "cursor": ["response", "after"]},
        {"after": "msg_1"},
        EVENTS,
    )
    assert bound == {"thread_id": "thr_1", "cursor": "msg_1"}
    with pytest.raises(TemplateError, match="capture cursor: "):
        capture({"cursor": ["response", "after"]}, None, [])


def test_filters_compare_dotted_keys() -> None:
    event = {
        "type": "thread.item.updated",
        "update": {"type": "assistant_message.content_part.text_delta"},
    }
    assert matches(event, {"type": "thread.item.updated", "update.type": event["update"]["type"]})
    assert not matches(event, {"update.delta": None})
    assert not matches("text", {"type": "x"})
