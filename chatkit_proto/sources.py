"""Citation sources and the annotations that place them in assistant text (SPEC §3.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import JSONObject, ProtoModel
from .icons import IconName


class SourceBase(ProtoModel):
    """Fields every source has."""

    title: str
    description: str | None = None
    timestamp: str | None = None
    group: str | None = None


class URLSource(SourceBase):
    """A web page."""

    type: Literal["url"] = "url"
    url: str
    attribution: str | None = None


class FileSource(SourceBase):
    """A file, by name."""

    type: Literal["file"] = "file"
    filename: str


class EntitySource(SourceBase):
    """An integration entity; `interactive` wires the client's entity callbacks."""

    type: Literal["entity"] = "entity"
    id: str
    icon: IconName | None = None
    label: str | None = None
    inline_label: str | None = None
    interactive: bool = False
    data: JSONObject = Field(default_factory=dict)
    preview: Literal["lazy"] | None = None


Source = Annotated[URLSource | FileSource | EntitySource, Field(discriminator="type")]


class Annotation(ProtoModel):
    """A source cited by an assistant message; `index` is the character offset of its marker."""

    type: Literal["annotation"] = "annotation"
    source: Source
    index: int | None = None
