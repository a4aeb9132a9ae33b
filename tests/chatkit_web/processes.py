"""`python server.py` child processes on free loopback ports, and how tests talk to them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 60.0


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def user_input(text: str, attachments: list[str] | None = None) -> dict[str, Any]:
    """The `input` of a user message."""
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": attachments or [],
        "inference_options": {},
    }


class ServerProcess:
    """One `server.py` with the given flags, started and healthy on construction."""

    def __init__(self, *args: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", **(env or {})}
        command = [sys.executable, str(ROOT / "server.py"), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir), *args],
            env=environ,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"server.py exited: {error}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop(signal.SIGKILL)
        raise RuntimeError("server.py did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signal the process and wait for it to end."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=30)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def post(self, type_: str, **params: Any) -> httpx.Response:
        """A protocol request answered with JSON (or a whole stream, read to its end)."""
        body = json.dumps({"type": type_, "params": params})
        return httpx.post(f"{self.url}/chatkit", content=body, timeout=30)

    @contextmanager
    def stream(self, type_: str, **params: Any) -> Iterator[httpx.Response]:
        """A protocol request whose answer is read as it comes."""
        body = json.dumps({"type": type_, "params": params})
        with httpx.stream("POST", f"{self.url}/chatkit", content=body, timeout=30) as response:
            yield response


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The events of a streamed answer, as they arrive."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line.removeprefix("data: "))


def streamed(response: httpx.Response) -> list[dict[str, Any]]:
    """Every event of a streamed answer already read in full."""
    return [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
