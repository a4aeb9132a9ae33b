"""The to-do list as a stdio MCP server: the tools of examples/todo_mcp.py's agent.

Run by the app as `python todo_mcp_server.py` (a subprocess speaking MCP on stdin/stdout).
Tasks are kept in this process's memory, one list per user, and end with it. The tools are
`async` so that they run one at a time on the event loop, not in worker threads.

Whose list a call works on comes from the request's `_meta` (USER_KEY), not from a tool
argument: the app sets it from the signed-in ChatKit user, and the model never sees or
writes it. Only the app that started this process can talk to it (its stdin/stdout), so
the server trusts that value; a call without it is refused.
"""

from __future__ import annotations

import itertools
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

USER_KEY = "chatkit-example/user_id"

server = MCPServer("todo")


class Todo(BaseModel):
    """One task of a user's list."""

    id: str
    title: str
    done: bool = False


class TodoList(BaseModel):
    """A user's tasks, oldest first (the structured result of `list_tasks`)."""

    todos: list[Todo]


class Todos:
    """Every user's tasks, kept in memory."""

    def __init__(self) -> None:
        self.by_user: dict[str, list[Todo]] = {}
        self.ids = itertools.count(1)

    def of(self, user_id: str) -> list[Todo]:
        """The user's tasks (a new user has none)."""
        return self.by_user.setdefault(user_id, [])

    def add(self, user_id: str, title: str) -> Todo:
        """Append a task, with an id unique in this process."""
        todo = Todo(id=f"todo_{next(self.ids)}", title=title)
        self.of(user_id).append(todo)
        return todo

    def complete(self, user_id: str, todo_id: str) -> Todo | None:
        """Mark the user's task as done; None when the user has no such task."""
        for todo in self.of(user_id):
            if todo.id == todo_id:
                todo.done = True
                return todo
        return None


TASKS = Todos()


def user_of(ctx: Context[Any]) -> str:
    """The user the app named in the request's `_meta`."""
    meta = ctx.request_context.meta or {}
    user_id = meta.get(USER_KEY)
    if not isinstance(user_id, str) or not user_id:
        raise ToolError(f"the request names no user ({USER_KEY} in _meta)")
    return user_id


@server.tool()
async def add_task(title: str, ctx: Context[Any]) -> str:
    """Add a task to the user's to-do list."""
    todo = TASKS.add(user_of(ctx), title.strip())
    return f"Added {todo.title} as {todo.id}"


@server.tool()
async def list_tasks(ctx: Context[Any]) -> TodoList:
    """The user's to-do list, with each task's id and whether it is done."""
    return TodoList(todos=TASKS.of(user_of(ctx)))


@server.tool()
async def complete_task(todo_id: str, ctx: Context[Any]) -> str:
    """Mark one task as done, by its id (as `list_tasks` shows it)."""
    todo = TASKS.complete(user_of(ctx), todo_id)
    return f"Completed {todo.title}" if todo else f"No task {todo_id}"


if __name__ == "__main__":
    server.run("stdio")
