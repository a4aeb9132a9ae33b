"""Id generation: `<prefix>_<random hex>` as SPEC §12.4, with more randomness than 8 hex."""

from __future__ import annotations

import secrets
from typing import Literal

ItemKind = Literal["message", "tool_call", "task", "workflow", "sdk_hidden_context"]

ITEM_PREFIXES: dict[str, str] = {
    "message": "msg",
    "tool_call": "tc",
    "task": "tsk",
    "workflow": "wf",
    "sdk_hidden_context": "shcx",
}


def new_id(prefix: str) -> str:
    """A fresh opaque id; 64 random bits keep 100,000s of rows collision-free."""
    return f"{prefix}_{secrets.token_hex(8)}"


def new_thread_id() -> str:
    """A fresh thread id."""
    return new_id("thr")


def new_item_id(kind: ItemKind) -> str:
    """A fresh item id for the given kind of item."""
    return new_id(ITEM_PREFIXES[kind])


def new_attachment_id() -> str:
    """A fresh attachment id."""
    return new_id("atc")
