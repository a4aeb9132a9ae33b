"""The reference app of CONFORMANCE.md, so that recorded transcripts replay against us."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

from agents import (
    Agent,
    GuardrailFunctionOutput,
    OutputGuardrailTripwireTriggered,
    RunConfig,
    RunContextWrapper,
    Runner,
    StopAtTools,
    function_tool,
    output_guardrail,
)
from agents.models.interface import Model

from agents_layer.adapter import stream_agent_response
from agents_layer.context import AgentContext, ClientToolCall
from agents_layer.history import simple_to_agent_input
from agents_layer.messages import stream_message_by_hand
from agents_layer.providers import create_model
from agents_layer.settings import AppSettings
from chatkit_proto.actions import Action, ActionConfig
from chatkit_proto.attachments import (
    Attachment,
    AttachmentCreateParams,
    FileAttachment,
    ImageAttachment,
    UploadDescriptor,
)
from chatkit_proto.base import utc_now
from chatkit_proto.context import RequestContext
from chatkit_proto.errors import CustomStreamError
from chatkit_proto.events import (
    ErrorEvent,
    StreamEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.ids import new_attachment_id, new_item_id
from chatkit_proto.items import (
    HiddenContextItem,
    UserMessageItem,
    WidgetItem,
)
from chatkit_proto.requests import FeedbackKind
from chatkit_proto.responses import SyncCustomActionResponse, TranscriptionResult
from chatkit_proto.server import ChatKitServer
from chatkit_proto.store import Store
from chatkit_proto.structured_input import ChoiceOption, FreeformInput, MultipleChoiceInput
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import WidgetRootUpdated
from chatkit_proto.widgets import Button, Card, ListView, ListViewItem, Markdown, Text

logger = logging.getLogger(__name__)

HISTORY_WINDOW = 20
TASKS = (("t1", "Buy milk"), ("t2", "Walk the dog"))
UPLOADS = "https://uploads.example.invalid"


# -- widgets --------------------------------------------------------------------------------


def task_row(task_id: str, title: str, done: bool = False) -> ListViewItem:
    """One task: its title, a Done/Undo button and a synchronous Toggle button."""
    return ListViewItem(
        key=task_id,
        children=[
            Text(value=title, lineThrough=True if done else None),
            Button(
                label="Undo" if done else "Done",
                onClickAction=ActionConfig(type="task.complete", payload={"task_id": task_id}),
            ),
            Button(
                label="Toggle",
                onClickAction=ActionConfig(
                    type="task.toggle", payload={"task_id": task_id}, streaming=False
                ),
            ),
        ],
    )


def task_list() -> ListView:
    """The task list `show_tasks` streams."""
    return ListView(children=[task_row(task_id, title) for task_id, title in TASKS])


def _row(widget: object, task_id: str) -> ListViewItem | None:
    if not isinstance(widget, ListView):
        return None
    return next((row for row in widget.children if row.key == task_id), None)


def _set_done(row: ListViewItem, done: bool) -> None:
    text, button = row.children[0], row.children[1]
    if isinstance(text, Text) and isinstance(button, Button):
        text.lineThrough = True if done else None
        button.label = "Undo" if done else "Done"


def _task_id(action: Action) -> str | None:
    """The `task_id` a task action's payload names, if it names one."""
    payload = action.payload
    task_id = payload.get("task_id") if isinstance(payload, dict) else None
    return task_id if isinstance(task_id, str) else None


def _is_done(row: ListViewItem) -> bool:
    text = row.children[0]
    return isinstance(text, Text) and bool(text.lineThrough)


# -- tools ----------------------------------------------------------------------------------


@function_tool
async def add_task(ctx: RunContextWrapper[AgentContext], title: str) -> str:
    """Add a task to the user's list."""
    return f"Added task: {title}"


@function_tool
async def show_tasks(ctx: RunContextWrapper[AgentContext]) -> None:
    """Show the user's tasks as a list widget."""
    await ctx.context.stream_widget(task_list(), copy_text="; ".join(t for _, t in TASKS))


@function_tool
async def get_location(ctx: RunContextWrapper[AgentContext], precision: str) -> None:
    """Ask the user's browser where the user is."""
    ctx.context.client_tool_call = ClientToolCall(
        name="get_location", arguments={"precision": precision}
    )


def note_frames(text: str) -> list[Card]:
    """The states `draft_note` streams: empty and streaming, then one more word per state.

    Words are split on every single space with empty words kept, as the reference app does,
    so even an empty text has one (empty) word and its last state is no longer streaming.
    """
    words = text.split(" ")
    frames = [Card(children=[Markdown(id="note_body", value="", streaming=True)])]
    for count in range(1, len(words) + 1):
        body = Markdown(id="note_body", value=" ".join(words[:count]), streaming=count < len(words))
        frames.append(Card(children=[body]))
    return frames


async def _played(frames: list[Card]) -> AsyncIterator[Card]:
    for frame in frames:
        yield frame


@function_tool
async def draft_note(ctx: RunContextWrapper[AgentContext], text: str) -> str:
    """Stream a note into a card, one word at a time."""
    await ctx.context.stream_widget(_played(note_frames(text)), copy_text=text)
    return "Note drafted"


@function_tool
async def refresh_board(ctx: RunContextWrapper[AgentContext]) -> None:
    """Refresh the task board in the user's browser."""
    await ctx.context.progress("Refreshing board", icon="reload")
    await ctx.context.client_effect("board.refresh", {"scope": "all"})


@function_tool
async def rename_thread(ctx: RunContextWrapper[AgentContext], title: str) -> None:
    """Give the conversation a new title."""
    ctx.context.thread.title = title


@function_tool
async def ask_priority(ctx: RunContextWrapper[AgentContext]) -> None:
    """Ask the user for the priority of the task, and for notes."""
    await ctx.context.add_structured_input(
        [
            MultipleChoiceInput(
                id="priority",
                question="What priority should I use?",
                options=[ChoiceOption(value="Low"), ChoiceOption(value="High")],
            ),
            FreeformInput(
                id="notes", question="Any extra context?", description="Optional details."
            ),
        ]
    )


@output_guardrail
async def no_forbidden_words(
    ctx: RunContextWrapper[AgentContext], agent: Agent[AgentContext], output: object
) -> GuardrailFunctionOutput:
    """Trip when the final answer contains FORBIDDEN."""
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="FORBIDDEN" in str(output))


def build_agent() -> Agent[AgentContext]:
    """The reference app's agent: seven tools, stopping after the two that await the user."""
    return Agent[AgentContext](
        name="Assistant",
        instructions="You are a helpful task assistant.",
        tools=[
            add_task,
            show_tasks,
            get_location,
            draft_note,
            refresh_board,
            rename_thread,
            ask_priority,
        ],
        tool_use_behavior=StopAtTools(stop_at_tool_names=["get_location", "ask_priority"]),
        output_guardrails=[no_forbidden_words],
    )


# -- attachments ----------------------------------------------------------------------------


class ReferenceAttachments:
    """Attachment records as the reference app makes them; no bytes are ever uploaded."""

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        """A record with the reference app's upload descriptor and preview URL."""
        params = input
        attachment_id = new_attachment_id()
        descriptor = UploadDescriptor(
            url=f"{UPLOADS}/upload/{attachment_id}",
            method="POST",
            headers={"x-upload-token": f"token-{attachment_id}"},
        )
        metadata = {"size": params.size, "storage": "memory"}
        if params.mime_type.startswith("image/"):
            return ImageAttachment(
                id=attachment_id,
                name=params.name,
                mime_type=params.mime_type,
                upload_descriptor=descriptor,
                preview_url=f"{UPLOADS}/preview/{attachment_id}",
                metadata=metadata,
            )
        return FileAttachment(
            id=attachment_id,
            name=params.name,
            mime_type=params.mime_type,
            upload_descriptor=descriptor,
            metadata=metadata,
        )

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Nothing was uploaded, so there are no bytes to delete."""


# -- the app --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Feedback:
    """One recorded thumbs up or down."""

    thread_id: str
    item_ids: tuple[str, ...]
    kind: FeedbackKind


class ConformanceServer(ChatKitServer):
    """Answers with an agent run by the Agents SDK, exactly as the reference app does."""

    def __init__(self, store: Store, model: Model | None) -> None:
        super().__init__(store, ReferenceAttachments())
        self.agent = build_agent()
        self.model = model
        self.feedback: list[Feedback] = []

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """Run the agent over the newest items of the thread."""
        recent = await self.store.load_thread_items(
            thread.id, None, HISTORY_WINDOW, "desc", context
        )
        agent_input = await simple_to_agent_input(list(reversed(recent.data)))
        agent_context = AgentContext(thread, self.store, context, newest_items=recent.data)
        result = Runner.run_streamed(
            # A clone per run: the SDK checks every run's tools against each concurrent run
            # of the same Agent object, a cost that grows with the number of open streams.
            self.agent.clone(),
            agent_input,
            context=agent_context,
            run_config=RunConfig(model=self.model, tracing_disabled=True),
        )
        try:
            # aclosing: a disconnect must stop the agent run now, not when the GC runs.
            async with aclosing(stream_agent_response(agent_context, result)) as events:
                async for event in events:
                    yield event
        except OutputGuardrailTripwireTriggered:
            yield ErrorEvent(message="The assistant response was blocked.", allow_retry=False)

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action,
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[StreamEvent]:
        """`task.complete` and `task.highlight` on the task list; anything else fails."""
        task_id = _task_id(action)
        row = _row(sender.widget, task_id) if sender and task_id else None
        if action.type == "task.complete" and sender and row:
            _set_done(row, True)
            yield ThreadItemReplacedEvent(item=sender)
            yield ThreadItemDoneEvent(
                item=HiddenContextItem(
                    id=new_item_id("message"),
                    thread_id=thread.id,
                    created_at=utc_now(),
                    content=f"The user completed task {task_id}.",
                )
            )
            async for event in stream_message_by_hand(thread, ["Marked ", "as done."]):
                yield event
        elif action.type == "task.highlight" and sender and row:
            text = row.children[0]
            if isinstance(text, Text):
                text.weight = "bold"
            yield ThreadItemUpdatedEvent(
                item_id=sender.id, update=WidgetRootUpdated(widget=sender.widget)
            )
        else:
            raise CustomStreamError(f"Unsupported action: {action.type}", allow_retry=False)

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action,
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """`task.toggle` answers with the widget, that row toggled; nothing is persisted."""
        task_id = _task_id(action)
        row = _row(sender.widget, task_id) if sender and task_id else None
        if action.type != "task.toggle" or sender is None or row is None:
            return SyncCustomActionResponse()
        _set_done(row, not _is_done(row))
        return SyncCustomActionResponse(updated_item=sender)

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: RequestContext
    ) -> None:
        """Keep the feedback in memory."""
        self.feedback.append(Feedback(thread_id, tuple(item_ids), feedback))

    async def transcribe(
        self, audio: bytes, mime_type: str, context: RequestContext
    ) -> TranscriptionResult:
        """Pretend to transcribe: say how much audio of which type arrived."""
        media_type = mime_type.split(";", 1)[0].strip()
        return TranscriptionResult(text=f"dictated {len(audio)} bytes of {media_type}")


def create_app(settings: AppSettings) -> ConformanceServer:
    """Build the app; `--model-script` (or MODEL_SCRIPT) chooses the scripted model."""
    choice = create_model(
        settings.env, script_path=str(settings.model_script) if settings.model_script else None
    )
    logger.info(choice.describe())
    return ConformanceServer(settings.store, choice.model)


__all__ = ["ConformanceServer", "ReferenceAttachments", "create_app"]
