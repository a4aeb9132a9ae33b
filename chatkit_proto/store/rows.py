"""How stores write rows: JSON documents that keep what the wire leaves out."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import TypeAdapter

from ..attachments import Attachment, AttachmentBase
from ..items import ThreadItem, UserMessageItem
from ..threads import ThreadMetadata

THREAD: TypeAdapter[ThreadMetadata] = TypeAdapter(ThreadMetadata)
ITEM: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)
ATTACHMENT: TypeAdapter[Attachment] = TypeAdapter(Attachment)

_THREAD_SERIALIZER = ThreadMetadata.__pydantic_serializer__


def thread_json(thread: ThreadMetadata) -> bytes:
    """A thread's stored document: metadata only, even when given a full `Thread`."""
    return _THREAD_SERIALIZER.to_json(thread)


def attachment_json(attachment: AttachmentBase) -> bytes:
    """An attachment's stored document, private `metadata` included."""
    return orjson.dumps(_attachment_doc(attachment))


def item_json(item: ThreadItem) -> bytes:
    """An item's stored document; its attachments keep their private `metadata`."""
    if isinstance(item, UserMessageItem) and any(a.metadata is not None for a in item.attachments):
        doc = item.model_dump(mode="json")
        doc["attachments"] = [_attachment_doc(a) for a in item.attachments]
        return orjson.dumps(doc)
    return item.__pydantic_serializer__.to_json(item)


def _attachment_doc(attachment: AttachmentBase) -> dict[str, Any]:
    # `metadata` is excluded from serialisation so it never reaches a client, but it is ours.
    return attachment.model_dump(mode="json") | {"metadata": attachment.metadata}
