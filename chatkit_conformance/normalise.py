"""Normalisation of transcripts: what differs from run to run becomes a placeholder.

CONFORMANCE.md "Normalisation": generated ids become `<id:N>` (numbered by first appearance
in a traversal with sorted object keys), ISO-8601 date-times `<timestamp>`, and workflow
summary durations `<duration>`. Everything else is left exactly as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .transcript import NormaliseRules

ID_KEYS = frozenset({"id", "thread_id", "item_id", "call_id", "attachment_id", "after"})
ID_LIST_KEYS = frozenset({"item_ids"})
APP_CHOSEN_KEYS = frozenset({"widget", "component"})
"""Subtrees whose ids the app chose (widget component ids): never collected as ids."""
UNSEARCHED_KEYS = frozenset({"request_template", "normalise"})

TIMESTAMP = "<timestamp>"
DURATION = "<duration>"

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)
_RAW_DURATION = re.compile(r'("summary"\s*:\s*\{\s*"duration"\s*:\s*)-?\d+(?:\.\d+)?')
# Short ids, or ids without `_` or a digit, are too likely to occur in ordinary text.
_SUBSTRING_MIN_LENGTH = 6


def template_literals(templates: Iterable[Any]) -> set[str]:
    """Every string (object keys included) in request templates: client-chosen, never ids."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.add(node)
        elif isinstance(node, list):
            for element in node:
                walk(element)
        elif isinstance(node, dict):
            for key, value in node.items():
                found.add(key)
                walk(value)

    for template in templates:
        walk(template)
    return found


class Normaliser:
    """Numbers ids over everything passed to `collect`, in order; `apply` rewrites a value.

    Collecting several values in turn numbers them as one document would be numbered, so
    two runs compare equal when their ids first appear in the same places.
    """

    def __init__(self, literals: Iterable[str] = (), rules: NormaliseRules | None = None) -> None:
        self.literals = frozenset(literals)
        self.ids: dict[str, str] = {}
        self._substrings: re.Pattern[str] | None = None
        self._app_keys = frozenset(rules.id_keys) if rules else frozenset()
        self._app_patterns = [re.compile(p) for p in rules.id_patterns] if rules else []

    def collect(self, value: Any) -> None:
        """Number the ids of `value` not seen before."""
        if self._app_keys or self._app_patterns:
            self._collect_app_ids(value)
        self._collect(value)

    def _collect_app_ids(self, value: Any) -> None:
        """The ids an app makes itself, by its rules, in widgets and text alike."""
        if isinstance(value, str):
            for pattern in self._app_patterns:
                for match in pattern.finditer(value):
                    self._add(match.group())
        elif isinstance(value, list):
            for element in value:
                self._collect_app_ids(element)
        elif isinstance(value, dict):
            for key in sorted(value):
                child = value[key]
                if key in UNSEARCHED_KEYS:
                    continue
                if key in self._app_keys and isinstance(child, str):
                    self._add(child)
                else:
                    self._collect_app_ids(child)

    def _collect(self, value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value):
                child = value[key]
                if key in APP_CHOSEN_KEYS or key in UNSEARCHED_KEYS:
                    continue
                if key in ID_KEYS and isinstance(child, str):
                    self._add(child)
                elif key in ID_LIST_KEYS and isinstance(child, list):
                    for element in child:
                        if isinstance(element, str):
                            self._add(element)
                        else:
                            self._collect(element)
                else:
                    self._collect(child)
        elif isinstance(value, list):
            for element in value:
                self._collect(element)

    def apply(self, value: Any) -> Any:
        """A copy of `value` with ids, timestamps and durations replaced."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.apply(element) for element in value]
        if isinstance(value, dict):
            result: dict[str, Any] = {}
            for key, child in value.items():
                if key in UNSEARCHED_KEYS:
                    result[key] = child
                elif key == "raw" and isinstance(child, str):
                    result[key] = _RAW_DURATION.sub(rf'\g<1>"{DURATION}"', self.text(child))
                elif key == "workflow" and isinstance(child, dict):
                    result[key] = _without_duration(self.apply(child))
                else:
                    result[self.text(key)] = self.apply(child)
            return result
        return value

    def text(self, value: str) -> str:
        """One string with ids and timestamps replaced."""
        whole = self.ids.get(value)
        if whole is not None:
            return whole
        pattern = self._substring_pattern()
        if pattern is not None:
            value = pattern.sub(lambda match: self.ids[match.group()], value)
        return _TIMESTAMP.sub(TIMESTAMP, value)

    def _add(self, candidate: str) -> None:
        if candidate in self.ids or candidate in self.literals:
            return
        self.ids[candidate] = f"<id:{len(self.ids) + 1}>"
        self._substrings = None

    def _substring_pattern(self) -> re.Pattern[str] | None:
        if self._substrings is None:
            eligible = [
                known
                for known in self.ids
                if len(known) >= _SUBSTRING_MIN_LENGTH
                and ("_" in known or any(c.isdigit() for c in known))
            ]
            if not eligible:
                return None
            # Longest first, so that an id containing another id is replaced whole.
            eligible.sort(key=len, reverse=True)
            self._substrings = re.compile("|".join(map(re.escape, eligible)))
        return self._substrings


def normalise(value: Any, literals: Iterable[str] = (), rules: NormaliseRules | None = None) -> Any:
    """Normalise one JSON value on its own."""
    normaliser = Normaliser(literals, rules)
    normaliser.collect(value)
    return normaliser.apply(value)


def normalise_transcript(document: dict[str, Any]) -> dict[str, Any]:
    """Normalise a whole transcript document, its request templates giving the literals."""
    templates = [
        exchange.get("request_template")
        for exchange in document.get("exchanges", [])
        if isinstance(exchange, dict)
    ]
    rules = document.get("normalise")
    normalised: dict[str, Any] = normalise(
        document,
        template_literals(t for t in templates if t is not None),
        NormaliseRules.model_validate(rules) if isinstance(rules, dict) else None,
    )
    return normalised


def _without_duration(workflow: dict[str, Any]) -> dict[str, Any]:
    summary = workflow.get("summary")
    if isinstance(summary, dict) and isinstance(summary.get("duration"), int | float):
        workflow["summary"] = {**summary, "duration": DURATION}
    return workflow
