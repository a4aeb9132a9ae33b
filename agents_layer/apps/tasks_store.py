"""Where the tasks app keeps each user's tasks: in memory, or in the server's SQLite file."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import aiosqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    owner TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, id)
);
CREATE INDEX IF NOT EXISTS tasks_order ON tasks (owner, created_at);
"""


@dataclass(frozen=True, slots=True)
class Task:
    """One task of one user."""

    id: str
    title: str
    done: bool
    created_at: int
    """Microseconds since the epoch; tasks are listed in this order."""


def new_task(title: str) -> Task:
    """A fresh, open task with a unique id."""
    return Task(
        id=f"task_{uuid.uuid4().hex[:16]}",
        title=title,
        done=False,
        created_at=time.time_ns() // 1000,
    )


class TaskStore(Protocol):
    """Tasks per owner; an id of another owner behaves exactly like an unknown one."""

    async def list(self, owner: str) -> list[Task]:
        """The owner's tasks, oldest first."""
        ...

    async def add(self, owner: str, title: str) -> Task:
        """Create an open task."""
        ...

    async def set_done(self, owner: str, task_id: str, done: bool = True) -> Task | None:
        """Mark a task done (or open again); None when the owner has no such task."""
        ...

    async def delete(self, owner: str, task_id: str) -> Task | None:
        """Remove a task and return it; None when the owner has no such task."""
        ...


class MemoryTaskStore:
    """Tasks in a dict, gone when the process ends."""

    def __init__(self) -> None:
        self._tasks: dict[str, dict[str, Task]] = {}

    async def list(self, owner: str) -> list[Task]:
        """The owner's tasks, oldest first."""
        return sorted(self._tasks.get(owner, {}).values(), key=lambda task: task.created_at)

    async def add(self, owner: str, title: str) -> Task:
        """Create an open task."""
        task = new_task(title)
        self._tasks.setdefault(owner, {})[task.id] = task
        return task

    async def set_done(self, owner: str, task_id: str, done: bool = True) -> Task | None:
        """Mark a task done (or open again); None when the owner has no such task."""
        owned = self._tasks.get(owner, {})
        if task_id not in owned:
            return None
        owned[task_id] = replace(owned[task_id], done=done)
        return owned[task_id]

    async def delete(self, owner: str, task_id: str) -> Task | None:
        """Remove a task and return it; None when the owner has no such task."""
        return self._tasks.get(owner, {}).pop(task_id, None)


class SQLiteTaskStore:
    """Tasks in their own table of an SQLite file, typically the one holding the threads.

    The connection is opened on first use, so the store needs no lifecycle hook of its own.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._db: aiosqlite.Connection | None = None
        # One shared connection: serialising access keeps statements of concurrent turns apart.
        self._lock = asyncio.Lock()

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self._path, isolation_level=None)
            try:
                await db.execute("PRAGMA journal_mode = WAL")
                # The thread store may be writing the same file from its own connection.
                await db.execute("PRAGMA busy_timeout = 5000")
                await db.executescript(_SCHEMA)
            except BaseException:
                await db.close()
                raise
            self._db = db
        return self._db

    async def close(self) -> None:
        """Close the connection; the next call opens it again."""
        async with self._lock:
            if self._db is not None:
                db, self._db = self._db, None
                await db.close()

    async def _get(self, db: aiosqlite.Connection, owner: str, task_id: str) -> Task | None:
        async with db.execute(
            "SELECT id, title, done, created_at FROM tasks WHERE owner = ? AND id = ?",
            (owner, task_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else Task(row[0], row[1], bool(row[2]), row[3])

    async def list(self, owner: str) -> list[Task]:
        """The owner's tasks, oldest first."""
        async with self._lock:
            db = await self._connection()
            async with db.execute(
                "SELECT id, title, done, created_at FROM tasks WHERE owner = ? "
                "ORDER BY created_at, rowid",
                (owner,),
            ) as cursor:
                rows = await cursor.fetchall()
        return [Task(row[0], row[1], bool(row[2]), row[3]) for row in rows]

    async def add(self, owner: str, title: str) -> Task:
        """Create an open task."""
        task = new_task(title)
        async with self._lock:
            db = await self._connection()
            await db.execute(
                "INSERT INTO tasks (owner, id, title, done, created_at) VALUES (?, ?, ?, 0, ?)",
                (owner, task.id, task.title, task.created_at),
            )
        return task

    async def set_done(self, owner: str, task_id: str, done: bool = True) -> Task | None:
        """Mark a task done (or open again); None when the owner has no such task."""
        async with self._lock:
            db = await self._connection()
            await db.execute(
                "UPDATE tasks SET done = ? WHERE owner = ? AND id = ?",
                (int(done), owner, task_id),
            )
            return await self._get(db, owner, task_id)

    async def delete(self, owner: str, task_id: str) -> Task | None:
        """Remove a task and return it; None when the owner has no such task."""
        async with self._lock:
            db = await self._connection()
            task = await self._get(db, owner, task_id)
            if task is not None:
                await db.execute("DELETE FROM tasks WHERE owner = ? AND id = ?", (owner, task_id))
            return task


__all__ = ["MemoryTaskStore", "SQLiteTaskStore", "Task", "TaskStore", "new_task"]
