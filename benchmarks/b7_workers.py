"""B7: B4's 300 concurrent streams on several server processes sharing PostgreSQL.

`python -m benchmarks.b7_workers [runs]`. Each configuration is `server.py` (the conformance
app, B4's script: 50 deltas, 0.02 s before each script event) on a fresh store, started
afresh for every run: 1 worker on SQLite (the single-process default), 1 and 4 uvicorn
workers on PostgreSQL (`CHATKIT_BENCH_POSTGRES_URL`, default the local trust-auth server,
database `test`; a fresh schema per run, dropped afterwards). A burst starts only once every
worker has opened its store, so no worker is still starting while it runs. Figures per
configuration: errors, p50/p99 time to first event, wall time of the burst.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from benchmarks.common import (
    ROOT,
    StreamReading,
    create_body,
    free_port,
    percentile,
    read_stream,
    run_async,
    summary,
    write_script,
)
from benchmarks.http_streams import B4_DELAY, B4_DELTAS, B4_STREAMS

DSN = os.environ.get("CHATKIT_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
WARMUP_STREAMS = 8
START_SECONDS = 180.0
CONFIGURATIONS = (("sqlite", 1), ("postgres", 1), ("postgres", 4))


async def _sessions(application_name: str) -> int:
    connection = await asyncpg.connect(DSN)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                application_name,
            )
        )
    finally:
        await connection.close()


async def _drop(schema: str) -> None:
    connection = await asyncpg.connect(DSN)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await connection.close()


class Deployment:
    """`server.py --workers N` on a store, ready once every worker has opened it."""

    def __init__(self, store: str, workers: int, script: Path, directory: Path) -> None:
        self.store = store
        self.workers = workers
        self.port = free_port()
        self.schema = f"bench_b7_{secrets.token_hex(6)}"
        args = ["--app", "conformance", "--model-script", str(script), "--port", str(self.port)]
        args += ["--workers", str(workers), "--data-dir", str(directory / self.schema)]
        if store == "postgres":
            args += ["--store", f"{DSN}?application_name={self.schema}", "--db-schema", self.schema]
        else:
            args += ["--store", str(directory / f"{self.schema}.db")]
        env = {**os.environ, "CHATKIT_SECRET": "bench", "LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), *args],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )

    def __enter__(self) -> Deployment:
        deadline = time.monotonic() + START_SECONDS
        while not self._ready():
            if self.proc.poll() is not None:
                error = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"server.py exited: {error}")
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("server.py did not start in time")
            time.sleep(0.2)
        return self

    def _ready(self) -> bool:
        try:
            # uvicorn listens only once the application has started (its lifespan ran).
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        # Each worker's pool opens a session at start-up.
        return self.store != "postgres" or run_async(_sessions(self.schema)) >= self.workers

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.store == "postgres":
            run_async(_drop(self.schema))


async def _burst(port: int, streams: int) -> dict[str, float]:
    body = create_body()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(read_stream(port, "/chatkit", body) for _ in range(streams)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    ok = [
        r
        for r in results
        if isinstance(r, StreamReading) and r.status == 200 and r.events >= B4_DELTAS
    ]
    first = [r.first_event * 1e3 for r in ok] or [float("nan")]
    return {
        "errors": streams - len(ok),
        "p50_first_ms": percentile(first, 50),
        "p99_first_ms": percentile(first, 99),
        "wall_s": wall,
    }


def run(runs: int, streams: int = B4_STREAMS) -> dict[str, Any]:
    """B7 figures per configuration (`sqlite_1`, `postgres_1`, `postgres_4`)."""
    figures: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_b7_") as tmp:
        directory = Path(tmp)
        # Every worker plays its own copy of the script: enough turns for all streams on one.
        script = write_script(
            directory / "script.json", streams + WARMUP_STREAMS, B4_DELTAS, B4_DELAY
        )
        for _ in range(runs):
            for store, workers in CONFIGURATIONS:
                with Deployment(store, workers, script, directory) as deployment:
                    run_async(_burst(deployment.port, WARMUP_STREAMS))
                    burst = run_async(_burst(deployment.port, streams))
                target = figures.setdefault(f"{store}_{workers}", {})
                for name, value in burst.items():
                    target.setdefault(name, []).append(value)
    return {
        "streams": streams,
        "deltas": B4_DELTAS,
        "delay_s": B4_DELAY,
        **{
            config: {name: summary(values) for name, values in values_of.items()}
            for config, values_of in figures.items()
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 3), indent=2))
