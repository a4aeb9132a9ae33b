"""Undoing the writes a streaming request makes before its stream starts, if it cannot start."""

from __future__ import annotations

import logging
from types import TracebackType

import anyio

from .attachments import Attachment
from .context import RequestContext
from .items import ThreadItem
from .store.base import Store
from .streams import Lease

logger = logging.getLogger("chatkit_proto.rollback")


class Rollback:
    """Records each write as it is made; leaving the block with an exception undoes them all.

    A request that fails (a store error, a cancelled client) before its stream starts then
    leaves nothing behind: no empty thread, no half-made turn, no lease locking the thread.
    """

    def __init__(self, store: Store, ctx: RequestContext) -> None:
        self.store = store
        self.ctx = ctx
        self._leases: list[Lease] = []
        self._threads: list[str] = []
        self._added: list[tuple[str, str]] = []
        self._replaced: list[tuple[str, ThreadItem]] = []
        self._attachments: list[Attachment] = []

    async def __aenter__(self) -> Rollback:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if error is not None:
            # Shielded: a cancelled request (client gone) must still be undone.
            with anyio.CancelScope(shield=True):
                await self._undo()

    def leased(self, lease: Lease) -> None:
        """A stream lease was taken."""
        self._leases.append(lease)

    def created_thread(self, thread_id: str) -> None:
        """A new thread was saved (its items go with it)."""
        self._threads.append(thread_id)

    def added_item(self, thread_id: str, item_id: str) -> None:
        """A new item was saved."""
        self._added.append((thread_id, item_id))

    def changing_item(self, thread_id: str, previous: ThreadItem) -> None:
        """An item is about to be replaced or deleted: `previous` is put back on undo."""
        self._replaced.append((thread_id, previous))

    def changing_attachment(self, previous: Attachment) -> None:
        """An attachment record is about to be updated: `previous` is put back on undo."""
        self._attachments.append(previous)

    async def _undo(self) -> None:
        store, ctx = self.store, self.ctx
        try:
            for attachment in reversed(self._attachments):
                await store.save_attachment(attachment, ctx)
            for thread_id, item in reversed(self._replaced):
                await store.add_thread_item(thread_id, item, ctx)
            for thread_id, item_id in reversed(self._added):
                await store.delete_thread_item(thread_id, item_id, ctx)
            for thread_id in reversed(self._threads):
                await store.delete_thread(thread_id, ctx)
        except Exception:
            logger.exception("could not undo a failed request")
        for lease in reversed(self._leases):
            try:
                await store.release_stream_lease(lease.thread_id, lease.token, ctx)
            except Exception:
                logger.exception("could not release the stream lease of %s", lease.thread_id)
