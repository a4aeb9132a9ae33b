"""`module:function` authenticators for the tests of `--auth`: sync, async, and broken ones.

The caller names itself in `x-user`; `banned` is refused with 403, no header with 401.
"""

from __future__ import annotations

from starlette.requests import Request

from chatkit_proto.errors import ProtocolError
from chatkit_web.auth import Identity


def identify(request: Request) -> Identity:
    """The user of `x-user`, with the tenant of `x-tenant`."""
    user = request.headers.get("x-user")
    if not user:
        raise ProtocolError("unauthorized", "Sign in first.")
    if user == "banned":
        raise ProtocolError("forbidden", "This account may not use the assistant.")
    return Identity(user, {"via": "sync", "role": "member"}, request.headers.get("x-tenant"))


async def identify_async(request: Request) -> Identity:
    """The same, as a coroutine function."""
    identity = identify(request)
    return Identity(identity.user_id, {**identity.claims, "via": "async"}, identity.tenant_id)


async def user_id_only(request: Request) -> str:
    """A plain user id is an identity too."""
    return identify(request).user_id


def broken(request: Request) -> Identity:
    """Fails in a way that must not reach the client."""
    raise RuntimeError("database password is hunter2")


def wrong_type(request: Request) -> int:
    """Returns something that is not an identity."""
    return 42


not_a_function = "identify"
