"""Item updates: the incremental changes carried by `thread.item.updated` (SPEC §6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import ProtoModel
from .content import AssistantMessageContent
from .items import GeneratedImage
from .sources import Annotation
from .widgets import WidgetComponent, WidgetRoot
from .workflows import Task


class ContentPartAdded(ProtoModel):
    """A new content part of an assistant message."""

    type: Literal["assistant_message.content_part.added"] = "assistant_message.content_part.added"
    content_index: int
    content: AssistantMessageContent


class ContentPartTextDelta(ProtoModel):
    """Text appended to a content part."""

    type: Literal["assistant_message.content_part.text_delta"] = (
        "assistant_message.content_part.text_delta"
    )
    content_index: int
    delta: str


class ContentPartAnnotationAdded(ProtoModel):
    """An annotation inserted into a content part."""

    type: Literal["assistant_message.content_part.annotation_added"] = (
        "assistant_message.content_part.annotation_added"
    )
    content_index: int
    annotation_index: int
    annotation: Annotation


class ContentPartDone(ProtoModel):
    """A content part in its final form."""

    type: Literal["assistant_message.content_part.done"] = "assistant_message.content_part.done"
    content_index: int
    content: AssistantMessageContent


class WidgetStreamingTextValueDelta(ProtoModel):
    """Text appended to the `Text`/`Markdown` component with id `component_id`."""

    type: Literal["widget.streaming_text.value_delta"] = "widget.streaming_text.value_delta"
    component_id: str
    delta: str
    done: bool


class WidgetRootUpdated(ProtoModel):
    """The whole widget replaced."""

    type: Literal["widget.root.updated"] = "widget.root.updated"
    widget: WidgetRoot


class WidgetComponentUpdated(ProtoModel):
    """One component, found by id, replaced."""

    type: Literal["widget.component.updated"] = "widget.component.updated"
    component_id: str
    component: WidgetComponent


class WorkflowTaskAdded(ProtoModel):
    """A task appended to a workflow."""

    type: Literal["workflow.task.added"] = "workflow.task.added"
    task_index: int
    task: Task


class WorkflowTaskUpdated(ProtoModel):
    """A workflow task replaced whole."""

    type: Literal["workflow.task.updated"] = "workflow.task.updated"
    task_index: int
    task: Task


class GeneratedImageUpdated(ProtoModel):
    """A progressive preview of a generated image."""

    type: Literal["generated_image.updated"] = "generated_image.updated"
    image: GeneratedImage
    progress: float | None = Field(default=None, ge=0, le=1)


ThreadItemUpdate = Annotated[
    ContentPartAdded
    | ContentPartTextDelta
    | ContentPartAnnotationAdded
    | ContentPartDone
    | WidgetStreamingTextValueDelta
    | WidgetRootUpdated
    | WidgetComponentUpdated
    | WorkflowTaskAdded
    | WorkflowTaskUpdated
    | GeneratedImageUpdated,
    Field(discriminator="type"),
]
