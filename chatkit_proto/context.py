"""The per-request context: who is asking, plus whatever the auth layer adds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Identifies the caller; every store operation is scoped to `user_id`."""

    user_id: str
    locale: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
