"""The request dispatcher: request bytes plus a context in, a JSON body or SSE frames out."""

from __future__ import annotations

import base64
import binascii
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from ._base import utc_now
from .app import ChatKitApp, StreamEvent, Turn
from .attachments import Attachment, AttachmentCreateParams
from .codec import decode_request, encode_body
from .content import UserMessageInput
from .context import RequestContext
from .errors import Conflict, InvalidRequest, NotFound, ProtocolError
from .events import ThreadCreatedEvent, ThreadItemDoneEvent, ThreadItemReplacedEvent
from .ids import new_item_id, new_thread_id
from .items import (
    ClientToolCallItem,
    StructuredInputItem,
    ThreadItem,
    UserMessageItem,
    WidgetItem,
    is_hidden,
)
from .pipeline import Lease, run_pipeline
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
from .store.base import NotFoundError, Store
from .structured_input import StructuredInputAnswer, StructuredInputSubmission
from .threads import Page, ThreadMetadata, to_wire_thread, wire_thread_plain

logger = logging.getLogger("chatkit_proto.dispatch")

DEFAULT_PAGE_SIZE = 20
EMPTY_BODY = b"{}"


class AttachmentService(Protocol):
    """Where attachment bytes live: makes records for two-phase uploads, deletes bytes."""

    async def create(self, params: AttachmentCreateParams, ctx: RequestContext) -> Attachment:
        """A new attachment record with an upload descriptor; the server saves it."""
        ...

    async def delete(self, attachment: Attachment, ctx: RequestContext) -> None:
        """Delete the stored bytes of an attachment; the server deletes the record."""
        ...


@dataclass(frozen=True, slots=True)
class JSONResult:
    """A complete JSON answer."""

    body: bytes
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    request_type: str | None = None
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class StreamResult:
    """A streaming answer: SSE frames to send as they come, after a `200`."""

    frames: AsyncIterator[bytes]
    thread_id: str
    request_type: str | None = None


Result = JSONResult | StreamResult


@dataclass(slots=True)
class ServerOptions:
    """Tunables of the protocol server."""

    allow_cancel: bool = True
    stream_lease_seconds: float = 60.0


class ChatKitServer:
    """Answers ChatKit requests for one app over one store, knowing nothing of HTTP.

    `process()` never raises for a bad request: validation and lookup failures come back as
    a 4xx `JSONResult` before any stream starts (DEVIATIONS D1-D4, D15), unexpected bugs as
    a generic 500 (D8).
    """

    def __init__(
        self,
        app: ChatKitApp,
        store: Store,
        attachments: AttachmentService | None = None,
        options: ServerOptions | None = None,
    ) -> None:
        self.app = app
        self.store = store
        self.attachments = attachments
        self.options = options or ServerOptions()

    async def process(self, body: bytes | str, ctx: RequestContext) -> Result:
        """Answer one request body."""
        request_type: str | None = None
        try:
            request = decode_request(body)
            request_type = request.type
            result = await self.handle(request, ctx)
            if isinstance(result, StreamResult):
                return StreamResult(result.frames, result.thread_id, request_type)
            thread_id = getattr(request.params, "thread_id", None)
            return JSONResult(result.body, result.status, result.headers, request_type, thread_id)
        except ProtocolError as exc:
            error = error_result(exc)
            return JSONResult(error.body, error.status, error.headers, request_type)
        except Exception:
            logger.exception("request failed before its response started")
            return error_result(ProtocolError("internal", "Something went wrong on the server."))

    async def handle(self, request: ChatKitReq, ctx: RequestContext) -> Result:
        """Answer one decoded request; raises `ProtocolError` for requests that cannot run."""
        handler: Callable[..., object] = getattr(self, _HANDLERS[request.type])
        try:
            return await handler(request, ctx)  # type: ignore[misc]
        except NotFoundError as exc:
            raise NotFound(exc.kind.capitalize()) from None

    # -- streaming ---------------------------------------------------------------------------

    async def _threads_create(self, req: ThreadsCreateReq, ctx: RequestContext) -> Result:
        attachments = await self._load_attachments(req.params.input.attachments, ctx)
        thread = ThreadMetadata(id=new_thread_id(), created_at=utc_now())
        await self.store.save_thread(thread, ctx)
        lease = await self._lease(thread.id, ctx)
        message = await self._save_user_message(thread, req.params.input, attachments, ctx)
        prologue = [
            ThreadCreatedEvent(thread=to_wire_thread(thread)),
            ThreadItemDoneEvent(item=message),
        ]
        turn = Turn(thread, ctx, self.store)
        return self._stream(turn, lease, lambda: self.app.respond(turn, message), prologue)

    async def _threads_add_user_message(
        self, req: ThreadsAddUserMessageReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        attachments = await self._load_attachments(req.params.input.attachments, ctx)
        lease = await self._lease(thread.id, ctx)
        message = await self._save_user_message(thread, req.params.input, attachments, ctx)
        turn = Turn(thread, ctx, self.store)
        return self._stream(
            turn,
            lease,
            lambda: self.app.respond(turn, message),
            [ThreadItemDoneEvent(item=message)],
        )

    async def _threads_add_client_tool_output(
        self, req: ThreadsAddClientToolOutputReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        newest = await self.store.load_thread_items(thread.id, None, 1, "desc", ctx)
        call = newest.data[0] if newest.data else None
        if not isinstance(call, ClientToolCallItem) or call.status != "pending":
            raise InvalidRequest("This thread has no pending client tool call")
        lease = await self._lease(thread.id, ctx)
        call.output = req.params.result
        call.status = "completed"
        await self.store.save_item(thread.id, call, ctx)
        recent = await self.store.load_thread_items(thread.id, None, DEFAULT_PAGE_SIZE, "desc", ctx)
        for item in recent.data:
            if isinstance(item, ClientToolCallItem) and item.status == "pending":
                await self.store.delete_thread_item(thread.id, item.id, ctx)
        turn = Turn(thread, ctx, self.store)
        return self._stream(turn, lease, lambda: self.app.respond(turn, None))

    async def _threads_add_structured_input(
        self, req: ThreadsAddStructuredInputReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        item = await self.store.load_item(thread.id, req.params.item_id, ctx)
        if not isinstance(item, StructuredInputItem) or item.status != "pending":
            raise InvalidRequest("That item is not a pending structured input")
        answered = _answer(item, req.params.input)
        lease = await self._lease(thread.id, ctx)
        turn = Turn(thread, ctx, self.store)

        async def responder() -> AsyncIterator[StreamEvent]:
            yield ThreadItemReplacedEvent(item=answered)
            async for event in self.app.respond(turn, None):
                yield event

        return self._stream(turn, lease, responder)

    async def _threads_retry_after_item(
        self, req: ThreadsRetryAfterItemReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        newer, target = await self._items_after(thread.id, req.params.item_id, ctx)
        if not isinstance(target, UserMessageItem):
            raise InvalidRequest("Only a user message can be retried")
        lease = await self._lease(thread.id, ctx)
        for item in newer:
            await self.store.delete_thread_item(thread.id, item.id, ctx)
        turn = Turn(thread, ctx, self.store)
        return self._stream(turn, lease, lambda: self.app.respond(turn, target))

    async def _threads_custom_action(
        self, req: ThreadsCustomActionReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        sender = await self._load_sender(thread.id, req.params.item_id, ctx)
        lease = await self._lease(thread.id, ctx)
        turn = Turn(thread, ctx, self.store)
        return self._stream(turn, lease, lambda: self.app.action(turn, req.params.action, sender))

    # -- non-streaming -----------------------------------------------------------------------

    async def _threads_get_by_id(self, req: ThreadsGetByIdReq, ctx: RequestContext) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        items = await self.store.load_thread_items(thread.id, None, DEFAULT_PAGE_SIZE, "asc", ctx)
        return _json(to_wire_thread(thread, _visible(items)))

    async def _threads_list(self, req: ThreadsListReq, ctx: RequestContext) -> Result:
        params = req.params
        page = await self.store.load_threads(
            params.limit or DEFAULT_PAGE_SIZE, params.after, params.order, ctx
        )
        body: dict[str, object] = {
            "data": [wire_thread_plain(thread) for thread in page.data],
            "has_more": page.has_more,
        }
        if page.after is not None:
            body["after"] = page.after
        return JSONResult(encode_body(body))

    async def _items_list(self, req: ItemsListReq, ctx: RequestContext) -> Result:
        params = req.params
        await self.store.load_thread(params.thread_id, ctx)
        page = await self.store.load_thread_items(
            params.thread_id, params.after, params.limit or DEFAULT_PAGE_SIZE, params.order, ctx
        )
        return _json(_visible(page))

    async def _items_feedback(self, req: ItemsFeedbackReq, ctx: RequestContext) -> Result:
        params = req.params
        await self.store.load_thread(params.thread_id, ctx)
        await self.app.add_feedback(params.thread_id, params.item_ids, params.kind, ctx)
        return JSONResult(EMPTY_BODY)

    async def _attachments_create(self, req: AttachmentsCreateReq, ctx: RequestContext) -> Result:
        service = self._attachment_service()
        attachment = await service.create(req.params, ctx)
        await self.store.save_attachment(attachment, ctx)
        return _json(attachment)

    async def _attachments_delete(self, req: AttachmentsDeleteReq, ctx: RequestContext) -> Result:
        service = self._attachment_service()
        attachment = await self.store.load_attachment(req.params.attachment_id, ctx)
        await service.delete(attachment, ctx)
        await self.store.delete_attachment(attachment.id, ctx)
        return JSONResult(EMPTY_BODY)

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
            if self.attachments is not None:
                await self.attachments.delete(attachment, ctx)
            await self.store.delete_attachment(attachment.id, ctx)
        return JSONResult(EMPTY_BODY)

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
        result = await self.app.transcribe(audio, req.params.mime_type, ctx)
        return _json(result)

    async def _threads_sync_custom_action(
        self, req: ThreadsSyncCustomActionReq, ctx: RequestContext
    ) -> Result:
        thread = await self.store.load_thread(req.params.thread_id, ctx)
        sender = await self._load_sender(thread.id, req.params.item_id, ctx)
        result = await self.app.sync_action(
            Turn(thread, ctx, self.store), req.params.action, sender
        )
        return _json(result)

    # -- helpers -----------------------------------------------------------------------------

    def _stream(
        self,
        turn: Turn,
        lease: Lease,
        responder: Callable[[], AsyncIterator[StreamEvent]],
        prologue: list[ThreadCreatedEvent | ThreadItemDoneEvent] | None = None,
    ) -> StreamResult:
        frames = run_pipeline(
            turn, prologue or [], responder, allow_cancel=self.options.allow_cancel, lease=lease
        )
        return StreamResult(frames, turn.thread.id)

    async def _lease(self, thread_id: str, ctx: RequestContext) -> Lease:
        lease = Lease(thread_id, secrets.token_hex(8), self.options.stream_lease_seconds)
        if not await self.store.acquire_stream_lease(
            thread_id, lease.token, lease.ttl_seconds, ctx
        ):
            raise Conflict("This thread is already answering another request")
        return lease

    async def _load_attachments(self, ids: list[str], ctx: RequestContext) -> list[Attachment]:
        return [await self.store.load_attachment(attachment_id, ctx) for attachment_id in ids]

    async def _save_user_message(
        self,
        thread: ThreadMetadata,
        message_input: UserMessageInput,
        attachments: list[Attachment],
        ctx: RequestContext,
    ) -> UserMessageItem:
        for attachment in attachments:
            attachment.thread_id = thread.id
            await self.store.save_attachment(attachment, ctx)
        message = UserMessageItem(
            id=new_item_id("message"),
            thread_id=thread.id,
            created_at=utc_now(),
            content=message_input.content,
            attachments=attachments,
            quoted_text=message_input.quoted_text,
            inference_options=message_input.inference_options,
        )
        await self.store.add_thread_item(thread.id, message, ctx)
        return message

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

    def _attachment_service(self) -> AttachmentService:
        if self.attachments is None:
            raise InvalidRequest("Attachments are not enabled on this server")
        return self.attachments


def error_result(error: ProtocolError) -> JSONResult:
    """The JSON answer for a request that could not run."""
    headers = {"retry-after": str(error.retry_after)} if error.retry_after is not None else {}
    if error.code == "unauthorized":
        headers["www-authenticate"] = "Bearer"
    return JSONResult(encode_body(error.body()), error.status, headers)


def _json(body: object) -> JSONResult:
    return JSONResult(encode_body(body))  # type: ignore[arg-type]


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


_HANDLERS: dict[str, str] = {
    "threads.create": "_threads_create",
    "threads.add_user_message": "_threads_add_user_message",
    "threads.add_client_tool_output": "_threads_add_client_tool_output",
    "threads.add_structured_input": "_threads_add_structured_input",
    "threads.retry_after_item": "_threads_retry_after_item",
    "threads.custom_action": "_threads_custom_action",
    "threads.get_by_id": "_threads_get_by_id",
    "threads.list": "_threads_list",
    "items.list": "_items_list",
    "items.feedback": "_items_feedback",
    "attachments.create": "_attachments_create",
    "attachments.delete": "_attachments_delete",
    "threads.update": "_threads_update",
    "threads.delete": "_threads_delete",
    "input.transcribe": "_input_transcribe",
    "threads.sync_custom_action": "_threads_sync_custom_action",
}

__all__ = [
    "AttachmentService",
    "ChatKitServer",
    "JSONResult",
    "Result",
    "ServerOptions",
    "StreamResult",
]
