"""Thread items: everything a thread holds, hidden items included (SPEC §3.3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .attachments import Attachment
from .base import JSONObject, JSONValue, ProtoModel, Timestamp
from .content import AssistantMessageContent, InferenceOptions, UserMessageContent
from .structured_input import StructuredInput
from .widgets import WidgetRoot
from .workflows import Task, Workflow


class ThreadItemBase(ProtoModel):
    """Fields every item has."""

    id: str
    thread_id: str
    created_at: Timestamp


class UserMessageItem(ThreadItemBase):
    """A message the user sent."""

    type: Literal["user_message"] = "user_message"
    content: list[UserMessageContent]
    attachments: list[Attachment] = Field(default_factory=list)
    quoted_text: str | None = None
    inference_options: InferenceOptions


class AssistantMessageItem(ThreadItemBase):
    """A message the assistant wrote."""

    type: Literal["assistant_message"] = "assistant_message"
    content: list[AssistantMessageContent]


class ClientToolCallItem(ThreadItemBase):
    """A tool the client runs; pending until `threads.add_client_tool_output` completes it."""

    type: Literal["client_tool_call"] = "client_tool_call"
    status: Literal["pending", "completed"] = "pending"
    call_id: str
    name: str
    arguments: JSONObject
    output: JSONValue = None


class WidgetItem(ThreadItemBase):
    """A widget; `copy_text` is what the copy button copies."""

    type: Literal["widget"] = "widget"
    widget: WidgetRoot
    copy_text: str | None = None


class GeneratedImage(ProtoModel):
    """An image the model made; `url` may be a `data:` URL."""

    id: str
    url: str


class GeneratedImageItem(ThreadItemBase):
    """An image being generated, filled in by `generated_image.updated`."""

    type: Literal["generated_image"] = "generated_image"
    image: GeneratedImage | None = None


class StructuredInputItem(ThreadItemBase):
    """Questions the user answers through `threads.add_structured_input`."""

    type: Literal["structured_input"] = "structured_input"
    status: Literal["pending", "answered", "skipped"] = "pending"
    inputs: list[StructuredInput]


class WorkflowItem(ThreadItemBase):
    """A workflow of tasks."""

    type: Literal["workflow"] = "workflow"
    workflow: Workflow


class TaskItem(ThreadItemBase):
    """A single task standing on its own."""

    type: Literal["task"] = "task"
    task: Task


class EndOfTurnItem(ThreadItemBase):
    """A marker that the assistant finished its turn."""

    type: Literal["end_of_turn"] = "end_of_turn"


class HiddenContextItem(ThreadItemBase):
    """Model context the app keeps in the thread; never sent to the client."""

    type: Literal["hidden_context_item"] = "hidden_context_item"
    content: JSONValue = None


class SDKHiddenContextItem(ThreadItemBase):
    """Model context the server itself writes (the cancellation note); never sent."""

    type: Literal["sdk_hidden_context"] = "sdk_hidden_context"
    content: str


ThreadItem = Annotated[
    UserMessageItem
    | AssistantMessageItem
    | ClientToolCallItem
    | WidgetItem
    | GeneratedImageItem
    | StructuredInputItem
    | WorkflowItem
    | TaskItem
    | EndOfTurnItem
    | HiddenContextItem
    | SDKHiddenContextItem,
    Field(discriminator="type"),
]

HIDDEN_ITEM_TYPES = frozenset({"hidden_context_item", "sdk_hidden_context"})


def is_hidden(item: ThreadItemBase) -> bool:
    """Tell whether an item must never reach a client."""
    return isinstance(item, HiddenContextItem | SDKHiddenContextItem)
