"""The server's default app: a to-do list kept per user, driven by an agent and by widgets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing

from agents import Agent, RunConfig, RunContextWrapper, Runner, function_tool
from agents.models.interface import Model
from agents.tool import Tool

from agents_layer.adapter import stream_agent_response
from agents_layer.apps.tasks_store import RecordTasks, Task, TaskStore
from agents_layer.context import AgentContext
from agents_layer.history import simple_to_agent_input
from agents_layer.mcp import MCPServers, load_mcp_config
from agents_layer.messages import stream_message_by_hand
from agents_layer.offline_model import OfflineModel
from agents_layer.provider_errors import describe_failure
from agents_layer.providers import create_model
from agents_layer.settings import AppSettings
from agents_layer.transcription import OpenAITranscriber
from chatkit_proto.actions import Action, ActionConfig
from chatkit_proto.content import UserMessageTextContent
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import CustomStreamError
from chatkit_proto.events import StreamEvent, ThreadItemReplacedEvent
from chatkit_proto.items import UserMessageItem, WidgetItem
from chatkit_proto.responses import TranscriptionResult
from chatkit_proto.server import AttachmentStore, ChatKitServer
from chatkit_proto.store import Store
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.widgets import Button, ListView, ListViewItem, Text

logger = logging.getLogger(__name__)

HISTORY_WINDOW = 30
TITLE_LENGTH = 40
TITLE_TIMEOUT_SECONDS = 20.0
DONE_ACTION = "tasks.done"

INSTRUCTIONS = """\
You manage the user's to-do list with tools. Tasks are numbered 1, 2, 3… in the order
`list_tasks` shows them.
- To add a task call `add_task`; to see the list call `list_tasks` (it shows the list to the
  user as a widget, so do not repeat it in full).
- To complete or delete a task call `complete_task` or `delete_task` with its number; when you
  are unsure of the number, call `list_tasks` first.
After a tool call, confirm in one short sentence. Answer other questions briefly."""

TITLE_INSTRUCTIONS = (
    "Write a title of at most six words for a conversation that starts with the user's "
    "message. Answer with the title only, without quotes or final punctuation."
)


# -- widgets --------------------------------------------------------------------------------


def task_row(task: Task) -> ListViewItem:
    """One task: its title (struck through when done) and a Done button."""
    return ListViewItem(
        key=task.id,
        children=[
            Text(value=task.title, lineThrough=True if task.done else None),
            Button(
                label="Done",
                disabled=True if task.done else None,
                onClickAction=ActionConfig(type=DONE_ACTION, payload={"task_id": task.id}),
            ),
        ],
    )


def task_list(tasks: list[Task]) -> ListView:
    """The list widget: a row per task, or one row saying there are none."""
    if not tasks:
        return ListView(
            children=[ListViewItem(children=[Text(value="There are no tasks yet.", italic=True)])]
        )
    return ListView(children=[task_row(task) for task in tasks])


def copy_text(tasks: list[Task]) -> str:
    """The list as plain text, for the widget's copy button and the model."""
    if not tasks:
        return "There are no tasks."
    return "\n".join(
        f"{number}. {'[x]' if task.done else '[ ]'} {task.title}"
        for number, task in enumerate(tasks, start=1)
    )


# -- tools ----------------------------------------------------------------------------------


def _numbered(tasks: list[Task], number: int) -> Task | None:
    return tasks[number - 1] if 1 <= number <= len(tasks) else None


def build_tools(tasks: TaskStore, owner: str) -> list[Tool]:
    """The four task tools, bound to one owner's tasks."""

    @function_tool
    async def add_task(ctx: RunContextWrapper[AgentContext], title: str) -> str:
        """Add a task to the user's list.

        Args:
            title: What the task is, e.g. "Buy milk".
        """
        task = await tasks.add(owner, title.strip())
        return f"Added “{task.title}”."

    @function_tool
    async def list_tasks(ctx: RunContextWrapper[AgentContext]) -> str:
        """Show the user's tasks as a list widget and return them numbered."""
        current = await tasks.list(owner)
        text = copy_text(current)
        await ctx.context.stream_widget(task_list(current), copy_text=text)
        if not current:
            return "You have no tasks."
        open_count = sum(not task.done for task in current)
        return f"You have {len(current)} task(s), {open_count} open."

    async def on_numbered(
        number: int, act: Callable[[str, str], Awaitable[object]], said: str
    ) -> str:
        task = _numbered(await tasks.list(owner), number)
        if task is None:
            return f"There is no task {number}."
        await act(owner, task.id)
        return said.format(title=task.title)

    @function_tool
    async def complete_task(ctx: RunContextWrapper[AgentContext], number: int) -> str:
        """Mark a task as done.

        Args:
            number: The task's 1-based position in the list.
        """
        return await on_numbered(number, tasks.set_done, "Marked “{title}” as done.")

    @function_tool
    async def delete_task(ctx: RunContextWrapper[AgentContext], number: int) -> str:
        """Delete a task.

        Args:
            number: The task's 1-based position in the list.
        """
        return await on_numbered(number, tasks.delete, "Deleted “{title}”.")

    return [add_task, list_tasks, complete_task, delete_task]


# -- the app --------------------------------------------------------------------------------


def _message_text(message: UserMessageItem) -> str:
    return " ".join(
        part.text for part in message.content if isinstance(part, UserMessageTextContent)
    ).strip()


def fallback_title(text: str) -> str:
    """The first words of the message, cut at about TITLE_LENGTH characters."""
    text = " ".join(text.split())
    if len(text) <= TITLE_LENGTH:
        return text
    cut = text[:TITLE_LENGTH].rsplit(" ", 1)[0] or text[:TITLE_LENGTH]
    return f"{cut}…"


class TasksServer(ChatKitServer):
    """A to-do assistant: an LLM agent when a provider is set, fixed commands offline."""

    def __init__(
        self,
        store: Store,
        tasks: TaskStore,
        model: Model | None,
        title_model: Model | None = None,
        *,
        mcp: MCPServers | None = None,
        transcriber: OpenAITranscriber | None = None,
        attachment_store: AttachmentStore | None = None,
    ) -> None:
        super().__init__(store, attachment_store)
        self.tasks = tasks
        self.model = model or OfflineModel()
        # A scripted model must not be asked for titles: that would consume its script turns.
        self.title_model = title_model
        self.mcp = mcp
        self.transcriber = transcriber

    async def aclose(self) -> None:
        """Stop the MCP servers (at app shutdown)."""
        if self.mcp is not None:
            await self.mcp.aclose()

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """Run the task agent over the newest items; title the thread after its first exchange."""
        title_task = None
        if thread.title is None and input_user_message is not None:
            title_task = asyncio.create_task(self._title(_message_text(input_user_message)))
        try:
            recent = await self.store.load_thread_items(
                thread.id, None, HISTORY_WINDOW, "desc", context
            )
            agent = Agent[AgentContext](
                name="Tasks",
                instructions=INSTRUCTIONS,
                tools=build_tools(self.tasks, context.user_id),
                mcp_servers=await self.mcp.active() if self.mcp is not None else [],
            )
            agent_context = AgentContext(thread, self.store, context, newest_items=recent.data)
            result = Runner.run_streamed(
                agent,
                await simple_to_agent_input(list(reversed(recent.data))),
                context=agent_context,
                run_config=RunConfig(model=self.model, tracing_disabled=True),
            )
            async with aclosing(stream_agent_response(agent_context, result)) as events:
                async for event in events:
                    yield event
            # The pipeline reports the new title in a `thread.updated` once we are done.
            if title_task is not None:
                thread.title = await title_task
        finally:
            if title_task is not None and not title_task.done():
                title_task.cancel()

    async def _title(self, text: str) -> str:
        """A short title for a thread starting with `text`; never fails."""
        fallback = fallback_title(text) or "New conversation"
        if self.title_model is None or not text:
            return fallback
        agent = Agent(name="Titler", instructions=TITLE_INSTRUCTIONS)
        try:
            result = await asyncio.wait_for(
                Runner.run(
                    agent, text, run_config=RunConfig(model=self.title_model, tracing_disabled=True)
                ),
                TITLE_TIMEOUT_SECONDS,
            )
        except Exception as exc:
            # One masked line: the provider's text may echo credentials.
            logger.warning("could not generate a thread title: %s", describe_failure(exc))
            return fallback
        title = " ".join(str(result.final_output).split()).strip("\"'“”")
        return fallback_title(title) if title else fallback

    async def transcribe(
        self, audio: bytes, mime_type: str, context: RequestContext
    ) -> TranscriptionResult:
        """Transcribe with OpenAI when that is the provider; otherwise the default 400."""
        if self.transcriber is None:
            return await super().transcribe(audio, mime_type, context)
        return TranscriptionResult(text=await self.transcriber.transcribe(audio, mime_type))

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action,
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """`tasks.done` from the list widget; any other action fails."""
        if action.type != DONE_ACTION:
            raise CustomStreamError(f"Unsupported action: {action.type}", allow_retry=False)
        payload = action.payload if isinstance(action.payload, dict) else {}
        task_id = payload.get("task_id")
        if sender is None or not isinstance(task_id, str):
            raise CustomStreamError("That button is not attached to a task.", allow_retry=False)
        owner = context.user_id
        task = await self.tasks.set_done(owner, task_id)
        if task is None:
            raise CustomStreamError("That task no longer exists.", allow_retry=False)
        current = await self.tasks.list(owner)
        widget = task_list(current)
        yield ThreadItemReplacedEvent(
            item=sender.model_copy(update={"widget": widget, "copy_text": copy_text(current)})
        )
        async for event in stream_message_by_hand(
            thread, ["Marked ", f"“{task.title}” ", "as done."]
        ):
            yield event


def create_app(settings: AppSettings) -> TasksServer:
    """Build the tasks app; without a configured provider it runs the offline model."""
    choice = create_model(
        settings.env, script_path=str(settings.model_script) if settings.model_script else None
    )
    logger.info(choice.describe())
    hosted = choice.api is not None
    mcp = (
        MCPServers.from_config(load_mcp_config(settings.mcp_config))
        if settings.mcp_config is not None
        else None
    )
    # Only the OpenAI provider is known to serve /audio/transcriptions.
    transcriber = (
        OpenAITranscriber.from_env(choice.openai_client, settings.env)
        if choice.provider == "openai" and choice.openai_client is not None
        else None
    )
    return TasksServer(
        settings.store,
        RecordTasks(settings.records),
        choice.model,
        choice.model if hosted else None,
        mcp=mcp,
        transcriber=transcriber,
        attachment_store=settings.attachment_store,
    )


__all__ = [
    "TasksServer",
    "build_tools",
    "copy_text",
    "create_app",
    "fallback_title",
    "task_list",
    "task_row",
]
