"""B3 and B4: streamed answers over HTTP through uvicorn, against the bare stack.

B3: one `threads.create` at a time, 2,000 deltas, SQLite store; server CPU per delta from
/proc and time to first byte, against a bare Starlette stream of the very frames our server
sent (and the bare Runner's per-delta cost, measured in-process by B2).

B4: 300 streams started together (50 deltas, 0.02 s before each script event); time to first
event, wall time, server CPU, errors and the server's memory (and the same at 1,000 streams, to
show how the cost grows with load), against a bare Starlette + Runner server
playing the same script (one pre-encoded frame per Runner event).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from agents_layer.apps.conformance import ConformanceServer
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from benchmarks.common import (
    USER_ID,
    Server,
    StreamReading,
    create_body,
    percentile,
    read_stream,
    run_async,
    script_data,
    summary,
    write_script,
)
from chatkit_proto.context import RequestContext
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore

B3_DELTAS = 2_000
B4_STREAMS = 300
B4_LARGE_STREAMS = 1_000
B4_DELTAS = 50
B4_DELAY = 0.02
WARMUP_REQUESTS = 2


async def _frames_of_one_answer(deltas: int) -> list[bytes]:
    """The SSE frames our server sends for one answer, produced in-process."""
    script = parse_script(script_data(1, deltas))
    server = ConformanceServer(MemoryStore(), ScriptedModel(script))
    result = await server.process(create_body(), RequestContext(user_id=USER_ID))
    assert isinstance(result, StreamingResult)
    return [frame async for frame in result.frames]


def _stream_runs(server: Server, path: str, runs: int, requests: int, deltas: int) -> dict:
    """Per run: server CPU µs per delta and median TTFB (ms) of `requests` sequential streams."""
    body = create_body()
    for _ in range(WARMUP_REQUESTS):
        run_async(read_stream(server.port, path, body))
    cpu_us: list[float] = []
    ttfb_ms: list[float] = []
    for _ in range(runs):
        before = server.stats().cpu
        readings = [run_async(read_stream(server.port, path, body)) for _ in range(requests)]
        used = server.stats().cpu - before
        assert all(r.status == 200 and r.events >= deltas for r in readings), readings[0]
        cpu_us.append(used / (requests * deltas) * 1e6)
        ttfb_ms.append(sorted(r.ttfb for r in readings)[len(readings) // 2] * 1e3)
    return {"cpu_us_per_delta": cpu_us, "ttfb_ms": ttfb_ms}


def run_b3(runs: int, requests: int, bare_runner_us: float) -> dict[str, Any]:
    """B3 figures; `bare_runner_us` is B2's bare Runner µs per delta from the same invocation."""
    with tempfile.TemporaryDirectory(prefix="bench_b3_") as tmp:
        directory = Path(tmp)
        turns = WARMUP_REQUESTS + runs * requests
        script = write_script(directory / "script.json", turns, B3_DELTAS)
        frames = asyncio.run(_frames_of_one_answer(B3_DELTAS))
        (directory / "frames.sse").write_bytes(b"".join(frames))
        store = str(directory / "chatkit.db")
        with Server("chatkit", "--store", store, "--model-script", str(script)) as server:
            ours = _stream_runs(server, "/chatkit", runs, requests, B3_DELTAS)
        with Server("bare-stream", "--frames", str(directory / "frames.sse")) as server:
            # Ten times the requests: a bare stream costs little CPU, so measure more of it.
            bare = _stream_runs(server, "/stream", runs, 10 * requests, B3_DELTAS)
    ttfb_ratio = [a / b for a, b in zip(ours["ttfb_ms"], bare["ttfb_ms"], strict=True)]
    cpu_target = [bare_runner_us + 1.5 * b for b in bare["cpu_us_per_delta"]]
    return {
        "deltas": B3_DELTAS,
        "frames": len(frames),
        "requests_per_run": requests,
        "cpu_us_per_delta": summary(ours["cpu_us_per_delta"]),
        "bare_stream_cpu_us_per_delta": summary(bare["cpu_us_per_delta"]),
        "bare_runner_us_per_delta": round(bare_runner_us, 2),
        "cpu_target_us_per_delta": summary(cpu_target),
        "ttfb_ms": summary(ours["ttfb_ms"], 3),
        "bare_ttfb_ms": summary(bare["ttfb_ms"], 3),
        "ttfb_ratio": summary(ttfb_ratio),
    }


async def burst(port: int, path: str, streams: int, deltas: int) -> dict[str, Any]:
    """`streams` streams started together: wall time, first-event percentiles, errors."""
    body = create_body()
    started = time.perf_counter()
    results = await asyncio.gather(
        *(read_stream(port, path, body) for _ in range(streams)), return_exceptions=True
    )
    wall = time.perf_counter() - started
    good = [r for r in results if isinstance(r, StreamReading)]
    ok = [r for r in good if r.status == 200 and r.events >= deltas]
    first = [r.first_event * 1e3 for r in ok] or [float("nan")]
    return {
        "wall_s": wall,
        "p50_first_ms": percentile(first, 50),
        "p99_first_ms": percentile(first, 99),
        "errors": streams - len(ok),
    }


def _burst_run(kind: list[str], path: str, streams: int) -> dict[str, float]:
    """A fresh server, a small warm-up, then `streams` streams at once; with memory figures."""
    with Server(*kind) as server:
        run_async(burst(server.port, path, 4, B4_DELTAS))
        before = server.stats()
        figures = run_async(burst(server.port, path, streams, B4_DELTAS))
        after = server.stats()
    figures["cpu_s"] = after.cpu - before.cpu
    figures["peak_rss_mib"] = after.hwm_kib / 1024
    figures["rss_growth_kib_per_stream"] = (after.hwm_kib - before.rss_kib) / streams
    return figures


def run_b4(runs: int, streams: int = B4_STREAMS) -> dict[str, Any]:
    """B4 figures: a fresh server per run, ours and the bare stack alternating."""
    ours: dict[str, list[float]] = {}
    bare: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench_b4_") as tmp:
        directory = Path(tmp)
        script = write_script(directory / "script.json", streams + 4, B4_DELTAS, B4_DELAY)
        for run in range(runs):
            store = str(directory / f"chatkit_{run}.db")
            mine = _burst_run(
                ["chatkit", "--store", store, "--model-script", str(script)], "/chatkit", streams
            )
            base = _burst_run(["bare-runner", "--model-script", str(script)], "/stream", streams)
            for target, figures in ((ours, mine), (bare, base)):
                for name, value in figures.items():
                    target.setdefault(name, []).append(value)
    p99_ratio = [a / b for a, b in zip(ours["p99_first_ms"], bare["p99_first_ms"], strict=True)]
    wall_ratio = [a / b for a, b in zip(ours["wall_s"], bare["wall_s"], strict=True)]
    cpu_ratio = [a / b for a, b in zip(ours["cpu_s"], bare["cpu_s"], strict=True)]
    return {
        "streams": streams,
        "deltas": B4_DELTAS,
        "delay_s": B4_DELAY,
        **{name: summary(values) for name, values in ours.items()},
        **{f"bare_{name}": summary(values) for name, values in bare.items()},
        "p99_first_ratio": summary(p99_ratio),
        "wall_ratio": summary(wall_ratio),
        "cpu_ratio": summary(cpu_ratio),
    }
