"""Model-script validation: every documented shape loads, every mistake names file and path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agents_layer.model_script import (
    ModelScript,
    ModelScriptError,
    ScriptFunctionCall,
    ScriptMessage,
    ScriptReasoning,
    UrlCitation,
    load_script,
    parse_script,
)

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = sorted((ROOT / "fixtures" / "reference").glob("*.json"))
SCRIPTS = sorted((ROOT / "fixtures" / "scripts").glob("*.json"))

MESSAGE = {"type": "message", "text": ["a"]}


def _write(directory: Path, data: Any, name: str = "script.json") -> Path:
    path = directory / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_documented_example_loads(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "turns": [
                {
                    "output": [
                        {"type": "reasoning", "summary": ["Let me check", " the list."]},
                        {"type": "function_call", "name": "list_tasks", "arguments": {"a": 1}},
                    ]
                },
                {
                    "delay": 0.5,
                    "output": [
                        {
                            "type": "message",
                            "text": ["Here are", " your tasks."],
                            "annotations": [
                                {
                                    "type": "url_citation",
                                    "url": "https://example.com/a",
                                    "title": "A",
                                    "start_index": 0,
                                    "end_index": 4,
                                },
                                {
                                    "type": "file_citation",
                                    "file_id": "file_1",
                                    "filename": "a.pdf",
                                    "index": 3,
                                },
                                {
                                    "type": "container_file_citation",
                                    "container_id": "cntr_1",
                                    "file_id": "file_2",
                                    "filename": "b.csv",
                                    "start_index": 1,
                                    "end_index": 2,
                                },
                            ],
                        }
                    ],
                },
            ]
        },
    )
    script = load_script(path)
    first, second = script.turns
    reasoning, call = first.output
    assert isinstance(reasoning, ScriptReasoning)
    assert reasoning.full_text == "Let me check the list."
    assert isinstance(call, ScriptFunctionCall)
    assert call.arguments_json == '{"a":1}'
    assert first.delay == 0
    assert second.delay == 0.5
    (message,) = second.output
    assert isinstance(message, ScriptMessage)
    assert message.full_text == "Here are your tasks."
    assert [a.type for a in message.annotations] == [
        "url_citation",
        "file_citation",
        "container_file_citation",
    ]
    assert isinstance(message.annotations[0], UrlCitation)


def test_in_memory_validation() -> None:
    script = ModelScript.model_validate({"turns": [{"output": [MESSAGE]}]})
    assert script.turns[0].output[0].type == "message"
    with pytest.raises(ValidationError):
        ModelScript.model_validate({"turns": [{"output": [{"type": "foo"}]}]})


def test_unknown_item_type_names_file_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, {"turns": [{"output": [MESSAGE]}, {"output": [{"type": "foo"}]}]})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelScriptError) as info:
        load_script("script.json")
    assert str(info.value).startswith(
        "script.json: turns[1].output[0].type: unknown item type 'foo'"
    )


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            {"turns": [{"output": [{"text": ["a"]}]}]},
            "turns[0].output[0].type: missing item type",
        ),
        (
            {"turns": [{"output": [{**MESSAGE, "colour": "red"}]}]},
            "turns[0].output[0].colour: unknown key",
        ),
        (
            {"turns": [{"output": [{"type": "reasoning", "summary": ["a"], "message": 1}]}]},
            "turns[0].output[0].message: unknown key",
        ),
        (
            {"turns": [{"output": [{"type": "message", "text": "whole"}]}]},
            "turns[0].output[0].text: Input should be a valid list",
        ),
        (
            {"turns": [{"output": [{"type": "message", "text": ["a", 1]}]}]},
            "turns[0].output[0].text[1]: Input should be a valid string",
        ),
        (
            {"turns": [{"output": [{"type": "function_call", "name": "f"}]}]},
            "turns[0].output[0].arguments: missing required key",
        ),
        (
            {"turns": [{"output": [{"type": "function_call", "name": "f", "arguments": "{}"}]}]},
            "turns[0].output[0].arguments: Input should be a valid dictionary",
        ),
        (
            {"turns": [{"output": [{**MESSAGE, "annotations": [{"type": "file_path"}]}]}]},
            "turns[0].output[0].annotations[0].type: unknown annotation type 'file_path'",
        ),
        (
            {
                "turns": [
                    {
                        "output": [
                            {
                                **MESSAGE,
                                "annotations": [
                                    {
                                        "type": "url_citation",
                                        "url": "u",
                                        "title": "t",
                                        "start_index": "0",
                                        "end_index": 1,
                                    }
                                ],
                            }
                        ]
                    }
                ]
            },
            "turns[0].output[0].annotations[0].start_index: Input should be a valid integer",
        ),
        (
            {"turns": [{"output": [MESSAGE], "delay": -1}]},
            "turns[0].delay: Input should be greater than or equal to 0",
        ),
        (
            {"turns": [{"output": []}]},
            "turns[0].output: List should have at least 1 item",
        ),
        ({"turns": [], "model": "x"}, "model: unknown key"),
        ({}, "turns: missing required key"),
        ([], "(top level): Input should be a valid dictionary"),
    ],
)
def test_invalid_entries_are_reported_with_their_path(
    tmp_path: Path, script: Any, expected: str
) -> None:
    path = _write(tmp_path, script)
    with pytest.raises(ModelScriptError) as info:
        load_script(path)
    assert str(info.value).startswith(f"{path}: {expected}")


def test_every_error_is_reported_on_its_own_line() -> None:
    with pytest.raises(ModelScriptError) as info:
        parse_script(
            {"turns": [{"output": [{"type": "x"}]}, {"output": [MESSAGE], "pause": 1}]},
            source="inline",
        )
    assert str(info.value).splitlines() == [
        "inline: turns[0].output[0].type: unknown item type 'x' "
        "(expected one of: 'message', 'reasoning', 'function_call')",
        "inline: turns[1].pause: unknown key",
    ]


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ModelScriptError, match=r"missing\.json: cannot read the file"):
        load_script(missing)
    broken = tmp_path / "broken.json"
    broken.write_text('{"turns": [\n  {"output": }\n]}', encoding="utf-8")
    with pytest.raises(
        ModelScriptError, match=r"broken\.json: not valid JSON \(line 2, column 14\)"
    ):
        load_script(broken)


def test_an_empty_script_is_valid() -> None:
    assert parse_script({"turns": []}).turns == []


@pytest.mark.parametrize("path", REFERENCE, ids=lambda p: p.name)
def test_every_reference_transcript_script_loads_losslessly(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))["script"]
    script = parse_script(raw, source=f"{path.name}#script")
    assert script.turns
    assert script.model_dump(exclude_defaults=True) == raw


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_every_project_script_loads(path: Path) -> None:
    assert load_script(path).turns
