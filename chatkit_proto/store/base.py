"""The store contract (SPEC §12): threads, items and attachment records, scoped per user."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Generic

from typing_extensions import TypeVar

from ..attachments import Attachment
from ..context import RequestContext
from ..errors import ChatKitError
from ..items import ThreadItem
from ..threads import Order as Order
from ..threads import Page, ThreadMetadata
from .rows import thread_json

TContext = TypeVar("TContext", bound=RequestContext, default=RequestContext)
"""The request context type of a store's callers (for code typed against `Store[C]`)."""


class NotFoundError(ChatKitError, LookupError):
    """The row does not exist for this user (whether or not it exists for another)."""

    code = "not_found"
    status = 404

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key!r}")
        self.kind = kind


class Store(ABC, Generic[TContext]):
    """Persistence for threads, items and attachment records.

    Every method takes the request context and sees only that user's rows. Listings are
    ordered by `created_at`, ties broken by insertion order; `after` is the id of the last
    row of the previous page and an unknown cursor raises `NotFoundError`.
    """

    async def open(self) -> None:
        """Acquire resources (connections, files); called once before use."""

    async def close(self) -> None:
        """Release resources."""

    # -- threads -----------------------------------------------------------------------------

    @abstractmethod
    async def load_thread(self, thread_id: str, ctx: RequestContext) -> ThreadMetadata:
        """Load one thread; raises `NotFoundError`."""

    @abstractmethod
    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        """Insert or update a thread."""

    @abstractmethod
    async def load_threads(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[ThreadMetadata]:
        """One page of the user's threads."""

    async def load_threads_json(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[bytes | str]:
        """`load_threads`, each thread as its stored document (`store.rows.thread_json`).

        Listings are served from these documents as they are, not re-validated: a store that
        keeps them should return them directly. This default serialises `load_threads`.
        """
        page = await self.load_threads(limit, after, order, ctx)
        data: list[bytes | str] = [thread_json(thread) for thread in page.data]
        return Page(data=data, has_more=page.has_more, after=page.after)

    @abstractmethod
    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        """Delete a thread and its items; deleting an unknown thread does nothing."""

    # -- items -------------------------------------------------------------------------------

    @abstractmethod
    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: Order, ctx: RequestContext
    ) -> Page[ThreadItem]:
        """One page of a thread's items, hidden items included."""

    @abstractmethod
    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        """Insert an item; an existing id is replaced in place (SPEC §18 q46)."""

    @abstractmethod
    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        """Load one item; raises `NotFoundError`."""

    @abstractmethod
    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        """Delete one item; an unknown id does nothing."""

    # -- attachments -------------------------------------------------------------------------

    @abstractmethod
    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        """Insert or update an attachment record, private metadata included."""

    @abstractmethod
    async def load_attachment(self, attachment_id: str, ctx: RequestContext) -> Attachment:
        """Load an attachment record; raises `NotFoundError`."""

    @abstractmethod
    async def delete_attachment(self, attachment_id: str, ctx: RequestContext) -> None:
        """Delete an attachment record; an unknown id does nothing."""

    # -- stream leases (D15) -----------------------------------------------------------------

    @abstractmethod
    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        """Claim the right to stream on a thread; False while another live lease holds it.

        A lease expires after `ttl_seconds` unless renewed by acquiring it again with the same
        token, so a crashed process never blocks a thread for long.
        """

    async def start_thread(
        self,
        thread: ThreadMetadata,
        first_item: ThreadItem,
        lease_token: str,
        ttl_seconds: float,
        ctx: RequestContext,
    ) -> bool:
        """Lease a new thread, then save it with its first item; False, saving nothing, if taken.

        Everything a new stream writes before its first event, in one call so that a store can
        make it one round trip (one transaction); this default makes three.
        """
        if not await self.acquire_stream_lease(thread.id, lease_token, ttl_seconds, ctx):
            return False
        await self.save_thread(thread, ctx)
        await self.add_thread_item(thread.id, first_item, ctx)
        return True

    @abstractmethod
    async def release_stream_lease(self, thread_id: str, token: str, ctx: RequestContext) -> None:
        """Give a lease back; a lease held by another token is left alone."""

    @abstractmethod
    async def stream_lease_remaining(self, thread_id: str, ctx: RequestContext) -> float | None:
        """Seconds until the live lease on a thread expires; None when no live lease holds it.

        Tells a refused client when to retry (D15), so it only has to be about right.
        """
