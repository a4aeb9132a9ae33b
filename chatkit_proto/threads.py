"""Threads, their status, and the page type of every listing (SPEC §3.1, §3.2)."""

from __future__ import annotations

from typing import Annotated, Any, Generic, Literal, TypeVar

import orjson
from pydantic import Field

from .base import JSONObject, ProtoModel, Timestamp
from .items import ThreadItem


class ActiveStatus(ProtoModel):
    """The thread accepts messages."""

    type: Literal["active"] = "active"


class LockedStatus(ProtoModel):
    """The composer is shown but disabled; `reason` is its placeholder."""

    type: Literal["locked"] = "locked"
    reason: str | None = None


class ClosedStatus(ProtoModel):
    """The composer is replaced by a banner."""

    type: Literal["closed"] = "closed"
    reason: str | None = None


ThreadStatus = Annotated[ActiveStatus | LockedStatus | ClosedStatus, Field(discriminator="type")]


T = TypeVar("T")

Order = Literal["asc", "desc"]
"""The direction of a listing: `asc` oldest first, `desc` newest first (SPEC §12.3)."""


class Page(ProtoModel, Generic[T]):
    """One page of a listing; `after` is the cursor of the next page when `has_more`."""

    data: list[T] = Field(default_factory=list)
    has_more: bool = False
    after: str | None = None


class ThreadMetadata(ProtoModel):
    """A thread as stored; `metadata` is server-private."""

    id: str
    title: str | None = None
    created_at: Timestamp
    status: ThreadStatus = Field(default_factory=ActiveStatus)
    allowed_image_domains: list[str] | None = None
    metadata: JSONObject = Field(default_factory=dict)


class Thread(ThreadMetadata):
    """A thread as sent: private metadata blanked, with a page of its items."""

    items: Page[ThreadItem] = Field(default_factory=lambda: ItemsPage())


# Parametrising a generic model is a cache lookup that costs more than building the page.
ItemsPage = Page[ThreadItem]


def to_wire_thread(thread: ThreadMetadata, items: Page[ThreadItem] | None = None) -> Thread:
    """Build the client-facing thread: private metadata never leaves the server (SPEC §2.5)."""
    return Thread(
        id=thread.id,
        title=thread.title,
        created_at=thread.created_at,
        status=thread.status,
        allowed_image_domains=thread.allowed_image_domains,
        metadata={},
        items=items if items is not None else ItemsPage(),
    )


def wire_thread_from_stored(doc: bytes | str) -> dict[str, Any]:
    """The JSON value of `to_wire_thread` for a stored thread document, not validated again.

    The store holds what `thread_json` wrote, the same serialiser with the same keys, so only
    the nulls go (the wire leaves them out) and the private metadata is blanked. Only the
    status model nests, and it holds no free-form values whose nulls would have to stay.
    """
    plain: dict[str, Any] = orjson.loads(doc)
    for key in [key for key, value in plain.items() if value is None]:
        del plain[key]
    status = plain.get("status")
    if isinstance(status, dict) and status.get("reason", "") is None:
        del status["reason"]
    plain["metadata"] = {}
    plain["items"] = {"data": [], "has_more": False}
    return plain
