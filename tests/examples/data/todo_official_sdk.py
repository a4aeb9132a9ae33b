"""A to-do agent written against the official ChatKit Python SDK: the source of examples/todo.py.

`RequestContext` is the app's own context type (a dataclass with `user_id`), which its web
layer builds for every request and passes to `server.process(body, context)`.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from agents import Agent, RunContextWrapper, Runner, function_tool
from chatkit.actions import ActionConfig
from chatkit.agents import AgentContext, simple_to_agent_input, stream_agent_response
from chatkit.server import ChatKitServer
from chatkit.store import Store
from chatkit.types import (
    Action,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
)
from chatkit.widgets import Badge, Button, Col, ListView, ListViewItem, Row, Text
from todo_app.context import RequestContext

DONE = "todo.complete"


@dataclass
class Todo:
    id: str
    title: str
    done: bool = False


class TodoList:
    """Every user's tasks, kept in memory."""

    def __init__(self) -> None:
        self.by_user: dict[str, list[Todo]] = {}
        self.ids = itertools.count(1)

    def of(self, user_id: str) -> list[Todo]:
        return self.by_user.setdefault(user_id, [])

    def add(self, user_id: str, title: str) -> Todo:
        todo = Todo(id=f"todo_{next(self.ids)}", title=title)
        self.of(user_id).append(todo)
        return todo

    def complete(self, user_id: str, todo_id: str) -> Todo | None:
        for todo in self.of(user_id):
            if todo.id == todo_id:
                todo.done = True
                return todo
        return None


TASKS = TodoList()


def todo_widget(todos: list[Todo]) -> ListView:
    rows = [
        ListViewItem(
            key=todo.id,
            children=[
                Row(
                    gap=2,
                    children=[
                        Col(children=[Text(value=todo.title, lineThrough=todo.done)]),
                        Badge(
                            label="done" if todo.done else "open",
                            color="success" if todo.done else "info",
                        ),
                        Button(
                            label="Complete",
                            disabled=todo.done,
                            onClickAction=ActionConfig(type=DONE, payload={"id": todo.id}),
                        ),
                    ],
                )
            ],
        )
        for todo in todos
    ]
    return ListView(children=rows or [ListViewItem(children=[Text(value="Nothing to do.")])])


def user_of(ctx: RunContextWrapper[AgentContext]) -> str:
    return ctx.context.request_context.user_id


@function_tool
async def add_task(ctx: RunContextWrapper[AgentContext], title: str) -> str:
    """Add a task to the user's to-do list."""
    todo = TASKS.add(user_of(ctx), title)
    return f"Added {todo.title} as {todo.id}"


@function_tool
async def list_tasks(ctx: RunContextWrapper[AgentContext]) -> str:
    """Show the user's to-do list."""
    todos = TASKS.of(user_of(ctx))
    await ctx.context.stream_widget(todo_widget(todos), copy_text=f"{len(todos)} tasks")
    return f"Showed {len(todos)} tasks"


@function_tool
async def complete_task(ctx: RunContextWrapper[AgentContext], todo_id: str) -> str:
    """Mark one task as done, by its id."""
    todo = TASKS.complete(user_of(ctx), todo_id)
    return f"Completed {todo.title}" if todo else f"No task {todo_id}"


AGENT = Agent[AgentContext](
    name="Todo",
    instructions="You keep the user's to-do list with your tools.",
    tools=[add_task, list_tasks, complete_task],
)


class TodoServer(ChatKitServer[RequestContext]):
    def __init__(self, store: Store[RequestContext]) -> None:
        super().__init__(store)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        newest = await self.store.load_thread_items(thread.id, None, 30, "desc", context)
        agent_context = AgentContext(thread=thread, store=self.store, request_context=context)
        agent_input = await simple_to_agent_input(list(reversed(newest.data)))
        result = Runner.run_streamed(AGENT, agent_input, context=agent_context)
        async for event in stream_agent_response(agent_context, result):
            yield event

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if action.type == DONE and sender is not None:
            TASKS.complete(context.user_id, action.payload["id"])
            widget = todo_widget(TASKS.of(context.user_id))
            yield ThreadItemReplacedEvent(item=sender.model_copy(update={"widget": widget}))
