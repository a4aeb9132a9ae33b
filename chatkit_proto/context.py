"""The per-request context: who is asking, plus whatever the auth layer adds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Identifies the caller; every store operation is scoped to `user_id`.

    `base_url` is the server's public root (for URLs it hands out, such as upload links);
    `extra` holds whatever an auth layer or integration adds.
    """

    user_id: str
    locale: str | None = None
    base_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
