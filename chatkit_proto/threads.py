"""Threads, their status, and the page type of every listing (SPEC §3.1, §3.2)."""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

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


_METADATA_KEY = b',"metadata":'
_NULLS = (b',"title":null', b',"reason":null', b',"allowed_image_domains":null')
_WIRE_TAIL = b',"metadata":{},"items":{"data":[],"has_more":false}}'


def wire_thread_from_stored(doc: bytes | str) -> bytes:
    """The JSON of `to_wire_thread` for a stored thread document, built without parsing it.

    `doc` is what `thread_json` wrote: the serialiser's fixed key order, `metadata` last and
    compact. Inside a JSON string every `"` is escaped, so `,"metadata":` and the null
    fields below can only be the keys themselves: cut the private metadata off, leave the
    nulls out (the wire omits them), and end as the wire form does.
    """
    raw = doc.encode() if isinstance(doc, str) else doc
    head = raw[: raw.index(_METADATA_KEY)]
    for null in _NULLS:
        head = head.replace(null, b"")
    return head + _WIRE_TAIL
