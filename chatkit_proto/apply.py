"""Applying item updates to items (SPEC §9): how the server keeps its pending copies current."""

from __future__ import annotations

from .content import AssistantMessageContent
from .items import AssistantMessageItem, WorkflowItem
from .updates import (
    ContentPartAdded,
    ContentPartAnnotationAdded,
    ContentPartDone,
    ContentPartTextDelta,
    ThreadItemUpdate,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)


def append_text(message: AssistantMessageItem, content_index: int, delta: str) -> None:
    """Append a text delta to a part of an assistant message, padding missing parts."""
    _part(message, content_index).text += delta


def apply_update(item: object, update: ThreadItemUpdate) -> None:
    """Apply one update in place; the server tracks only messages and workflows (SPEC §7.1)."""
    if isinstance(item, AssistantMessageItem):
        _apply_to_message(item, update)
    elif isinstance(item, WorkflowItem):
        if isinstance(update, WorkflowTaskAdded):
            item.workflow.tasks.append(update.task)
        elif isinstance(update, WorkflowTaskUpdated) and update.task_index < len(
            item.workflow.tasks
        ):
            item.workflow.tasks[update.task_index] = update.task


def _apply_to_message(message: AssistantMessageItem, update: ThreadItemUpdate) -> None:
    if isinstance(update, ContentPartTextDelta):
        append_text(message, update.content_index, update.delta)
    elif isinstance(update, ContentPartAdded | ContentPartDone):
        _part(message, update.content_index)
        message.content[update.content_index] = update.content.model_copy(deep=True)
    elif isinstance(update, ContentPartAnnotationAdded):
        annotations = _part(message, update.content_index).annotations
        annotations.insert(min(update.annotation_index, len(annotations)), update.annotation)


def _part(message: AssistantMessageItem, index: int) -> AssistantMessageContent:
    while len(message.content) <= index:
        message.content.append(AssistantMessageContent(text=""))
    return message.content[index]
