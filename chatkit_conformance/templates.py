"""The template and capture language of transcripts: `{{name}}` placeholders and JSON paths."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from chatkit_proto.errors import ChatKitError

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")
_ABSENT = object()


class TemplateError(ChatKitError):
    """A placeholder without a value, or a capture path that leads nowhere."""

    code = "conformance.template"


def substitute(template: Any, variables: Mapping[str, Any]) -> Any:
    """Fill a request template: `"{{x}}"` becomes x's JSON value, `{{x}}` inside text its text."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole is not None:
            return copy.deepcopy(_value(whole.group(1), variables))
        return _PLACEHOLDER.sub(lambda m: _as_text(_value(m.group(1), variables)), template)
    if isinstance(template, list):
        return [substitute(element, variables) for element in template]
    if isinstance(template, dict):
        return {
            substitute(key, variables): substitute(value, variables)
            for key, value in template.items()
        }
    return template


def matches(value: Any, criteria: Mapping[str, Any]) -> bool:
    """Tell whether an object has every dot-separated key of `criteria` equal to its value."""
    return all(_dig(value, key.split(".")) == expected for key, expected in criteria.items())


def evaluate(path: list[Any], root: Any) -> Any:
    """Follow a capture path; raise `TemplateError` naming the step where it fails."""
    node = root
    for position, step in enumerate(path):
        where = _render(path[: position + 1])
        if isinstance(step, dict):
            if not isinstance(node, list):
                raise TemplateError(f"{where}: a filter needs a list, found {_kind(node)}")
            node = [element for element in node if matches(element, step)]
        elif isinstance(step, bool) or not isinstance(step, str | int):
            raise TemplateError(f"{where}: a step must be a key, an index or a filter")
        elif isinstance(step, int):
            if not isinstance(node, list) or not -len(node) <= step < len(node):
                size = f"{len(node)} element(s)" if isinstance(node, list) else _kind(node)
                raise TemplateError(f"{where}: no index {step} in {size}")
            node = node[step]
        else:
            if not isinstance(node, dict) or step not in node:
                raise TemplateError(f"{where}: no key {step!r} in {_kind(node)}")
            node = node[step]
    return node


def capture(
    captures: Mapping[str, list[Any]], response: Any, events: list[Any] | None
) -> dict[str, Any]:
    """Bind the variables of one exchange from its answer."""
    root = {"response": response, "events": events if events is not None else []}
    bound: dict[str, Any] = {}
    for name, path in captures.items():
        try:
            bound[name] = evaluate(path, root)
        except TemplateError as exc:
            raise TemplateError(f"capture {name}: {exc}") from None
    return bound


def _value(name: str, variables: Mapping[str, Any]) -> Any:
    if name not in variables:
        raise TemplateError(f"no value for {{{{{name}}}}} (captured by no earlier exchange)")
    return variables[name]


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _dig(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return _ABSENT
        value = value[key]
    return value


def _render(path: list[Any]) -> str:
    return json.dumps(path, separators=(",", ":"))


def _kind(node: Any) -> str:
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "a list"
    return json.dumps(node)[:60]
