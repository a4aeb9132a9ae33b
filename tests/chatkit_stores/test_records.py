"""One suite for every `RecordStore`: in memory, in the SQLite file, in PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from chatkit_proto.store.records import MemoryRecords, Record, RecordStore
from chatkit_stores import PostgresRecords, PostgresStore, SQLiteRecords


@dataclass
class Place:
    """Where a backend keeps its data: an SQLite file, or a PostgreSQL URL and schema."""

    kind: str
    path: Path
    dsn: str = ""
    schema: str = ""


class Database:
    """One backend's database; `records()` opens a record store on it, as a process would."""

    def __init__(self, place: Place, stack: AsyncExitStack) -> None:
        self.place = place
        self.stack = stack
        self.memory = MemoryRecords()

    async def records(self) -> RecordStore:
        """A newly opened record store on this database (in memory: the one store)."""
        place = self.place
        if place.kind == "memory":
            return self.memory
        if place.kind == "sqlite":
            records: RecordStore = SQLiteRecords(place.path)
        else:
            store = PostgresStore(place.dsn, schema=place.schema)
            await store.open()
            self.stack.push_async_callback(store.close)
            records = PostgresRecords(store)
        await records.open()
        self.stack.push_async_callback(records.close)
        return records


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Place:
    """Each backend in turn (PostgreSQL only where CHATKIT_TEST_POSTGRES_URL is set)."""
    if request.param != "postgres":
        return Place(request.param, tmp_path / "chatkit.db")
    dsn, schema = request.getfixturevalue("pg_dsn"), request.getfixturevalue("pg_schema")
    return Place("postgres", tmp_path, dsn, schema)


@pytest.fixture
async def database(place: Place) -> AsyncIterator[Database]:
    """The backend's database; every store opened on it is closed afterwards."""
    async with AsyncExitStack() as stack:
        yield Database(place, stack)


@pytest.fixture
async def records(database: Database) -> RecordStore:
    """An opened record store of each backend."""
    return await database.records()


def keys(rows: list[Record]) -> list[str]:
    """The keys of listed records, in order."""
    return [row.key for row in rows]


async def test_put_then_get_returns_the_value(records: RecordStore) -> None:
    value = {"title": "Buy milk ✓", "done": False, "n": 3, "tags": ["a", {"b": None}]}
    await records.put("tasks", "alice", "task_1", value)
    assert await records.get("tasks", "alice", "task_1") == value
    assert await records.get("tasks", "alice", "task_2") is None


async def test_list_is_in_creation_order_and_a_replaced_value_keeps_its_place(
    records: RecordStore,
) -> None:
    for key in ("k3", "k1", "k2"):
        await records.put("tasks", "alice", key, {"key": key})
    await records.put("tasks", "alice", "k3", {"key": "k3", "done": True})
    listed = await records.list("tasks", "alice")
    assert keys(listed) == ["k3", "k1", "k2"]
    assert listed[0].value == {"key": "k3", "done": True}


async def test_delete_says_whether_there_was_a_record(records: RecordStore) -> None:
    await records.put("tasks", "alice", "k1", {})
    await records.put("tasks", "alice", "k2", {})
    assert await records.delete("tasks", "alice", "k1") is True
    assert await records.delete("tasks", "alice", "k1") is False
    assert await records.get("tasks", "alice", "k1") is None
    await records.put("tasks", "alice", "k1", {"again": True})
    assert keys(await records.list("tasks", "alice")) == ["k2", "k1"]


async def test_owners_and_namespaces_are_apart(records: RecordStore) -> None:
    await records.put("tasks", "alice", "k1", {"owner": "alice"})
    await records.put("notes", "alice", "k1", {"kind": "note"})
    assert await records.get("tasks", "bob", "k1") is None
    assert await records.list("tasks", "bob") == []
    assert await records.delete("tasks", "bob", "k1") is False
    await records.put("tasks", "bob", "k1", {"owner": "bob"})
    assert await records.get("tasks", "alice", "k1") == {"owner": "alice"}
    assert await records.get("notes", "alice", "k1") == {"kind": "note"}
    assert [r.value for r in await records.list("tasks", "alice")] == [{"owner": "alice"}]


@pytest.mark.parametrize("value", [["a list"], "text", {"when": object()}])
async def test_a_value_that_is_not_a_json_object_is_refused(
    records: RecordStore, value: object
) -> None:
    with pytest.raises(TypeError):
        await records.put("tasks", "alice", "k1", value)  # type: ignore[arg-type]
    assert await records.list("tasks", "alice") == []


async def test_stores_on_one_database_see_each_others_writes(database: Database) -> None:
    first, second = await database.records(), await database.records()
    await first.put("tasks", "alice", "k1", {"by": "first"})
    await second.put("tasks", "alice", "k2", {"by": "second"})
    assert keys(await first.list("tasks", "alice")) == ["k1", "k2"]
    assert await second.delete("tasks", "alice", "k1") is True
    assert await first.get("tasks", "alice", "k1") is None


async def test_used_before_open_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="open"):
        await SQLiteRecords(tmp_path / "db").list("tasks", "alice")
