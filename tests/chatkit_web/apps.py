"""Scripted apps for the HTTP tests, loadable with `--app tests.chatkit_web.apps:NAME`."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator

import anyio.to_thread

from agents_layer.settings import AppSettings
from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.events import StreamEvent, ThreadItemDoneEvent
from chatkit_proto.ids import new_item_id
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from chatkit_proto.server import ChatKitServer
from chatkit_proto.store import Store
from chatkit_proto.threads import ThreadMetadata
from tests.apps import ScriptedApp


def fast_app(settings: AppSettings) -> ScriptedApp:
    """Answers at once: for tests that send many requests."""
    return ScriptedApp(settings.store)


def flood_app(settings: AppSettings) -> ScriptedApp:
    """A 24 MB answer, more than any socket buffers: a client that stops reading blocks its sends."""
    return ScriptedApp(settings.store, reply=" ".join(["x" * 16_384] * 1_500), delay=0.001)


GATE_TIMEOUT_SECONDS = 30


class ClaimsEchoApp(ChatKitServer):
    """Answers every message with the user id, tenant id and claims of its request context."""

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        ctx = context
        seen = {"user_id": ctx.user_id, "tenant_id": ctx.tenant_id, "claims": dict(ctx.claims)}
        yield ThreadItemDoneEvent(item=_answer(thread, json.dumps(seen, sort_keys=True)))


class GatedApp(ChatKitServer):
    """Answers `ok`, but only once the test opens `gate`: streams stay open until then."""

    def __init__(self, store: Store, gate: threading.Event) -> None:
        super().__init__(store)
        self.gate = gate

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        await anyio.to_thread.run_sync(self.gate.wait, GATE_TIMEOUT_SECONDS)
        yield ThreadItemDoneEvent(item=_answer(thread, "ok"))


def _answer(thread: ThreadMetadata, text: str) -> AssistantMessageItem:
    return AssistantMessageItem(
        id=new_item_id("message"),
        thread_id=thread.id,
        created_at=utc_now(),
        content=[AssistantMessageContent(text=text)],
    )


GATE = threading.Event()
"""Opened by a test to let the streams of `gated_app` finish."""


def claims_app(settings: AppSettings) -> ClaimsEchoApp:
    """Answers with what the request context holds."""
    return ClaimsEchoApp(settings.store)


def gated_app(settings: AppSettings) -> GatedApp:
    """Holds its streams open until `GATE` is set."""
    return GatedApp(settings.store, GATE)


def words_app(settings: AppSettings) -> ScriptedApp:
    """Its answer is words that appear nowhere else, so a log can be searched for them."""
    return ScriptedApp(settings.store, reply="quokka marmalade zeppelin")
