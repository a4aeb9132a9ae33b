"""B6: SQLite page latency at 1,000 vs 100,000 threads, through `store_latency`'s fill and timer.

Each run calls `store_latency.measure` once (interleaved rounds, warm-up) and keeps its p50;
the figure is the median p50 over runs, and the growth is the ratio of the two sizes' p50s.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import store_latency
from benchmarks.common import summary
from chatkit_stores.sqlite import SQLiteStore

SMALL, LARGE = store_latency.SIZES
USER = store_latency.USER


async def _size(size: int, directory: Path, runs: int) -> dict[str, list[float]]:
    path = directory / f"store_{size}.db"
    store = SQLiteStore(path)
    await store.open()
    try:
        busy = await store_latency.fill(store, path, size)
        deep_cursor = f"thr_{size // 10:06}"
        operations = {
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


def run(runs: int, repeats: int) -> dict[str, Any]:
    """p50 µs per operation and size, and the growth from the small to the large store."""
    store_latency.REPEATS = repeats
    store_latency.WARMUP = max(50, repeats // 10)
    with tempfile.TemporaryDirectory(prefix="bench_b6_") as tmp:
        small = asyncio.run(_size(SMALL, Path(tmp), runs))
        large = asyncio.run(_size(LARGE, Path(tmp), runs))
    results: dict[str, Any] = {"sizes": [SMALL, LARGE], "repeats_per_run": repeats}
    for name in small:
        growth = [b / a for a, b in zip(small[name], large[name], strict=True)]
        results[name] = {
            f"p50_us_{SMALL}": summary(small[name], 1),
            f"p50_us_{LARGE}": summary(large[name], 1),
            "growth": summary(growth),
        }
    return results
