"""Icon names (SPEC §14)."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from chatkit_proto.icons import ICON_NAMES, IconName
from chatkit_proto.widgets import Button, Icon

ICON = TypeAdapter(IconName)


def test_there_are_64_known_names() -> None:
    assert len(ICON_NAMES) == 64
    assert {"agent", "dot", "clock", "write-alt2", "settings-slider"} <= ICON_NAMES


@pytest.mark.parametrize("name", sorted(ICON_NAMES))
def test_every_known_name_validates_and_round_trips(name: str) -> None:
    assert ICON.validate_python(name) == name
    assert ICON.validate_json(ICON.dump_json(name)) == name


@pytest.mark.parametrize("name", ["lucide:rocket", "vendor:acme-logo", "lucide:", "vendor:a:b"])
def test_prefixed_names_validate(name: str) -> None:
    assert ICON.validate_python(name) == name


@pytest.mark.parametrize(
    "name", ["rocket", "", "Check", "lucide", "xlucide:rocket", "Lucide:rocket", " vendor:x"]
)
def test_other_strings_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        ICON.validate_python(name)


def test_non_strings_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ICON.validate_python(3)


def test_json_schema_lists_names_and_prefix_pattern() -> None:
    schema = ICON.json_schema()
    branches = schema["anyOf"]
    enums = [b for b in branches if "enum" in b]
    patterns = [b for b in branches if "pattern" in b]
    assert len(enums) == 1 and set(enums[0]["enum"]) == ICON_NAMES
    assert len(patterns) == 1 and patterns[0]["type"] == "string"


def test_widget_icon_props_validate_icon_names() -> None:
    assert Icon(name="lucide:rocket").name == "lucide:rocket"
    assert Button(iconStart="check", iconEnd="vendor:x").iconStart == "check"
    with pytest.raises(ValidationError):
        Icon(name="rocket")
    with pytest.raises(ValidationError):
        Button.model_validate({"type": "Button", "iconEnd": "not-an-icon"})
