"""A store in PostgreSQL, shared by any number of server processes (SPEC §12)."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from functools import cache
from typing import Any, Literal

import asyncpg

from chatkit_proto.attachments import Attachment
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import StoreUnavailable
from chatkit_proto.items import ThreadItem
from chatkit_proto.store.base import NotFoundError, Order, Store
from chatkit_proto.store.rows import (
    ATTACHMENT,
    ITEM,
    THREAD,
    attachment_json,
    item_json,
    thread_json,
)
from chatkit_proto.threads import Page, ThreadMetadata

logger = logging.getLogger("chatkit_stores.postgres")

# Any constant works as long as nothing else in the database uses it: it only serialises the
# migrations of store processes starting at the same time.
MIGRATION_LOCK = 0x43484B5453544F52  # "CHKTSTOR"

# A lowercase identifier needs no quoting and means the same in SQL and in `search_path`.
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")

# JSON documents are `text`: the store never looks inside them, so `jsonb` would only add a
# parse on every write and hand back a re-serialised document instead of the bytes written.
# `seq` is an identity column: it grows with insertion order, which is all a tie-breaker among
# equal `created_at` needs. Ids are unique per owner, not globally, as in the SQLite store.
_SCHEMA_V1 = """
CREATE TABLE threads (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner text NOT NULL,
    id text NOT NULL,
    created_at timestamptz NOT NULL,
    data text NOT NULL,
    UNIQUE (owner, id)
);
CREATE INDEX threads_page ON threads (owner, created_at, seq);

CREATE TABLE items (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner text NOT NULL,
    thread_id text NOT NULL,
    id text NOT NULL,
    created_at timestamptz NOT NULL,
    data text NOT NULL,
    UNIQUE (owner, thread_id, id),
    FOREIGN KEY (owner, thread_id) REFERENCES threads (owner, id) ON DELETE CASCADE
);
CREATE INDEX items_page ON items (owner, thread_id, created_at, seq);

CREATE TABLE attachments (
    owner text NOT NULL,
    id text NOT NULL,
    data text NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE stream_leases (
    owner text NOT NULL,
    thread_id text NOT NULL,
    token text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (owner, thread_id)
);
"""

# Attachment bytes live in the database so that every server process can serve them; they
# are written before their record (uploads store bytes first), so no foreign key. Apps'
# records are ordered by `seq`, which an upsert of an existing key leaves alone.
_SCHEMA_V2 = """
CREATE TABLE attachment_bytes (
    owner text NOT NULL,
    id text NOT NULL,
    data bytea NOT NULL,
    PRIMARY KEY (owner, id)
);

CREATE TABLE app_records (
    seq bigint GENERATED ALWAYS AS IDENTITY,
    namespace text NOT NULL,
    owner text NOT NULL,
    key text NOT NULL,
    value text NOT NULL,
    PRIMARY KEY (namespace, owner, key)
);
CREATE INDEX app_records_order ON app_records (namespace, owner, seq);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _SCHEMA_V1), (2, _SCHEMA_V2))
"""Schema versions in order; a released version is never edited, only followed by a new one."""

_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

THREAD_COLUMNS = ("owner", "id", "created_at", "data")
"""The columns `thread_record` fills, in order, for bulk loaders using COPY."""

_UPSERT_THREAD = (
    "INSERT INTO threads (owner, id, created_at, data) VALUES ($1, $2, $3, $4) "
    "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data"
)

# The lease statement reads the database's clock, not the caller's: every process compares
# expiry against the same clock however far apart their hosts' clocks drift.
_ACQUIRE_LEASE = (
    "INSERT INTO stream_leases (owner, thread_id, token, expires_at) "
    "VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4)) "
    "ON CONFLICT (owner, thread_id) DO UPDATE "
    "SET token = excluded.token, expires_at = excluded.expires_at "
    "WHERE stream_leases.token = excluded.token "
    "OR stream_leases.expires_at <= clock_timestamp() "
    "RETURNING token"
)

# A new stream's lease, thread and first message in one statement: the thread and the item are
# written only when the lease was taken, so a refused start leaves nothing behind. The item's
# foreign key is checked at the end of the statement, when the thread row exists.
_START_THREAD = (
    "WITH lease AS ("
    "INSERT INTO stream_leases (owner, thread_id, token, expires_at) "
    "VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4)) "
    "ON CONFLICT (owner, thread_id) DO UPDATE "
    "SET token = excluded.token, expires_at = excluded.expires_at "
    "WHERE stream_leases.token = excluded.token "
    "OR stream_leases.expires_at <= clock_timestamp() "
    "RETURNING token), "
    "thread AS ("
    "INSERT INTO threads (owner, id, created_at, data) "
    "SELECT $1, $2, $5, $6 WHERE EXISTS (SELECT 1 FROM lease) "
    "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data RETURNING id) "
    "INSERT INTO items (owner, thread_id, id, created_at, data) "
    "SELECT $1, $2, $7, $8, $9 WHERE EXISTS (SELECT 1 FROM thread) "
    "ON CONFLICT (owner, thread_id, id) DO UPDATE SET data = excluded.data "
    "RETURNING id"
)

# What a lost or refused connection, a server shutting down or out of resources raise;
# OSError covers ConnectionError and the socket errors of an unreachable host.
_OUTAGES: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    OSError,
    TimeoutError,
)

# What a pooled connection the database has closed (a restart, a failover, an idle timeout
# of a proxy) raises when it is used before this process has noticed.
# A connection told of its end while idle refuses the next statement with an
# InternalClientError ("another operation is in progress") until it sees the socket close.
# Only these are retried: a refused connection or a timeout means the database is down.
_LOST_CONNECTION: tuple[type[BaseException], ...] = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InternalClientError,
    ConnectionResetError,
    BrokenPipeError,
)

_CLOSE_TIMEOUT_SECONDS = 10.0


def thread_record(thread: ThreadMetadata, ctx: RequestContext) -> tuple[str, str, datetime, str]:
    """One thread's row in `THREAD_COLUMNS` order, as `save_thread` writes it."""
    return (ctx.user_id, thread.id, thread.created_at, thread_json(thread).decode())


def check_schema_name(schema: str) -> str:
    """The name if it can be a schema of the store; raises `ValueError` naming the rule."""
    if not _SCHEMA_NAME.fullmatch(schema) or schema.startswith("pg_"):
        raise ValueError(
            f"schema must be a lowercase identifier (a-z, 0-9, _; not pg_*), got {schema!r}"
        )
    return schema


def _is_outage(error: BaseException) -> bool:
    """Whether an exception means the database is unreachable rather than the call wrong."""
    # DataError and ClientConfigurationError are InterfaceErrors too, but also ValueErrors:
    # a bad argument or setting, which no retry will fix.
    return isinstance(error, _OUTAGES) and not isinstance(error, ValueError)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook in place of asyncpg's reset query, saving a round trip per call.

    asyncpg rolls back an open transaction before calling it; the store sets no session state
    (no LISTEN, cursors, SET or session advisory locks), so there is nothing else to reset.
    """


def _outage(error: BaseException) -> StoreUnavailable:
    # The message names the failure but never the DSN, which may carry a password.
    logger.warning("PostgreSQL unavailable: %s: %s", type(error).__name__, error)
    return StoreUnavailable()


@cache
def _page_sql(table: Literal["threads", "items"], order: Order, with_cursor: bool) -> str:
    # Keyset pagination on the (scope, created_at, seq) index: never OFFSET, so a page deep in
    # the list costs the same as the first one. The cursor row is found by a subquery; an
    # unknown cursor makes the comparison NULL, so only an empty page needs a check.
    scope = "owner = $1" if table == "threads" else "owner = $1 AND thread_id = $2"
    arg = 2 if table == "threads" else 3  # the first placeholder after the scope's
    where = scope
    if with_cursor:
        where = (
            f"{scope} AND (created_at, seq) {'>' if order == 'asc' else '<'} "
            f"(SELECT created_at, seq FROM {table} WHERE {scope} AND id = ${arg})"
        )
        arg += 1
    direction = "ASC" if order == "asc" else "DESC"
    return (
        f"SELECT id, data FROM {table} WHERE {where} "
        f"ORDER BY created_at {direction}, seq {direction} LIMIT ${arg}"
    )


_LARGEST_LIMIT = 2**62


class PostgresStore(Store):
    """Threads, items, attachment records and stream leases in PostgreSQL, through a pool.

    Every row carries its owner and every statement filters on it, so another user's id
    behaves exactly like an unknown one. Every operation is one autocommit statement (two only
    on rare paths), so a cancelled call never leaves a transaction open on a pooled
    connection. A lost database raises `StoreUnavailable` (503); the pool replaces broken
    connections, and a statement that met one is tried once more, so calls succeed again as
    soon as the database is back.
    """

    def __init__(
        self, dsn: str, *, min_size: int = 1, max_size: int = 10, schema: str | None = None
    ) -> None:
        if schema is not None:
            check_schema_name(schema)
        self._dsn = dsn
        self._min_size = min_size
        self._max_size = max_size
        self._schema = schema
        self._pool: asyncpg.Pool | None = None

    @property
    def schema(self) -> str | None:
        """The PostgreSQL schema holding the tables, or None for the server's search_path."""
        return self._schema

    async def open(self) -> None:
        """Connect the pool and bring the schema up to date, creating it if needed."""
        settings = {"search_path": self._schema} if self._schema else None
        try:
            pool = await asyncpg.create_pool(
                self._dsn,
                min_size=self._min_size,
                max_size=self._max_size,
                server_settings=settings,
                reset=_keep_session,
            )
        except Exception as error:
            if _is_outage(error):
                raise _outage(error) from error
            raise
        try:
            await self._migrate(pool)
        except BaseException:
            pool.terminate()
            raise
        self._pool = pool

    async def close(self) -> None:
        """Close the pool, waiting a while for calls in flight; the store can be opened again."""
        if self._pool is None:
            return
        pool, self._pool = self._pool, None
        try:
            await asyncio.wait_for(pool.close(), _CLOSE_TIMEOUT_SECONDS)
        except TimeoutError:
            pool.terminate()

    async def _migrate(self, pool: asyncpg.Pool) -> None:
        try:
            async with pool.acquire() as connection, connection.transaction():
                # Held to the end of the transaction: processes starting together take turns,
                # and each sees the versions the one before it applied.
                await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                if self._schema:
                    await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
                await connection.execute(_MIGRATIONS_TABLE)
                rows = await connection.fetch("SELECT version FROM schema_migrations")
                applied = {row["version"] for row in rows}
                for version, sql in MIGRATIONS:
                    if version not in applied:
                        await connection.execute(sql)
                        await connection.execute(
                            "INSERT INTO schema_migrations (version) VALUES ($1)", version
                        )
        except Exception as error:
            if _is_outage(error):
                raise _outage(error) from error
            raise

    # -- plumbing ----------------------------------------------------------------------------

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        """One statement on the store's pool, outages raised as `StoreUnavailable`.

        For the companions of this package that keep tables of the store's schema (attachment
        bytes, apps' records) on the same connections.
        """
        return await self._fetch(sql, *args)

    async def _fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        if self._pool is None:
            raise RuntimeError("PostgresStore used before open() or after close()")
        pool = self._pool
        try:
            try:
                return await pool.fetch(sql, *args)
            except _LOST_CONNECTION:
                # The database went away (a restart): every pooled connection is as dead as
                # this one, so all are replaced, and the statement runs once more on a new
                # one. Every statement here is idempotent (upserts, deletes, a lease claimed
                # again by its own token): a second run changes nothing, though a delete
                # that had committed then reports no row.
                await pool.expire_connections()
                return await pool.fetch(sql, *args)
        except Exception as error:
            if _is_outage(error):
                raise _outage(error) from error
            raise

    async def _exists(self, sql: str, *args: Any) -> bool:
        return bool(await self._fetch(sql, *args))

    async def _page(
        self,
        table: Literal["threads", "items"],
        scope: tuple[str, ...],
        limit: int,
        after: str | None,
        order: Order,
    ) -> tuple[list[str], bool, str | None]:
        # PostgreSQL rejects a negative LIMIT, and `limit + 1` must fit in a bigint.
        limit = min(max(limit, 0), _LARGEST_LIMIT)
        cursor = () if after is None else (after,)
        sql = _page_sql(table, order, after is not None)
        # One row beyond the page tells whether there is more, without counting.
        rows = await self._fetch(sql, *scope, *cursor, limit + 1)
        if not rows and after is not None and not await self._cursor_exists(table, scope, after):
            raise NotFoundError("cursor", after)
        has_more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1]["id"] if has_more and rows else None
        return [row["data"] for row in rows], has_more, last

    async def _cursor_exists(
        self, table: Literal["threads", "items"], scope: tuple[str, ...], row_id: str
    ) -> bool:
        if table == "threads":
            return await self._exists(
                "SELECT 1 FROM threads WHERE owner = $1 AND id = $2", *scope, row_id
            )
        return await self._exists(
            "SELECT 1 FROM items WHERE owner = $1 AND thread_id = $2 AND id = $3", *scope, row_id
        )

    # -- threads -----------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, ctx: RequestContext) -> ThreadMetadata:
        """Load one thread; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM threads WHERE owner = $1 AND id = $2", ctx.user_id, thread_id
        )
        if not rows:
            raise NotFoundError("thread", thread_id)
        return THREAD.validate_json(rows[0]["data"])

    async def save_thread(self, thread: ThreadMetadata, ctx: RequestContext) -> None:
        """Insert or update a thread; an existing one keeps its place in the listing."""
        await self._fetch(_UPSERT_THREAD, *thread_record(thread, ctx))

    async def load_threads(
        self, limit: int, after: str | None, order: Order, ctx: RequestContext
    ) -> Page[ThreadMetadata]:
        """One page of the user's threads."""
        docs, has_more, last = await self._page("threads", (ctx.user_id,), limit, after, order)
        data = [THREAD.validate_json(doc) for doc in docs]
        return Page(data=data, has_more=has_more, after=last)

    async def delete_thread(self, thread_id: str, ctx: RequestContext) -> None:
        """Delete a thread and (by cascade) its items; an unknown thread does nothing."""
        await self._fetch(
            "DELETE FROM threads WHERE owner = $1 AND id = $2", ctx.user_id, thread_id
        )

    # -- items -------------------------------------------------------------------------------

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: Order, ctx: RequestContext
    ) -> Page[ThreadItem]:
        """One page of a thread's items, hidden items included; raises `NotFoundError`."""
        scope = (ctx.user_id, thread_id)
        docs, has_more, last = await self._page("items", scope, limit, after, order)
        # Rows (or a known cursor) prove the thread exists: items cascade with their thread.
        if (
            not docs
            and not has_more
            and after is None
            and not await self._exists("SELECT 1 FROM threads WHERE owner = $1 AND id = $2", *scope)
        ):
            raise NotFoundError("thread", thread_id)
        data = [ITEM.validate_json(doc) for doc in docs]
        return Page(data=data, has_more=has_more, after=last)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, ctx: RequestContext) -> None:
        """Insert an item; an existing id is replaced in place (SPEC §18 q46)."""
        try:
            await self._fetch(
                "INSERT INTO items (owner, thread_id, id, created_at, data) "
                "VALUES ($1, $2, $3, $4, $5) "
                "ON CONFLICT (owner, thread_id, id) DO UPDATE SET data = excluded.data",
                ctx.user_id,
                thread_id,
                item.id,
                item.created_at,
                item_json(item).decode(),
            )
        except asyncpg.ForeignKeyViolationError as error:
            raise NotFoundError("thread", thread_id) from error

    async def load_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> ThreadItem:
        """Load one item; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM items WHERE owner = $1 AND thread_id = $2 AND id = $3",
            ctx.user_id,
            thread_id,
            item_id,
        )
        if not rows:
            raise NotFoundError("item", item_id)
        return ITEM.validate_json(rows[0]["data"])

    async def delete_thread_item(self, thread_id: str, item_id: str, ctx: RequestContext) -> None:
        """Delete one item; an unknown id does nothing."""
        await self._fetch(
            "DELETE FROM items WHERE owner = $1 AND thread_id = $2 AND id = $3",
            ctx.user_id,
            thread_id,
            item_id,
        )

    # -- attachments -------------------------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, ctx: RequestContext) -> None:
        """Insert or update an attachment record, private metadata included."""
        await self._fetch(
            "INSERT INTO attachments (owner, id, data) VALUES ($1, $2, $3) "
            "ON CONFLICT (owner, id) DO UPDATE SET data = excluded.data",
            ctx.user_id,
            attachment.id,
            attachment_json(attachment).decode(),
        )

    async def load_attachment(self, attachment_id: str, ctx: RequestContext) -> Attachment:
        """Load an attachment record with its private metadata; raises `NotFoundError`."""
        rows = await self._fetch(
            "SELECT data FROM attachments WHERE owner = $1 AND id = $2",
            ctx.user_id,
            attachment_id,
        )
        if not rows:
            raise NotFoundError("attachment", attachment_id)
        return ATTACHMENT.validate_json(rows[0]["data"])

    async def delete_attachment(self, attachment_id: str, ctx: RequestContext) -> None:
        """Delete an attachment record; an unknown id does nothing."""
        await self._fetch(
            "DELETE FROM attachments WHERE owner = $1 AND id = $2", ctx.user_id, attachment_id
        )

    # -- stream leases (D15) -----------------------------------------------------------------

    async def acquire_stream_lease(
        self, thread_id: str, token: str, ttl_seconds: float, ctx: RequestContext
    ) -> bool:
        """Claim the right to stream on a thread; False while another live lease holds it."""
        # ON CONFLICT locks the existing row and re-checks the WHERE against its latest
        # version, so of two processes racing for one thread exactly one gets a row back:
        # inserted, renewed by its own token, or taken over from an expired lease.
        rows = await self._fetch(_ACQUIRE_LEASE, ctx.user_id, thread_id, token, float(ttl_seconds))
        return bool(rows)

    async def start_thread(
        self,
        thread: ThreadMetadata,
        first_item: ThreadItem,
        lease_token: str,
        ttl_seconds: float,
        ctx: RequestContext,
    ) -> bool:
        """Lease a new thread and save it with its first item: one statement, one round trip."""
        rows = await self._fetch(
            _START_THREAD,
            ctx.user_id,
            thread.id,
            lease_token,
            float(ttl_seconds),
            thread.created_at,
            thread_json(thread).decode(),
            first_item.id,
            first_item.created_at,
            item_json(first_item).decode(),
        )
        return bool(rows)

    async def stream_lease_remaining(self, thread_id: str, ctx: RequestContext) -> float | None:
        """Seconds until the live lease on a thread expires; None when no live lease holds it."""
        rows = await self.fetch(
            "SELECT EXTRACT(EPOCH FROM expires_at - clock_timestamp()) AS remaining "
            "FROM stream_leases WHERE owner = $1 AND thread_id = $2",
            ctx.user_id,
            thread_id,
        )
        remaining = float(rows[0]["remaining"]) if rows else 0.0
        return remaining if remaining > 0 else None

    async def release_stream_lease(self, thread_id: str, token: str, ctx: RequestContext) -> None:
        """Give a lease back; a lease held by another token is left alone."""
        await self._fetch(
            "DELETE FROM stream_leases WHERE owner = $1 AND thread_id = $2 AND token = $3",
            ctx.user_id,
            thread_id,
            token,
        )
