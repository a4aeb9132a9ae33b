"""What the HTTP limits hold up to, over real sockets: `python -m benchmarks.http_limits`.

1. Peak RSS growth of the server for a 200 MiB upload attempt (direct multipart and
   two-phase raw body, chunked, no Content-Length), against the 20 MiB cap.
2. With the server's RLIMIT_NOFILE at 256 (and at the default with `--max-connections 100`,
   and with nothing capped), how many of 300 idle sockets stay open while real requests are
   served, and how many of those requests succeed.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path

import httpx

from tests.chatkit_web.servers import (
    MiB,
    Server,
    chunked_upload,
    closed_by_peer,
    raise_descriptor_limit,
    upload_url,
)

FAST = ("--app", "tests.chatkit_web.apps:fast_app", "--store", "memory")
LIST = json.dumps({"type": "threads.list", "params": {}})


def upload_memory(route: str) -> None:
    """Print the peak RSS growth for one 200 MiB attempt on `route`."""
    with tempfile.TemporaryDirectory() as data_dir:
        server = Server(*FAST, data_dir=Path(data_dir))
        try:
            warm_up = {"file": ("a.txt", b"x" * 100_000, "text/plain")}
            httpx.post(f"{server.url}/chatkit/upload", files=warm_up, timeout=10)
            target = "/chatkit/upload" if route == "direct" else upload_url(server)
            before = server.peak_rss_kib()
            started = time.perf_counter()
            head, _ = chunked_upload(server, target, 200 * MiB)
            elapsed = time.perf_counter() - started
            grown = server.peak_rss_kib() - before
        finally:
            server.stop()
    status = head.split(b" ", 2)[1].decode()
    print(
        f"200 MiB {route} upload: HTTP {status}, peak RSS +{grown / 1024:.1f} MiB, {elapsed:.1f} s"
    )


def idle_sockets(label: str, args: tuple[str, ...], descriptors: int | None) -> None:
    """Print how many of 300 idle sockets were held while 20 real requests were served."""
    raise_descriptor_limit(2048)
    with tempfile.TemporaryDirectory() as data_dir:
        server = Server(
            *FAST, "--header-timeout-seconds", "300", *args,
            data_dir=Path(data_dir), descriptors=descriptors,
        )  # fmt: skip
        idle = [server.connect() for _ in range(300)]
        ok = 0
        try:
            with httpx.Client(base_url=server.url, timeout=10) as client:
                for _ in range(20):
                    with contextlib.suppress(httpx.TransportError):
                        ok += client.post("/chatkit", content=LIST).status_code == 200
            held = sum(not closed_by_peer(sock) for sock in idle)
        finally:
            for sock in idle:
                sock.close()
            server.stop()
    print(f"{label}: {ok}/20 real requests served while {held}/300 idle sockets were held")


def main() -> None:
    """Run every measurement."""
    upload_memory("direct")
    upload_memory("two-phase")
    idle_sockets("RLIMIT_NOFILE 256", (), 256)
    idle_sockets("--max-connections 100", ("--max-connections", "100"), None)
    idle_sockets("defaults (limit raised)", (), None)


if __name__ == "__main__":
    main()
