"""Small deterministic ChatKit apps for tests of the protocol core (no agents involved)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agents_layer.settings import AppSettings
from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import CustomStreamError
from chatkit_proto.events import (
    ProgressUpdateEvent,
    StreamEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.ids import new_item_id
from chatkit_proto.items import (
    AssistantMessageItem,
    ClientToolCallItem,
    HiddenContextItem,
    UserMessageItem,
)
from chatkit_proto.server import AttachmentStore, ChatKitServer, ServerOptions
from chatkit_proto.store import MemoryStore, Store
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import ContentPartAdded


class ScriptedApp(ChatKitServer):
    """Answers every message with the words of `reply`, one delta each.

    Message text steers it: `fail` raises mid-answer, `custom` raises a custom error,
    `title` renames the thread, `hidden` adds a hidden item, `tool` ends with a pending
    client tool call. `delay` paces the deltas so tests can disconnect mid-stream.
    """

    def __init__(
        self,
        store: Store | None = None,
        reply: str = "one two three four five",
        delay: float = 0.0,
        attachment_store: AttachmentStore | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        super().__init__(store or MemoryStore(), attachment_store, options=options)
        self.reply = reply
        self.delay = delay
        self.running = 0
        self.finished_cleanly = 0
        self.closed = 0

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        text = ""
        message = input_user_message
        if message is not None and message.content and message.content[0].type == "input_text":
            text = message.content[0].text
        self.running += 1
        try:
            if "title" in text:
                thread.title = "Renamed"
            yield ProgressUpdateEvent(text="Working")
            if "custom" in text:
                raise CustomStreamError("Not allowed here.")
            item_id = new_item_id("message")
            created = utc_now()
            yield ThreadItemAddedEvent(
                item=AssistantMessageItem(
                    id=item_id, thread_id=thread.id, created_at=created, content=[]
                )
            )
            yield ThreadItemUpdatedEvent(
                item_id=item_id,
                update=ContentPartAdded(content_index=0, content=AssistantMessageContent(text="")),
            )
            words = self.reply.split(" ")
            for index, word in enumerate(words):
                if self.delay:
                    await asyncio.sleep(self.delay)
                if "fail" in text and index == 2:
                    raise RuntimeError("model exploded")
                yield TextDelta(item_id, 0, word if index == 0 else " " + word)
            yield ThreadItemDoneEvent(
                item=AssistantMessageItem(
                    id=item_id,
                    thread_id=thread.id,
                    created_at=created,
                    content=[AssistantMessageContent(text=self.reply)],
                )
            )
            if "hidden" in text:
                yield ThreadItemDoneEvent(
                    item=HiddenContextItem(
                        id=new_item_id("message"),
                        thread_id=thread.id,
                        created_at=utc_now(),
                        content="secret",
                    )
                )
            if "tool" in text:
                yield ThreadItemDoneEvent(
                    item=ClientToolCallItem(
                        id=new_item_id("tool_call"),
                        thread_id=thread.id,
                        created_at=utc_now(),
                        call_id="call_1",
                        name="get_selection",
                        arguments={"project": "p1"},
                    )
                )
            self.finished_cleanly += 1
        finally:
            self.running -= 1
            self.closed += 1


def slow_app(settings: AppSettings) -> ScriptedApp:
    """For server tests that need a stream still running when they act (`--app tests.apps:slow_app`)."""
    return ScriptedApp(settings.store, "one two three four five six seven eight", delay=0.2)
