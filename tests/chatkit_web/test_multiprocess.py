"""Two `server.py` processes on one PostgreSQL schema: any process serves any request.

Each process has a data directory of its own, as it would on another host: what they
share is the database (threads, leases, attachment bytes) and the signing secret.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.chatkit_web.processes import ServerProcess, events, streamed, user_input

SHARED_ENV = {"CHATKIT_SECRET": "a secret both processes share"}
LEASE_EXPIRY_DEADLINE = 60.0


@pytest.fixture
def pair(pg_dsn: str, pg_schema: str, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    """Two processes with one-second stream leases, the second started after the first."""
    flags = (
        *("--store", pg_dsn, "--db-schema", pg_schema, "--stream-lease-seconds", "1"),
        *("--app", "tests.chatkit_web.held_app:create_app"),
    )
    servers: list[ServerProcess] = []
    try:
        for name in ("a", "b"):
            servers.append(ServerProcess(*flags, data_dir=tmp_path / name, env=SHARED_ENV))
        yield servers
    finally:
        for server in servers:
            server.stop(signal.SIGKILL)


def created_thread(stream: list[dict]) -> str:
    """The id in a stream's `thread.created`."""
    return str(next(e["thread"]["id"] for e in stream if e["type"] == "thread.created"))


def item_types(server: ServerProcess, thread_id: str) -> list[str]:
    """The thread's visible item types, oldest first."""
    answer = server.post("items.list", thread_id=thread_id, order="asc", limit=50)
    assert answer.status_code == 200, answer.text
    return [item["type"] for item in answer.json()["data"]]


def first_delta(stream: Iterator[dict]) -> None:
    """Read a stream up to its first text delta."""
    for event in stream:
        if event["type"] == "thread.item.updated" and event["update"]["type"] == (
            "assistant_message.content_part.text_delta"
        ):
            return
    raise AssertionError("the stream ended without a text delta")


def moved(url: str, server: ServerProcess) -> str:
    """The same signed URL on another process."""
    _, _, rest = url.partition("/chatkit/")
    return f"{server.url}/chatkit/{rest}"


def test_a_thread_is_listed_continued_and_deleted_through_the_other(
    pair: list[ServerProcess],
) -> None:
    a, b = pair
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    upload = httpx.post(
        f"{a.url}/chatkit/upload", files={"file": ("cat.png", png, "image/png")}, timeout=30
    )
    assert upload.status_code == 200, upload.text
    attachment = upload.json()
    created = a.post("threads.create", input=user_input("hello", [attachment["id"]]))
    assert created.status_code == 200
    thread_id = created_thread(streamed(created))

    listed = b.post("threads.list", order="desc")
    assert [t["id"] for t in listed.json()["data"]] == [thread_id]
    # Bytes uploaded to one process are served by the other.
    preview = httpx.get(moved(attachment["preview_url"], b), timeout=30)
    assert (preview.status_code, preview.content) == (200, png)
    assert preview.headers["x-content-type-options"] == "nosniff"

    continued = b.post("threads.add_user_message", thread_id=thread_id, input=user_input("more"))
    assert [e["type"] for e in streamed(continued)][-1] == "thread.item.done"
    assert item_types(a, thread_id) == [
        "user_message",
        "assistant_message",
        "user_message",
        "assistant_message",
    ]

    assert b.post("threads.delete", thread_id=thread_id).json() == {}
    assert a.post("threads.list").json()["data"] == []
    assert a.post("threads.get_by_id", thread_id=thread_id).status_code == 404
    # The thread took its attachment with it, bytes included, on both processes.
    assert httpx.get(attachment["preview_url"], timeout=30).status_code == 404
    assert httpx.get(moved(attachment["preview_url"], b), timeout=30).status_code == 404


def test_one_stream_per_thread_across_processes_until_the_holder_is_killed(
    pair: list[ServerProcess],
) -> None:
    a, b = pair
    thread_id = created_thread(streamed(a.post("threads.create", input=user_input("hi"))))
    follow_up = {"thread_id": thread_id, "input": user_input("after")}
    with a.stream(
        "threads.add_user_message", thread_id=thread_id, input=user_input("hold")
    ) as held:
        assert held.status_code == 200
        # Kept referenced: a generator collected after `break` would close the connection.
        held_events = events(held)
        first_delta(held_events)
        # A's stream is running and renewing its lease: B must refuse a second one.
        busy = b.post("threads.add_user_message", **follow_up)
        assert (busy.status_code, busy.json()["code"]) == (409, "conflict")
        a.stop(signal.SIGKILL)

    # The holder died without giving the lease back; it expires after its second.
    deadline = time.monotonic() + LEASE_EXPIRY_DEADLINE
    answer = b.post("threads.add_user_message", **follow_up)
    while answer.status_code == 409 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = b.post("threads.add_user_message", **follow_up)
    assert answer.status_code == 200
    assert streamed(answer)[-1]["type"] == "thread.item.done"
    texts = [
        item["content"][0]["text"]
        for item in b.post("items.list", thread_id=thread_id, order="asc").json()["data"]
        if item["type"] == "user_message"
    ]
    assert texts == ["hi", "hold", "after"]
