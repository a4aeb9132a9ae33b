"""The app interface: subclass `ChatKitServer`, implement `respond`, call `process`.

The shape is the official ChatKit Python SDK's, so an app written for it ports by changing
its imports: `respond(thread, input_user_message, context)` is an async generator of stream
events, `action` and `sync_action` answer widget actions, and `process(body, context)` turns
request bytes into a JSON answer or a stream of SSE frames. The server persists what the
events say (SPEC §7.1) and tells the client when the thread changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Generic

from typing_extensions import TypeVar

from .actions import Action
from .attachment_store import AttachmentStore, PresentsAttachments
from .context import RequestContext
from .dispatch import Dispatcher, NonStreamingResult, Result, StreamingResult
from .errors import CustomStreamError, InvalidRequest
from .events import StreamEvent
from .items import UserMessageItem, WidgetItem
from .requests import FeedbackKind
from .responses import SyncCustomActionResponse, TranscriptionResult
from .store.base import Store
from .threads import ThreadMetadata

TContext = TypeVar("TContext", bound=RequestContext, default=RequestContext)


@dataclass(slots=True)
class ServerOptions:
    """Tunables of the protocol server."""

    stream_lease_seconds: float = 60.0
    shutdown_grace_seconds: float = 5.0


class ChatKitServer(ABC, Generic[TContext]):
    """A ChatKit backend over one store; knows nothing of HTTP.

    Override `respond` (and whatever else the app supports). Responders are async
    generators of stream events: raise `CustomStreamError` to show a message,
    `StreamError` for a coded error; any other exception becomes a generic `stream.error`
    event. `process()` never raises for a bad request: validation and lookup failures come
    back as a 4xx answer before any stream starts (DEVIATIONS D1-D4, D15), unexpected bugs
    as a generic 500 (D8).
    """

    def __init__(
        self,
        store: Store,
        attachment_store: AttachmentStore | None = None,
        *,
        options: ServerOptions | None = None,
    ) -> None:
        self.store = store
        self.attachment_store = attachment_store
        self.options = options or ServerOptions()
        self._dispatcher = Dispatcher(self)

    @abstractmethod
    def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: TContext,
    ) -> AsyncIterator[StreamEvent]:
        """Answer a new user message, or resume (`input_user_message` is None) after a tool.

        `thread` is live: change its title, status or metadata and the client is told
        through a `thread.updated` event right after the next event yielded.
        """

    def action(
        self,
        thread: ThreadMetadata,
        action: Action,
        sender: WidgetItem | None,
        context: TContext,
    ) -> AsyncIterator[StreamEvent]:
        """Handle a streaming custom action; by default every action is unsupported."""
        return _Failing(CustomStreamError(f"Unsupported action: {action.type}"))

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action,
        sender: WidgetItem | None,
        context: TContext,
    ) -> SyncCustomActionResponse:
        """Handle a synchronous custom action; by default there is nothing to update."""
        return SyncCustomActionResponse()

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: TContext
    ) -> None:
        """Record thumbs up/down; the default keeps nothing."""
        return None

    async def transcribe(
        self, audio: bytes, mime_type: str, context: TContext
    ) -> TranscriptionResult:
        """Turn dictated audio into text; without a transcription service this is a 400."""
        raise InvalidRequest("Dictation is not available on this server")

    async def aclose(self) -> None:
        """Release what the app holds (tool servers, clients); called at server shutdown."""

    async def process(self, request: bytes | str, context: TContext) -> Result:
        """Answer one request body: a `NonStreamingResult` or a `StreamingResult`."""
        return await self._dispatcher.process(request, context)

    async def shutdown(self) -> None:
        """End every open stream with a final `error` event saying the server is restarting.

        Each stream keeps its partial answer (as on a cancel, D9) and gives its lease back;
        a stream started afterwards ends the same way at once. Waits at most
        `options.shutdown_grace_seconds` for the streams to finish.
        """
        await self._dispatcher.shutdown()


class _Failing:
    """An event stream that fails as soon as it is read."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def __aiter__(self) -> _Failing:
        return self

    async def __anext__(self) -> StreamEvent:
        raise self._error


__all__ = [
    "AttachmentStore",
    "ChatKitServer",
    "NonStreamingResult",
    "PresentsAttachments",
    "Result",
    "ServerOptions",
    "StreamingResult",
]
