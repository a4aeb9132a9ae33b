"""The per-request context: who is asking, and what their verified token said."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Identifies the caller; every store operation is scoped to `user_id`.

    `base_url` is the server's public root (for URLs it hands out, such as upload links);
    `claims` are the verified token claims, empty without auth.
    """

    user_id: str
    locale: str | None = None
    base_url: str | None = None
    claims: Mapping[str, object] = field(default_factory=dict)
