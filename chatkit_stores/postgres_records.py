"""Apps' records (`RecordStore`) in the `app_records` table of the PostgreSQL store's schema."""

from __future__ import annotations

from chatkit_proto.base import JSONObject
from chatkit_proto.store.records import Record, dump_value, load_value

from .postgres import PostgresStore


class PostgresRecords:
    """Records on the store's own pool, so they share its connections and its outages.

    The table comes with the store's migrations; opening and closing is the store's job.
    """

    def __init__(self, store: PostgresStore) -> None:
        self._store = store

    async def open(self) -> None:
        """Nothing of its own to open: the store's pool serves the records."""

    async def close(self) -> None:
        """Nothing of its own to close."""

    async def put(self, namespace: str, owner: str, key: str, value: JSONObject) -> None:
        """Insert a record, or replace the value of an existing one, which keeps its place."""
        await self._store.fetch(
            "INSERT INTO app_records (namespace, owner, key, value) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (namespace, owner, key) DO UPDATE SET value = excluded.value",
            namespace,
            owner,
            key,
            dump_value(value),
        )

    async def get(self, namespace: str, owner: str, key: str) -> JSONObject | None:
        """The value of a record; None when the owner has no such key."""
        rows = await self._store.fetch(
            "SELECT value FROM app_records WHERE namespace = $1 AND owner = $2 AND key = $3",
            namespace,
            owner,
            key,
        )
        return load_value(rows[0]["value"]) if rows else None

    async def list(self, namespace: str, owner: str) -> list[Record]:
        """Every record of the owner in the namespace, oldest first."""
        rows = await self._store.fetch(
            "SELECT key, value FROM app_records WHERE namespace = $1 AND owner = $2 ORDER BY seq",
            namespace,
            owner,
        )
        return [Record(row["key"], load_value(row["value"])) for row in rows]

    async def delete(self, namespace: str, owner: str, key: str) -> bool:
        """Remove a record; whether there was one."""
        rows = await self._store.fetch(
            "DELETE FROM app_records WHERE namespace = $1 AND owner = $2 AND key = $3 RETURNING 1",
            namespace,
            owner,
            key,
        )
        return bool(rows)
