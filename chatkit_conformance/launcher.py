"""Starting a fresh server per transcript: `--server-cmd 'python server.py --port {port} ...'`."""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from chatkit_proto.errors import ChatKitError

STARTUP_TIMEOUT_SECONDS = 30.0
_STOP_GRACE_SECONDS = 5.0
_LOG_TAIL = 3000


class ServerStartError(ChatKitError):
    """The server command exited, or did not answer `GET /healthz` in time."""

    code = "conformance.server_start_failed"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_INTERPRETERS = frozenset({"python", "python3", "{python}"})


def server_argv(command: str, port: int, script_path: str) -> list[str]:
    """Split the command like a shell would and fill `{port}` and `{script}` in each word.

    A leading `python` (or `{python}`) is the interpreter running this tool, so a command
    written as `python server.py ...` works without an activated virtual environment.
    """
    words = shlex.split(command)
    if words and words[0] in _INTERPRETERS:
        words[0] = sys.executable
    return [word.replace("{port}", str(port)).replace("{script}", script_path) for word in words]


@asynccontextmanager
async def launched_server(
    command: str,
    script: dict[str, Any] | None,
    *,
    endpoint: str = "/chatkit",
    startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> AsyncIterator[str]:
    """Run the server command with the model script on a free port; yield its protocol URL.

    The server runs in its own process group, which is killed on exit, so nothing it
    started outlives it.
    """
    with tempfile.TemporaryDirectory(prefix="chatkit-replay-") as workdir:
        script_path = Path(workdir, "model-script.json")
        script_path.write_text(json.dumps(script if script is not None else {"turns": []}))
        log_path = Path(workdir, "server.log")
        port = free_port()
        argv = server_argv(command, port, str(script_path))
        with log_path.open("wb") as log:
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise ServerStartError(f"cannot run {argv[0]!r}: {exc}") from None
            try:
                base = f"http://127.0.0.1:{port}"
                await _wait_healthy(process, f"{base}/healthz", startup_timeout, log_path)
                yield base + endpoint
            finally:
                await asyncio.to_thread(_stop, process)


async def _wait_healthy(
    process: subprocess.Popen[bytes], url: str, timeout: float, log_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with httpx.AsyncClient(timeout=2.0, trust_env=False) as http:
        while True:
            if process.poll() is not None:
                raise ServerStartError(
                    f"the server exited with status {process.returncode} before answering "
                    f"{url}:\n{_tail(log_path)}"
                )
            # Not listening yet: keep polling until the deadline.
            with suppress(httpx.TransportError):
                if (await http.get(url)).status_code == 200:
                    return
            if loop.time() >= deadline:
                raise ServerStartError(
                    f"no 200 from {url} within {timeout:g} s:\n{_tail(log_path)}"
                )
            await asyncio.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group, then kill whatever is left of it."""
    group = process.pid
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=_STOP_GRACE_SECONDS)
    # Children that ignored SIGTERM or outlived the leader are still in the group.
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    process.wait()


def _tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no server output)"
    return text[-_LOG_TAIL:] or "(no server output)"
