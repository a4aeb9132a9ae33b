"""What agent tools see as `ctx.context`: the turn being answered and a channel to the client.

Tools push ChatKit events (widgets, workflows, progress, client effects, structured input)
through an `AgentContext`; `stream_agent_response` merges them with the model's events in the
order they happened, so they reach the client while the tool is still running. The events of
concurrent tool calls are not interleaved unless a tool suspends between two of its own (SPEC
§16). Only `async` tools may call the helpers: sync tools run in worker threads and the queue
is not thread-safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatkit_proto.base import JSONObject, JSONValue, utc_now
from chatkit_proto.context import RequestContext
from chatkit_proto.events import (
    ClientEffectEvent,
    ProgressUpdateEvent,
    StreamEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.icons import IconName
from chatkit_proto.ids import ItemKind, new_item_id
from chatkit_proto.items import (
    HiddenContextItem,
    StructuredInputItem,
    ThreadItem,
    WidgetItem,
    WorkflowItem,
)
from chatkit_proto.store.base import Store
from chatkit_proto.structured_input import StructuredInput
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.updates import WorkflowTaskAdded, WorkflowTaskUpdated
from chatkit_proto.widget_diff import diff_widgets
from chatkit_proto.widgets import WidgetComponentBase, WidgetRoot
from chatkit_proto.workflows import DurationSummary, Task, Workflow, WorkflowSummary

# Items that may appear while a workflow is open without closing it (AGENTS-ADAPTER §2.2).
_WORKFLOW_NEUTRAL_TYPES = frozenset({"client_tool_call", "hidden_context_item"})


@dataclass(slots=True)
class ClientToolCall:
    """A call of a tool the client runs; set it on the context and stop the run."""

    name: str
    arguments: JSONObject = field(default_factory=dict)


class AgentContext:
    """The per-run state shared by tools and the adapter (pass it as `context=` to the Runner)."""

    def __init__(
        self,
        thread: ThreadMetadata,
        store: Store,
        request_context: RequestContext,
        newest_items: Sequence[ThreadItem] | None = None,
    ) -> None:
        self.thread = thread
        self.store = store
        self.request_context = request_context
        # The thread's newest items (newest first), when the app has loaded them anyway: the
        # adapter then needs no query of its own to resume an open workflow.
        self.newest_items = newest_items
        self.client_tool_call: ClientToolCall | None = None
        self.workflow_item: WorkflowItem | None = None
        # One queue per run carries both the adapter's and the tools' events, so their
        # relative order is the order in which they happened.
        self._events: asyncio.Queue[Any] = asyncio.Queue()
        self._announced = False
        self._produced: dict[str, None] = {}
        # The task whose current burst of events needs no further yield (see `_settle`).
        self._settled: asyncio.Task[Any] | None = None

    def generate_id(self, kind: ItemKind = "message") -> str:
        """A fresh id for an item this run creates."""
        return new_item_id(kind)

    # -- streaming ---------------------------------------------------------------------------

    async def stream(self, event: StreamEvent) -> None:
        """Send an event to the client; an item other than the open workflow closes it first."""
        await self._settle()
        if isinstance(event, ThreadItemAddedEvent | ThreadItemDoneEvent):
            item = event.item
            active = self.workflow_item
            if (
                active is not None
                and item.id != active.id
                and item.type not in _WORKFLOW_NEUTRAL_TYPES
            ):
                self._close_workflow()
                active = None
            if isinstance(item, WorkflowItem):
                event = self._track_workflow(event, item, active)
        self._emit(event)

    async def stream_widget(
        self,
        widget: WidgetRoot | AsyncIterable[WidgetRoot],
        copy_text: str | None = None,
    ) -> str:
        """Show a widget; from an async iterator of states, stream it until it is exhausted.

        A single widget becomes one `thread.item.done`. States become `thread.item.added`
        with the first, the SPEC §10.2 diff of every next one, then `thread.item.done` with
        the last. Returns the widget item's id.
        """
        item_id = self.generate_id("message")
        if isinstance(widget, WidgetComponentBase):
            # A copy: the tool may go on changing its tree before the client is sent this one.
            item = self._widget_item(item_id, widget.model_copy(deep=True), copy_text)
            await self.stream(ThreadItemDoneEvent(item=item))
            return item_id
        previous: WidgetRoot | None = None
        async for state in widget:
            # Generators often mutate and re-yield one tree: keep a copy to diff against.
            current = state.model_copy(deep=True)
            if previous is None:
                await self.stream(
                    ThreadItemAddedEvent(item=self._widget_item(item_id, current, copy_text))
                )
            else:
                for update in diff_widgets(previous, current):
                    await self.stream(ThreadItemUpdatedEvent(item_id=item_id, update=update))
            previous = current
        if previous is not None:
            await self.stream(
                ThreadItemDoneEvent(item=self._widget_item(item_id, previous, copy_text))
            )
        return item_id

    async def progress(self, text: str, icon: IconName | None = None) -> None:
        """Show a transient status line."""
        await self.stream(ProgressUpdateEvent(text=text, icon=icon))

    async def client_effect(self, name: str, data: JSONObject | None = None) -> None:
        """Fire a client-side callback."""
        await self.stream(ClientEffectEvent(name=name, data=data or {}))

    async def add_structured_input(self, inputs: Sequence[StructuredInput]) -> StructuredInputItem:
        """Ask the user the given questions; the answers arrive as a new request."""
        item = StructuredInputItem(
            id=self.generate_id("message"),
            thread_id=self.thread.id,
            created_at=utc_now(),
            inputs=list(inputs),
        )
        await self.stream(ThreadItemDoneEvent(item=item))
        return item

    async def hidden_context(self, content: JSONValue) -> None:
        """Keep a note in the thread for the model; the client never sees it."""
        item = HiddenContextItem(
            id=self.generate_id("message"),
            thread_id=self.thread.id,
            created_at=utc_now(),
            content=content,
        )
        await self.stream(ThreadItemDoneEvent(item=item))

    # -- workflows (AGENTS-ADAPTER §3) ---------------------------------------------------------

    async def start_workflow(self, workflow: Workflow) -> WorkflowItem:
        """Open a workflow; a custom one without tasks is shown when its first task arrives."""
        if self.workflow_item is not None:
            # The reference leaves the previous workflow open forever; close it instead.
            await self.end_workflow()
        item = WorkflowItem(
            id=self.generate_id("workflow"),
            thread_id=self.thread.id,
            created_at=utc_now(),
            workflow=workflow,
        )
        self.workflow_item = item
        self._announced = False
        if workflow.type == "reasoning" or workflow.tasks:
            await self.stream(ThreadItemAddedEvent(item=item))
        return item

    async def add_workflow_task(self, task: Task) -> int:
        """Append a task to the open workflow (a custom one is opened if none is); its index."""
        if self.workflow_item is None:
            await self.start_workflow(Workflow(type="custom", tasks=[]))
        item = self._active_workflow()
        item.workflow.tasks.append(task)
        index = len(item.workflow.tasks) - 1
        if self._announced:
            await self.stream(
                ThreadItemUpdatedEvent(
                    item_id=item.id,
                    update=WorkflowTaskAdded(task_index=index, task=task.model_copy(deep=True)),
                )
            )
        else:
            await self.stream(ThreadItemAddedEvent(item=item))
        return index

    async def update_workflow_task(self, task: Task, index: int) -> None:
        """Replace the task at `index` of the open workflow."""
        item = self._active_workflow()
        item.workflow.tasks[index] = task
        await self.stream(
            ThreadItemUpdatedEvent(
                item_id=item.id,
                update=WorkflowTaskUpdated(task_index=index, task=task.model_copy(deep=True)),
            )
        )

    async def end_workflow(
        self, summary: WorkflowSummary | None = None, expanded: bool = False
    ) -> None:
        """Close the open workflow (if any), by default with how long it took as its summary."""
        if self.workflow_item is None:
            return
        await self._settle()
        if summary is not None:
            self.workflow_item.workflow.summary = summary
        self._close_workflow(expanded)

    # -- ordering (SPEC §16) -------------------------------------------------------------------

    async def _settle(self) -> None:
        """Let the adapter map the model events produced before this burst of tool events.

        The first event a task sends after it last suspended yields once, which is enough: the
        adapter's pump was woken by those model events before this task resumed. The task's
        next events, sent before it suspends again, yield no more, so concurrent tool calls
        do not take turns event by event and each call's events stay together (the
        reference's stream never suspends at all). The mark is cleared by a callback that
        runs as soon as the loop turns, i.e. whenever this task suspends for any reason.
        """
        task = asyncio.current_task()
        if task is not None and task is self._settled:
            return
        await asyncio.sleep(0)
        if task is not None:
            self._settled = task
            asyncio.get_running_loop().call_soon(self._unsettle, task)

    def _unsettle(self, task: asyncio.Task[Any]) -> None:
        if self._settled is task:
            self._settled = None

    # -- used by the adapter -----------------------------------------------------------------

    def _emit(self, event: Any) -> None:
        """Queue an event for the client, remembering which items this run produced."""
        if isinstance(event, ThreadItemAddedEvent | ThreadItemDoneEvent):
            self._produced[event.item.id] = None
        self._events.put_nowait(event)

    def _close_workflow(self, expanded: bool = False) -> None:
        """End the open workflow: default summary, collapse, `thread.item.done`."""
        item = self.workflow_item
        if item is None:
            return
        self.workflow_item = None
        self._announced = False
        workflow = item.workflow
        if workflow.summary is None:
            elapsed = (utc_now() - item.created_at).total_seconds()
            workflow.summary = DurationSummary(duration=max(0, int(elapsed)))
        workflow.expanded = expanded
        self._emit(ThreadItemDoneEvent(item=item.model_copy(deep=True)))

    def _track_workflow(
        self,
        event: ThreadItemAddedEvent | ThreadItemDoneEvent,
        item: WorkflowItem,
        active: WorkflowItem | None,
    ) -> ThreadItemAddedEvent | ThreadItemDoneEvent:
        """Follow a tool's workflow event; the event sent carries a snapshot of the item."""
        if isinstance(event, ThreadItemDoneEvent):
            if active is not None and item.id == active.id:
                self.workflow_item = None
                self._announced = False
            return ThreadItemDoneEvent(item=item.model_copy(deep=True))
        if active is None or item.id != active.id:
            self.workflow_item = item
        self._announced = True
        # Later task changes mutate the live item; the client must see it as it is now.
        return ThreadItemAddedEvent(item=item.model_copy(deep=True))

    def _open_workflow(self, item: WorkflowItem) -> None:
        """Make an already announced workflow the open one."""
        self.workflow_item = item
        self._announced = True

    def _active_workflow(self) -> WorkflowItem:
        if self.workflow_item is None:
            raise RuntimeError("No workflow is open")
        return self.workflow_item

    def _widget_item(self, item_id: str, widget: WidgetRoot, copy_text: str | None) -> WidgetItem:
        return WidgetItem(
            id=item_id,
            thread_id=self.thread.id,
            created_at=utc_now(),
            widget=widget,
            copy_text=copy_text,
        )
