"""A store in one SQLite file: the embedded default of the server (SPEC §12)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from chatkit_proto.attachments import Attachment
from chatkit_proto.context import RequestContext
from chatkit_proto.items import ThreadItem
from chatkit_proto.store.base import NotFoundError, Store
from chatkit_proto.store.rows import (
    ATTACHMENT,
    ITEM,
    THREAD,
    attachment_json,
    item_json,
    thread_json,
)
from chatkit_proto.threads import Order, Page, ThreadMetadata

# Durability: WAL with synchronous=NORMAL. A commit is written to the WAL file (the kernel's
# page cache) before the call returns, so an acknowledged write survives the process being
# killed (SIGKILL, OOM; see the test); only an OS crash or power loss can drop the last few
# commits, and the file stays consistent even then. FULL would add an fsync to every commit,
# a cost per message far larger than that risk is worth for chat history.
_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    "PRAGMA foreign_keys = ON",
    # Several server processes may share the file; wait for a writer instead of failing.
    "PRAGMA busy_timeout = 5000",
)

# `seq` is the rowid: SQLite gives a new row max(rowid)+1, so it grows with insertion order
# among the rows that exist, which is all a tie-breaker needs. Ids are unique per owner, not
# globally: a user choosing an id another user already has must not collide with it.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (owner, id)
);
CREATE INDEX IF NOT EXISTS threads_page ON threads (owner, created_at, seq);

CREATE TABLE IF NOT EXISTS items (
    seq INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    data TEXT NOT NULL,
    UNIQUE (owner, thread_id, id),
    FOREIGN KEY (owner, thread_id) REFERENCES threads (owner, id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS items_page ON items (owner, thread_id, created_at, seq);

CREATE TABLE IF NOT EXISTS attachments (
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (owner, id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS stream_leases (
    owner TEXT NOT NULL,
    thread_id TEXT NOT NULL,
    token TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (owner, thread_id)
) WITHOUT ROWID;
"""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LARGEST_LIMIT = 2**62  # `limit + 1` must still fit in SQLite's 64-bit integers
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    # Integer microseconds sort exactly like the instants they encode, at full precision.
    return (moment - _EPOCH) // _MICROSECOND


UPSERT_THREAD_SQL = (
    "INSERT INTO threads (owner, id, created_at, data) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data"
)
"""The statement behind `save_thread`; with `thread_row` it lets bulk loaders batch it."""


_ADD_ITEM_SQL = (
    "INSERT INTO items (owner, thread_id, id, created_at, data) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (owner, thread_id, id) DO UPDATE SET data = excluded.data"
)
# One write statement holds SQLite's write lock from the conflict check to the update, so two
# processes can never both win. RETURNING yields the row only when this token now holds it:
# inserted, renewed, or taken over from an expired lease.
_ACQUIRE_LEASE_SQL = (
    "INSERT INTO stream_leases (owner, thread_id, token, expires_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (owner, thread_id) DO UPDATE "
    "SET token = excluded.token, expires_at = excluded.expires_at "
    "WHERE stream_leases.token = excluded.token OR stream_leases.expires_at <= ? "
    "RETURNING token"
)

T = TypeVar("T")


def _item_row(
    thread_id: str, item: ThreadItem, ctx: RequestContext
) -> tuple[str, str, str, int, str]:
    return (ctx.user_id, thread_id, item.id, _micros(item.created_at), item_json(item).decode())


def _lease_row(
    thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
) -> tuple[str, str, str, float, float]:
    # Wall-clock time: the expiry is compared by every process sharing the file.
    now = time.time()
    return (ctx.user_id, thread_id, token, now + ttl_seconds, now)


def _start_thread(
    db: sqlite3.Connection,
    lease: tuple[str, str, str, float, float],
    thread: tuple[str, str, int, str],
    item: tuple[str, str, str, int, str],
) -> bool:
    """`SQLiteStore.start_thread`'s transaction, run whole on aiosqlite's worker thread."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute(_ACQUIRE_LEASE_SQL, lease).fetchall():
            db.execute("ROLLBACK")
            return False
        db.execute(UPSERT_THREAD_SQL, thread)
        db.execute(_ADD_ITEM_SQL, item)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return True


def thread_row(thread: ThreadMetadata, ctx: RequestContext) -> tuple[str, str, int, str]:
    """The parameters of `UPSERT_THREAD_SQL` for one thread."""
    return (
        ctx.user_id,
        thread.id,
        _micros(thread.created_at),
        thread_json(thread).decode(),
    )


class SQLiteStore(Store):
    """Threads, items, attachment records and stream leases in one SQLite file.

    Every row carries its owner and every statement filters on it, so another user's id
    behaves exactly like an unknown one. Several processes may share the file.

    Every operation is one statement in autocommit mode (two only on rare paths; a new
    stream's writes are one transaction run whole on the worker thread): it is
    atomic on its own, needs no explicit transaction that a cancelled coroutine could leave
    open on the shared connection, and costs one hop to aiosqlite's worker thread, which
    dominates latency far more than SQLite itself does.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._db: aiosqlite.Connection | None = None

    @property
    def path(self) -> Path:
        """The database file, for companions that keep their own tables beside the store's."""
        return self._path

    async def open(self) -> None:
        """Open the file (creating it and its directory) and create the schema if needed."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit BEGIN, so each statement commits on its own.
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            for pragma in _PRAGMAS:
                await db.execute_fetchall(pragma)
            await db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        """Close the connection; the store can be opened again."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    # -- plumbing ----------------------------------------------------------------------------

    async def _fetch(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        if self._db is None:
            raise RuntimeError("SQLiteStore used before open() or after close()")
        # aiosqlite runs statements one at a time on its own thread, in call order.
        return list(await self._db.execute_fetchall(sql, params))

    async def _in_worker(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on aiosqlite's thread: several statements for the price of one hop.

        The function runs to its end there even if the awaiting coroutine is cancelled, so a
        transaction it opens is always closed. aiosqlite has no public way to do this; its own
        methods are built on `_execute` the same way.
        """
        if self._db is None:
            raise RuntimeError("SQLiteStore used before open() or after close()")
        db = self._db
        result: T = await db._execute(work, db._conn)  # type: ignore[no-untyped-call]
        return result

    async def _exists(self, table: str, scope: str, params: tuple[Any, ...]) -> bool:
        return bool(await self._fetch(f"SELECT 1 FROM {table} WHERE {scope}", params))

    async def _page(
        self,
        table: str,
        scope: str,
        scope_params: tuple[Any, ...],
        limit: int,
        after: str | None,
        order: Order,
    ) -> tuple[list[str], bool, str | None]:
        # Keyset pagination on the (scope, created_at, seq) index: never OFFSET, so a page deep
        # in the list costs the same as the first one. The cursor row is found by a subquery;
        # an unknown cursor makes the comparison NULL, so only an empty page needs a check.
        # SQLite reads a negative LIMIT as "no limit", and binds only 64-bit integers.
        limit = min(max(limit, 0), _LARGEST_LIMIT)
        where, params = scope, scope_params
        if after is not None:
            where = (
                f"{scope} AND (created_at, seq) {'>' if order == 'asc' else '<'} "
                f"(SELECT created_at, seq FROM {table} WHERE {scope} AND id = ?)"
            )
            params = (*scope_params, *scope_params, after)
        direction = "ASC" if order == "asc" else "DESC"
        # One row beyond the page tells whether there is more, without counting.
        rows = await self._fetch(
            f"SELECT id, data FROM {table} WHERE {where} "
            f"ORDER BY created_at {direction}, seq {direction} LIMIT ?",
            (*params, limit + 1),
        )
        if (
            not rows
            and after is not None
            and not await self._exists(table, f"{scope} AND id = ?", (*scope_params, after))
        ):
            raise NotFoundError("cursor", after)
        has_more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1][0] if has_more and rows else None
        return [row[1] for row in rows], has_more, last

    # -- threads -----------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, ctx: RequestContext) -> ThreadMetadata:
        """Load one thread; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM threads WHERE owner = ? AND id = ?", (ctx.user_id, thread_id)
        )
        if not rows:
            raise NotFoundError("thread", thread_id)
        return THREAD.validate_json(rows[0][0])

    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        """Insert or update a thread; an existing one keeps its place in the listing."""
        await self._fetch(UPSERT_THREAD_SQL, thread_row(thread, ctx))

    async def load_threads(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[ThreadMetadata]:
        """One page of the user's threads."""
        docs, has_more, last = await self._page(
            "threads", "owner = ?", (ctx.user_id,), limit, after, order
        )
        data = [THREAD.validate_json(doc) for doc in docs]
        return Page(data=data, has_more=has_more, after=last)

    async def load_threads_json(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[bytes | str]:
        """One page of the user's threads as their stored documents."""
        docs, has_more, last = await self._page(
            "threads", "owner = ?", (ctx.user_id,), limit, after, order
        )
        return Page(data=list(docs), has_more=has_more, after=last)

    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        """Delete a thread and (by cascade) its items; an unknown thread does nothing."""
        await self._fetch(
            "DELETE FROM threads WHERE owner = ? AND id = ?", (ctx.user_id, thread_id)
        )

    # -- items -------------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: Order, ctx: RequestContext
    ) -> Page[ThreadItem]:
        """One page of a thread's items, hidden items included; raises `NotFoundError`."""
        scope = (ctx.user_id, thread_id)
        docs, has_more, last = await self._page(
            "items", "owner = ? AND thread_id = ?", scope, limit, after, order
        )
        # Rows (or a known cursor) prove the thread exists: items cascade with their thread.
        if (
            not docs
            and not has_more
            and after is None
            and not await self._exists("threads", "owner = ? AND id = ?", scope)
        ):
            raise NotFoundError("thread", thread_id)
        data = [ITEM.validate_json(doc) for doc in docs]
        return Page(data=data, has_more=has_more, after=last)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        """Insert an item; an existing id is replaced in place (SPEC §18 q46)."""
        try:
            await self._fetch(_ADD_ITEM_SQL, _item_row(thread_id, item, ctx))
        except sqlite3.IntegrityError as error:
            # The only constraint a well-formed row can break is the thread foreign key.
            raise NotFoundError("thread", thread_id) from error

    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        """Load one item; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM items WHERE owner = ? AND thread_id = ? AND id = ?",
            (ctx.user_id, thread_id, item_id),
        )
        if not rows:
            raise NotFoundError("item", item_id)
        return ITEM.validate_json(rows[0][0])

    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        """Delete one item; an unknown id does nothing."""
        await self._fetch(
            "DELETE FROM items WHERE owner = ? AND thread_id = ? AND id = ?",
            (ctx.user_id, thread_id, item_id),
        )

    # -- attachments -------------------------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        """Insert or update an attachment record, private metadata included."""
        await self._fetch(
            "INSERT INTO attachments (owner, id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data",
            (ctx.user_id, attachment.id, attachment_json(attachment).decode()),
        )

    async def load_attachment(self, attachment_id: str, ctx: RequestContext) -> Attachment:
        """Load an attachment record with its private metadata; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM attachments WHERE owner = ? AND id = ?",
            (ctx.user_id, attachment_id),
        )
        if not rows:
            raise NotFoundError("attachment", attachment_id)
        return ATTACHMENT.validate_json(rows[0][0])

    async def delete_attachment(self, attachment_id: str, ctx: RequestContext) -> None:
        """Delete an attachment record; an unknown id does nothing."""
        await self._fetch(
            "DELETE FROM attachments WHERE owner = ? AND id = ?", (ctx.user_id, attachment_id)
        )

    # -- stream leases (D15) -----------------------------------------------------------------

    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        """Claim the right to stream on a thread; False while another live lease holds it."""
        rows = await self._fetch(_ACQUIRE_LEASE_SQL, _lease_row(thread_id, token, ttl_seconds, ctx))
        return bool(rows)

    async def start_thread(
        self,
        thread: ThreadMetadata,
        first_item: ThreadItem,
        lease_token: str,
        ttl_seconds: float,
        ctx: RequestContext,
    ) -> bool:
        """Lease a new thread and save it with its first item: one transaction, one hop."""
        lease = _lease_row(thread.id, lease_token, ttl_seconds, ctx)
        rows = (thread_row(thread, ctx), _item_row(thread.id, first_item, ctx))
        return await self._in_worker(
            partial(_start_thread, lease=lease, thread=rows[0], item=rows[1])
        )

    async def release_stream_lease(self, thread_id: str, token: str, ctx: RequestContext) -> None:
        """Give a lease back; a lease held by another token is left alone."""
        await self._fetch(
            "DELETE FROM stream_leases WHERE owner = ? AND thread_id = ? AND token = ?",
            (ctx.user_id, thread_id, token),
        )

    async def stream_lease_remaining(self, thread_id: str, ctx: RequestContext) -> float | None:
        """Seconds until the live lease on a thread expires; None when no live lease holds it."""
        rows = await self._fetch(
            "SELECT expires_at FROM stream_leases WHERE owner = ? AND thread_id = ?",
            (ctx.user_id, thread_id),
        )
        remaining = float(rows[0][0]) - time.time() if rows else 0.0
        return remaining if remaining > 0 else None
