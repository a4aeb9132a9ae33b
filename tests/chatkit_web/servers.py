"""`python server.py` in a child process on a free loopback port, for tests over real sockets."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_descriptor_limit(wanted: int) -> None:
    """Let this process hold `wanted` sockets, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


class Server:
    """The server on `127.0.0.1:port`; `descriptors` caps its RLIMIT_NOFILE (soft and hard)."""

    def __init__(self, *args: str, data_dir: Path, descriptors: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "server.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "server.py"), "--port", str(self.port),
                 "--data-dir", str(data_dir), *args],
                env=env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=log,
                preexec_fn=None if descriptors is None else _DescriptorLimit(descriptors),
            )  # fmt: skip
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def connect(self) -> socket.socket:
        """A raw client socket, connected."""
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def peak_rss_kib(self) -> int:
        """The peak resident memory of the server process so far (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")

    def stop(self) -> str:
        """Stop the server and answer what it logged."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.log.read_text()


class _DescriptorLimit:
    """A `preexec_fn` setting RLIMIT_NOFILE in the child before it runs Python."""

    def __init__(self, descriptors: int) -> None:
        self.descriptors = descriptors

    def __call__(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.descriptors, self.descriptors))


MiB = 1024 * 1024


def closed_by_peer(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def upload_url(server: Server) -> str:
    create = {
        "type": "attachments.create",
        "params": {"name": "a", "size": 10, "mime_type": "text/plain"},
    }
    descriptor = httpx.post(f"{server.url}/chatkit", content=json.dumps(create), timeout=10).json()[
        "upload_descriptor"
    ]
    path = descriptor["url"].split(str(server.port), 1)[1]
    return f"{path}&token={descriptor['headers']['x-upload-token']}"


def chunked_upload(server: Server, target: str, size: int) -> tuple[bytes, bytes]:
    """Send `size` bytes as a chunked multipart (direct) or raw (two-phase) body; the answer."""
    path, _, token = target.partition("&token=")
    boundary = b"b0undary"
    if token:
        headers = (
            b"x-upload-token: %s\r\ncontent-type: application/octet-stream\r\n" % token.encode()
        )
        prefix, suffix = b"", b""
    else:
        headers = b"content-type: multipart/form-data; boundary=%s\r\n" % boundary
        prefix = (
            b'--%s\r\nContent-Disposition: form-data; name="file"; filename="big.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\n" % boundary
        )
        suffix = b"\r\n--%s--\r\n" % boundary
    sock = server.connect()
    try:
        sock.sendall(
            b"POST %s HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n%s\r\n"
            % (path.encode(), headers)
        )
        block = b"x" * MiB
        pieces = [p for p in (prefix, *([block] * (size // MiB)), suffix) if p]
        # The server may hang up once it has refused the body: that is what is tested.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for piece in [*pieces, b""]:
                sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        answer = b""
        while b"\r\n\r\n" not in answer or not _response_complete(answer):
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    finally:
        sock.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def _response_complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False
