"""Run one benchmark server under uvicorn (uvloop + httptools when importable).

`python -m benchmarks.serve --port P KIND ...`, KIND one of:
  chatkit --store memory|PATH --model-script FILE [--prefill-threads N]
  bare-stream --frames FILE [--delay S]
  bare-runner --model-script FILE
  bare-json --body NAME=FILE ...
`--profile FILE` runs the whole server under cProfile and writes its stats to FILE on exit
(SIGTERM), e.g. to profile a B4 burst: `python -m benchmarks.profile_burst`.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib.util
import logging
import signal
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from agents_layer.model_script import load_script
from benchmarks import bare
from benchmarks.common import USER_ID
from chatkit_proto.content import (
    AssistantMessageContent,
    InferenceOptions,
    UserMessageTextContent,
)
from chatkit_proto.context import RequestContext
from chatkit_proto.items import AssistantMessageItem, UserMessageItem
from chatkit_proto.store.base import Store
from chatkit_proto.threads import ThreadMetadata

ITEMS_THREAD = "thr_bench_items"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def fastest() -> dict[str, str]:
    """uvicorn's fastest production set-up that is installed."""
    options = {}
    if importlib.util.find_spec("uvloop"):
        options["loop"] = "uvloop"
    if importlib.util.find_spec("httptools"):
        options["http"] = "httptools"
    return options


async def prefill(store: Store, threads: int) -> None:
    """`threads` threads for the benchmark user, the last with 20 items (10 exchanges)."""
    ctx = RequestContext(user_id=USER_ID)
    await store.open()
    try:
        for n in range(threads - 1):
            thread = ThreadMetadata(
                id=f"thr_bench_{n:06}",
                title=f"Thread {n}",
                created_at=T0 + timedelta(seconds=n),
            )
            await store.save_thread(thread, ctx)
        thread = ThreadMetadata(id=ITEMS_THREAD, title="Items", created_at=T0)
        await store.save_thread(thread, ctx)
        for n in range(10):
            when = T0 + timedelta(seconds=2 * n)
            await store.add_thread_item(
                ITEMS_THREAD,
                UserMessageItem(
                    id=f"msg_u{n:03}",
                    thread_id=ITEMS_THREAD,
                    created_at=when,
                    content=[UserMessageTextContent(text=f"question {n} " * 5)],
                    inference_options=InferenceOptions(),
                ),
                ctx,
            )
            await store.add_thread_item(
                ITEMS_THREAD,
                AssistantMessageItem(
                    id=f"msg_a{n:03}",
                    thread_id=ITEMS_THREAD,
                    created_at=when + timedelta(seconds=1),
                    content=[AssistantMessageContent(text=f"answer {n} " * 20)],
                ),
                ctx,
            )
    finally:
        if store.__class__.__name__ != "MemoryStore":
            await store.close()


def _exit(signum: int, frame: object) -> None:
    sys.exit(0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("kind", choices=["chatkit", "bare-stream", "bare-runner", "bare-json"])
    parser.add_argument("--store", default="memory")
    parser.add_argument("--model-script")
    parser.add_argument("--prefill-threads", type=int, default=0)
    parser.add_argument("--frames")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--body", action="append", default=[])
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--profile", help="write cProfile stats of the whole run to this file")
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper())

    if args.kind == "chatkit":
        from chatkit_web.gc_tuning import tune_for_serving
        from server import Config, create_app

        data_dir = tempfile.mkdtemp(prefix="chatkit_bench_")
        config = Config(
            port=args.port,
            store=args.store,
            app="conformance",
            model_script=args.model_script,
            data_dir=data_dir,
            log_level=args.log_level,
            user_id=USER_ID,
        )
        app = create_app(config, env={"CHATKIT_SECRET": "bench"})
        if args.prefill_threads:
            asyncio.run(prefill(app.state.services.store, args.prefill_threads))
        # As `chatkit-server` does before serving; the bare baselines keep CPython's defaults.
        tune_for_serving()
    elif args.kind == "bare-stream":
        frames = [f + b"\n\n" for f in Path(args.frames).read_bytes().split(b"\n\n") if f]
        app = bare.stream_app(frames, args.delay)
    elif args.kind == "bare-runner":
        app = bare.runner_stream_app(load_script(args.model_script))
    else:
        bodies = {}
        for spec in args.body:
            name, _, path = spec.partition("=")
            bodies[name] = Path(path).read_bytes()
        app = bare.json_app(bodies)

    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        # uvicorn re-raises the SIGTERM it stopped on: exit through Python so the stats get out.
        signal.signal(signal.SIGTERM, _exit)
        profiler.enable()
    try:
        uvicorn.run(
            app,
            host="127.0.0.1",
            port=args.port,
            log_config=None,
            access_log=False,
            backlog=2048,
            **fastest(),
        )
    finally:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
