"""Runs the store conformance suite against PostgreSQL, plus what only a shared database does.

Needs `CHATKIT_TEST_POSTGRES_URL` (e.g. `postgresql://postgres@127.0.0.1:5432/test`). Every
test gets its own schema with a random name, dropped afterwards, and its own application
name, so nothing here touches another session on the same database.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import orjson
import pytest

from chatkit_proto.errors import StoreUnavailable
from chatkit_proto.server import NonStreamingResult
from chatkit_proto.store.base import Store
from chatkit_stores import PostgresStore
from chatkit_stores.postgres import MIGRATIONS, _page_sql
from tests.apps import ScriptedApp
from tests.store_conformance import ALICE, BOB, StoreConformance, thread

POSTGRES_URL = os.environ.get("CHATKIT_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="CHATKIT_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)",
)


def with_query(url: str, **params: str) -> str:
    """The URL with extra query parameters."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


@pytest.fixture
async def schema() -> AsyncIterator[str]:
    """A fresh schema name; the schema, if created, is dropped with everything in it."""
    name = f"chatkit_test_{secrets.token_hex(6)}"
    yield name
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await connection.close()


@pytest.fixture
def dsn(schema: str) -> str:
    """The test database URL, tagged so this test's sessions can be found and only those."""
    return with_query(POSTGRES_URL, application_name=schema)


@pytest.fixture
async def store(dsn: str, schema: str) -> AsyncIterator[PostgresStore]:
    """A fresh, opened PostgreSQL store."""
    opened = PostgresStore(dsn, schema=schema)
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def admin(store: Store, schema: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own to the store's schema, as an operator's psql would be."""
    connection = await asyncpg.connect(POSTGRES_URL, server_settings={"search_path": schema})
    yield connection
    await connection.close()


class TestPostgresConformance(StoreConformance):
    """The shared suite, on PostgreSQL."""


# -- schema and migrations ---------------------------------------------------------------------


async def applied_versions(connection: asyncpg.Connection) -> list[int]:
    """The versions recorded in `schema_migrations`, in order."""
    rows = await connection.fetch("SELECT version FROM schema_migrations ORDER BY version")
    return [row["version"] for row in rows]


async def test_reopening_keeps_data_and_applies_nothing_twice(
    store: PostgresStore, dsn: str, schema: str, admin: asyncpg.Connection
) -> None:
    await store.save_thread(thread("thr_1", 0, title="kept"), ALICE)
    await store.close()
    again = PostgresStore(dsn, schema=schema)
    await again.open()
    try:
        assert (await again.load_thread("thr_1", ALICE)).title == "kept"
        assert await applied_versions(admin) == [version for version, _ in MIGRATIONS]
    finally:
        await again.close()


async def test_stores_opening_at_once_migrate_once(dsn: str, schema: str) -> None:
    stores = [PostgresStore(dsn, schema=schema) for _ in range(3)]
    # The schema does not exist yet: all three race to create it and its tables.
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await stores[0].save_thread(thread("thr_1"), ALICE)
        for other in stores[1:]:
            assert (await other.load_thread("thr_1", ALICE)).id == "thr_1"
        connection = await asyncpg.connect(dsn, server_settings={"search_path": schema})
        try:
            assert await applied_versions(connection) == [version for version, _ in MIGRATIONS]
        finally:
            await connection.close()
    finally:
        await asyncio.gather(*(s.close() for s in stores))


@pytest.mark.parametrize(
    "name", ["Public", "my-schema", "x; DROP TABLE y", "pg_temp", "", "a" * 64]
)
def test_schema_must_be_a_plain_identifier(name: str) -> None:
    with pytest.raises(ValueError, match="schema"):
        PostgresStore(POSTGRES_URL, schema=name)


async def test_used_before_open_fails_clearly(dsn: str) -> None:
    with pytest.raises(RuntimeError, match="open"):
        await PostgresStore(dsn).load_thread("thr_1", ALICE)


async def explain(connection: asyncpg.Connection, sql: str, *args: object) -> str:
    """The plan PostgreSQL picks when it can neither scan the table nor sort."""
    async with connection.transaction():
        # A tiny table is cheapest to scan and sort; forbidding both shows whether an index
        # alone yields the page order (if none did, a Sort would be planned regardless).
        await connection.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off")
        plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return orjson.dumps(orjson.loads(plan)).decode()


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_read_the_keyset_index_in_order(
    store: PostgresStore, admin: asyncpg.Connection, order: str
) -> None:
    await store.save_thread(thread("thr_1"), ALICE)
    for with_cursor in (False, True):
        cursor = ("thr_1",) if with_cursor else ()
        plan = await explain(admin, _page_sql("threads", order, with_cursor), "alice", *cursor, 21)
        assert '"threads_page"' in plan and '"Sort"' not in plan
        cursor = ("msg_1",) if with_cursor else ()
        plan = await explain(
            admin, _page_sql("items", order, with_cursor), "alice", "thr_1", *cursor, 21
        )
        assert '"items_page"' in plan and '"Sort"' not in plan


# -- two processes on one database --------------------------------------------------------------


@pytest.fixture
async def second(store: PostgresStore, dsn: str, schema: str) -> AsyncIterator[PostgresStore]:
    """Another store on the same schema with a pool of its own, as another process has."""
    other = PostgresStore(dsn, schema=schema)
    await other.open()
    yield other
    await other.close()


async def test_lease_held_by_one_process_blocks_the_other(
    store: PostgresStore, second: PostgresStore
) -> None:
    assert await store.acquire_stream_lease("thr_1", "tok_one", 60, ALICE) is True
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is False
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, BOB) is True
    await second.release_stream_lease("thr_1", "tok_two", ALICE)
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is False
    await store.release_stream_lease("thr_1", "tok_one", ALICE)
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is True


async def test_lease_of_a_crashed_process_expires(
    store: PostgresStore, second: PostgresStore, admin: asyncpg.Connection
) -> None:
    assert await store.acquire_stream_lease("thr_1", "tok_one", 60, ALICE) is True
    await store.close()  # gone without releasing, as a killed process would be
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is False
    # The database's clock decides expiry: move the lease's end into the past, as if the
    # 60 seconds had gone by.
    await admin.execute("UPDATE stream_leases SET expires_at = clock_timestamp() - interval '1s'")
    assert await second.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is True
    assert await second.acquire_stream_lease("thr_1", "tok_one", 60, ALICE) is False


async def test_concurrent_acquires_across_processes_have_one_winner(
    store: PostgresStore, second: PostgresStore
) -> None:
    attempts = [
        (store if n % 2 else second).acquire_stream_lease("thr_1", f"tok_{n}", 60, ALICE)
        for n in range(20)
    ]
    assert (await asyncio.gather(*attempts)).count(True) == 1


async def test_writes_of_one_process_are_seen_by_the_other(
    store: PostgresStore, second: PostgresStore
) -> None:
    await store.save_thread(thread("thr_1", 0), ALICE)
    await second.save_thread(thread("thr_2", 0), ALICE)
    page = await store.load_threads(20, None, "asc", ALICE)
    assert [t.id for t in page.data] == ["thr_1", "thr_2"]
    await second.delete_thread("thr_1", ALICE)
    page = await store.load_threads(20, None, "asc", ALICE)
    assert [t.id for t in page.data] == ["thr_2"]


# -- outages ------------------------------------------------------------------------------------


async def terminate_while_pending(
    admin: asyncpg.Connection, application_name: str, call: asyncio.Future[object]
) -> int:
    """End every tagged session whenever one blocks on a lock, until `call` is done.

    That is what a database going down does to the store's pool (the store's retry on a
    fresh connection meets the same fate), done to this test's sessions only. Returns how
    many times sessions were ended.
    """
    sql = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = $1 AND wait_event_type = 'Lock'"
    )
    rounds = 0
    while not call.done():
        # Inside a transaction, statistics views keep the snapshot of their first read.
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        if await admin.fetchval(sql, application_name):
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = $1",
                application_name,
            )
            rounds += 1
        await asyncio.sleep(0.01)
    return rounds


async def test_restart_fails_the_call_in_flight_then_recovers(
    store: PostgresStore, admin: asyncpg.Connection, schema: str
) -> None:
    await store.save_thread(thread("thr_1"), ALICE)
    async with admin.transaction():
        await admin.execute("LOCK TABLE threads IN ACCESS EXCLUSIVE MODE")
        in_flight = asyncio.ensure_future(store.load_threads(20, None, "desc", ALICE))
        rounds = await asyncio.wait_for(terminate_while_pending(admin, schema, in_flight), 30)
        with pytest.raises(StoreUnavailable) as raised:
            await in_flight
    # Once on the first connection, once on the fresh one it was retried on.
    assert rounds == 2
    assert (raised.value.status, raised.value.code) == (503, "store.unavailable")
    page = await store.load_threads(20, None, "desc", ALICE)
    assert [t.id for t in page.data] == ["thr_1"]


async def test_a_connection_closed_while_idle_is_replaced_without_an_error(
    store: PostgresStore, schema: str
) -> None:
    await store.save_thread(thread("thr_1"), ALICE)
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            schema,
        )
    finally:
        await connection.close()
    # No await between the restart and the call: the pool has not noticed the closed
    # connection yet, so the call meets it and is retried on a fresh one.
    page = await store.load_threads(20, None, "desc", ALICE)
    assert [t.id for t in page.data] == ["thr_1"]


async def test_outage_answers_503_with_retry_after(
    store: PostgresStore, admin: asyncpg.Connection, schema: str
) -> None:
    server = ScriptedApp(store)
    request = b'{"type":"threads.list","params":{}}'
    async with admin.transaction():
        await admin.execute("LOCK TABLE threads IN ACCESS EXCLUSIVE MODE")
        in_flight = asyncio.ensure_future(server.process(request, ALICE))
        await asyncio.wait_for(terminate_while_pending(admin, schema, in_flight), timeout=30)
        result = await in_flight
    assert isinstance(result, NonStreamingResult)
    assert (result.status, result.headers) == (503, {"retry-after": "1"})
    assert orjson.loads(result.body)["code"] == "store.unavailable"
    recovered = await server.process(request, ALICE)
    assert isinstance(recovered, NonStreamingResult) and recovered.status == 200


async def test_unreachable_database_is_unavailable_without_the_password() -> None:
    # Port 1 on loopback: nothing listens, so the connection is refused at once.
    unreachable = PostgresStore("postgresql://chatkit:s3cret-pw@127.0.0.1:1/chatkit")
    with pytest.raises(StoreUnavailable) as raised:
        await unreachable.open()
    error: BaseException | None = raised.value
    assert raised.value.status == 503
    while error is not None:
        assert "s3cret-pw" not in f"{error!s} {error!r}"
        error = error.__cause__


async def test_cancelled_calls_leave_no_open_transaction(
    store: PostgresStore, second: PostgresStore, admin: asyncpg.Connection, schema: str
) -> None:
    for _ in range(20):
        attempt = asyncio.ensure_future(store.acquire_stream_lease("thr_1", "tok", 60, ALICE))
        await asyncio.sleep(0)
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
    await asyncio.wait_for(second.save_thread(thread("thr_2"), ALICE), timeout=30)
    await store.save_thread(thread("thr_3"), ALICE)
    stuck = await admin.fetchval(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = $1 AND state LIKE 'idle in transaction%'",
        schema,
    )
    assert stuck == 0
