"""Shared pieces of the benchmark suite: statistics, scripts, server processes, a lean client."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
USER_ID = "bench_user"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- statistics -----------------------------------------------------------------------------


def summary(values: Sequence[float], digits: int = 2) -> dict[str, Any]:
    """Median with min and max of repeated runs, plus the runs themselves."""
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": [round(v, digits) for v in values],
    }


def repeat(runs: int, measure: Callable[[], float], digits: int = 2) -> dict[str, Any]:
    """`measure()` `runs` times; summary of the results."""
    return summary([measure() for _ in range(runs)], digits)


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of a sample."""
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


# -- model scripts and requests -------------------------------------------------------------


def script_data(turns: int, deltas: int, delay: float = 0.0) -> dict[str, Any]:
    """A model script of `turns` identical turns, each one message of `deltas` text deltas."""
    words = [f"w{n % 100} " for n in range(deltas)]
    turn = {"output": [{"type": "message", "text": words}], "delay": delay}
    return {"turns": [turn] * turns}


def write_script(path: Path, turns: int, deltas: int, delay: float = 0.0) -> Path:
    """Write `script_data` as a model-script JSON file."""
    path.write_text(json.dumps(script_data(turns, deltas, delay)))
    return path


def create_body(text: str = "hi") -> bytes:
    """A `threads.create` request body."""
    return orjson.dumps(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": text}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
    )


# -- server processes -----------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ProcStats:
    """CPU seconds (user + system) and memory of a process, read from /proc."""

    cpu: float
    rss_kib: int
    hwm_kib: int


def _cpu_seconds(pid: int) -> float:
    """CPU time of all live threads, in nanoseconds from schedstat, else clock ticks from stat."""
    try:
        total = 0
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as handle:
                total += int(handle.read().split()[0])
        return total / 1e9
    except (OSError, ValueError):
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        # After the command name: utime and stime are fields 14 and 15 of proc(5).
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def proc_stats(pid: int) -> ProcStats:
    """CPU seconds from /proc/<pid>/task/*/schedstat (or stat), memory from status."""
    cpu = _cpu_seconds(pid)
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return ProcStats(cpu, rss, hwm)


class Server:
    """`python -m benchmarks.serve ARGS` on a free port, stopped on exit."""

    def __init__(self, *args: str) -> None:
        self.port = free_port()
        self.args = ["--port", str(self.port), *args]
        self.proc: subprocess.Popen[bytes] | None = None
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks
        # the server's logging (and so the server) mid-benchmark.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by __exit__

    def __enter__(self) -> Server:
        command = [sys.executable, "-m", "benchmarks.serve", *self.args]
        self.proc = subprocess.Popen(command, cwd=ROOT, stderr=self.log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                error = self.log.read().decode(errors="replace")
                raise RuntimeError(f"server exited: {' '.join(command)}\n{error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("server did not start in time")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stats(self) -> ProcStats:
        """CPU and memory of the server process."""
        return proc_stats(self.pid)


# -- a lean HTTP/1.1 client on raw asyncio streams ------------------------------------------


def request_bytes(path: str, body: bytes, keep_alive: bool) -> bytes:
    """An HTTP/1.1 POST with a JSON body."""
    connection = b"keep-alive" if keep_alive else b"close"
    return (
        b"POST " + path.encode() + b" HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        b"content-type: application/json\r\nconnection: " + connection + b"\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


@dataclass
class StreamReading:
    """What a client saw of one streamed response."""

    status: int
    ttfb: float  # seconds from sending the request to the first byte of the answer
    first_event: float  # seconds to the first complete `data:` frame
    total: float
    size: int
    events: int


async def read_stream(port: int, path: str, body: bytes) -> StreamReading:
    """POST, then read the whole (chunked) response until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        writer.write(request_bytes(path, body, keep_alive=False))
        chunk = await reader.read(65536)
        ttfb = time.perf_counter() - started
        head = bytearray(chunk)
        first_event = 0.0
        while b"\n\n" not in head.split(b"\r\n\r\n", 1)[-1] or b"\r\n\r\n" not in head:
            chunk = await reader.read(65536)
            if not chunk:
                break
            head += chunk
        first_event = time.perf_counter() - started
        size = len(head)
        events = head.count(b"\ndata: ") + head.startswith(b"data: ")
        tail = b""
        while chunk := await reader.read(262144):
            size += len(chunk)
            # Frames may straddle reads: count on the joined boundary.
            events += (tail + chunk).count(b"\ndata: ") - tail.count(b"\ndata: ")
            tail = chunk[-8:]
        total = time.perf_counter() - started
        status = int(head[9:12]) if head.startswith(b"HTTP/1.1 ") else 0
        return StreamReading(status, ttfb, first_event, total, size, events)
    finally:
        writer.close()


class KeepAliveClient:
    """One keep-alive connection answering `Content-Length` responses."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, raw_request: bytes) -> tuple[int, bytes]:
        """Send a prebuilt request; return status and body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(raw_request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length)
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop when installed, for the client side too."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_async(coro: Any) -> Any:
    """Run a coroutine on a fresh (uv)loop."""
    loop = new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()
