"""The 16 request types a client POSTs to the endpoint (SPEC §4)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .actions import Action
from .attachments import AttachmentCreateParams
from .base import JSONObject, JSONValue, ProtoModel
from .content import UserMessageInput
from .structured_input import StructuredInputSubmission
from .threads import Order

FeedbackKind = Literal["positive", "negative"]


class RequestBase(ProtoModel):
    """The envelope every request shares; `metadata` is free-form integration data."""

    metadata: JSONObject = Field(default_factory=dict)


# -- params ---------------------------------------------------------------------------------


class ThreadCreateParams(ProtoModel):
    """Params of `threads.create`."""

    input: UserMessageInput


class ThreadAddUserMessageParams(ProtoModel):
    """Params of `threads.add_user_message`."""

    thread_id: str
    input: UserMessageInput


class ThreadAddClientToolOutputParams(ProtoModel):
    """Params of `threads.add_client_tool_output`; `result` may be any JSON, null included.

    A missing `result` reads as null, so that a null result survives our own encoding (which
    leaves null fields out).
    """

    thread_id: str
    result: JSONValue = None


class ThreadAddStructuredInputParams(ProtoModel):
    """Params of `threads.add_structured_input`."""

    thread_id: str
    item_id: str
    input: StructuredInputSubmission


class ThreadRetryAfterItemParams(ProtoModel):
    """Params of `threads.retry_after_item`."""

    thread_id: str
    item_id: str


class ThreadCustomActionParams(ProtoModel):
    """Params of `threads.custom_action` and `threads.sync_custom_action`."""

    thread_id: str
    item_id: str | None = None
    action: Action


class ThreadGetByIdParams(ProtoModel):
    """Params of `threads.get_by_id`."""

    thread_id: str


class ThreadListParams(ProtoModel):
    """Params of `threads.list`."""

    limit: int | None = Field(default=None, ge=0)
    order: Order = "desc"
    after: str | None = None


class ItemsListParams(ProtoModel):
    """Params of `items.list`."""

    thread_id: str
    limit: int | None = Field(default=None, ge=0)
    order: Order = "desc"
    after: str | None = None


class ItemsFeedbackParams(ProtoModel):
    """Params of `items.feedback`."""

    thread_id: str
    item_ids: list[str]
    kind: FeedbackKind


class AttachmentDeleteParams(ProtoModel):
    """Params of `attachments.delete`."""

    attachment_id: str


class ThreadUpdateParams(ProtoModel):
    """Params of `threads.update`: only the title can change, and not to null."""

    thread_id: str
    title: str


class ThreadDeleteParams(ProtoModel):
    """Params of `threads.delete`."""

    thread_id: str


class InputTranscribeParams(ProtoModel):
    """Params of `input.transcribe`: base64 audio and its MIME type."""

    audio_base64: str
    mime_type: str


# -- streaming requests ---------------------------------------------------------------------


class ThreadsCreateReq(RequestBase):
    """Create a thread with a first user message and answer it."""

    type: Literal["threads.create"] = "threads.create"
    params: ThreadCreateParams


class ThreadsAddUserMessageReq(RequestBase):
    """Append a user message and answer it."""

    type: Literal["threads.add_user_message"] = "threads.add_user_message"
    params: ThreadAddUserMessageParams


class ThreadsAddClientToolOutputReq(RequestBase):
    """Complete the pending client tool call and resume."""

    type: Literal["threads.add_client_tool_output"] = "threads.add_client_tool_output"
    params: ThreadAddClientToolOutputParams


class ThreadsAddStructuredInputReq(RequestBase):
    """Answer a pending structured-input item and resume."""

    type: Literal["threads.add_structured_input"] = "threads.add_structured_input"
    params: ThreadAddStructuredInputParams


class ThreadsRetryAfterItemReq(RequestBase):
    """Drop everything after a user message and answer it again."""

    type: Literal["threads.retry_after_item"] = "threads.retry_after_item"
    params: ThreadRetryAfterItemParams


class ThreadsCustomActionReq(RequestBase):
    """Run a widget or host-page action as a stream."""

    type: Literal["threads.custom_action"] = "threads.custom_action"
    params: ThreadCustomActionParams


# -- non-streaming requests -----------------------------------------------------------------


class ThreadsGetByIdReq(RequestBase):
    """Load a thread with its first page of items."""

    type: Literal["threads.get_by_id"] = "threads.get_by_id"
    params: ThreadGetByIdParams


class ThreadsListReq(RequestBase):
    """List the user's threads."""

    type: Literal["threads.list"] = "threads.list"
    params: ThreadListParams


class ItemsListReq(RequestBase):
    """List a thread's items."""

    type: Literal["items.list"] = "items.list"
    params: ItemsListParams


class ItemsFeedbackReq(RequestBase):
    """Thumbs up or down on items."""

    type: Literal["items.feedback"] = "items.feedback"
    params: ItemsFeedbackParams


class AttachmentsCreateReq(RequestBase):
    """Start a two-phase upload."""

    type: Literal["attachments.create"] = "attachments.create"
    params: AttachmentCreateParams


class AttachmentsDeleteReq(RequestBase):
    """Delete an attachment and its bytes."""

    type: Literal["attachments.delete"] = "attachments.delete"
    params: AttachmentDeleteParams


class ThreadsUpdateReq(RequestBase):
    """Rename a thread."""

    type: Literal["threads.update"] = "threads.update"
    params: ThreadUpdateParams


class ThreadsDeleteReq(RequestBase):
    """Delete a thread and its items."""

    type: Literal["threads.delete"] = "threads.delete"
    params: ThreadDeleteParams


class InputTranscribeReq(RequestBase):
    """Turn dictated audio into composer text."""

    type: Literal["input.transcribe"] = "input.transcribe"
    params: InputTranscribeParams


class ThreadsSyncCustomActionReq(RequestBase):
    """Run a widget action and answer with the updated item as JSON."""

    type: Literal["threads.sync_custom_action"] = "threads.sync_custom_action"
    params: ThreadCustomActionParams


StreamingReq = (
    ThreadsCreateReq
    | ThreadsAddUserMessageReq
    | ThreadsAddClientToolOutputReq
    | ThreadsAddStructuredInputReq
    | ThreadsRetryAfterItemReq
    | ThreadsCustomActionReq
)

NonStreamingReq = (
    ThreadsGetByIdReq
    | ThreadsListReq
    | ItemsListReq
    | ItemsFeedbackReq
    | AttachmentsCreateReq
    | AttachmentsDeleteReq
    | ThreadsUpdateReq
    | ThreadsDeleteReq
    | InputTranscribeReq
    | ThreadsSyncCustomActionReq
)

ChatKitReq = Annotated[StreamingReq | NonStreamingReq, Field(discriminator="type")]

STREAMING_TYPES = frozenset(
    {
        "threads.create",
        "threads.add_user_message",
        "threads.add_client_tool_output",
        "threads.add_structured_input",
        "threads.retry_after_item",
        "threads.custom_action",
    }
)
"""The types answered with SSE (decided by the type alone, SPEC §1.3)."""
