"""Runs the store conformance suite against every store, plus SQLite-only file behaviour."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatkit_proto.attachments import FileAttachment
from chatkit_proto.store.base import NotFoundError, Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_stores.sqlite import SQLiteStore
from tests.store_conformance import ALICE, BOB, StoreConformance, message, thread


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh, opened store of each kind."""
    opened: Store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    await opened.open()
    yield opened
    await opened.close()


class TestStoreConformance(StoreConformance):
    """The shared suite, once per store kind."""


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A database path in a directory that does not exist yet."""
    return tmp_path / "nested" / "dir" / "chatkit.db"


async def test_sqlite_data_survives_reopening(db_path: Path) -> None:
    first = SQLiteStore(db_path)
    await first.open()
    await first.save_thread(thread("thr_1", 0, title="kept"), ALICE)
    await first.save_thread(thread("thr_2", 1), ALICE)
    await first.add_thread_item("thr_1", message("msg_1", "thr_1"), ALICE)
    await first.save_attachment(
        FileAttachment(id="atc_1", name="a", mime_type="text/plain", metadata={"k": 1}), ALICE
    )
    await first.close()

    second = SQLiteStore(db_path)
    await second.open()  # the schema already exists: open() must be idempotent
    try:
        assert (await second.load_thread("thr_1", ALICE)).title == "kept"
        page = await second.load_threads(20, None, "desc", ALICE)
        assert [t.id for t in page.data] == ["thr_2", "thr_1"]
        assert (await second.load_item("thr_1", "msg_1", ALICE)).id == "msg_1"
        assert (await second.load_attachment("atc_1", ALICE)).metadata == {"k": 1}
        # New rows keep sorting after the old ones when timestamps tie.
        await second.save_thread(thread("thr_3", 1), ALICE)
        page = await second.load_threads(20, None, "asc", ALICE)
        assert [t.id for t in page.data] == ["thr_1", "thr_2", "thr_3"]
    finally:
        await second.close()


async def test_sqlite_uses_wal_and_foreign_keys(db_path: Path) -> None:
    store = SQLiteStore(db_path)
    await store.open()
    try:
        assert db_path.exists()
        assert store.path == db_path
        pragmas = {}
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout"):
            pragmas[name] = (await store._fetch(f"PRAGMA {name}", ()))[0][0]
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": 1,
            "foreign_keys": 1,
            "busy_timeout": 5000,
        }
    finally:
        await store.close()


async def test_sqlite_used_before_open_fails_clearly(db_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        await SQLiteStore(db_path).load_thread("thr_1", ALICE)


@pytest.fixture
async def two_stores(db_path: Path) -> AsyncIterator[tuple[SQLiteStore, SQLiteStore]]:
    """Two independent stores on one file, as two server processes would have."""
    one, two = SQLiteStore(db_path), SQLiteStore(db_path)
    await one.open()
    await two.open()
    yield one, two
    await one.close()
    await two.close()


async def test_sqlite_two_stores_see_each_others_writes(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    one, two = two_stores
    await one.save_thread(thread("thr_1", 0), ALICE)
    await two.add_thread_item("thr_1", message("msg_1", "thr_1", 0), ALICE)
    await one.add_thread_item("thr_1", message("msg_2", "thr_1", 0), ALICE)
    page = await two.load_thread_items("thr_1", None, 20, "asc", ALICE)
    assert [i.id for i in page.data] == ["msg_1", "msg_2"]
    await two.delete_thread("thr_1", ALICE)
    with pytest.raises(NotFoundError):
        await one.load_thread("thr_1", ALICE)
    with pytest.raises(NotFoundError):
        await one.load_thread("thr_1", BOB)


async def test_sqlite_lease_is_exclusive_across_stores(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    one, two = two_stores
    assert await one.acquire_stream_lease("thr_1", "tok_one", 60, ALICE) is True
    assert await two.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is False
    assert await two.acquire_stream_lease("thr_1", "tok_one", 60, ALICE) is True
    await two.release_stream_lease("thr_1", "tok_two", ALICE)
    assert await two.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is False
    await one.release_stream_lease("thr_1", "tok_one", ALICE)
    assert await two.acquire_stream_lease("thr_1", "tok_two", 60, ALICE) is True


async def test_sqlite_concurrent_acquires_across_stores_have_one_winner(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    one, two = two_stores
    attempts = [
        (one if n % 2 else two).acquire_stream_lease("thr_1", f"tok_{n}", 60, ALICE)
        for n in range(20)
    ]
    assert (await asyncio.gather(*attempts)).count(True) == 1


_WRITER = """
import asyncio, os, sys, time
from tests.store_conformance import ALICE, message, thread
from chatkit_stores.sqlite import SQLiteStore

async def main():
    store = SQLiteStore(sys.argv[1])
    await store.open()
    await store.save_thread(thread("thr_1"), ALICE)
    await store.add_thread_item("thr_1", message("msg_1", "thr_1", text="acknowledged"), ALICE)
    print("saved", flush=True)
    time.sleep(60)

asyncio.run(main())
"""


async def test_sqlite_acknowledged_write_survives_sigkill(db_path: Path) -> None:
    # The process dies without closing the connection or checkpointing the WAL.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])}
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(db_path)], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "saved"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    store = SQLiteStore(db_path)
    await store.open()
    try:
        item = await store.load_item("thr_1", "msg_1", ALICE)
        assert item.content[0].text == "acknowledged"
    finally:
        await store.close()


async def test_sqlite_cancelled_lease_leaves_no_open_transaction(
    two_stores: tuple[SQLiteStore, SQLiteStore],
) -> None:
    one, two = two_stores
    for _ in range(20):
        attempt = asyncio.ensure_future(one.acquire_stream_lease("thr_1", "tok", 60, ALICE))
        await asyncio.sleep(0)
        attempt.cancel()
        await asyncio.gather(attempt, return_exceptions=True)
    # Were `one` left inside a write transaction, this write would wait out the busy timeout.
    await asyncio.wait_for(two.save_thread(thread("thr_2"), ALICE), timeout=2)
    await one.save_thread(thread("thr_3"), ALICE)
