"""A store held in process memory: for tests, demos and `--store memory`."""

from __future__ import annotations

import time

from ..attachments import Attachment
from ..context import RequestContext
from ..items import ThreadItem
from ..threads import Order, Page, ThreadMetadata
from .base import NotFoundError, Store
from .ordered import OrderedRows
from .rows import ATTACHMENT, ITEM, THREAD, attachment_json, item_json, thread_json


class MemoryStore(Store):
    """Keeps rows as JSON, as a database would, so callers never share state with it.

    Storing serialised rows makes every read and write a copy, and a cheaper one than a
    deep copy of the models.
    """

    def __init__(self) -> None:
        self._threads: dict[str, OrderedRows[bytes]] = {}
        self._items: dict[tuple[str, str], OrderedRows[bytes]] = {}
        self._attachments: dict[tuple[str, str], bytes] = {}
        self._leases: dict[tuple[str, str], tuple[str, float]] = {}

    def _owned_threads(self, ctx: RequestContext) -> OrderedRows[bytes]:
        return self._threads.setdefault(ctx.user_id, OrderedRows())

    def _thread_items(self, thread_id: str, ctx: RequestContext) -> OrderedRows[bytes]:
        if self._owned_threads(ctx).get(thread_id) is None:
            raise NotFoundError("thread", thread_id)
        return self._items.setdefault((ctx.user_id, thread_id), OrderedRows())

    async def load_thread(self, thread_id: str, ctx: RequestContext) -> ThreadMetadata:
        row = self._owned_threads(ctx).get(thread_id)
        if row is None:
            raise NotFoundError("thread", thread_id)
        return THREAD.validate_json(row)

    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        self._owned_threads(ctx).upsert(thread.id, thread.created_at, thread_json(thread))

    async def load_threads(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[ThreadMetadata]:
        page = self._owned_threads(ctx).page(limit, after, order)
        threads = [THREAD.validate_json(row) for row in page.data]
        return Page(data=threads, has_more=page.has_more, after=page.after)

    async def load_threads_json(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[bytes | str]:
        page = self._owned_threads(ctx).page(limit, after, order)
        return Page(data=list(page.data), has_more=page.has_more, after=page.after)

    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        self._owned_threads(ctx).delete(thread_id)
        self._items.pop((ctx.user_id, thread_id), None)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: Order, ctx: RequestContext
    ) -> Page[ThreadItem]:
        page = self._thread_items(thread_id, ctx).page(limit, after, order)
        items = [ITEM.validate_json(row) for row in page.data]
        return Page(data=items, has_more=page.has_more, after=page.after)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        self._thread_items(thread_id, ctx).upsert(item.id, item.created_at, item_json(item))

    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        row = self._thread_items(thread_id, ctx).get(item_id)
        if row is None:
            raise NotFoundError("item", item_id)
        return ITEM.validate_json(row)

    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        rows = self._items.get((ctx.user_id, thread_id))
        if rows is not None:
            rows.delete(item_id)

    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        self._attachments[(ctx.user_id, attachment.id)] = attachment_json(attachment)

    async def load_attachment(self, attachment_id: str, ctx: RequestContext) -> Attachment:
        row = self._attachments.get((ctx.user_id, attachment_id))
        if row is None:
            raise NotFoundError("attachment", attachment_id)
        return ATTACHMENT.validate_json(row)

    async def delete_attachment(self, attachment_id: str, ctx: RequestContext) -> None:
        self._attachments.pop((ctx.user_id, attachment_id), None)

    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        key = (ctx.user_id, thread_id)
        now = time.monotonic()
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

    async def stream_lease_remaining(self, thread_id: str, ctx: RequestContext) -> float | None:
        held = self._leases.get((ctx.user_id, thread_id))
        remaining = held[1] - time.monotonic() if held is not None else 0.0
        return remaining if remaining > 0 else None
