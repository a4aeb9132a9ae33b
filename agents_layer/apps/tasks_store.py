"""Where the tasks app keeps each user's tasks: records of the server's `RecordStore`."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, replace
from typing import Protocol

from chatkit_proto.store.records import RecordStore

NAMESPACE = "tasks"


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


class RecordTasks:
    """Tasks as records (namespace `tasks`, key the task id) on whatever database serves them."""

    def __init__(self, records: RecordStore) -> None:
        self.records = records

    async def list(self, owner: str) -> list[Task]:
        """The owner's tasks, oldest first."""
        return [_task(record.value) for record in await self.records.list(NAMESPACE, owner)]

    async def add(self, owner: str, title: str) -> Task:
        """Create an open task."""
        task = new_task(title)
        await self.records.put(NAMESPACE, owner, task.id, _value(task))
        return task

    async def set_done(self, owner: str, task_id: str, done: bool = True) -> Task | None:
        """Mark a task done (or open again); None when the owner has no such task."""
        value = await self.records.get(NAMESPACE, owner, task_id)
        if value is None:
            return None
        task = replace(_task(value), done=done)
        await self.records.put(NAMESPACE, owner, task.id, _value(task))
        return task

    async def delete(self, owner: str, task_id: str) -> Task | None:
        """Remove a task and return it; None when the owner has no such task."""
        value = await self.records.get(NAMESPACE, owner, task_id)
        if value is None or not await self.records.delete(NAMESPACE, owner, task_id):
            return None
        return _task(value)


def _value(task: Task) -> dict[str, object]:
    return {"id": task.id, "title": task.title, "done": task.done, "created_at": task.created_at}


def _task(value: dict[str, object]) -> Task:
    task_id, title, done, created_at = (value.get(k) for k in ("id", "title", "done", "created_at"))
    if not (
        isinstance(task_id, str)
        and isinstance(title, str)
        and isinstance(done, bool)
        and isinstance(created_at, int)
    ):
        raise ValueError(f"not a stored task: {value!r}")
    return Task(task_id, title, done, created_at)


__all__ = ["NAMESPACE", "RecordTasks", "Task", "TaskStore", "new_task"]
