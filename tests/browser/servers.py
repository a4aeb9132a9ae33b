"""Servers the browser tests drive: `python server.py` child processes, or an app in a thread."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
START_SECONDS = 30
_MODEL_VARS = {"OPENAI_API_KEY", "GEMINI_API_KEY", "LLM_PROVIDER", "MODEL_SCRIPT", "CHATKIT_AUTH"}


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`python server.py --port <free> --data-dir <dir> ARGS`, started at once, until `stop()`."""

    def __init__(self, *args: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No real model, whatever the developer's shell holds: the offline model or a script.
        child_env = {key: value for key, value in os.environ.items() if key not in _MODEL_VARS}
        child_env.update(PYTHONPATH=str(ROOT), LOG_LEVEL="WARNING", **(env or {}))
        command = [sys.executable, str(ROOT / "server.py"), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir), *args],
            env=child_env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def wait_until_up(self) -> None:
        """Return once `/healthz` answers; raise with the child's stderr if it died."""
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                stderr = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"server.py exited: {stderr}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server.py did not start")

    def api(self, type_: str, params: dict[str, Any], token: str | None = None) -> Any:
        """One non-streaming protocol request, answered JSON."""
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body = json.dumps({"type": type_, "params": params})
        response = httpx.post(f"{self.url}/chatkit", content=body, headers=headers, timeout=10)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        """Terminate the child and wait for it."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        if self.process.stderr:
            self.process.stderr.close()


class ThreadedServer:
    """An ASGI app under uvicorn in a background thread of the test process."""

    def __init__(self, app: ASGIApp) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the threaded server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(timeout=15)
