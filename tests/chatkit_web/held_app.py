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
from chatkit_proto._base import utc_now
from chatkit_proto.app import ChatKitApp, StreamEvent, Turn
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.events import (
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from chatkit_proto.updates import ContentPartAdded

TICK_SECONDS = 0.05
MAX_TICKS = 1200


class HeldApp(ChatKitApp):
    """Answers `ok`, or holds the stream open until released."""

    def __init__(self, release: Path | None) -> None:
        self.release = release

    async def respond(
        self, turn: Turn, message: UserMessageItem | None
    ) -> AsyncIterator[StreamEvent]:
        """One assistant message: `ok` at once, or one `.` per tick while held."""
        text = ""
        if message is not None and message.content and message.content[0].type == "input_text":
            text = message.content[0].text
        item = AssistantMessageItem(
            id=turn.new_item_id(), thread_id=turn.thread.id, created_at=utc_now(), content=[]
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
    return HeldApp(Path(release) if release else None)
