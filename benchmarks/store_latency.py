"""Latency of the SQLite store's listings at 1,000 and 100,000 threads for one user.

Run: `.venv/bin/python benchmarks/store_latency.py`. Prints a table and writes
`benchmarks/results_store.json`. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.context import RequestContext
from chatkit_proto.items import AssistantMessageItem
from chatkit_proto.threads import ThreadMetadata
from chatkit_stores.sqlite import UPSERT_THREAD_SQL, SQLiteStore, thread_row

SIZES = (1_000, 100_000)
OTHER_USERS = 3
OTHER_USER_THREADS = 2_000
ITEMS = 50
BATCH = 10_000
WARMUP = 200
REPEATS = 2_000
ROUNDS = 20
RESULTS = Path(__file__).with_name("results_store.json")

USER = RequestContext(user_id="bench_user")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def make_threads(count: int, prefix: str) -> list[ThreadMetadata]:
    """`count` threads a second apart; every tenth shares its predecessor's timestamp."""
    return [
        ThreadMetadata(
            id=f"{prefix}_{n:06}",
            title=f"Thread {n}",
            created_at=T0 + timedelta(seconds=n - 1 if n % 10 == 1 else n),
            metadata={"n": n},
        )
        for n in range(count)
    ]


def bulk_save_threads(path: Path, threads: list[ThreadMetadata], ctx: RequestContext) -> None:
    """Benchmark-only bulk load: `save_thread`'s own statement, `BATCH` rows per transaction.

    A second connection to the same file, as another process would have; one transaction per
    row would spend most of the fill time committing.
    """
    with closing(sqlite3.connect(path)) as db:
        for start in range(0, len(threads), BATCH):
            rows = [thread_row(thread, ctx) for thread in threads[start : start + BATCH]]
            with db:
                db.executemany(UPSERT_THREAD_SQL, rows)


async def fill(store: SQLiteStore, path: Path, size: int) -> str:
    """Fill the file; return the id of the thread that holds the items."""
    for other in range(OTHER_USERS):
        ctx = RequestContext(user_id=f"other_{other}")
        bulk_save_threads(path, make_threads(OTHER_USER_THREADS, f"thr_o{other}"), ctx)
    threads = make_threads(size, "thr")
    bulk_save_threads(path, threads, USER)
    busy = threads[size // 2].id
    for n in range(ITEMS):
        item = AssistantMessageItem(
            id=f"msg_{n:03}",
            thread_id=busy,
            created_at=T0 + timedelta(seconds=n // 2),
            content=[AssistantMessageContent(text=f"answer {n} " * 20)],
        )
        await store.add_thread_item(busy, item, USER)
    return busy


async def measure(operations: dict[str, Callable[[], Awaitable[Any]]]) -> dict[str, Any]:
    """p50/p95/mean latency of each operation in microseconds, after a warm-up.

    Operations take turns in short rounds: thread wake-up latency on a small VM drifts between
    modes over seconds, and interleaving exposes every operation to the same drift.
    """
    samples: dict[str, list[float]] = {name: [] for name in operations}
    for operation in operations.values():
        for _ in range(WARMUP):
            await operation()
    for _ in range(ROUNDS):
        for name, operation in operations.items():
            for _ in range(REPEATS // ROUNDS):
                start = time.perf_counter_ns()
                await operation()
                samples[name].append((time.perf_counter_ns() - start) / 1_000)
    results = {}
    for name, values in samples.items():
        cuts = statistics.quantiles(values, n=100)
        results[name] = {
            "p50_us": round(cuts[49], 1),
            "p95_us": round(cuts[94], 1),
            "mean_us": round(statistics.fmean(values), 1),
        }
    return results


async def run(size: int, directory: Path) -> dict[str, Any]:
    """Fill a fresh file with `size` threads and time the listings."""
    path = directory / f"store_{size}.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        started = time.perf_counter()
        busy = await fill(store, path, size)
        fill_seconds = time.perf_counter() - started

        first = await store.load_threads(20, None, "desc", USER)
        assert len(first.data) == 20 and first.has_more
        # A cursor 90% of the way down the newest-first list: OFFSET would scan to it.
        deep_cursor = f"thr_{size // 10:06}"
        deep = await store.load_threads(20, deep_cursor, "desc", USER)
        assert len(deep.data) == 20 and deep.data[0].created_at <= first.data[-1].created_at
        items = await store.load_thread_items(busy, None, 20, "asc", USER)
        assert len(items.data) == 20 and items.has_more

        timings = await measure(
            {
                "load_threads first page (desc, 20)": lambda: store.load_threads(
                    20, None, "desc", USER
                ),
                "load_threads deep page (desc, 20, cursor)": lambda: store.load_threads(
                    20, deep_cursor, "desc", USER
                ),
                "load_thread_items (asc, 20)": lambda: store.load_thread_items(
                    busy, None, 20, "asc", USER
                ),
                "load_thread_items (desc, 20)": lambda: store.load_thread_items(
                    busy, None, 20, "desc", USER
                ),
                "load_thread": lambda: store.load_thread(busy, USER),
            }
        )
    finally:
        await store.close()
    return {
        "threads": size,
        "other_users_threads": OTHER_USERS * OTHER_USER_THREADS,
        "items_in_thread": ITEMS,
        "fill_seconds": round(fill_seconds, 2),
        "file_mb": round(sum(p.stat().st_size for p in directory.glob(f"{path.name}*")) / 1e6, 1),
        "timings": timings,
    }


def print_table(runs: list[dict[str, Any]]) -> None:
    """One row per operation, p50/p95 per size."""
    header = f"{'operation':<44}" + "".join(
        f"{run['threads']:>10,} p50 {run['threads']:>10,} p95" for run in runs
    )
    print(header)
    print("-" * len(header))
    for name in runs[0]["timings"]:
        cells = "".join(
            f"{run['timings'][name]['p50_us']:>14.1f} {run['timings'][name]['p95_us']:>14.1f}"
            for run in runs
        )
        print(f"{name:<44}{cells}")
    for run in runs:
        print(f"fill {run['threads']:,} threads: {run['fill_seconds']} s, {run['file_mb']} MB")


async def main() -> None:
    """Run every size, print the table, write the JSON results."""
    with tempfile.TemporaryDirectory() as directory:
        runs = [await run(size, Path(directory)) for size in SIZES]
    print_table(runs)
    RESULTS.write_text(
        json.dumps(
            {
                "unit": "microseconds per call, through the async SQLiteStore API",
                "repeats": REPEATS,
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "machine": platform.machine(),
                "runs": runs,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    asyncio.run(main())
