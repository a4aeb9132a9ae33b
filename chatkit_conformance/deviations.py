"""Declared deviations: exchanges where our server answers differently from the reference on purpose.

A deviations file is JSON: either a list of entries or `{"description": ..., "deviations": [...]}`.
Each entry names a transcript exchange (by index or by its exact `note`) and states what the
server answers instead, as a pattern matched against the normalised answer::

    {"id": "D2", "scenario": "errors", "exchange": 5, "reason": "unknown thread",
     "expect": {"status": 404, "content_type": "application/json",
                "response": {"code": "not_found"}}}

Patterns match objects by subset (keys not named are not checked) and lists element by
element; ids are written as `<id:N>` in the numbering of the replayed transcript.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from chatkit_proto.errors import ChatKitError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expectation(_Model):
    """What the server answers instead of the reference; unset fields are not checked."""

    status: int | None = None
    content_type: str | None = None
    events: list[Any] | None = None
    response: Any = None

    def pattern(self) -> dict[str, Any]:
        """The fields to check, as a pattern over the answer's projection."""
        return {key: getattr(self, key) for key in _FIELDS if key in self.model_fields_set}


_FIELDS = ("status", "content_type", "events", "response")


class Deviation(_Model):
    """One intended difference from a reference transcript."""

    id: str
    scenario: str
    exchange: int | str
    reason: str
    expect: Expectation

    def label(self, index: int) -> str:
        """`D3 errors#4`, as printed in reports."""
        return f"{self.id} {self.scenario}#{index}"

    def names(self, index: int, note: str) -> bool:
        """Tell whether this entry is about exchange `index` (whose note is `note`)."""
        if isinstance(self.exchange, int):
            return self.exchange == index
        return self.exchange == note


class _File(_Model):
    description: str = ""
    deviations: list[Deviation]


class DeviationError(ChatKitError):
    """A deviations file that cannot be read, or entries that do not fit the transcripts."""

    code = "conformance.deviations"


class Deviations:
    """The declared deviations, looked up by scenario and exchange."""

    def __init__(self, entries: Iterable[Deviation] = ()) -> None:
        self.entries = list(entries)

    def for_scenario(self, scenario: str) -> list[Deviation]:
        """The entries about one scenario."""
        return [entry for entry in self.entries if entry.scenario == scenario]

    def assign(self, scenario: str, notes: list[str | None]) -> dict[int, Deviation]:
        """Map exchange indexes to their entries; `notes[i]` is None for an observation."""
        assigned: dict[int, Deviation] = {}
        for entry in self.for_scenario(scenario):
            hits = [i for i, note in enumerate(notes) if entry.names(i, note or "")]
            if not hits:
                raise DeviationError(
                    f"deviation {entry.id} names no exchange of {scenario}: {entry.exchange!r}"
                )
            if len(hits) > 1:
                raise DeviationError(
                    f"deviation {entry.id}: note {entry.exchange!r} is not unique in {scenario}"
                )
            index = hits[0]
            if notes[index] is None:
                raise DeviationError(f"deviation {entry.id}: {scenario}#{index} is an observation")
            if index in assigned:
                raise DeviationError(
                    f"{scenario}#{index} has two deviations: {assigned[index].id} and {entry.id}"
                )
            assigned[index] = entry
        return assigned


def load_deviations(path: str | Path) -> Deviations:
    """Read a deviations file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DeviationError(f"{path}: {exc}") from None
    try:
        entries = _File.model_validate({"deviations": data} if isinstance(data, list) else data)
    except ValidationError as exc:
        raise DeviationError(f"{path}: not a valid deviations file:\n{exc}") from None
    return Deviations(entries.deviations)
