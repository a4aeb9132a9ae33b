"""Where attachment bytes live, as the server sees it: the interface an app's store implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from .attachments import Attachment, AttachmentCreateParams
from .context import RequestContext


class AttachmentStore(Protocol):
    """Where attachment bytes live: records for two-phase uploads, and deleting bytes."""

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        """A new attachment record with an upload descriptor; the server saves it."""
        ...

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Delete the stored bytes of an attachment; the server deletes the record."""
        ...


@runtime_checkable
class PresentsAttachments(Protocol):
    """An attachment store whose records need fresh details each time they are served.

    Signed preview URLs expire: a store that hands them out re-signs them here, so an image in
    an old thread still loads. Stores without expiring URLs need not implement it.
    """

    def present_attachment(self, attachment: Attachment, context: RequestContext) -> Attachment:
        """The attachment as the client should see it now."""
        ...


__all__ = ["AttachmentStore", "PresentsAttachments"]
