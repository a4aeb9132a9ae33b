"""Assistant messages streamed by an app itself, without a model (e.g. after an action)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.events import (
    StreamEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.ids import new_item_id
from chatkit_proto.items import AssistantMessageItem
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import ContentPartAdded, ContentPartDone


async def stream_message_by_hand(
    thread: ThreadMetadata, deltas: list[str]
) -> AsyncIterator[StreamEvent]:
    """The events of an assistant message made of `deltas`, in the order a model streams them."""
    created = utc_now()
    item_id = new_item_id("message")
    text = "".join(deltas)
    yield ThreadItemAddedEvent(
        item=AssistantMessageItem(id=item_id, thread_id=thread.id, created_at=created, content=[])
    )
    yield ThreadItemUpdatedEvent(
        item_id=item_id,
        update=ContentPartAdded(content_index=0, content=AssistantMessageContent(text="")),
    )
    for delta in deltas:
        yield TextDelta(item_id, 0, delta)
    yield ThreadItemUpdatedEvent(
        item_id=item_id,
        update=ContentPartDone(content_index=0, content=AssistantMessageContent(text=text)),
    )
    yield ThreadItemDoneEvent(
        item=AssistantMessageItem(
            id=item_id,
            thread_id=thread.id,
            created_at=created,
            content=[AssistantMessageContent(text=text)],
        )
    )
