"""The to-do agent of examples/todo.py with its tools on a stdio MCP server.

The agent's add_task, list_tasks and complete_task are tools of examples/todo_mcp_server.py,
which the app starts as a subprocess (with this Python) on first use and stops in `aclose`.
The app also gives the agent one function tool, `show_tasks`, which asks the MCP server for
the list and shows it as a widget; the widget's Complete buttons call the MCP server too.

The MCP server keeps one list per user. Every call carries the signed-in ChatKit user in its
MCP `_meta`, set by the app (see `user_meta`), never by the model.

Run it with `python server.py --app examples.todo_mcp:app`, or from this folder with
`python ../server.py --app todo_mcp:app` (with a model provider configured, or
`--model-script` for a scripted model).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from agents import Agent, RunContextWrapper, Runner, function_tool
from agents.mcp import MCPServer, MCPServerStdio, MCPToolMetaContext
from agents.models.interface import Model
from mcp.types import CallToolResult
from pydantic import BaseModel, ValidationError

from agents_layer import (
    AgentContext,
    AppSettings,
    MCPServers,
    simple_to_agent_input,
    stream_agent_response,
)
from chatkit_proto import RequestContext
from chatkit_proto.actions import ActionConfig
from chatkit_proto.errors import CustomStreamError
from chatkit_proto.server import ChatKitServer
from chatkit_proto.store import Store
from chatkit_proto.types import (
    Action,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
)
from chatkit_proto.widgets import Badge, Button, Col, ListView, ListViewItem, Row, Text

DONE = "todo.complete"
MCP_SCRIPT = Path(__file__).resolve().with_name("todo_mcp_server.py")
# The `_meta` key examples/todo_mcp_server.py reads the user from.
USER_KEY = "chatkit-example/user_id"
HISTORY_WINDOW = 30

INSTRUCTIONS = """\
You keep the user's to-do list with your tools. Tasks have ids like todo_1; `list_tasks`
tells you them. To show the list to the user call `show_tasks` (it shows a widget, so do
not repeat the list). After a tool call, confirm in one short sentence."""


class Todo(BaseModel):
    """One task, as the MCP server's `list_tasks` describes it."""

    id: str
    title: str
    done: bool


class TodoList(BaseModel):
    """The structured result of the MCP server's `list_tasks`."""

    todos: list[Todo]


class TodoContext(AgentContext):
    """The agent context, with the MCP server that `show_tasks` asks for the list."""

    def __init__(
        self,
        thread: ThreadMetadata,
        store: Store[RequestContext],
        request_context: RequestContext,
        todo_server: MCPServer,
    ) -> None:
        super().__init__(thread, store, request_context)
        self.todo_server = todo_server


# -- calling the MCP server -----------------------------------------------------------------


def user_meta(user_id: str) -> dict[str, Any]:
    """The `_meta` that tells the MCP server whose list a call is about."""
    return {USER_KEY: user_id}


def agent_call_meta(call: MCPToolMetaContext) -> dict[str, Any]:
    """The `_meta` of the agent's MCP tool calls: the user the run answers."""
    context = call.run_context.context
    if not isinstance(context, AgentContext):
        raise TypeError("MCP tools of the to-do server need an AgentContext")
    return user_meta(context.request_context.user_id)


def tool_result(result: CallToolResult) -> CallToolResult:
    """The result of a call that did not fail."""
    if result.is_error:
        text = " ".join(getattr(part, "text", "") for part in result.content)
        raise CustomStreamError(f"The to-do list failed: {text}", allow_retry=True)
    return result


async def fetch_todos(server: MCPServer, user_id: str) -> list[Todo]:
    """The user's tasks, from the MCP server's `list_tasks`."""
    result = tool_result(await server.call_tool("list_tasks", {}, meta=user_meta(user_id)))
    try:
        return TodoList.model_validate(result.structured_content).todos
    except ValidationError:
        raise CustomStreamError("The to-do list answered in an unknown shape.") from None


async def complete_todo(server: MCPServer, user_id: str, todo_id: str) -> None:
    """Mark the user's task as done with the MCP server's `complete_task`."""
    tool_result(
        await server.call_tool("complete_task", {"todo_id": todo_id}, meta=user_meta(user_id))
    )


def todo_server() -> MCPServerStdio:
    """examples/todo_mcp_server.py as a stdio server, run by this Python; not yet started."""
    return MCPServerStdio(
        {"command": sys.executable, "args": [str(MCP_SCRIPT)]},
        name="todo",
        cache_tools_list=True,
        client_session_timeout_seconds=10,
        tool_meta_resolver=agent_call_meta,
    )


# -- the widget and the agent ---------------------------------------------------------------


def todo_widget(todos: list[Todo]) -> ListView:
    """A row per task with its state and a Complete button; one row when there are none."""
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


def copy_text(todos: list[Todo]) -> str:
    """The list as plain text, for the widget's copy button."""
    return "\n".join(f"[{'x' if todo.done else ' '}] {todo.title}" for todo in todos)


@function_tool
async def show_tasks(ctx: RunContextWrapper[TodoContext]) -> str:
    """Show the user's to-do list as a widget."""
    context = ctx.context
    todos = await fetch_todos(context.todo_server, context.request_context.user_id)
    await context.stream_widget(todo_widget(todos), copy_text=copy_text(todos))
    return f"Showed {len(todos)} tasks"


class TodoMCPServer(ChatKitServer[RequestContext]):
    """The to-do app: an agent whose list lives on the MCP server."""

    def __init__(self, store: Store[RequestContext], model: Model, todo: MCPServer) -> None:
        super().__init__(store)
        self.model = model
        self.todo = todo
        self.mcp = MCPServers([todo])

    async def aclose(self) -> None:
        """Stop the MCP server's subprocess (at app shutdown)."""
        await self.mcp.aclose()

    async def connected_todo(self) -> MCPServer:
        """The MCP server, started on first use; an error event when it could not start."""
        if self.todo not in await self.mcp.active():
            raise CustomStreamError("The to-do list is not available.", allow_retry=True)
        return self.todo

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """Run the agent over the newest items, with the MCP server's tools and show_tasks."""
        todo = await self.connected_todo()
        newest = await self.store.load_thread_items(
            thread.id, None, HISTORY_WINDOW, "desc", context
        )
        agent = Agent[TodoContext](
            name="Todo",
            instructions=INSTRUCTIONS,
            model=self.model,
            tools=[show_tasks],
            mcp_servers=[todo],
        )
        agent_context = TodoContext(thread, self.store, context, todo)
        agent_input = await simple_to_agent_input(list(reversed(newest.data)))
        result = Runner.run_streamed(agent, agent_input, context=agent_context)
        async for event in stream_agent_response(agent_context, result):
            yield event

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A widget's Complete button: complete the task, then show the list as it is now."""
        todo_id = action.payload.get("id") if isinstance(action.payload, dict) else None
        if action.type != DONE or sender is None or not isinstance(todo_id, str):
            raise CustomStreamError(f"Unsupported action: {action.type}")
        todo = await self.connected_todo()
        await complete_todo(todo, context.user_id, todo_id)
        todos = await fetch_todos(todo, context.user_id)
        widget = todo_widget(todos)
        yield ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": copy_text(todos)})
        )


def app(settings: AppSettings) -> TodoMCPServer:
    """What `--app examples.todo_mcp:app` calls: the server's configured model drives the agent."""
    return TodoMCPServer(settings.store, settings.model, todo_server())
