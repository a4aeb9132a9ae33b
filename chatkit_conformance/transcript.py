"""The conformance transcript format (CONFORMANCE.md) and the request scripts the recorder plays."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chatkit_proto.errors import ChatKitError

M = TypeVar("M", bound=BaseModel)

CapturePath = list[Any]
"""A JSON path: string steps are keys, integers list indices, objects list filters."""


class _Model(BaseModel):
    # A misspelt field would silently turn a check off; refuse it instead.
    model_config = ConfigDict(extra="forbid")


class NormaliseRules(_Model):
    """What else differs from run to run in an app's answers: ids the app makes itself.

    `id_keys` are object keys whose string values are ids (wherever they appear, widgets
    included); `id_patterns` are regular expressions, and every match in any string is an id.
    """

    id_keys: list[str] = Field(default_factory=list)
    id_patterns: list[str] = Field(default_factory=list)

    @field_validator("id_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a regular expression: {exc}") from None
        return patterns


class DisconnectAfter(_Model):
    """Close the connection right after the `count`-th event matching the `event` filter."""

    event: dict[str, Any]
    count: int = Field(default=1, ge=1)


class Exchange(_Model):
    """One HTTP exchange of a transcript, or an `observation` of the reference store.

    Fields absent from the file stay unset, so `model_dump(exclude_unset=True)` writes a
    transcript back exactly as it was read (a JSON `null` is not the same as absent).
    """

    note: str = ""
    request_template: Any = None
    request: Any = None
    request_raw: str | None = None
    status: int | None = None
    content_type: str | None = None
    headers: dict[str, str] | None = None
    disconnect_after: DisconnectAfter | None = None
    client_disconnected: bool | None = None
    events: list[Any] | None = None
    raw: str | None = None
    response: Any = None
    response_text: str | None = None
    transport_error: str | None = None
    server_exceptions: list[Any] | None = None
    captures: dict[str, CapturePath] | None = None
    observation: Any = None

    @property
    def is_observation(self) -> bool:
        """True for a look inside the reference store, which HTTP cannot replay."""
        return "observation" in self.model_fields_set

    @property
    def has_response(self) -> bool:
        """True when the transcript holds a parsed JSON answer (which may be `null`)."""
        return "response" in self.model_fields_set


class Transcript(_Model):
    """A recorded conversation with a server: the requests and what was answered."""

    format: Literal[1] = 1
    scenario: str
    description: str = ""
    sdk: dict[str, str] = Field(default_factory=dict)
    script: dict[str, Any] | None = None
    normalise: NormaliseRules | None = None
    exchanges: list[Exchange]
    model_calls: list[Any] | None = None

    def templates(self) -> list[Any]:
        """Every request template, in order (their strings are client-chosen literals)."""
        return [e.request_template for e in self.exchanges if e.request_template is not None]

    def dump(self) -> dict[str, Any]:
        """The JSON document of the transcript, unset fields left out."""
        return self.model_dump(mode="json", exclude_unset=True)


class ScriptExchange(_Model):
    """One request of a request script: a template (or a raw body) and what to do with it."""

    note: str = ""
    request_template: Any = None
    request_raw: str | None = None
    captures: dict[str, CapturePath] | None = None
    disconnect_after: DisconnectAfter | None = None

    @model_validator(mode="after")
    def _one_body(self) -> ScriptExchange:
        if (self.request_template is None) == (self.request_raw is None):
            raise ValueError("give exactly one of request_template and request_raw")
        return self


class RequestScript(_Model):
    """What the recorder plays against a server: `script` is the model script it loads."""

    scenario: str
    description: str = ""
    script: dict[str, Any] | None = None
    normalise: NormaliseRules | None = None
    exchanges: list[ScriptExchange]

    @classmethod
    def from_transcript(cls, transcript: Transcript) -> RequestScript:
        """The requests of a transcript, to record the same scenario again."""
        exchanges = [
            ScriptExchange(
                note=e.note,
                request_template=e.request_template,
                request_raw=e.request_raw if e.request_template is None else None,
                captures=e.captures,
                disconnect_after=e.disconnect_after,
            )
            for e in transcript.exchanges
            if not e.is_observation
        ]
        return cls(
            scenario=transcript.scenario,
            description=transcript.description,
            script=transcript.script,
            exchanges=exchanges,
        )


class TranscriptError(ChatKitError):
    """A transcript or request script that cannot be read."""

    code = "conformance.transcript"


def load_transcript(path: str | Path) -> Transcript:
    """Read and validate a transcript file."""
    return _load(Path(path), Transcript)


def load_request_script(path: str | Path) -> RequestScript:
    """Read a request script, or a transcript whose requests are to be recorded again."""
    path = Path(path)
    data = _read_json(path)
    if isinstance(data, dict) and "format" in data:
        return RequestScript.from_transcript(_validate(path, data, Transcript))
    return _validate(path, data, RequestScript)


def write_transcript(transcript: Transcript, path: str | Path) -> None:
    """Write a transcript as the reference files are written (one-space indent)."""
    text = json.dumps(transcript.dump(), indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _load(path: Path, model: type[M]) -> M:
    return _validate(path, _read_json(path), model)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TranscriptError(f"{path}: {exc}") from None


def _validate(path: Path, data: Any, model: type[M]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise TranscriptError(f"{path}: not a valid {model.__name__}:\n{exc}") from None
