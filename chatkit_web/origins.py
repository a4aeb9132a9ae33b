"""Cross-site requests refused: an `Origin` that is neither this server nor a listed origin.

Browsers send `Origin` with every cross-origin request and with same-origin ones that are not
GET or HEAD. Without this check a page on any site could post a `text/plain` body (no CORS
preflight needed) and create or delete threads in the no-auth mode. No content type is
required of the widget (SPEC §1.2, §1.7): the origin alone decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from chatkit_proto.errors import ProtocolError

from .errors import error_response

SAFE_METHODS = frozenset({"GET", "HEAD"})
DEFAULT_PORTS = {"http": 80, "https": 443}
FORBIDDEN = (
    "This server does not accept requests from the page's origin. "
    "List it in --cors-origins (CORS_ORIGINS) to allow it."
)


class OriginCheck:
    """Pure ASGI middleware: a 403 JSON error, and nothing done, for an origin not allowed.

    Allowed: no `Origin` header (not a browser's cross-site request), the origin of the
    `Host` the request came to, an origin in `allowed`, or any origin if `allowed` has `*`.
    GET and HEAD pass: they change nothing (downloads are guarded by their signed URLs).
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str] = ()) -> None:
        self.app = app
        listed = tuple(allowed)
        self.any_origin = "*" in listed
        self.allowed = frozenset(filter(None, (_origin(o) for o in listed)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse the request, or pass it on untouched."""
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or self.allows(scope):
            await self.app(scope, receive, send)
            return
        response = error_response(ProtocolError("forbidden", FORBIDDEN))
        await response(scope, receive, send)

    def allows(self, scope: Scope) -> bool:
        """Whether every `Origin` of the request is allowed."""
        origins = [value for name, value in scope["headers"] if name == b"origin"]
        if not origins or self.any_origin:
            return True
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        return all(self._allowed(o.decode("latin-1"), hosts) for o in origins)

    def _allowed(self, origin: str, hosts: list[bytes]) -> bool:
        normal = _origin(origin)
        if normal is None:
            return False
        if normal in self.allowed:
            return True
        scheme = normal.partition("://")[0]
        return len(hosts) == 1 and _origin(f"{scheme}://{hosts[0].decode('latin-1')}") == normal


def _origin(text: str) -> str | None:
    """`scheme://host[:port]`, lower-cased, without a default port; None if not an origin."""
    try:
        parts = urlsplit(text.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host or parts.path or parts.query or parts.username:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
