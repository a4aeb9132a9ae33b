"""Real sockets against `server.py`: idle and slow clients are let go, idle ones never crowd out
a real request, a client that stops reading loses its connection but keeps its partial answer,
and an upload over the cap is refused without being held in memory."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.chatkit_web.servers import (
    MiB,
    Server,
    chunked_upload,
    closed_by_peer,
    raise_descriptor_limit,
    upload_url,
)

CREATE = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hello"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
).encode()
LIST = json.dumps({"type": "threads.list", "params": {}})
FAST = ("--app", "tests.chatkit_web.apps:fast_app", "--store", "memory")
T = TypeVar("T")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    timeouts = ("--header-timeout-seconds", "1", "--body-timeout-seconds", "1")
    server = Server(*FAST, *timeouts, "--keep-alive-seconds", "1", data_dir=tmp_path)
    yield server
    server.stop()


class Clients:
    """Raw sockets that may drip one byte at a time, watched until the server closes them."""

    def __init__(self) -> None:
        self.drips: dict[socket.socket, bytes] = {}
        self.received: dict[socket.socket, bytes] = {}
        self.closed: set[socket.socket] = set()

    def add(self, sock: socket.socket, drip: bytes = b"") -> socket.socket:
        sock.setblocking(False)
        self.drips[sock] = drip
        self.received[sock] = b""
        return sock

    def watch(self, within: float) -> None:
        """Drip and read until every socket is closed by the server, or `within` seconds pass."""
        deadline = time.monotonic() + within
        while len(self.closed) < len(self.drips) and time.monotonic() < deadline:
            for sock, drip in self.drips.items():
                if drip and sock not in self.closed:
                    self._send(sock, drip[:1])
            open_ = [s for s in self.drips if s not in self.closed]
            readable, _, _ = select.select(open_, [], [], 0.2)
            for sock in readable:
                self._read(sock)

    def _send(self, sock: socket.socket, byte: bytes) -> None:
        try:
            # A full send buffer (BlockingIOError) means the byte waits: the socket is alive.
            with contextlib.suppress(BlockingIOError):
                sock.send(byte)
        except (BrokenPipeError, ConnectionResetError):
            self.closed.add(sock)

    def _read(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if data:
            self.received[sock] += data
        else:
            self.closed.add(sock)

    def close(self) -> None:
        for sock in self.drips:
            sock.close()


def test_idle_slow_header_and_slow_body_connections_are_closed(server: Server) -> None:
    clients = Clients()
    idle = [clients.add(server.connect()) for _ in range(20)]
    slow_headers = []
    for _ in range(20):
        sock = server.connect()
        sock.sendall(b"POST /chatkit HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow_headers.append(clients.add(sock, drip=b"a"))
    slow_bodies = []
    for _ in range(20):
        sock = server.connect()
        sock.sendall(b"POST /chatkit HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{")
        slow_bodies.append(clients.add(sock, drip=b" "))
    kept_alive = []
    for _ in range(20):
        sock = server.connect()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        kept_alive.append(clients.add(sock))
    try:
        # Every timeout is 1 s; 30 s only bounds the wait if they were not enforced at all.
        clients.watch(within=30)
        assert clients.closed == set(idle + slow_headers + slow_bodies + kept_alive)
        assert all(clients.received[s] == b"" for s in idle + slow_headers)
        for sock in slow_bodies:
            head, _, body = clients.received[sock].partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower()
            assert json.loads(body)["code"] == "request_timeout"
        assert all(clients.received[s].startswith(b"HTTP/1.1 200") for s in kept_alive)
        assert httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    finally:
        clients.close()


@pytest.mark.parametrize(
    ("args", "descriptors"),
    [(("--max-connections", "100"), None), ((), 256)],
    ids=["max-connections-100", "256-descriptors"],
)
def test_300_idle_sockets_do_not_keep_real_requests_out(
    tmp_path: Path, args: tuple[str, ...], descriptors: int | None
) -> None:
    raise_descriptor_limit(1024)
    slow = ("--header-timeout-seconds", "300")
    server = Server(*FAST, *slow, *args, data_dir=tmp_path, descriptors=descriptors)
    idle = [server.connect() for _ in range(300)]
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for _ in range(10):
                assert client.post("/chatkit", content=LIST).status_code == 200
                assert client.get("/healthz").status_code == 200
        still_open = [s for s in idle if not closed_by_peer(s)]
        # The longest-idle sockets made room; the rest stay open (not all were dropped).
        assert 50 <= len(still_open) < 300
    finally:
        for sock in idle:
            sock.close()
        log = server.stop()
    if descriptors is not None:
        assert "connections fit in 256 file descriptors" in log


def test_a_client_that_stops_reading_is_dropped_and_its_partial_answer_kept(
    tmp_path: Path,
) -> None:
    db = tmp_path / "db.sqlite"
    server = Server(
        "--app", "tests.chatkit_web.apps:flood_app", "--store", str(db),
        "--send-timeout-seconds", "1", "--ping", "0", data_dir=tmp_path,
    )  # fmt: skip
    reader = socket.socket()
    reader.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    try:
        reader.connect(("127.0.0.1", server.port))
        reader.sendall(
            b"POST /chatkit HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (len(CREATE), CREATE)
        )
        head = b""
        while b'"thread.created"' not in head or b"\n\n" not in head.split(b"thread.created")[1]:
            head += reader.recv(4096)
        thread_id = json.loads(head.split(b"data: ", 1)[1].split(b"\n\n", 1)[0])["thread"]["id"]
        # From here on the client reads nothing.
        _wait_for(lambda: "the client read nothing" in server.log.read_text(), within=60)
        text = _wait_for(lambda: _assistant_text(server, thread_id), within=20)
        assert 0 < len(text) < 1_500 * 16_385
        assert text == " ".join(["x" * 16_384] * (text.count(" ") + 1))[: len(text)]
        assert _peer_gone(reader)
    finally:
        reader.close()
        server.stop()


def _assistant_text(server: Server, thread_id: str) -> str:
    get = json.dumps({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    items = httpx.post(f"{server.url}/chatkit", content=get, timeout=10).json()["items"]["data"]
    texts = [
        i["content"][0]["text"] for i in items if i["type"] == "assistant_message" and i["content"]
    ]
    return texts[0] if texts else ""


def _peer_gone(sock: socket.socket) -> bool:
    sock.settimeout(10)
    try:
        received = sock.recv(1 << 20)
        while received:
            received = sock.recv(1 << 20)
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def _wait_for(check: Callable[[], T], within: float) -> T:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, "the condition never held"
            return value
        time.sleep(0.1)


@pytest.mark.parametrize("route", ["direct", "two-phase"])
def test_a_200_mib_upload_is_refused_without_being_held_in_memory(
    tmp_path: Path, route: str
) -> None:
    server = Server(*FAST, data_dir=tmp_path)
    try:
        warm_up = {"file": ("a.txt", b"x" * 100_000, "text/plain")}
        assert (
            httpx.post(f"{server.url}/chatkit/upload", files=warm_up, timeout=10).status_code == 200
        )
        target = "/chatkit/upload" if route == "direct" else upload_url(server)
        before = server.peak_rss_kib()
        head, body = chunked_upload(server, target, 200 * MiB)
        grown = server.peak_rss_kib() - before
    finally:
        server.stop()
    assert head.startswith(b"HTTP/1.1 413"), head
    assert json.loads(body)["code"] == "payload_too_large"
    assert grown < 25 * 1024, f"peak RSS grew by {grown} KiB"


def test_bytes_that_are_not_http_get_the_json_error_body(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head
    assert json.loads(body)["code"] == "invalid_request"


def test_request_headers_are_capped(server: Server) -> None:
    with server.connect() as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for index in range(100):
                sock.sendall(b"X-Big-%d: %s\r\n" % (index, b"a" * 8192))
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while data := sock.recv(65536):
                answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431") and b"application/json" in head
    assert json.loads(body)["code"] == "headers_too_large"


def test_many_small_headers_within_the_cap_are_served(server: Server) -> None:
    headers = {f"x-h{i}": "v" * 100 for i in range(100)}
    assert httpx.get(f"{server.url}/healthz", headers=headers, timeout=10).status_code == 200
