"""Agents SDK run → ChatKit stream events (AGENTS-ADAPTER §2.2, with DEVIATIONS D9, D11, D12).

One pump task reads the Runner's event stream and maps each event into ChatKit events right
away, onto the run's single queue (`AgentContext`), where tools put their own events too. The
response generator only forwards that queue. Mapping in the pump keeps every state change
(open workflow, ids) in the order things happened, however far the client lags behind.

Every item id is minted here (D12): a model's item ids are unique at best per response (a
Chat Completions model says `__fake_id__` for all of them, a replayed or scripted model repeats
them in every process), while a thread keeps its items across processes and restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Callable, Iterable
from typing import Any

from agents import (
    InputGuardrailTripwireTriggered,
    OutputGuardrailTripwireTriggered,
    RunResultStreaming,
)

from chatkit_proto.base import utc_now
from chatkit_proto.content import AssistantMessageContent
from chatkit_proto.events import (
    StreamEvent,
    TextDelta,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemRemovedEvent,
    ThreadItemUpdatedEvent,
)
from chatkit_proto.ids import ItemKind
from chatkit_proto.items import (
    AssistantMessageItem,
    ClientToolCallItem,
    GeneratedImage,
    GeneratedImageItem,
    WorkflowItem,
)
from chatkit_proto.sources import Annotation, FileSource, URLSource
from chatkit_proto.updates import (
    ContentPartAdded,
    ContentPartAnnotationAdded,
    ContentPartDone,
    GeneratedImageUpdated,
    ThreadItemUpdate,
    WorkflowTaskAdded,
    WorkflowTaskUpdated,
)
from chatkit_proto.workflows import ThoughtTask, Workflow

from .context import AgentContext
from .provider_errors import provider_error

logger = logging.getLogger("agents_layer.adapter")

_TRIPWIRES = (InputGuardrailTripwireTriggered, OutputGuardrailTripwireTriggered)

# How long a cancelled response waits for the agent run to wind down before leaving it.
_RUN_STOP_TIMEOUT = 5.0


class StreamConverter:
    """The conversions of model output an app may want to do its own way; override freely."""

    def __init__(self, partial_images: int | None = None) -> None:
        self.partial_images = partial_images

    def image_url(self, image_b64: str) -> str:
        """Where the client loads a generated image from; a `data:` URL by default."""
        return f"data:image/png;base64,{image_b64}"

    def image_progress(self, partial_index: int) -> float:
        """Progress of a partial image in [0, 1]; 0 without an expected partial count."""
        if not self.partial_images:
            return 0.0
        return min(1.0, partial_index / self.partial_images)

    def annotation(self, raw: Any) -> Annotation | None:
        """A model citation as a ChatKit annotation, or None to drop it.

        Reads fields by name, so typed openai objects of any version and plain dicts both
        work (D11: openai 3 delivers event-specific classes that re-validation rejects).
        """
        kind = _field(raw, "type")
        if kind == "url_citation":
            return Annotation(
                source=URLSource(url=_field(raw, "url"), title=_field(raw, "title") or ""),
                index=_field(raw, "end_index"),
            )
        filename = _field(raw, "filename")
        if not filename:
            return None
        if kind == "file_citation":
            index = _field(raw, "index")
        elif kind == "container_file_citation":
            index = _field(raw, "end_index")
        else:
            return None
        return Annotation(source=FileSource(filename=filename, title=filename), index=index)


async def stream_agent_response(
    context: AgentContext,
    result: RunResultStreaming,
    converter: StreamConverter | None = None,
) -> AsyncGenerator[StreamEvent, None]:
    """The ChatKit events of one streamed agent run, tool events merged in order.

    Closing or cancelling the iterator cancels the agent run at once (D9). A responder that
    re-yields these events should hold the iterator in `contextlib.aclosing(...)`: a plain
    `async for` leaves it to the garbage collector to close it, a moment later. A guardrail
    tripwire removes every item this run produced, then re-raises.
    """
    mapper = _RunMapper(context, converter or StreamConverter())
    queue = context._events
    pump: asyncio.Task[None] | None = None
    try:
        await mapper.resume_workflow()
        pump = asyncio.create_task(_pump(result, mapper, queue), name="agents_layer.pump")
        while True:
            # Take what is already there without a coroutine per event: the hot path.
            event = queue.get_nowait() if queue.qsize() else await queue.get()
            if event is _RUN_ENDED:
                break
            if type(event) is _RunFailed:
                if isinstance(event.error, _TRIPWIRES):
                    for item_id in list(context._produced):
                        yield ThreadItemRemovedEvent(item_id=item_id)
                    _discard(queue)
                failure = provider_error(event.error)
                if failure is not None:
                    # from None: the provider's text may echo credentials.
                    raise failure from None
                raise event.error
            yield event
        # Tool events queued after the run ended still belong to this response.
        while not queue.empty():
            yield queue.get_nowait()
        tool_call = await mapper.finish()
        if tool_call is not None:
            yield tool_call
    finally:
        result.cancel()
        await _stop(pump, result)


class _RunFailed:
    """The Runner's stream raised; carried through the queue so earlier events go first."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


_RUN_ENDED = object()


async def _pump(result: RunResultStreaming, mapper: _RunMapper, queue: asyncio.Queue[Any]) -> None:
    """Map the Runner's events onto the run's queue, ending with a terminal marker."""
    try:
        async for event in result.stream_events():
            mapper.handle(event)
    except Exception as exc:
        queue.put_nowait(_RunFailed(exc))
    else:
        queue.put_nowait(_RUN_ENDED)


async def _stop(pump: asyncio.Task[None] | None, result: RunResultStreaming) -> None:
    """Cancel the pump and wait for it and the agent run, so no task outlives the response."""
    tasks: set[asyncio.Task[Any]] = set()
    if pump is not None:
        pump.cancel()
        tasks.add(pump)
    run_task = result.run_loop_task
    if run_task is not None:
        tasks.add(run_task)
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=_RUN_STOP_TIMEOUT)
    if pending:
        logger.warning("the agent run did not stop within %.0f s of cancel()", _RUN_STOP_TIMEOUT)
    elif run_task is not None and not run_task.cancelled():
        # Its exception already reached the client through the stream (or never will):
        # retrieve it so asyncio does not report it as lost.
        run_task.exception()


def _discard(queue: asyncio.Queue[Any]) -> None:
    while not queue.empty():
        queue.get_nowait()


def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


class _RunMapper:
    """Per-run state of the mapping of Agents SDK events to ChatKit events."""

    def __init__(self, context: AgentContext, converter: StreamConverter) -> None:
        self.context = context
        self.converter = converter
        self.emit = context._emit
        self.put = context._events.put_nowait
        # Our id of each model output item, keyed by (model id, output index): the model id
        # alone repeats (`__fake_id__`); a new output item with the same key replaces the entry.
        self.minted: dict[tuple[str, int], str] = {}
        self.call_id: str | None = None
        self.call_item_id: str | None = None
        # The streaming thought: (reasoning item id, summary index), its task and workflow.
        self.thought: tuple[tuple[str, int], ThoughtTask, WorkflowItem] | None = None
        self.annotation_counts: dict[tuple[str, int], int] = {}
        self.image: GeneratedImageItem | None = None
        self.raw_handlers: dict[str, Callable[[Any], None]] = {
            "response.output_text.delta": self._text_delta,
            "response.output_item.added": self._item_added,
            "response.output_item.done": self._item_done,
            "response.content_part.added": self._part_added,
            "response.output_text.annotation.added": self._annotation_added,
            "response.output_text.done": self._text_done,
            "response.reasoning_summary_text.delta": self._summary_delta,
            "response.reasoning_summary_text.done": self._summary_done,
            "response.image_generation_call.partial_image": self._partial_image,
        }

    async def resume_workflow(self) -> None:
        """Continue the workflow a previous response left open (e.g. before a client tool)."""
        if self.context.workflow_item is not None:
            return
        ctx = self.context
        newest = ctx.newest_items
        if newest is None:
            newest = (
                await ctx.store.load_thread_items(
                    ctx.thread.id, None, 2, "desc", ctx.request_context
                )
            ).data
        if newest and isinstance(newest[0], WorkflowItem):
            self.context._open_workflow(newest[0])
        elif (
            len(newest) > 1
            and isinstance(newest[0], ClientToolCallItem)
            and isinstance(newest[1], WorkflowItem)
        ):
            self.context._open_workflow(newest[1])

    async def finish(self) -> ThreadItemDoneEvent | None:
        """Keep an open workflow for the next response; the pending client tool call, if any."""
        ctx = self.context
        workflow = ctx.workflow_item
        if workflow is not None:
            # Not `done` on the wire: the next response continues it (AGENTS-ADAPTER §2.2).
            await ctx.store.add_thread_item(ctx.thread.id, workflow, ctx.request_context)
        call = self.context.client_tool_call
        if call is None:
            return None
        return ThreadItemDoneEvent(
            item=ClientToolCallItem(
                id=self.call_item_id or ctx.generate_id("tool_call"),
                thread_id=ctx.thread.id,
                created_at=utc_now(),
                status="pending",
                call_id=self.call_id or ctx.generate_id("tool_call"),
                name=call.name,
                arguments=call.arguments,
            )
        )

    def handle(self, event: Any) -> None:
        """Map one Agents SDK stream event."""
        kind = event.type
        if kind == "raw_response_event":
            handler = self.raw_handlers.get(event.data.type)
            if handler is not None:
                handler(event.data)
        elif kind == "run_item_stream_event" and event.name == "tool_called":
            self._tool_called(event.item.raw_item)

    # -- ids ---------------------------------------------------------------------------------

    def _new_id(self, model_id: str | None, output_index: int, kind: ItemKind) -> str:
        """Mint our id for a new model output item."""
        item_id = self.context.generate_id(kind)
        self.minted[(model_id or "", output_index)] = item_id
        return item_id

    def _id_of(self, model_id: str | None, output_index: int) -> str:
        """Our id of a model output item (minted now if its start was never seen)."""
        item_id = self.minted.get((model_id or "", output_index))
        return item_id if item_id is not None else self._new_id(model_id, output_index, "message")

    def _update(self, item_id: str, update: ThreadItemUpdate) -> None:
        self.put(ThreadItemUpdatedEvent(item_id=item_id, update=update))

    # -- assistant messages ------------------------------------------------------------------

    def _text_delta(self, data: Any) -> None:
        # The hot path: one lookup, _id_of only for a message whose start was never seen.
        item_id = self.minted.get((data.item_id, data.output_index))
        if item_id is None:
            item_id = self._id_of(data.item_id, data.output_index)
        self.put(TextDelta(item_id, data.content_index, data.delta))

    def _content(self, parts: Iterable[Any]) -> list[AssistantMessageContent]:
        content = []
        for part in parts:
            converted = self._part(part)
            if converted is not None:
                content.append(converted)
        return content

    def _part(self, part: Any) -> AssistantMessageContent | None:
        kind = _field(part, "type")
        if kind == "output_text":
            return AssistantMessageContent(
                text=_field(part, "text"),
                annotations=self._annotations(_field(part, "annotations") or ()),
            )
        if kind == "refusal":
            return AssistantMessageContent(text=_field(part, "refusal"))
        return None

    def _annotations(self, raw: Iterable[Any]) -> list[Annotation]:
        converted = (self.converter.annotation(annotation) for annotation in raw)
        return [annotation for annotation in converted if annotation is not None]

    def _part_added(self, data: Any) -> None:
        content = self._part(data.part)
        if content is not None:
            item_id = self._id_of(data.item_id, data.output_index)
            self._update(
                item_id, ContentPartAdded(content_index=data.content_index, content=content)
            )

    def _annotation_added(self, data: Any) -> None:
        annotation = self.converter.annotation(data.annotation)
        if annotation is None:
            return
        item_id = self._id_of(data.item_id, data.output_index)
        key = (item_id, data.content_index)
        index = self.annotation_counts.get(key, 0)
        self.annotation_counts[key] = index + 1
        self._update(
            item_id,
            ContentPartAnnotationAdded(
                content_index=data.content_index, annotation_index=index, annotation=annotation
            ),
        )

    def _text_done(self, data: Any) -> None:
        item_id = self._id_of(data.item_id, data.output_index)
        # The reference sends the final text without the annotations streamed before it.
        content = AssistantMessageContent(text=data.text, annotations=[])
        self._update(item_id, ContentPartDone(content_index=data.content_index, content=content))

    # -- output items ------------------------------------------------------------------------

    def _item_added(self, data: Any) -> None:
        item = data.item
        kind = item.type
        if kind == "message":
            self.context._close_workflow()
            item_id = self._new_id(item.id, data.output_index, "message")
            self.emit(
                ThreadItemAddedEvent(
                    item=AssistantMessageItem(
                        id=item_id,
                        thread_id=self.context.thread.id,
                        created_at=utc_now(),
                        content=self._content(item.content),
                    )
                )
            )
        elif kind == "reasoning":
            self.thought = None
            if self.context.workflow_item is None:
                workflow = WorkflowItem(
                    id=self.context.generate_id("workflow"),
                    thread_id=self.context.thread.id,
                    created_at=utc_now(),
                    workflow=Workflow(type="reasoning", tasks=[]),
                )
                self.context._open_workflow(workflow)
                self.emit(ThreadItemAddedEvent(item=workflow.model_copy(deep=True)))
        elif kind == "image_generation_call":
            self.image = GeneratedImageItem(
                id=self.context.generate_id("message"),
                thread_id=self.context.thread.id,
                created_at=utc_now(),
            )
            self.emit(ThreadItemAddedEvent(item=self.image))

    def _item_done(self, data: Any) -> None:
        item = data.item
        kind = item.type
        if kind == "message":
            self.emit(
                ThreadItemDoneEvent(
                    item=AssistantMessageItem(
                        id=self._id_of(item.id, data.output_index),
                        thread_id=self.context.thread.id,
                        created_at=utc_now(),
                        content=self._content(item.content),
                    )
                )
            )
        elif kind == "image_generation_call" and item.result:
            current = self.image
            self.image = None
            self.emit(
                ThreadItemDoneEvent(
                    item=GeneratedImageItem(
                        id=current.id
                        if current is not None
                        else self.context.generate_id("message"),
                        thread_id=self.context.thread.id,
                        created_at=current.created_at if current is not None else utc_now(),
                        image=GeneratedImage(id=item.id, url=self.converter.image_url(item.result)),
                    )
                )
            )

    def _partial_image(self, data: Any) -> None:
        current = self.image
        if current is None:
            return
        self._update(
            current.id,
            GeneratedImageUpdated(
                image=GeneratedImage(
                    id=data.item_id, url=self.converter.image_url(data.partial_image_b64)
                ),
                progress=self.converter.image_progress(data.partial_image_index),
            ),
        )

    def _tool_called(self, raw: Any) -> None:
        if _field(raw, "type") != "function_call":
            return
        item_id = self.context.generate_id("tool_call")
        self.call_id = _field(raw, "call_id")
        self.call_item_id = item_id
        self.context._produced[item_id] = None

    # -- reasoning (AGENTS-ADAPTER §2.2: only the first thought of a workflow streams) -------

    def _summary_delta(self, data: Any) -> None:
        workflow = self.context.workflow_item
        if workflow is None:
            return
        key = (data.item_id, data.summary_index)
        if self.thought is None:
            if workflow.workflow.type != "reasoning" or workflow.workflow.tasks:
                return
            task = ThoughtTask(content=data.delta)
            workflow.workflow.tasks.append(task)
            self.thought = (key, task, workflow)
            self._update(workflow.id, WorkflowTaskAdded(task_index=0, task=task.model_copy()))
            return
        tracked = self._tracked(key, workflow)
        if tracked is not None:
            tracked.content += data.delta
            self._update(workflow.id, WorkflowTaskUpdated(task_index=0, task=tracked.model_copy()))

    def _summary_done(self, data: Any) -> None:
        workflow = self.context.workflow_item
        if workflow is None:
            return
        task = self._tracked((data.item_id, data.summary_index), workflow)
        if task is not None:
            task.content = data.text
            self._update(workflow.id, WorkflowTaskUpdated(task_index=0, task=task.model_copy()))
            return
        tasks = workflow.workflow.tasks
        task = ThoughtTask(content=data.text)
        tasks.append(task)
        self._update(
            workflow.id, WorkflowTaskAdded(task_index=len(tasks) - 1, task=task.model_copy())
        )

    def _tracked(self, key: tuple[str, int], workflow: WorkflowItem) -> ThoughtTask | None:
        """The streaming thought's task if `key` names it in the open `workflow`."""
        if self.thought is None:
            return None
        tracked_key, task, tracked_workflow = self.thought
        return task if tracked_key == key and tracked_workflow is workflow else None
