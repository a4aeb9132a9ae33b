"""The request dispatcher: request bytes plus a context in, a JSON body or SSE frames out.

It carries out SPEC §7 for a `ChatKitServer` (chatkit_proto.server), calling the app's
`respond`, `action` and friends where the protocol hands over to the app.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import logging
import math
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, assert_never

import orjson

from .attachment_store import AttachmentStore, PresentsAttachments
from .attachments import Attachment
from .base import utc_now
from .codec import decode_request, encode_body
from .content import UserMessageInput
from .context import RequestContext
from .errors import InvalidRequest, NotFound, ProtocolError
from .events import (
    StreamEvent,
    ThreadCreatedEvent,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
)
from .ids import new_item_id, new_thread_id
from .items import (
    ClientToolCallItem,
    StructuredInputItem,
    ThreadItem,
    UserMessageItem,
    WidgetItem,
    is_hidden,
)
from .pipeline import Turn, run_pipeline
from .requests import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    ChatKitReq,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadsUpdateReq,
)
from .rollback import Rollback
from .store.base import NotFoundError, Store
from .streams import Lease, OpenStreams, StreamControl
from .structured_input import StructuredInputAnswer, StructuredInputSubmission
from .threads import Page, ThreadMetadata, to_wire_thread, wire_thread_from_stored

if TYPE_CHECKING:
    from .server import ChatKitServer

logger = logging.getLogger("chatkit_proto.dispatch")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
"""Larger `limit`s are cut to this; the page says `has_more` (the reference has no maximum)."""
EMPTY_BODY = b"{}"


@dataclass(frozen=True, slots=True)
class NonStreamingResult:
    """A complete JSON answer."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    request_type: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamingResult:
    """A streaming answer: SSE frames to send as they come, after a `200`."""

    frames: AsyncIterator[bytes]
    thread_id: str
    request_type: str | None = None
    control: StreamControl | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        """The frames, so the result can be handed to any streaming response as it is."""
        return self.frames


Result = NonStreamingResult | StreamingResult


class Dispatcher:
    """Answers the requests of one `ChatKitServer`: routing, persistence, streams."""

    def __init__(self, server: ChatKitServer[Any]) -> None:
        self.server = server
        self._streams = OpenStreams()

    @property
    def store(self) -> Store:
        """The server's store."""
        return self.server.store

    async def process(self, body: bytes | str, ctx: RequestContext) -> Result:
        """Answer one request body."""
        request_type: str | None = None
        try:
            request = decode_request(body)
            request_type = request.type
            result = await self.handle(request, ctx)
            if isinstance(result, StreamingResult):
                return dataclasses.replace(result, request_type=request_type)
            thread_id = getattr(request.params, "thread_id", None)
            return NonStreamingResult(
                result.body, result.status, result.headers, request_type, thread_id
            )
        except ProtocolError as exc:
            error = error_result(exc)
            return NonStreamingResult(error.body, error.status, error.headers, request_type)
        except Exception:
            logger.exception("request failed before its response started")
            return error_result(ProtocolError("internal", "Something went wrong on the server."))

    async def handle(self, request: ChatKitReq, ctx: RequestContext) -> Result:
        """Answer one decoded request; raises `ProtocolError` for requests that cannot run."""
        try:
            return await self._route(request, ctx)
        except NotFoundError as exc:
            raise NotFound(exc.kind.capitalize()) from None

    async def shutdown(self) -> None:
        """End every open stream (see `ChatKitServer.shutdown`)."""
        await self._streams.stop_all(self.server.options.shutdown_grace_seconds)

    async def _route(self, request: ChatKitReq, ctx: RequestContext) -> Result:
        match request:
            case ThreadsCreateReq():
                return await self._threads_create(request, ctx)
            case ThreadsAddUserMessageReq():
                return await self._threads_add_user_message(request, ctx)
            case ThreadsAddClientToolOutputReq():
                return await self._threads_add_client_tool_output(request, ctx)
            case ThreadsAddStructuredInputReq():
                return await self._threads_add_structured_input(request, ctx)
            case ThreadsRetryAfterItemReq():
                return await self._threads_retry_after_item(request, ctx)
            case ThreadsCustomActionReq():
                return await self._threads_custom_action(request, ctx)
            case ThreadsGetByIdReq():
                return await self._threads_get_by_id(request, ctx)
            case ThreadsListReq():
                return await self._threads_list(request, ctx)
            case ItemsListReq():
                return await self._items_list(request, ctx)
            case ItemsFeedbackReq():
                return await self._items_feedback(request, ctx)
            case AttachmentsCreateReq():
                return await self._attachments_create(request, ctx)
            case AttachmentsDeleteReq():
                return await self._attachments_delete(request, ctx)
            case ThreadsUpdateReq():
                return await self._threads_update(request, ctx)
            case ThreadsDeleteReq():
                return await self._threads_delete(request, ctx)
            case InputTranscribeReq():
                return await self._input_transcribe(request, ctx)
            case ThreadsSyncCustomActionReq():
                return await self._threads_sync_custom_action(request, ctx)
            case _:
                assert_never(request)

    # -- streaming ---------------------------------------------------------------------------
    #
    # Lookups that can fail come before any write; every write is made inside a `Rollback`
    # so that a request failing before its stream starts leaves nothing behind. Requests on
    # an existing thread take its lease first: checks made under the lease stay true.

    async def _threads_create(self, req: ThreadsCreateReq, ctx: RequestContext) -> Result:
        attachments = await self._load_attachments(req.params.input.attachments, ctx)
        thread = ThreadMetadata(id=new_thread_id(), created_at=utc_now())
        async with Rollback(self.store, ctx) as rollback:
            lease = self._new_lease(thread.id, rollback)
            rollback.created_thread(thread.id)
            await self._attach(thread, attachments, ctx, rollback)
            message = _user_message(thread, req.params.input, attachments)
            # The lease, the thread and its message in one call: one round trip where the
            # store can, so the first events go out sooner.
            if not await self.store.start_thread(
                thread, message, lease.token, lease.ttl_seconds, ctx
            ):
                raise await self._conflict(thread.id, ctx)
            prologue: list[ThreadCreatedEvent | ThreadItemDoneEvent] = [
                ThreadCreatedEvent(thread=to_wire_thread(thread)),
                ThreadItemDoneEvent(item=self._presented(message, ctx)),
            ]
            turn = Turn(thread, ctx, self.store, known_items=frozenset({message.id}))
            return self._stream(
                turn, lease, lambda: self.server.respond(thread, message, ctx), prologue
            )

    async def _threads_add_user_message(
        self, req: ThreadsAddUserMessageReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        attachments = await self._load_attachments(req.params.input.attachments, ctx)
        async with Rollback(self.store, ctx) as rollback:
            lease = await self._lease(thread.id, ctx, rollback)
            message = await self._save_user_message(
                thread, req.params.input, attachments, ctx, rollback
            )
            turn = Turn(thread, ctx, self.store)
            return self._stream(
                turn,
                lease,
                lambda: self.server.respond(thread, message, ctx),
                [ThreadItemDoneEvent(item=self._presented(message, ctx))],
            )

    async def _threads_add_client_tool_output(
        self, req: ThreadsAddClientToolOutputReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        async with Rollback(self.store, ctx) as rollback:
            lease = await self._lease(thread.id, ctx, rollback)
            newest = await self.store.load_thread_items(thread.id, None, 1, "desc", ctx)
            call = newest.data[0] if newest.data else None
            if not isinstance(call, ClientToolCallItem) or call.status != "pending":
                raise InvalidRequest("This thread has no pending client tool call")
            rollback.changing_item(thread.id, call.model_copy(deep=True))
            call.output = req.params.result
            call.status = "completed"
            await self.store.add_thread_item(thread.id, call, ctx)
            recent = await self.store.load_thread_items(
                thread.id, None, DEFAULT_PAGE_SIZE, "desc", ctx
            )
            for item in recent.data:
                if isinstance(item, ClientToolCallItem) and item.status == "pending":
                    rollback.changing_item(thread.id, item)
                    await self.store.delete_thread_item(thread.id, item.id, ctx)
            turn = Turn(thread, ctx, self.store)
            return self._stream(turn, lease, lambda: self.server.respond(thread, None, ctx))

    async def _threads_add_structured_input(
        self, req: ThreadsAddStructuredInputReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        async with Rollback(self.store, ctx) as rollback:
            lease = await self._lease(thread.id, ctx, rollback)
            item = await self.store.load_item(thread.id, req.params.item_id, ctx)
            if not isinstance(item, StructuredInputItem) or item.status != "pending":
                raise InvalidRequest("That item is not a pending structured input")
            answered = _answer(item, req.params.input)
            turn = Turn(thread, ctx, self.store)
            return self._stream(
                turn, lease, lambda: _answered_then(answered, self.server, thread, ctx)
            )

    async def _threads_retry_after_item(
        self, req: ThreadsRetryAfterItemReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        async with Rollback(self.store, ctx) as rollback:
            lease = await self._lease(thread.id, ctx, rollback)
            newer, target = await self._items_after(thread.id, req.params.item_id, ctx)
            if not isinstance(target, UserMessageItem):
                raise InvalidRequest("Only a user message can be retried")
            for item in newer:
                rollback.changing_item(thread.id, item)
                await self.store.delete_thread_item(thread.id, item.id, ctx)
            turn = Turn(thread, ctx, self.store)
            return self._stream(turn, lease, lambda: self.server.respond(thread, target, ctx))

    async def _threads_custom_action(
        self, req: ThreadsCustomActionReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        async with Rollback(self.store, ctx) as rollback:
            lease = await self._lease(thread.id, ctx, rollback)
            sender = await self._load_sender(thread.id, req.params.item_id, ctx)
            turn = Turn(thread, ctx, self.store)
            action = req.params.action
            return self._stream(
                turn, lease, lambda: self.server.action(thread, action, sender, ctx)
            )

    # -- non-streaming -----------------------------------------------------------------------

    async def _threads_get_by_id(self, req: ThreadsGetByIdReq, ctx: RequestContext) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        items = await self.store.load_thread_items(thread.id, None, DEFAULT_PAGE_SIZE, "asc", ctx)
        return _json(to_wire_thread(thread, self._presented_page(_visible(items), ctx)))

    async def _threads_list(self, req: ThreadsListReq, ctx: RequestContext) -> Result:
        params = req.params
        page = await self.store.load_threads_json(
            _page_size(params.limit), params.after, params.order, ctx
        )
        threads = b",".join(wire_thread_from_stored(doc) for doc in page.data)
        more = b"true" if page.has_more else b"false"
        after = b"" if page.after is None else b',"after":' + orjson.dumps(page.after)
        return NonStreamingResult(b'{"data":[' + threads + b'],"has_more":' + more + after + b"}")

    async def _items_list(self, req: ItemsListReq, ctx: RequestContext) -> Result:
        params = req.params
        await self.store.load_thread(params.thread_id, ctx)
        page = await self.store.load_thread_items(
            params.thread_id, params.after, _page_size(params.limit), params.order, ctx
        )
        return _json(self._presented_page(_visible(page), ctx))

    async def _items_feedback(self, req: ItemsFeedbackReq, ctx: RequestContext) -> Result:
        params = req.params
        await self.store.load_thread(params.thread_id, ctx)
        await self.server.add_feedback(params.thread_id, params.item_ids, params.kind, ctx)
        return NonStreamingResult(EMPTY_BODY)

    async def _attachments_create(self, req: AttachmentsCreateReq, ctx: RequestContext) -> Result:
        attachment = await self._attachment_store().create_attachment(req.params, ctx)
        await self.store.save_attachment(attachment, ctx)
        return _json(self._presented_attachment(attachment, ctx))

    async def _attachments_delete(self, req: AttachmentsDeleteReq, ctx: RequestContext) -> Result:
        attachments = self._attachment_store()
        attachment = await self.store.load_attachment(req.params.attachment_id, ctx)
        await attachments.delete_attachment(attachment.id, ctx)
        await self.store.delete_attachment(attachment.id, ctx)
        return NonStreamingResult(EMPTY_BODY)

    async def _threads_update(self, req: ThreadsUpdateReq, ctx: RequestContext) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        thread.title = req.params.title
        await self.store.save_thread(thread, ctx)
        return _json(to_wire_thread(thread))

    async def _threads_delete(self, req: ThreadsDeleteReq, ctx: RequestContext) -> Result:
        attachments = await self._thread_attachments(req.params.thread_id, ctx)
        await self.store.delete_thread(req.params.thread_id, ctx)
        # The thread goes first: should deleting some bytes fail, the user's delete stands.
        for attachment in attachments:
            if self.server.attachment_store is not None:
                await self.server.attachment_store.delete_attachment(attachment.id, ctx)
            await self.store.delete_attachment(attachment.id, ctx)
        return NonStreamingResult(EMPTY_BODY)

    async def _thread_attachments(self, thread_id: str, ctx: RequestContext) -> list[Attachment]:
        """The attachments of a thread's user messages; none for an unknown thread."""
        found: list[Attachment] = []
        after: str | None = None
        while True:
            try:
                page = await self.store.load_thread_items(
                    thread_id, after, DEFAULT_PAGE_SIZE, "asc", ctx
                )
            except NotFoundError:
                return found
            for item in page.data:
                if isinstance(item, UserMessageItem):
                    found.extend(item.attachments)
            if not page.has_more:
                return found
            after = page.after

    async def _input_transcribe(self, req: InputTranscribeReq, ctx: RequestContext) -> Result:
        try:
            audio = base64.b64decode(req.params.audio_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("audio_base64 is not valid base64") from None
        result = await self.server.transcribe(audio, req.params.mime_type, ctx)
        return _json(result)

    async def _threads_sync_custom_action(
        self, req: ThreadsSyncCustomActionReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        sender = await self._load_sender(thread.id, req.params.item_id, ctx)
        result = await self.server.sync_action(thread, req.params.action, sender, ctx)
        return _json(result)

    # -- helpers -----------------------------------------------------------------------------

    def _stream(
        self,
        turn: Turn,
        lease: Lease,
        responder: Callable[[], AsyncIterator[StreamEvent]],
        prologue: Sequence[ThreadCreatedEvent | ThreadItemDoneEvent] = (),
    ) -> StreamingResult:
        control = self._streams.open(turn.store, turn.context, lease)
        frames = run_pipeline(turn, prologue, responder, control)
        return StreamingResult(frames, turn.thread.id, control=control)

    async def _lease(self, thread_id: str, ctx: RequestContext, rollback: Rollback) -> Lease:
        lease = self._new_lease(thread_id, rollback)
        if await self.store.acquire_stream_lease(thread_id, lease.token, lease.ttl_seconds, ctx):
            return lease
        raise await self._conflict(thread_id, ctx)

    def _new_lease(self, thread_id: str, rollback: Rollback) -> Lease:
        lease = Lease(thread_id, secrets.token_hex(8), self.server.options.stream_lease_seconds)
        # Recorded first: a cancelled acquire may still have taken it.
        rollback.leased(lease)
        return lease

    async def _conflict(self, thread_id: str, ctx: RequestContext) -> ProtocolError:
        """The error for a thread another stream holds, with when to try again."""
        remaining = await self.store.stream_lease_remaining(thread_id, ctx)
        seconds = max(1, math.ceil(remaining or 0))
        return ProtocolError(
            "conflict",
            "This thread is already answering another request. "
            f"Try again in {seconds} second{'s' if seconds > 1 else ''}.",
            retry_after=seconds,
        )

    async def _load_attachments(self, ids: list[str], ctx: RequestContext) -> list[Attachment]:
        return [await self.store.load_attachment(attachment_id, ctx) for attachment_id in ids]

    async def _save_user_message(
        self,
        thread: ThreadMetadata,
        message_input: UserMessageInput,
        attachments: list[Attachment],
        ctx: RequestContext,
        rollback: Rollback,
    ) -> UserMessageItem:
        await self._attach(thread, attachments, ctx, rollback)
        message = _user_message(thread, message_input, attachments)
        rollback.added_item(thread.id, message.id)
        await self.store.add_thread_item(thread.id, message, ctx)
        return message

    async def _attach(
        self,
        thread: ThreadMetadata,
        attachments: list[Attachment],
        ctx: RequestContext,
        rollback: Rollback,
    ) -> None:
        """Record the thread the attachments of a new user message now belong to."""
        for attachment in attachments:
            rollback.changing_attachment(attachment.model_copy())
            attachment.thread_id = thread.id
            await self.store.save_attachment(attachment, ctx)

    async def _load_sender(
        self, thread_id: str, item_id: str | None, ctx: RequestContext
    ) -> WidgetItem | None:
        if item_id is None:
            return None
        item = await self.store.load_item(thread_id, item_id, ctx)
        if not isinstance(item, WidgetItem):
            raise InvalidRequest("Actions can only be sent from a widget item")
        return item

    async def _items_after(
        self, thread_id: str, item_id: str, ctx: RequestContext
    ) -> tuple[list[ThreadItem], ThreadItem]:
        """Every item newer than `item_id`, and that item; raises NotFound when absent."""
        newer: list[ThreadItem] = []
        after: str | None = None
        while True:
            page = await self.store.load_thread_items(
                thread_id, after, DEFAULT_PAGE_SIZE, "desc", ctx
            )
            for item in page.data:
                if item.id == item_id:
                    return newer, item
                newer.append(item)
            if not page.has_more:
                raise NotFound("item")
            after = page.after

    def _presented_attachment(self, attachment: Attachment, ctx: RequestContext) -> Attachment:
        store = self.server.attachment_store
        if isinstance(store, PresentsAttachments):
            return store.present_attachment(attachment, ctx)
        return attachment

    def _presented(self, item: ThreadItem, ctx: RequestContext) -> ThreadItem:
        """An item as it is sent: its attachments as the attachment store presents them now."""
        if not isinstance(item, UserMessageItem) or not item.attachments:
            return item
        attachments = [self._presented_attachment(a, ctx) for a in item.attachments]
        return item.model_copy(update={"attachments": attachments})

    def _presented_page(self, page: Page[ThreadItem], ctx: RequestContext) -> Page[ThreadItem]:
        if not any(isinstance(item, UserMessageItem) and item.attachments for item in page.data):
            return page
        return Page(
            data=[self._presented(item, ctx) for item in page.data],
            has_more=page.has_more,
            after=page.after,
        )

    def _attachment_store(self) -> AttachmentStore:
        if self.server.attachment_store is None:
            raise InvalidRequest("Attachments are not enabled on this server")
        return self.server.attachment_store


def error_result(error: ProtocolError) -> NonStreamingResult:
    """The JSON answer for a request that could not run."""
    headers = {"retry-after": str(error.retry_after)} if error.retry_after is not None else {}
    if error.code == "unauthorized":
        headers["www-authenticate"] = "Bearer"
    return NonStreamingResult(encode_body(error.body()), error.status, headers)


def _json(body: object) -> NonStreamingResult:
    return NonStreamingResult(encode_body(body))  # type: ignore[arg-type]


def _user_message(
    thread: ThreadMetadata, message_input: UserMessageInput, attachments: list[Attachment]
) -> UserMessageItem:
    """The item for a user's new message, not saved yet."""
    return UserMessageItem(
        id=new_item_id("message"),
        thread_id=thread.id,
        created_at=utc_now(),
        content=message_input.content,
        attachments=attachments,
        quoted_text=message_input.quoted_text,
        inference_options=message_input.inference_options,
    )


def _page_size(limit: int | None) -> int:
    """A missing or zero `limit` means 20 (SPEC §3.1); beyond `MAX_PAGE_SIZE` it is cut."""
    return min(limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


async def _answered_then(
    answered: StructuredInputItem,
    server: ChatKitServer[Any],
    thread: ThreadMetadata,
    ctx: RequestContext,
) -> AsyncIterator[StreamEvent]:
    """Replace the structured input with its answers, then let the app resume."""
    yield ThreadItemReplacedEvent(item=answered)
    async for event in server.respond(thread, None, ctx):
        yield event


def _visible(page: Page[ThreadItem]) -> Page[ThreadItem]:
    """Drop hidden items after paging, as the reference does (SPEC §8, q23)."""
    return Page(
        data=[item for item in page.data if not is_hidden(item)],
        has_more=page.has_more,
        after=page.after,
    )


def _answer(
    item: StructuredInputItem, submission: StructuredInputSubmission
) -> StructuredInputItem:
    """The item with every question answered or skipped (SPEC §7.5)."""
    answered = item.model_copy(deep=True)
    for question in answered.inputs:
        given = submission.answers.get(question.id)
        if submission.status == "skipped" or given is None or given.skipped or not given.values:
            question.answer = StructuredInputAnswer(values=[], skipped=True)
            continue
        values = list(given.values)
        if question.type == "multiple_choice" and not question.multiple:
            values = values[:1]
        question.answer = StructuredInputAnswer(values=values, skipped=False)
    unknown = set(submission.answers) - {question.id for question in answered.inputs}
    if unknown:
        logger.warning("ignoring answers to unknown questions: %s", sorted(unknown))
    answered.status = submission.status
    return answered


__all__ = ["Dispatcher", "NonStreamingResult", "Result", "StreamingResult", "error_result"]
