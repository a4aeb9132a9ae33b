"""A test app for streams that must still be running when a test acts on them.

`--app tests.chatkit_web.held_app:create_app`. A message containing `hold` is answered by a
delta every 0.05 s (each one renews the stream lease) until the file named by the
`HELD_APP_RELEASE` environment variable exists, or for at most a minute; then the message is
done. Any other message is answered at once with `ok`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from agents_layer.settings import AppSettings
from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.events import (
    StreamEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.ids import new_item_id
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from chatkit_proto.server import ChatKitServer
from chatkit_proto.store import Store
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import ContentPartAdded

TICK_SECONDS = 0.05
MAX_TICKS = 1200


class HeldApp(ChatKitServer):
    """Answers `ok`, or holds the stream open until released."""

    def __init__(self, store: Store, release: Path | None) -> None:
        super().__init__(store)
        self.release = release

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """One assistant message: `ok` at once, or one `.` per tick while held."""
        text = ""
        message = input_user_message
        if message is not None and message.content and message.content[0].type == "input_text":
            text = message.content[0].text
        item = AssistantMessageItem(
            id=new_item_id("message"), thread_id=thread.id, created_at=utc_now(), content=[]
        )
        yield ThreadItemAddedEvent(item=item)
        yield ThreadItemUpdatedEvent(
            item_id=item.id,
            update=ContentPartAdded(content_index=0, content=AssistantMessageContent(text="")),
        )
        answer = "ok"
        if "hold" in text:
            answer = ""
            for _ in range(MAX_TICKS):
                if self.release is not None and self.release.exists():
                    break
                answer += "."
                yield TextDelta(item.id, 0, ".")
                await asyncio.sleep(TICK_SECONDS)
        else:
            yield TextDelta(item.id, 0, answer)
        item.content = [AssistantMessageContent(text=answer)]
        yield ThreadItemDoneEvent(item=item)


def create_app(settings: AppSettings) -> HeldApp:
    """The app, released by the file `HELD_APP_RELEASE` names (if any)."""
    release = settings.env.get("HELD_APP_RELEASE")
    return HeldApp(settings.store, Path(release) if release else None)
