"""Profiles of the paths whose targets are not met: `python -m benchmarks.profile_hot [NAME]`.

cProfile, in-process, sorted by own time. NAME is one of: pipeline (B2), asgi (B3: the
Starlette app driven through ASGI without a socket), list-memory (B5), create (B3 TTFB).
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

import orjson

from agents_layer.apps.conformance import ConformanceServer
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from benchmarks.common import USER_ID, create_body, script_data, write_script
from benchmarks.serve import prefill
from chatkit_proto.context import RequestContext
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore

CTX = RequestContext(user_id=USER_ID)


async def pipeline(requests: int = 3) -> None:
    server = ConformanceServer(
        MemoryStore(), ScriptedModel(parse_script(script_data(requests, 2000)))
    )
    for _ in range(requests):
        result = await server.process(create_body(), CTX)
        assert isinstance(result, StreamingResult)
        _ = [event async for event in result.frames]


async def create_only(requests: int = 300) -> None:
    """Everything before the first frame of `threads.create` (memory store)."""
    server = ConformanceServer(MemoryStore(), ScriptedModel(parse_script(script_data(requests, 1))))
    for _ in range(requests):
        result = await server.process(create_body(), CTX)
        assert isinstance(result, StreamingResult)
        await result.frames.__anext__()
        await result.frames.aclose()


async def list_memory(requests: int = 500) -> None:
    store = MemoryStore()
    await prefill(store, 1000)
    server = ConformanceServer(store, None)
    body = orjson.dumps({"type": "threads.list", "params": {"limit": 20}})
    for _ in range(requests):
        await server.process(body, CTX)


async def asgi(requests: int = 3) -> None:
    from server import Config, create_app

    with tempfile.TemporaryDirectory() as tmp:
        script = write_script(Path(tmp) / "s.json", requests, 2000)
        app = create_app(
            Config(store="memory", app="conformance", model_script=str(script), data_dir=tmp),
            env={"CHATKIT_SECRET": "x"},
        )
        body = create_body()
        for _ in range(requests):
            sent = False

            async def receive() -> dict:
                nonlocal sent
                if sent:
                    await asyncio.sleep(3600)
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message: dict) -> None:
                """Discard the answer: only the server's own work is profiled."""

            scope = {
                "type": "http",
                "asgi": {"version": "3.0"},
                "http_version": "1.1",
                "method": "POST",
                "scheme": "http",
                "path": "/chatkit",
                "raw_path": b"/chatkit",
                "query_string": b"",
                "root_path": "",
                "headers": [(b"content-type", b"application/json")],
                "client": ("127.0.0.1", 1),
                "server": ("127.0.0.1", 80),
                "app": app,
            }
            await app(scope, receive, send)


PROFILES = {
    "pipeline": pipeline,
    "asgi": asgi,
    "list-memory": list_memory,
    "create": create_only,
}


def main() -> None:
    names = sys.argv[1:] or list(PROFILES)
    for name in names:
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(PROFILES[name]())
        profiler.disable()
        print(f"==== {name}")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
