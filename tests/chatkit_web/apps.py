"""Scripted apps for the HTTP tests, loadable with `--app tests.chatkit_web.apps:NAME`."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator

import anyio.to_thread

from chatkit_proto.base import utc_now
from chatkit_proto.app import ChatKitApp, StreamEvent, Turn
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.events import ThreadItemDoneEvent
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from tests.apps import ScriptedApp

fast_app = ScriptedApp()
"""Answers at once: for tests that send many requests."""

flood_app = ScriptedApp(reply=" ".join(["x" * 16_384] * 1_500), delay=0.001)
"""A 24 MB answer, more than any socket buffers: a client that stops reading blocks its sends."""
GATE_TIMEOUT_SECONDS = 30


class ClaimsEchoApp(ChatKitApp):
    """Answers every message with the user id, tenant id and claims of its request context."""

    async def respond(
        self, turn: Turn, message: UserMessageItem | None
    ) -> AsyncIterator[StreamEvent]:
        ctx = turn.context
        seen = {"user_id": ctx.user_id, "tenant_id": ctx.tenant_id, "claims": dict(ctx.claims)}
        yield ThreadItemDoneEvent(item=_answer(turn, json.dumps(seen, sort_keys=True)))


class GatedApp(ChatKitApp):
    """Answers `ok`, but only once the test opens `gate`: streams stay open until then."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    async def respond(
        self, turn: Turn, message: UserMessageItem | None
    ) -> AsyncIterator[StreamEvent]:
        await anyio.to_thread.run_sync(self.gate.wait, GATE_TIMEOUT_SECONDS)
        yield ThreadItemDoneEvent(item=_answer(turn, "ok"))


def _answer(turn: Turn, text: str) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=turn.new_item_id(),
        thread_id=turn.thread.id,
        created_at=utc_now(),
        content=[AssistantMessageContent(text=text)],
    )


claims_app = ClaimsEchoApp()
gated_app = GatedApp()
words_app = ScriptedApp(reply="quokka marmalade zeppelin")
"""Its answer is words that appear nowhere else, so a log can be searched for them."""
