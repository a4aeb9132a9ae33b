"""Apps' records (`RecordStore`) in a table of the SQLite file that holds the threads."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from chatkit_proto.base import JSONObject
from chatkit_proto.store.records import Record, dump_value, load_value

# The rowid orders records by creation: an upsert keeps the row (and its rowid) of an
# existing key, and a new row gets max(rowid) + 1.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS app_records (
    namespace TEXT NOT NULL,
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (namespace, owner, key)
);
"""

_PRAGMAS = (
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    # The thread store (and other server processes) write the same file on connections of
    # their own: wait for them instead of failing.
    "PRAGMA busy_timeout = 5000",
)


class SQLiteRecords:
    """Records in the `app_records` table of an SQLite file, on a connection of their own."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._db: aiosqlite.Connection | None = None

    async def open(self) -> None:
        """Open the file (creating it and its directory) and the table if needed."""
        self._path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(self._path, isolation_level=None)
        try:
            for pragma in _PRAGMAS:
                await db.execute_fetchall(pragma)
            await db.executescript(_SCHEMA)
        except BaseException:
            await db.close()
            raise
        self._db = db

    async def close(self) -> None:
        """Close the connection; the records can be opened again."""
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def _fetch(self, sql: str, params: tuple[str, ...]) -> list[aiosqlite.Row]:
        if self._db is None:
            raise RuntimeError("SQLiteRecords used before open() or after close()")
        # Each call is one autocommit statement: nothing for a cancelled caller to leave open.
        return list(await self._db.execute_fetchall(sql, params))

    async def put(self, namespace: str, owner: str, key: str, value: JSONObject) -> None:
        """Insert a record, or replace the value of an existing one, which keeps its place."""
        await self._fetch(
            "INSERT INTO app_records (namespace, owner, key, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (namespace, owner, key) DO UPDATE SET value = excluded.value",
            (namespace, owner, key, dump_value(value)),
        )

    async def get(self, namespace: str, owner: str, key: str) -> JSONObject | None:
        """The value of a record; None when the owner has no such key."""
        rows = await self._fetch(
            "SELECT value FROM app_records WHERE namespace = ? AND owner = ? AND key = ?",
            (namespace, owner, key),
        )
        return load_value(rows[0][0]) if rows else None

    async def list(self, namespace: str, owner: str) -> list[Record]:
        """Every record of the owner in the namespace, oldest first."""
        rows = await self._fetch(
            "SELECT key, value FROM app_records WHERE namespace = ? AND owner = ? ORDER BY rowid",
            (namespace, owner),
        )
        return [Record(row[0], load_value(row[1])) for row in rows]

    async def delete(self, namespace: str, owner: str, key: str) -> bool:
        """Remove a record; whether there was one."""
        rows = await self._fetch(
            "DELETE FROM app_records WHERE namespace = ? AND owner = ? AND key = ? RETURNING 1",
            (namespace, owner, key),
        )
        return bool(rows)
