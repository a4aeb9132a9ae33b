"""Small JSON documents an app keeps beside the threads (tasks, preferences), per user.

Apps never open a database of their own nor look at which store the server runs: they are
handed a `RecordStore` built next to the thread store, on the same database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import orjson

from ..base import JSONObject


@dataclass(frozen=True, slots=True)
class Record:
    """One record: its key and its JSON object."""

    key: str
    value: JSONObject


class RecordStore(Protocol):
    """JSON objects by (namespace, owner, key), listed in the order they were first put.

    `namespace` keeps apps (or kinds of record) sharing one store apart; `owner` is the user,
    and a key of another owner behaves exactly like an unknown one. The server opens and
    closes the store; apps only read and write.
    """

    async def open(self) -> None:
        """Acquire resources (connections, tables); called once before use."""
        ...

    async def close(self) -> None:
        """Release resources."""
        ...

    async def put(self, namespace: str, owner: str, key: str, value: JSONObject) -> None:
        """Insert a record, or replace the value of an existing one, which keeps its place."""
        ...

    async def get(self, namespace: str, owner: str, key: str) -> JSONObject | None:
        """The value of a record; None when the owner has no such key."""
        ...

    async def list(self, namespace: str, owner: str) -> list[Record]:
        """Every record of the owner in the namespace, oldest first (meant for small sets)."""
        ...

    async def delete(self, namespace: str, owner: str, key: str) -> bool:
        """Remove a record; whether there was one."""
        ...


class MemoryRecords:
    """Records in process memory, gone when it ends: beside `MemoryStore`.

    Values are kept serialised, as a database keeps them, so a caller never shares a dict
    with the store and a value that is not JSON fails here as it would on disk.
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[str, str], dict[str, str]] = {}

    async def open(self) -> None:
        """Nothing to acquire."""

    async def close(self) -> None:
        """Nothing to release; the records stay until the process ends."""

    async def put(self, namespace: str, owner: str, key: str, value: JSONObject) -> None:
        """Insert a record, or replace the value of an existing one, which keeps its place."""
        # A dict keeps the position of a key whose value is replaced: creation order.
        self._rows.setdefault((namespace, owner), {})[key] = dump_value(value)

    async def get(self, namespace: str, owner: str, key: str) -> JSONObject | None:
        """The value of a record; None when the owner has no such key."""
        row = self._rows.get((namespace, owner), {}).get(key)
        return None if row is None else load_value(row)

    async def list(self, namespace: str, owner: str) -> list[Record]:
        """Every record of the owner in the namespace, oldest first."""
        rows = self._rows.get((namespace, owner), {})
        return [Record(key, load_value(row)) for key, row in rows.items()]

    async def delete(self, namespace: str, owner: str, key: str) -> bool:
        """Remove a record; whether there was one."""
        return self._rows.get((namespace, owner), {}).pop(key, None) is not None


def dump_value(value: JSONObject) -> str:
    """A value as the JSON text the database stores; raises `TypeError` if it is not JSON."""
    if not isinstance(value, dict):
        raise TypeError(f"a record's value is a JSON object, not {type(value).__name__}")
    return orjson.dumps(value).decode()


def load_value(data: bytes | str) -> JSONObject:
    """A value stored by `dump_value`."""
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise ValueError("a stored record is not a JSON object")
    return value


__all__ = ["MemoryRecords", "Record", "RecordStore", "dump_value", "load_value"]
