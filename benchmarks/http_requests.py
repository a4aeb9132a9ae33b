"""B5: `threads.list` (20 of 1,000 threads) and `threads.get_by_id` (20 items), 32 clients.

Two ChatKit servers (memory and SQLite store, both prefilled with the same 1,000 threads) and
one bare Starlette server answering the very bodies ours sent, pre-encoded. Each run measures
every server in turn: 32 keep-alive connections, each sending `requests` requests back to back.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks.common import KeepAliveClient, Server, request_bytes, run_async, summary
from benchmarks.serve import ITEMS_THREAD

CLIENTS = 32
THREADS = 1_000
OPERATIONS = {
    "threads.list": {"type": "threads.list", "params": {"limit": 20}},
    "threads.get_by_id": {"type": "threads.get_by_id", "params": {"thread_id": ITEMS_THREAD}},
}


async def _load(port: int, raw: bytes, clients: int, requests: int) -> tuple[float, int]:
    """Wall seconds for `clients` connections x `requests` requests; the count of non-200s."""
    connections = [KeepAliveClient(port) for _ in range(clients)]
    errors = 0

    async def client(connection: KeepAliveClient) -> None:
        nonlocal errors
        for _ in range(requests):
            status, _body = await connection.post(raw)
            errors += status != 200

    try:
        await asyncio.gather(*(c.post(raw) for c in connections))  # connect and warm up
        started = time.perf_counter()
        await asyncio.gather(*(client(c) for c in connections))
        return time.perf_counter() - started, errors
    finally:
        for connection in connections:
            connection.close()


def _measure(server: Server, path: str, body: bytes, requests: int) -> dict[str, float]:
    raw = request_bytes(path, body, keep_alive=True)
    before = server.stats().cpu
    wall, errors = run_async(_load(server.port, raw, CLIENTS, requests))
    cpu = server.stats().cpu - before
    total = CLIENTS * requests
    return {"rps": total / wall, "cpu_us_per_request": cpu / total * 1e6, "errors": errors}


def _fetch(server: Server, body: bytes) -> bytes:
    async def once() -> bytes:
        client = KeepAliveClient(server.port)
        try:
            status, answer = await client.post(request_bytes("/chatkit", body, keep_alive=True))
        finally:
            client.close()
        assert status == 200, answer
        return answer

    return run_async(once())


def run(runs: int, requests: int) -> dict[str, Any]:
    """req/s and server CPU per request of each operation, store and the bare endpoint."""
    results: dict[str, Any] = {"clients": CLIENTS, "requests_per_client": requests}
    with tempfile.TemporaryDirectory(prefix="bench_b5_") as tmp:
        directory = Path(tmp)
        prefill = ["--prefill-threads", str(THREADS)]
        sqlite_store = str(directory / "chatkit.db")
        with (
            Server("chatkit", "--store", "memory", *prefill) as memory,
            Server("chatkit", "--store", sqlite_store, *prefill) as sqlite,
        ):
            stores = {"memory": memory, "sqlite": sqlite}
            bodies = {
                (op, name): _fetch(server, orjson.dumps(request))
                for op, request in OPERATIONS.items()
                for name, server in stores.items()
            }
            body_args = []
            for (op, name), answer in bodies.items():
                (directory / f"{op}.{name}.json").write_bytes(answer)
                body_args += ["--body", f"{op}.{name}={directory / f'{op}.{name}.json'}"]
            with Server("bare-json", *body_args) as bare:
                for op, request in OPERATIONS.items():
                    figures: dict[str, list[float]] = {}
                    for _ in range(runs):
                        for name, server in stores.items():
                            ours = _measure(server, "/chatkit", orjson.dumps(request), requests)
                            base = _measure(bare, f"/json/{op}.{name}", b"{}", requests)
                            for key, value in ours.items():
                                figures.setdefault(f"{name}_{key}", []).append(value)
                            for key, value in base.items():
                                figures.setdefault(f"{name}_bare_{key}", []).append(value)
                            figures.setdefault(f"{name}_rps_share", []).append(
                                ours["rps"] / base["rps"]
                            )
                    results[op] = {
                        "body_bytes": {n: len(bodies[(op, n)]) for n in stores},
                        **{key: summary(values, 3) for key, values in figures.items()},
                    }
    return results
