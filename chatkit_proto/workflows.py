"""Workflows and the five task kinds shown inside them (SPEC §3.7)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import ProtoModel
from .icons import IconName
from .sources import FileSource, URLSource

StatusIndicator = Literal["none", "loading", "complete"]


class BaseTask(ProtoModel):
    """Fields every task has."""

    status_indicator: StatusIndicator = "none"


class CustomTask(BaseTask):
    """An app-defined step with an optional title, icon and body."""

    type: Literal["custom"] = "custom"
    title: str | None = None
    icon: IconName | None = None
    content: str | None = None


class SearchTask(BaseTask):
    """A web search with its queries and the sources it found."""

    type: Literal["web_search"] = "web_search"
    title: str | None = None
    title_query: str | None = None
    queries: list[str] = Field(default_factory=list)
    sources: list[URLSource] = Field(default_factory=list)


class ThoughtTask(BaseTask):
    """A piece of model reasoning."""

    type: Literal["thought"] = "thought"
    title: str | None = None
    content: str


class FileTask(BaseTask):
    """A look through files."""

    type: Literal["file"] = "file"
    title: str | None = None
    sources: list[FileSource] = Field(default_factory=list)


class ImageTask(BaseTask):
    """An image being made."""

    type: Literal["image"] = "image"
    title: str | None = None


Task = Annotated[
    CustomTask | SearchTask | ThoughtTask | FileTask | ImageTask, Field(discriminator="type")
]


class CustomSummary(ProtoModel):
    """A workflow summary with a title of its own."""

    title: str
    icon: IconName | None = None


class DurationSummary(ProtoModel):
    """A workflow summary that shows how long it took, in whole seconds."""

    duration: int


# No discriminator on the wire (SPEC §2.8): the two shapes are told apart by their keys.
WorkflowSummary = CustomSummary | DurationSummary


class Workflow(ProtoModel):
    """A list of tasks, collapsed or expanded; `reasoning` holds model thinking."""

    type: Literal["custom", "reasoning"]
    tasks: list[Task]
    summary: WorkflowSummary | None = None
    expanded: bool = False
