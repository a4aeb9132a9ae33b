"""A store held in process memory: for tests, demos and `--store memory`."""

from __future__ import annotations

import time

from ..attachments import Attachment
from ..context import RequestContext
from ..items import ThreadItem
from ..threads import Page, ThreadMetadata
from .base import NotFoundError, Order, Store
from .ordered import OrderedRows


class MemoryStore(Store):
    """Keeps copies of everything it is given, so callers never share state with it."""

    def __init__(self) -> None:
        self._threads: dict[str, OrderedRows[ThreadMetadata]] = {}
        self._items: dict[tuple[str, str], OrderedRows[ThreadItem]] = {}
        self._attachments: dict[tuple[str, str], Attachment] = {}
        # Keyed by owner too: another user's thread id is an unknown id, never a shared lock.
        self._leases: dict[tuple[str, str], tuple[str, float]] = {}

    def _owned_threads(self, ctx: RequestContext) -> OrderedRows[ThreadMetadata]:
        return self._threads.setdefault(ctx.user_id, OrderedRows())

    def _thread_items(self, thread_id: str, ctx: RequestContext) -> OrderedRows[ThreadItem]:
        if self._owned_threads(ctx).get(thread_id) is None:
            raise NotFoundError(f"thread {thread_id!r}")
        return self._items.setdefault((ctx.user_id, thread_id), OrderedRows())

    async def load_thread(self, thread_id: str, ctx: RequestContext) -> ThreadMetadata:
        thread = self._owned_threads(ctx).get(thread_id)
        if thread is None:
            raise NotFoundError(f"thread {thread_id!r}")
        return thread.model_copy(deep=True)

    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        copy = ThreadMetadata.model_validate(thread.model_dump())
        self._owned_threads(ctx).upsert(thread.id, thread.created_at, copy)

    async def load_threads(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[ThreadMetadata]:
        page = self._owned_threads(ctx).page(limit, after, order)
        page.data = [thread.model_copy(deep=True) for thread in page.data]
        return page

    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        self._owned_threads(ctx).delete(thread_id)
        self._items.pop((ctx.user_id, thread_id), None)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: Order, ctx: RequestContext
    ) -> Page[ThreadItem]:
        page = self._thread_items(thread_id, ctx).page(limit, after, order)
        page.data = [item.model_copy(deep=True) for item in page.data]
        return page

    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        self._thread_items(thread_id, ctx).upsert(
            item.id, item.created_at, item.model_copy(deep=True)
        )

    async def save_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        await self.add_thread_item(thread_id, item, ctx)

    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        item = self._thread_items(thread_id, ctx).get(item_id)
        if item is None:
            raise NotFoundError(f"item {item_id!r}")
        return item.model_copy(deep=True)

    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        rows = self._items.get((ctx.user_id, thread_id))
        if rows is not None:
            rows.delete(item_id)

    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        self._attachments[(ctx.user_id, attachment.id)] = attachment.model_copy(deep=True)

    async def load_attachment(self, attachment_id: str, ctx: RequestContext) -> Attachment:
        attachment = self._attachments.get((ctx.user_id, attachment_id))
        if attachment is None:
            raise NotFoundError(f"attachment {attachment_id!r}")
        return attachment.model_copy(deep=True)

    async def delete_attachment(self, attachment_id: str, ctx: RequestContext) -> None:
        self._attachments.pop((ctx.user_id, attachment_id), None)

    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        now = time.monotonic()
        key = (ctx.user_id, thread_id)
        held = self._leases.get(key)
        if held is not None and held[0] != token and held[1] > now:
            return False
        self._leases[key] = (token, now + ttl_seconds)
        return True

    async def release_stream_lease(self, thread_id: str, token: str, ctx: RequestContext) -> None:
        key = (ctx.user_id, thread_id)
        held = self._leases.get(key)
        if held is not None and held[0] == token:
            del self._leases[key]
