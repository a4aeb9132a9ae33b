"""B2: one `threads.create` answered by a 2,000-delta script, in-process, against a bare Runner.

The full path is `ChatKitServer.process` (decode, dispatcher, memory store, pipeline, adapter,
conformance app with its seven tools and guardrail) with every SSE frame read. The bare path
is `Runner.run_streamed` over the same script turn with every event read. Both are timed with
`time.process_time` (no I/O, so CPU is wall); the figure is the difference per delta. Both run on uvloop when it is installed, as
the server does.
"""

from __future__ import annotations

import time
from typing import Any

from agents_layer.apps.conformance import ConformanceServer
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from benchmarks.bare import bare_agent, consume_bare_runner
from benchmarks.common import USER_ID, create_body, run_async, script_data, summary
from chatkit_proto.context import RequestContext
from chatkit_proto.server import ChatKitServer, StreamingResult
from chatkit_proto.store.memory import MemoryStore
from chatkit_stores.sqlite import SQLiteStore

DELTAS = 2_000
REQUESTS_PER_RUN = 5
TARGET_US = 5.0


async def _full(server: ChatKitServer, body: bytes, ctx: RequestContext) -> int:
    result = await server.process(body, ctx)
    assert isinstance(result, StreamingResult), result
    frames = 0
    async for _frame in result.frames:
        frames += 1
    return frames


async def _measure(runs: int, requests: int, store_path: str | None) -> dict[str, list[float]]:
    turns = (runs + 1) * requests
    script = parse_script(script_data(turns, DELTAS))
    store = SQLiteStore(store_path) if store_path else MemoryStore()
    await store.open()
    server = ConformanceServer(store, ScriptedModel(script))
    bare_model = ScriptedModel(script)
    agent = bare_agent()
    ctx = RequestContext(user_id=USER_ID)
    body = create_body()
    figures: dict[str, list[float]] = {"full_us": [], "bare_us": [], "above_bare_us": []}
    try:
        for run in range(runs + 1):  # the first round warms up both paths
            started = time.process_time()
            for _ in range(requests):
                frames = await _full(server, body, ctx)
            full = (time.process_time() - started) / (requests * DELTAS) * 1e6
            started = time.process_time()
            for _ in range(requests):
                await consume_bare_runner(bare_model, agent)
            bare = (time.process_time() - started) / (requests * DELTAS) * 1e6
            assert frames >= DELTAS, frames
            if run:
                figures["full_us"].append(full)
                figures["bare_us"].append(bare)
                figures["above_bare_us"].append(full - bare)
    finally:
        await store.close()
    return figures


def run(
    runs: int, requests: int = REQUESTS_PER_RUN, store_path: str | None = None
) -> dict[str, Any]:
    """µs per delta of the full pipeline, the bare Runner, and their difference."""
    # The production loop (uvloop when installed) for both paths, as the server runs them.
    figures = run_async(_measure(runs, requests, store_path))
    return {
        "deltas": DELTAS,
        "requests_per_run": requests,
        "store": "sqlite" if store_path else "memory",
        **{name: summary(values) for name, values in figures.items()},
    }
