"""Request bodies have a deadline (extended while they keep up a minimum rate); streams do not."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from starlette.testclient import TestClient
from starlette.types import Message

from chatkit_web import Config, create_app

LIST = json.dumps({"type": "threads.list", "params": {}}).encode()


class Paced:
    """An ASGI `receive` that hands out `chunks` every `pause` seconds, then stalls."""

    def __init__(self, chunks: list[bytes], pause: float, stall: bool) -> None:
        self.chunks = chunks
        self.pause = pause
        self.stall = stall

    async def __call__(self) -> Message:
        if not self.chunks:
            await anyio.sleep_forever()
        await anyio.sleep(self.pause)
        chunk = self.chunks.pop(0)
        more = bool(self.chunks) or self.stall
        return {"type": "http.request", "body": chunk, "more_body": more}


async def call(
    tmp_path: Path, receive: Paced, seconds: float
) -> tuple[int, dict[bytes, bytes], bytes]:
    config = Config(
        app="tests.chatkit_web.apps:fast_app",
        store="memory",
        data_dir=str(tmp_path),
        body_timeout_seconds=seconds,
    )
    app = create_app(config, env={})
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/chatkit", "raw_path": b"/chatkit", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 1),
        "server": ("testserver", 80), "state": {},
    }  # fmt: skip
    with anyio.fail_after(30):
        await app(scope, receive, send)
    start = sent[0]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], dict(start["headers"]), body


async def test_a_stalled_body_gets_408_json_and_a_closed_connection(tmp_path: Path) -> None:
    status, headers, body = await call(tmp_path, Paced([b'{"type":'], 0, stall=True), 0.05)
    assert status == 408
    assert headers[b"connection"] == b"close"
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body)["code"] == "request_timeout"


async def test_a_trickled_body_is_cut_off(tmp_path: Path) -> None:
    trickle = Paced([bytes([b]) for b in LIST], 0.02, stall=False)
    status, _, body = await call(tmp_path, trickle, 0.1)
    assert status == 408 and json.loads(body)["code"] == "request_timeout"


async def test_a_body_keeping_up_the_rate_may_take_longer_than_the_timeout(tmp_path: Path) -> None:
    # Each 64 KiB chunk earns 4 s at 16 KiB/s; five come in well over the 0.1 s timeout.
    padded = LIST + b" " * (5 * 65536 - len(LIST))
    chunks = [padded[i : i + 65536] for i in range(0, len(padded), 65536)]
    status, _, body = await call(tmp_path, Paced(chunks, 0.05, stall=False), 0.1)
    assert status == 200 and json.loads(body)["data"] == []


def test_a_stream_may_run_longer_than_the_body_timeout(tmp_path: Path) -> None:
    config = Config(
        app="tests.apps:slow_app", store="memory", data_dir=str(tmp_path), body_timeout_seconds=0.05
    )
    create = {
        "type": "threads.create",
        "params": {"input": {"content": [{"type": "input_text", "text": "hi"}], "attachments": [], "inference_options": {}}},
    }  # fmt: skip
    client = TestClient(create_app(config, env={}))
    with client, client.stream("POST", "/chatkit", content=json.dumps(create)) as response:
        raw = response.read()
    assert response.status_code == 200
    assert b'"type":"thread.item.done"' in raw.split(b"\n\n")[-2]
