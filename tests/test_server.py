"""`server.py` over real sockets: uvicorn, SSE framing, uploads, limits, and a SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CREATE = {
    "type": "threads.create",
    "params": {
        "input": {
            "content": [{"type": "input_text", "text": "hello"}],
            "attachments": [],
            "inference_options": {},
        }
    },
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A `python server.py` child process on a free loopback port."""

    def __init__(self, *args: str, data_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "server.py"),
                "--port",
                str(self.port),
                "--data-dir",
                str(data_dir),
                *args,
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
            if self.process.poll() is not None:
                raise RuntimeError(
                    self.process.stderr.read().decode() if self.process.stderr else ""
                )
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=10)


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(
        "--app", "tests.apps:slow_app", "--store", str(tmp_path / "db.sqlite"), data_dir=tmp_path
    )
    yield server
    server.stop()


def post(server: Server, payload: object) -> httpx.Response:
    return httpx.post(f"{server.url}/chatkit", content=json.dumps(payload), timeout=10)


def test_stream_over_http_is_pure_data_frames(slow_server: Server) -> None:
    with httpx.stream(
        "POST", f"{slow_server.url}/chatkit", content=json.dumps(CREATE), timeout=10
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = b"".join(response.iter_bytes())
    frames = raw.split(b"\n\n")
    assert frames[-1] == b""
    events = [json.loads(frame.removeprefix(b"data: ")) for frame in frames[:-1]]
    assert all(frame.startswith(b"data: ") and b"\n" not in frame for frame in frames[:-1])
    assert [e["type"] for e in events][:3] == [
        "thread.created",
        "thread.item.done",
        "stream_options",
    ]


def test_errors_are_json_before_any_stream(slow_server: Server) -> None:
    bad = httpx.post(f"{slow_server.url}/chatkit", content=b"{nope", timeout=5)
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_request"
    missing = post(
        slow_server,
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": "thr_x", "input": CREATE["params"]["input"]},
        },
    )
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
    huge = httpx.post(f"{slow_server.url}/chatkit", content=b" " * (2 * 1024 * 1024), timeout=10)
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"


def test_direct_and_two_phase_uploads(slow_server: Server) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    direct = httpx.post(
        f"{slow_server.url}/chatkit/upload",
        files={"file": ("cat.png", png, "image/png")},
        timeout=5,
    )
    assert direct.status_code == 200
    record = direct.json()
    assert (
        record["type"] == "image" and "metadata" not in record and "upload_descriptor" not in record
    )
    preview = httpx.get(record["preview_url"], timeout=5)
    assert preview.content == png
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert preview.headers["content-disposition"].startswith("inline")
    tampered = record["preview_url"].replace("sig=", "sig=0")
    assert httpx.get(tampered, timeout=5).status_code == 404
    removed = post(
        slow_server, {"type": "attachments.delete", "params": {"attachment_id": record["id"]}}
    )
    assert removed.json() == {}
    assert httpx.get(record["preview_url"], timeout=5).status_code == 404

    created = post(
        slow_server,
        {
            "type": "attachments.create",
            "params": {"name": "a.txt", "size": 5, "mime_type": "text/plain"},
        },
    )
    descriptor = created.json()["upload_descriptor"]
    assert httpx.post(descriptor["url"], content=b"hello", timeout=5).status_code == 404
    uploaded = httpx.request(
        descriptor["method"],
        descriptor["url"],
        content=b"hello",
        headers=descriptor["headers"],
        timeout=5,
    )
    assert uploaded.status_code == 200 and "upload_descriptor" not in uploaded.json()
    deleted = post(
        slow_server,
        {"type": "attachments.delete", "params": {"attachment_id": created.json()["id"]}},
    )
    assert deleted.json() == {}


def test_sigkill_mid_stream_keeps_the_acknowledged_message(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    lease = ("--stream-lease-seconds", "1")
    server = Server("--app", "tests.apps:slow_app", "--store", str(db), *lease, data_dir=tmp_path)
    with httpx.stream(
        "POST", f"{server.url}/chatkit", content=json.dumps(CREATE), timeout=10
    ) as response:
        lines = response.iter_lines()
        thread_id = None
        for line in lines:
            if not line.startswith("data: "):
                continue
            event = json.loads(line.removeprefix("data: "))
            if event["type"] == "thread.created":
                thread_id = event["thread"]["id"]
            if event["type"] == "thread.item.updated":
                break
        server.stop(signal.SIGKILL)
    restarted = Server(
        "--app", "tests.apps:slow_app", "--store", str(db), *lease, data_dir=tmp_path
    )
    try:
        thread = post(restarted, {"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
        assert thread.status_code == 200
        items = thread.json()["items"]["data"]
        assert items[0]["type"] == "user_message"
        assert items[0]["content"][0]["text"] == "hello"
        follow_up = {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": CREATE["params"]["input"]},
        }
        with httpx.stream(
            "POST", f"{restarted.url}/chatkit", content=json.dumps(follow_up), timeout=20
        ) as response:
            # The killed process's stream lease must not block the thread for long.
            assert response.status_code in (200, 409)
    finally:
        restarted.stop()


def test_d10_silent_streams_get_bare_ping_comments(tmp_path: Path) -> None:
    server = Server(
        "--app", "tests.apps:slow_app", "--store", "memory", "--ping", "0.05", data_dir=tmp_path
    )
    try:
        with httpx.stream(
            "POST", f"{server.url}/chatkit", content=json.dumps(CREATE), timeout=10
        ) as response:
            raw = b"".join(response.iter_bytes())
    finally:
        server.stop()
    assert b": ping\n" in raw
    # A ping line is never followed by a blank line, so no client dispatches an empty event.
    assert b": ping\n\n" not in raw
    without_pings = raw.replace(b": ping\n", b"")
    assert all(frame.startswith(b"data: ") for frame in without_pings.split(b"\n\n")[:-1])
