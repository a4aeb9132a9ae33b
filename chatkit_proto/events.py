"""Stream events: what every SSE frame of a streaming response carries (SPEC §5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import JSONObject, ProtoModel
from .icons import IconName
from .items import ThreadItem
from .threads import Thread
from .updates import ContentPartTextDelta, ThreadItemUpdate


class ThreadCreatedEvent(ProtoModel):
    """A new thread exists; the client switches to it."""

    type: Literal["thread.created"] = "thread.created"
    thread: Thread


class ThreadUpdatedEvent(ProtoModel):
    """The thread's title, status or image domains changed."""

    type: Literal["thread.updated"] = "thread.updated"
    thread: Thread


class ThreadItemAddedEvent(ProtoModel):
    """An item starts streaming; not persisted until its `done`."""

    type: Literal["thread.item.added"] = "thread.item.added"
    item: ThreadItem


class ThreadItemUpdatedEvent(ProtoModel):
    """An incremental change to a streaming item."""

    type: Literal["thread.item.updated"] = "thread.item.updated"
    item_id: str
    update: ThreadItemUpdate


class ThreadItemDoneEvent(ProtoModel):
    """An item is complete; the server persists it."""

    type: Literal["thread.item.done"] = "thread.item.done"
    item: ThreadItem


class ThreadItemRemovedEvent(ProtoModel):
    """An item is gone; the server deletes it."""

    type: Literal["thread.item.removed"] = "thread.item.removed"
    item_id: str


class ThreadItemReplacedEvent(ProtoModel):
    """An item is swapped in place; the server upserts it."""

    type: Literal["thread.item.replaced"] = "thread.item.replaced"
    item: ThreadItem


class StreamOptions(ProtoModel):
    """Runtime options of one response; `allow_cancel` shows the stop button."""

    allow_cancel: bool


class StreamOptionsEvent(ProtoModel):
    """The first event of every response pipeline."""

    type: Literal["stream_options"] = "stream_options"
    stream_options: StreamOptions


class ProgressUpdateEvent(ProtoModel):
    """A transient status line."""

    type: Literal["progress_update"] = "progress_update"
    icon: IconName | None = None
    text: str


class ClientEffectEvent(ProtoModel):
    """A fire-and-forget call of a client callback."""

    type: Literal["client_effect"] = "client_effect"
    name: str
    data: JSONObject = Field(default_factory=dict)


class ErrorEvent(ProtoModel):
    """An error shown in the chat; `allow_retry` offers a retry button."""

    type: Literal["error"] = "error"
    code: str = "custom"
    message: str | None = None
    allow_retry: bool = False


class NoticeEvent(ProtoModel):
    """A user-facing notice in Markdown."""

    type: Literal["notice"] = "notice"
    level: Literal["info", "warning", "danger"]
    message: str
    title: str | None = None


ThreadStreamEvent = Annotated[
    ThreadCreatedEvent
    | ThreadUpdatedEvent
    | ThreadItemAddedEvent
    | ThreadItemUpdatedEvent
    | ThreadItemDoneEvent
    | ThreadItemRemovedEvent
    | ThreadItemReplacedEvent
    | StreamOptionsEvent
    | ProgressUpdateEvent
    | ClientEffectEvent
    | ErrorEvent
    | NoticeEvent,
    Field(discriminator="type"),
]


class TextDelta:
    """Hot-path form of a `thread.item.updated` event carrying an assistant text delta.

    Text deltas are nearly every frame of a response; building a pydantic event for each
    costs several microseconds. Responders may yield this plain slotted object instead, and
    the pipeline and codec treat it exactly like the equivalent `ThreadItemUpdatedEvent`.
    """

    __slots__ = ("content_index", "delta", "item_id")
    type = "thread.item.updated"

    def __init__(self, item_id: str, content_index: int, delta: str) -> None:
        self.item_id = item_id
        self.content_index = content_index
        self.delta = delta

    def to_event(self) -> ThreadItemUpdatedEvent:
        """The equivalent pydantic event."""
        return ThreadItemUpdatedEvent(
            item_id=self.item_id,
            update=ContentPartTextDelta(content_index=self.content_index, delta=self.delta),
        )

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TextDelta)
            and other.item_id == self.item_id
            and other.content_index == self.content_index
            and other.delta == self.delta
        )

    def __hash__(self) -> int:
        return hash((self.item_id, self.content_index, self.delta))

    def __repr__(self) -> str:
        return f"TextDelta({self.item_id!r}, {self.content_index}, {self.delta!r})"


StreamEvent = ThreadStreamEvent | TextDelta
"""Anything a responder may yield."""
