"""The response pipeline (SPEC §7.1): relays a responder's events, persisting as it goes."""

from __future__ import annotations

import asyncio
import copy
import logging
from asyncio import current_task
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio

from .apply import append_text, apply_update
from .base import JSONObject, utc_now
from .codec import encode_event
from .context import RequestContext
from .errors import CustomStreamError, StreamError
from .events import (
    ErrorEvent,
    StreamEvent,
    StreamOptions,
    StreamOptionsEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
    ThreadUpdatedEvent,
)
from .ids import ItemKind, new_item_id
from .items import (
    HIDDEN_ITEM_TYPES,
    AssistantMessageItem,
    ClientToolCallItem,
    SDKHiddenContextItem,
    TaskItem,
    ThreadItem,
    WorkflowItem,
)
from .store.base import NotFoundError, Store
from .streams import StreamControl
from .threads import ThreadMetadata, to_wire_thread
from .updates import ContentPartTextDelta

logger = logging.getLogger("chatkit_proto.pipeline")

CANCELLED_NOTE = "The user cancelled the stream. Stop responding to the prior request."
RESTART_NOTE = (
    "The server restarted while answering, so the previous answer was cut short. "
    "Stop responding to the prior request."
)
RESTART_MESSAGE = "The server is restarting. Please try again in a moment."

_STREAM_OPTIONS = encode_event(StreamOptionsEvent(stream_options=StreamOptions(allow_cancel=True)))
_RESTART_ERROR = encode_event(ErrorEvent(code="custom", message=RESTART_MESSAGE, allow_retry=True))


@dataclass(slots=True)
class Turn:
    """What one stream works on: the live thread, whose request it is, and the store.

    `known_items`, when given, are all the items the thread held when the stream started
    (a thread this request created): the stream holds its lease, so no other item can
    appear, and whether a new item's id is taken needs no store round trip.
    """

    thread: ThreadMetadata
    context: RequestContext
    store: Store
    known_items: frozenset[str] | None = None


async def run_pipeline(
    turn: Turn,
    prologue: Iterable[ThreadStreamEvent],
    responder: Callable[[], AsyncIterator[StreamEvent]],
    control: StreamControl | None = None,
) -> AsyncIterator[bytes]:
    """Yield the SSE frames of one streaming response, persisting as SPEC §7.1 says.

    `prologue` events are sent as they are (they were persisted by the caller). Then come
    `stream_options`, the responder's events and `thread.updated` whenever the thread
    changed. An exception becomes one `error` event; a cancellation (client gone) persists
    the partial answer and the cancellation note, shielded so that neither is lost. When
    `control` is stopped (server shutdown) the partial answer is kept the same way and the
    stream ends with an `error` event that offers a retry. `control` holds the lease.
    """
    control = control or StreamControl(turn.store, turn.context, None)
    relay = _Relay(turn)
    events: AsyncIterator[StreamEvent] | None = None
    control.begin()
    try:
        for opening in prologue:
            yield encode_event(opening)
        yield _STREAM_OPTIONS
        stopping = control.stop_requested
        if not stopping:
            events = responder()
            try:
                control.awaiting_responder = current_task()
                async for event in events:
                    control.awaiting_responder = None
                    if type(event) is TextDelta:
                        # Nearly every event: kept free of awaits and allocations.
                        if relay.renamed:
                            event = relay.renamed_delta(event)
                        relay.text_delta(event)
                        yield encode_event(event)
                    else:
                        frame = await relay.persist(event)
                        if frame is not None:
                            yield frame
                    if relay.thread_changed():
                        yield await relay.thread_updated()
                    if control.stop_requested:
                        break
                    control.awaiting_responder = current_task()
            except asyncio.CancelledError:
                control.awaiting_responder = None
                if not control.absorb_stop():
                    raise
                stopping = True
            except Exception as exc:
                control.awaiting_responder = None
                # Decided before the yield: a stop arriving during it must not add a second
                # error event to a stream that already ends with one.
                stopping = control.stop_requested
                if not stopping:
                    yield encode_event(_error_event(exc))
            else:
                stopping = control.stop_requested
        if stopping:
            control.absorb_stop()
            with anyio.CancelScope(shield=True):
                await _close(events)
                await relay.persist_interrupted(RESTART_NOTE)
        if relay.thread_changed():
            yield await relay.thread_updated()
        if stopping:
            yield _RESTART_ERROR
    except (asyncio.CancelledError, GeneratorExit):
        # The client is gone. Stop the responder first (no more model calls), then keep
        # what it had produced; the shield lets both finish although we are cancelled.
        with anyio.CancelScope(shield=True):
            await _close(events)
            await relay.persist_interrupted(CANCELLED_NOTE)
        raise
    finally:
        with anyio.CancelScope(shield=True):
            await _close(events)
            await control.end()


@dataclass(frozen=True, slots=True)
class _Saved:
    """The fields of the thread a responder may change, as the store last had them.

    Copies of those fields only: a deep copy of the whole thread costs a stream more than
    everything else it does before its first event.
    """

    title: str | None
    status: dict[str, Any]
    metadata: JSONObject
    allowed_image_domains: list[str] | None

    @classmethod
    def of(cls, thread: ThreadMetadata) -> _Saved:
        """The fields of `thread` now, copied so that changes made in place show."""
        domains = thread.allowed_image_domains
        return cls(
            thread.title,
            dict(thread.status.__dict__),
            copy.deepcopy(thread.metadata),
            None if domains is None else list(domains),
        )


class _Relay:
    """The state of one pipeline run: pending items and the thread snapshot."""

    def __init__(self, turn: Turn) -> None:
        self.turn = turn
        self.interrupted = False
        self.pending: dict[str, ThreadItem] = {}
        # Text deltas of pending messages, joined only when needed: appending each delta to
        # the pending text would copy the whole answer per delta (quadratic in its length).
        self.deltas: dict[tuple[str, int], list[str]] = {}
        self.snapshot = _Saved.of(turn.thread)
        # Ids of items this stream finished, and of those it renamed (old id -> ours).
        self.finished: set[str] = set()
        self.renamed: dict[str, str] = {}

    def text_delta(self, event: TextDelta) -> None:
        """Track a text delta of a pending message (the hot path: no store work)."""
        if event.item_id in self.pending:
            self._buffer(event.item_id, event.content_index, event.delta)

    async def persist(self, event: StreamEvent) -> bytes | None:
        """Persist one responder event; the frame to send for it, None if it is swallowed."""
        if self.renamed or isinstance(event, ThreadItemAddedEvent | ThreadItemDoneEvent):
            event = await self._own_id(event)
        return None if await self._persist(event) else encode_event(event)

    def renamed_delta(self, event: TextDelta) -> TextDelta:
        """A text delta addressed to the renamed item, if its item was renamed."""
        new_id = self.renamed.get(event.item_id)
        return event if new_id is None else TextDelta(new_id, event.content_index, event.delta)

    async def _own_id(self, event: StreamEvent) -> StreamEvent:
        """The event, its item renamed if it would overwrite another finished item.

        A new item that comes with the id of an item the thread already has (a model that
        repeats its ids, two processes on one database) gets a fresh id, and so do the later
        events of this stream addressed to it. Only a workflow may be sent again: a run leaves
        its open workflow for the next response to continue (SPEC §18 q46).
        """
        if isinstance(event, ThreadItemAddedEvent | ThreadItemDoneEvent):
            item = event.item
            new_id = self.renamed.get(item.id)
            if new_id is None and await self._taken(item):
                new_id = new_item_id(_kind_of(item))
                self.renamed[item.id] = new_id
                logger.warning(
                    "item id %s of thread %s is taken by another item; renamed it %s",
                    item.id,
                    self.turn.thread.id,
                    new_id,
                )
            if new_id is None:
                return event
            renamed = item.model_copy(update={"id": new_id})
            if isinstance(event, ThreadItemAddedEvent):
                return ThreadItemAddedEvent(item=renamed)
            return ThreadItemDoneEvent(item=renamed)
        if isinstance(event, ThreadItemUpdatedEvent | ThreadItemRemovedEvent):
            new_id = self.renamed.get(event.item_id)
            if new_id is not None:
                return event.model_copy(update={"item_id": new_id})
        elif isinstance(event, ThreadItemReplacedEvent):
            new_id = self.renamed.get(event.item.id)
            if new_id is not None:
                return ThreadItemReplacedEvent(item=event.item.model_copy(update={"id": new_id}))
        return event

    async def _taken(self, item: ThreadItem) -> bool:
        """Whether the store holds another item with this new item's id."""
        if item.id in self.pending or item.id in self.finished:
            return False
        if self.turn.known_items is not None:
            return item.id in self.turn.known_items
        try:
            stored = await self.turn.store.load_item(
                self.turn.thread.id, item.id, self.turn.context
            )
        except NotFoundError:
            return False
        return not (isinstance(stored, WorkflowItem) and isinstance(item, WorkflowItem))

    async def _persist(self, event: StreamEvent) -> bool:
        """Apply the persistence table of SPEC §7.1; True when the event must be swallowed."""
        store, ctx, thread_id = self.turn.store, self.turn.context, self.turn.thread.id
        if isinstance(event, ThreadItemAddedEvent):
            self.pending[event.item.id] = event.item.model_copy(deep=True)
        elif isinstance(event, ThreadItemUpdatedEvent):
            pending = self.pending.get(event.item_id)
            if pending is not None:
                update = event.update
                if isinstance(update, ContentPartTextDelta):
                    self._buffer(event.item_id, update.content_index, update.delta)
                else:
                    self._flush(event.item_id)
                    apply_update(pending, update)
        elif isinstance(event, ThreadItemDoneEvent):
            self._forget(event.item.id)
            self.finished.add(event.item.id)
            await store.add_thread_item(thread_id, event.item, ctx)
            return event.item.type in HIDDEN_ITEM_TYPES
        elif isinstance(event, ThreadItemRemovedEvent):
            self._forget(event.item_id)
            await store.delete_thread_item(thread_id, event.item_id, ctx)
        elif isinstance(event, ThreadItemReplacedEvent):
            self._forget(event.item.id)
            await store.add_thread_item(thread_id, event.item, ctx)
        return False

    def _buffer(self, item_id: str, content_index: int, delta: str) -> None:
        key = (item_id, content_index)
        buffered = self.deltas.get(key)
        if buffered is None:
            self.deltas[key] = [delta]
        else:
            buffered.append(delta)

    def _forget(self, item_id: str) -> None:
        """Stop tracking an item the store now has (or no longer has)."""
        if self.pending.pop(item_id, None) is not None and self.deltas:
            for key in [key for key in self.deltas if key[0] == item_id]:
                del self.deltas[key]

    def _flush(self, item_id: str) -> None:
        """Apply the buffered text deltas of one pending message, in order."""
        message = self.pending.get(item_id)
        for key in [key for key in self.deltas if key[0] == item_id]:
            text = "".join(self.deltas.pop(key))
            if isinstance(message, AssistantMessageItem):
                append_text(message, key[1], text)

    def thread_changed(self) -> bool:
        """Whether the responder changed the thread since it was last saved."""
        thread, snapshot = self.turn.thread, self.snapshot
        # Field by field: comparing the models whole costs several times more per event.
        return (
            thread.title != snapshot.title
            or thread.status.__dict__ != snapshot.status
            or thread.metadata != snapshot.metadata
            or thread.allowed_image_domains != snapshot.allowed_image_domains
        )

    async def thread_updated(self) -> bytes:
        """Save the changed thread and frame the `thread.updated` that announces it."""
        thread = self.turn.thread
        await self.turn.store.save_thread(thread, self.turn.context)
        self.snapshot = _Saved.of(thread)
        return encode_event(ThreadUpdatedEvent(thread=to_wire_thread(thread)))

    async def persist_interrupted(self, note: str) -> None:
        """Keep what the user saw of the answer, and tell the next turn it was cut short."""
        if self.interrupted:
            return
        self.interrupted = True
        store, ctx, thread = self.turn.store, self.turn.context, self.turn.thread
        try:
            for item_id in list(self.pending):
                self._flush(item_id)
            for item in self.pending.values():
                if isinstance(item, AssistantMessageItem) and any(
                    part.text.strip() for part in item.content
                ):
                    await store.add_thread_item(thread.id, item, ctx)
            hidden = SDKHiddenContextItem(
                id=new_item_id("sdk_hidden_context"),
                thread_id=thread.id,
                created_at=utc_now(),
                content=note,
            )
            await store.add_thread_item(thread.id, hidden, ctx)
        except Exception:
            logger.exception("could not persist the interrupted response of thread %s", thread.id)


def _kind_of(item: ThreadItem) -> ItemKind:
    if isinstance(item, ClientToolCallItem):
        return "tool_call"
    if isinstance(item, WorkflowItem):
        return "workflow"
    if isinstance(item, TaskItem):
        return "task"
    if isinstance(item, SDKHiddenContextItem):
        return "sdk_hidden_context"
    return "message"


def _error_event(exc: Exception) -> ErrorEvent:
    if isinstance(exc, CustomStreamError):
        return ErrorEvent(code="custom", message=exc.message, allow_retry=exc.allow_retry)
    if isinstance(exc, StreamError):
        return ErrorEvent(code=exc.code, allow_retry=exc.allow_retry)
    logger.error("responder failed: %s", type(exc).__name__, exc_info=exc)
    return ErrorEvent(code="stream.error", allow_retry=True)


async def _close(events: AsyncIterator[StreamEvent] | None) -> None:
    aclose: Callable[[], Awaitable[None]] | None = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()
