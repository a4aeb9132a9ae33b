"""Small result bodies of non-streaming requests (SPEC §3.11)."""

from __future__ import annotations

from .base import ProtoModel
from .items import ThreadItem


class TranscriptionResult(ProtoModel):
    """The answer to `input.transcribe`."""

    text: str


class SyncCustomActionResponse(ProtoModel):
    """The answer to `threads.sync_custom_action`; `{}` when nothing changed."""

    updated_item: ThreadItem | None = None
