"""The model-script format: deterministic model output for tests, demos and fixture replay.

A script is a list of turns; each model call of the process plays the next turn. The format is
described in shared/protocol/model-script.md. Validation is strict (unknown keys and item types
are rejected) so that a typo in a script fails at load time instead of silently changing a run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from os import PathLike
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from agents_layer.json_files import read_json
from chatkit_proto.errors import ConfigError

__all__ = [
    "ContainerFileCitation",
    "FileCitation",
    "ModelScript",
    "ModelScriptError",
    "ScriptAnnotation",
    "ScriptFunctionCall",
    "ScriptMessage",
    "ScriptOutputItem",
    "ScriptReasoning",
    "Turn",
    "UrlCitation",
    "load_script",
    "parse_script",
]


class _ScriptModel(BaseModel):
    # strict: a JSON string "3" must not silently become an index of 3.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class UrlCitation(_ScriptModel):
    """A citation of a web page, as in the Responses API."""

    type: Literal["url_citation"]
    url: str
    title: str
    start_index: int
    end_index: int


class FileCitation(_ScriptModel):
    """A citation of an uploaded file, as in the Responses API."""

    type: Literal["file_citation"]
    file_id: str
    filename: str
    index: int


class ContainerFileCitation(_ScriptModel):
    """A citation of a file in a code-interpreter container, as in the Responses API."""

    type: Literal["container_file_citation"]
    container_id: str
    file_id: str
    filename: str
    start_index: int
    end_index: int


ScriptAnnotation = Annotated[
    UrlCitation | FileCitation | ContainerFileCitation, Field(discriminator="type")
]


class ScriptMessage(_ScriptModel):
    """Assistant text streamed as the given deltas, optionally annotated."""

    type: Literal["message"]
    text: list[str]
    annotations: list[ScriptAnnotation] = []

    @property
    def full_text(self) -> str:
        """The message text: all deltas joined."""
        return "".join(self.text)


class ScriptReasoning(_ScriptModel):
    """A reasoning summary streamed as the given deltas."""

    type: Literal["reasoning"]
    summary: list[str]

    @property
    def full_text(self) -> str:
        """The summary text: all deltas joined."""
        return "".join(self.summary)


class ScriptFunctionCall(_ScriptModel):
    """A call of the named tool; `arguments` is sent to the agent as JSON."""

    type: Literal["function_call"]
    name: str = Field(min_length=1)
    arguments: dict[str, Any]

    @property
    def arguments_json(self) -> str:
        """The arguments as the model sends them: compact JSON, as in the reference transcripts."""
        return json.dumps(self.arguments, separators=(",", ":"), ensure_ascii=False)


ScriptOutputItem = Annotated[
    ScriptMessage | ScriptReasoning | ScriptFunctionCall, Field(discriminator="type")
]


class Turn(_ScriptModel):
    """One model response: its output items and an optional pause before each stream event."""

    output: list[ScriptOutputItem] = Field(min_length=1)
    delay: float = Field(default=0.0, ge=0)


class ModelScript(_ScriptModel):
    """A whole script: `turns[i]` is the i-th model call of the process."""

    turns: list[Turn]


class ModelScriptError(ConfigError):
    """A model script could not be read or is invalid; the message names the file and entry."""


# The pydantic error location of an entry inside a tagged union contains the tag as an extra
# step (e.g. turns.0.output.1.message.text); these lists are the ones whose entries are tagged.
_TAGGED_LISTS = {"output": "item", "annotations": "annotation"}


def _json_path(loc: Sequence[int | str]) -> tuple[str, str | None]:
    """Render a pydantic error location as `turns[1].output[0]`, plus the tagged-list kind."""
    path = ""
    tagged_kind: str | None = None
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
            continue
        if tagged_kind is not None and path.endswith("]"):
            # The tag step right after a tagged list index: already implied by the index.
            tagged_kind = None
            continue
        path = f"{path}.{step}" if path else step
        tagged_kind = _TAGGED_LISTS.get(step)
    return path, tagged_kind


def _describe(error: ErrorDetails) -> str:
    """One `path: problem` line for a pydantic error."""
    path, tagged_kind = _json_path(error["loc"])
    kind = tagged_kind or "item"
    ctx = error.get("ctx", {})
    match error["type"]:
        case "union_tag_invalid":
            problem = (
                f"unknown {kind} type {ctx['tag']!r} (expected one of: {ctx['expected_tags']})"
            )
            path += ".type"
        case "union_tag_not_found":
            problem = f"missing {kind} type"
            path += ".type"
        case "extra_forbidden":
            problem = "unknown key"
        case "missing":
            problem = "missing required key"
        case _:
            problem = error["msg"]
    return f"{path or '(top level)'}: {problem}"


def parse_script(data: object, *, source: str = "<script>") -> ModelScript:
    """Validate an in-memory script (e.g. a transcript's `script`), raising ModelScriptError."""
    try:
        return ModelScript.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(error)}" for error in exc.errors()]
        raise ModelScriptError("\n".join(lines)) from None


def load_script(path: str | PathLike[str]) -> ModelScript:
    """Read and validate a model-script JSON file, raising ModelScriptError on any problem."""
    return parse_script(read_json(path, ModelScriptError), source=str(path))
