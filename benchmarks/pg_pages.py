"""PostgreSQL page latency at 1,000 vs 100,000 threads: B6 (`b6_pages`) on `PostgresStore`.

Run: `python -m benchmarks.pg_pages [runs] [repeats]` with `CHATKIT_BENCH_POSTGRES_URL` set (or a
trust-auth server on 127.0.0.1:5432, database `test`). Each size fills a fresh schema, dropped
afterwards. Each run calls `store_latency.measure` once (interleaved rounds, warm-up) and keeps
its p50; the figure is the median p50 over runs, the growth the ratio of the sizes' p50s.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import asyncpg

from benchmarks import store_latency
from benchmarks.common import summary
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.items import AssistantMessageItem
from chatkit_proto.threads import ThreadMetadata
from chatkit_stores.postgres import THREAD_COLUMNS, PostgresStore, thread_record

DSN = os.environ.get("CHATKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SMALL, LARGE = store_latency.SIZES
USER = store_latency.USER


def available() -> bool:
    """Whether a PostgreSQL server answers at `DSN`."""

    async def probe() -> None:
        connection = await asyncpg.connect(DSN, timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def bulk_save_threads(
    connection: asyncpg.Connection, threads: list[ThreadMetadata], ctx: RequestContext
) -> None:
    """Benchmark-only bulk load: `save_thread`'s rows through COPY, in batches."""
    for start in range(0, len(threads), store_latency.BATCH):
        batch = threads[start : start + store_latency.BATCH]
        await connection.copy_records_to_table(
            "threads", records=[thread_record(t, ctx) for t in batch], columns=THREAD_COLUMNS
        )


async def fill(store: PostgresStore, schema: str, size: int) -> str:
    """Fill the schema as `store_latency.fill` fills a file; return the busy thread's id."""
    connection = await asyncpg.connect(DSN, server_settings={"search_path": schema})
    try:
        for other in range(store_latency.OTHER_USERS):
            ctx = RequestContext(user_id=f"other_{other}")
            threads = store_latency.make_threads(store_latency.OTHER_USER_THREADS, f"thr_o{other}")
            await bulk_save_threads(connection, threads, ctx)
        threads = store_latency.make_threads(size, "thr")
        await bulk_save_threads(connection, threads, USER)
        # Autovacuum would analyse the table soon after such a load; do it now.
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    busy = threads[size // 2].id
    for n in range(store_latency.ITEMS):
        item = AssistantMessageItem(
            id=f"msg_{n:03}",
            thread_id=busy,
            created_at=store_latency.T0 + timedelta(seconds=n // 2),
            content=[AssistantMessageContent(text=f"answer {n} " * 20)],
        )
        await store.add_thread_item(busy, item, USER)
    return busy


async def _size(size: int, runs: int) -> dict[str, list[float]]:
    schema = f"bench_pg_{secrets.token_hex(6)}"
    store = PostgresStore(DSN, schema=schema)
    await store.open()
    try:
        busy = await fill(store, schema, size)
        deep_cursor = f"thr_{size // 10:06}"
        operations: dict[str, Callable[[], Awaitable[Any]]] = {
            "threads.list first page": lambda: store.load_threads(20, None, "desc", USER),
            "threads.list deep page": lambda: store.load_threads(20, deep_cursor, "desc", USER),
            "items.list page": lambda: store.load_thread_items(busy, None, 20, "asc", USER),
        }
        p50s: dict[str, list[float]] = {name: [] for name in operations}
        for _ in range(runs):
            timings = await store_latency.measure(operations)
            for name, figures in timings.items():
                p50s[name].append(figures["p50_us"])
        return p50s
    finally:
        await store.close()
        connection = await asyncpg.connect(DSN)
        try:
            await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await connection.close()


def run(runs: int, repeats: int) -> dict[str, Any]:
    """p50 µs per operation and size, and the growth from the small to the large store."""
    store_latency.REPEATS = repeats
    store_latency.WARMUP = max(50, repeats // 10)
    small = asyncio.run(_size(SMALL, runs))
    large = asyncio.run(_size(LARGE, runs))
    results: dict[str, Any] = {"sizes": [SMALL, LARGE], "repeats_per_run": repeats}
    for name in small:
        growth = [b / a for a, b in zip(small[name], large[name], strict=True)]
        results[name] = {
            f"p50_us_{SMALL}": summary(small[name], 1),
            f"p50_us_{LARGE}": summary(large[name], 1),
            "growth": summary(growth),
        }
    return results


if __name__ == "__main__":
    RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    REPEATS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    print(json.dumps(run(RUNS, REPEATS), indent=2))
