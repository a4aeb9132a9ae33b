"""The application interface: what an app implements to answer a ChatKit client."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass

from .actions import Action
from .context import RequestContext
from .errors import CustomStreamError, InvalidRequest
from .events import TextDelta, ThreadStreamEvent
from .ids import ItemKind, new_item_id
from .items import UserMessageItem, WidgetItem
from .requests import FeedbackKind
from .responses import SyncCustomActionResponse, TranscriptionResult
from .store.base import Store
from .threads import ThreadMetadata

StreamEvent = ThreadStreamEvent | TextDelta
"""Anything a responder may yield."""


@dataclass(slots=True)
class Turn:
    """What a responder works with while it answers one streaming request.

    `thread` is live: change its title, status or metadata and the client is told through a
    `thread.updated` event right after the next event the responder yields.
    """

    thread: ThreadMetadata
    context: RequestContext
    store: Store

    def new_item_id(self, kind: ItemKind = "message") -> str:
        """A fresh id for an item this turn creates."""
        return new_item_id(kind)


class ChatKitApp(ABC):
    """Subclass and override `respond` (and whatever else the app supports).

    Responders are async generators of stream events. Raise `CustomStreamError` to show a
    message, `StreamError` for a coded error; any other exception becomes a generic
    `stream.error` event. The server persists items from the events as SPEC §7.1 says.
    """

    @abstractmethod
    def respond(self, turn: Turn, message: UserMessageItem | None) -> AsyncIterator[StreamEvent]:
        """Answer a new user message, or resume (`message` is None) after tool output."""

    def action(
        self, turn: Turn, action: Action, sender: WidgetItem | None
    ) -> AsyncIterator[StreamEvent]:
        """Handle a streaming custom action; by default every action is unsupported."""
        return _Failing(CustomStreamError(f"Unsupported action: {action.type}"))

    async def sync_action(
        self, turn: Turn, action: Action, sender: WidgetItem | None
    ) -> SyncCustomActionResponse:
        """Handle a synchronous custom action; by default there is nothing to update."""
        return SyncCustomActionResponse()

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], kind: FeedbackKind, context: RequestContext
    ) -> None:
        """Record thumbs up/down; the default keeps nothing."""
        return None

    async def aclose(self) -> None:
        """Release what the app holds (tool servers, clients); called at server shutdown."""

    async def transcribe(
        self, audio: bytes, mime_type: str, context: RequestContext
    ) -> TranscriptionResult:
        """Turn dictated audio into text; without a transcription service this is a 400."""
        raise InvalidRequest("Dictation is not available on this server")


class _Failing:
    """An event stream that fails as soon as it is read."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def __aiter__(self) -> _Failing:
        return self

    async def __anext__(self) -> StreamEvent:
        raise self._error
