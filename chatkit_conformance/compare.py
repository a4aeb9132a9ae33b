"""Structural comparison of JSON values, reported as JSON paths."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class _Absent:
    """The value of a key or list element that is not there."""

    def __repr__(self) -> str:
        return "<absent>"


ABSENT: Any = _Absent()

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SHOWN_LENGTH = 160


@dataclass(frozen=True, slots=True)
class Difference:
    """One place where the actual value differs from the expected one."""

    path: str
    expected: Any
    actual: Any

    def describe(self) -> str:
        """`path: expected X, got Y`, values as compact JSON."""
        return f"{self.path or '$'}: expected {show(self.expected)}, got {show(self.actual)}"


def show(value: Any) -> str:
    """A value as short compact JSON, for one-line messages."""
    if value is ABSENT:
        return "<absent>"
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


def join(path: str, step: str | int) -> str:
    """Extend a JSON path by a key or an index: `events[3].update.delta`."""
    if isinstance(step, int):
        return f"{path}[{step}]"
    if _IDENTIFIER.fullmatch(step):
        return f"{path}.{step}" if path else step
    return f"{path}[{json.dumps(step)}]"


def differences(expected: Any, actual: Any, path: str = "") -> Iterator[Difference]:
    """Every difference between two JSON values, in document order of `expected`."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            yield from differences(value, actual.get(key, ABSENT), join(path, key))
        for key, value in actual.items():
            if key not in expected:
                yield Difference(join(path, key), ABSENT, value)
    elif isinstance(expected, list) and isinstance(actual, list):
        for index in range(max(len(expected), len(actual))):
            yield from differences(
                expected[index] if index < len(expected) else ABSENT,
                actual[index] if index < len(actual) else ABSENT,
                join(path, index),
            )
    elif not same_scalar(expected, actual):
        yield Difference(path, expected, actual)


def mismatches(pattern: Any, actual: Any, path: str = "") -> Iterator[Difference]:
    """Where `actual` fails a pattern: objects match by subset, lists element by element."""
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            yield Difference(path, pattern, actual)
            return
        for key, value in pattern.items():
            if key not in actual:
                yield Difference(join(path, key), value, ABSENT)
            else:
                yield from mismatches(value, actual[key], join(path, key))
    elif isinstance(pattern, list):
        if not isinstance(actual, list):
            yield Difference(path, pattern, actual)
            return
        for index in range(max(len(pattern), len(actual))):
            if index >= len(pattern) or index >= len(actual):
                yield Difference(
                    join(path, index),
                    pattern[index] if index < len(pattern) else ABSENT,
                    actual[index] if index < len(actual) else ABSENT,
                )
            else:
                yield from mismatches(pattern[index], actual[index], join(path, index))
    elif not same_scalar(pattern, actual):
        yield Difference(path, pattern, actual)


def same_scalar(a: Any, b: Any) -> bool:
    """JSON equality: `true` is not `1`, but `1` is `1.0`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
