"""The per-request context: who is asking, plus what the auth layer verified about them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Identifies the caller; every store operation is scoped to `user_id`.

    `base_url` is the server's public root (for URLs it hands out, such as upload links);
    `claims` holds what the auth layer verified (a JWT's claims, or a custom authenticator's);
    `tenant_id` is the caller's tenant when the auth layer knows one.
    """

    user_id: str
    locale: str | None = None
    base_url: str | None = None
    claims: Mapping[str, object] = field(default_factory=dict)
    tenant_id: str | None = None
