"""Per-user limits (D7): requests per window through `limits`, and concurrent streams.

Request counts live in a `limits` storage: in this process by default, or in Redis so that
every worker and host shares them. Open streams are counted in this process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

import orjson
from limits import (
    RateLimitItem,
    RateLimitItemPerDay,
    RateLimitItemPerHour,
    RateLimitItemPerMinute,
    RateLimitItemPerSecond,
)
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string

from chatkit_proto.dispatch import StreamingResult
from chatkit_proto.errors import ProtocolError
from chatkit_proto.requests import STREAMING_TYPES

if TYPE_CHECKING:
    from .config import Config

logger = logging.getLogger("chatkit.ratelimit")

Window = Literal["moving", "fixed"]
TOO_MANY = "Too many requests. Try again in a moment."
TOO_MANY_STREAMS = "Too many answers are running at once. Wait for one to finish."

_UNITS: dict[str, type[RateLimitItem]] = {
    "s": RateLimitItemPerSecond,
    "sec": RateLimitItemPerSecond,
    "second": RateLimitItemPerSecond,
    "min": RateLimitItemPerMinute,
    "minute": RateLimitItemPerMinute,
    "h": RateLimitItemPerHour,
    "hour": RateLimitItemPerHour,
    "day": RateLimitItemPerDay,
}
# Schemes whose client library is a dependency (`limits[redis]`); others need extra packages.
STORAGE_SCHEMES = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")
STREAM_RETRY_SECONDS = 1


def parse_rate(spec: str) -> RateLimitItem | None:
    """`60/min`, `5/s`, `1000/hour`, `10000/day`, or empty/`0` for no limit."""
    if not spec or spec == "0":
        return None
    count, _, unit = spec.strip().partition("/")
    if unit not in _UNITS or not count.isdigit() or int(count) < 1:
        raise ValueError(
            f"a rate limit looks like 60/min: a whole number per s, min, hour or day, not {spec!r}"
        )
    return _UNITS[unit](int(count), namespace="chatkit")


def check_storage_uri(uri: str) -> str:
    """The URI if its scheme is a storage this server can use; else `ValueError`."""
    scheme = uri.partition("://")[0].removeprefix("async+")
    if "://" not in uri or scheme not in STORAGE_SCHEMES:
        raise ValueError("the rate-limit storage is memory:// or redis://HOST:PORT (or rediss://)")
    return uri


def open_storage(uri: str) -> Storage:
    """The asyncio `limits` storage for a URI such as `memory://` or `redis://host:6379`."""
    scheme = uri.partition("://")[0].removeprefix("async+")
    target = uri if uri.startswith("async+") else f"async+{uri}"
    # `limits` defaults to the coredis client; the dependency installed is redis-py.
    options = {} if scheme == "memory" else {"implementation": "redispy"}
    storage = storage_from_string(target, wrap_exceptions=True, **options)
    assert isinstance(storage, Storage)
    return storage


class RequestLimiter:
    """At most `item` requests per user per window, counted in a `limits` storage."""

    def __init__(self, item: RateLimitItem, storage: Storage, window: Window = "moving") -> None:
        self.item = item
        strategy = MovingWindowRateLimiter if window == "moving" else FixedWindowRateLimiter
        self._limiter = strategy(storage)

    async def check(self, user_id: str) -> None:
        """Count one request of the user, or raise `rate_limited` with a Retry-After."""
        try:
            if await self._limiter.hit(self.item, user_id):
                return
            stats = await self._limiter.get_window_stats(self.item, user_id)
        except StorageError as exc:
            # A limiter outage must not become a chat outage: allow, and say so.
            cause = type(exc.storage_error).__name__
            logger.warning("rate-limit storage unavailable (%s); request allowed", cause)
            return
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise ProtocolError("rate_limited", TOO_MANY, retry_after=wait)


class StreamSlots:
    """At most `per_user` open streams per user in this process; idle users take no memory."""

    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._open: dict[str, int] = {}

    def claim(self, user_id: str) -> None:
        """Take a slot for a new stream, or raise `rate_limited`."""
        count = self._open.get(user_id, 0)
        if count >= self.per_user:
            raise ProtocolError("rate_limited", TOO_MANY_STREAMS, retry_after=STREAM_RETRY_SECONDS)
        self._open[user_id] = count + 1

    def release(self, user_id: str) -> None:
        """Give a slot back; a user with no open stream is forgotten."""
        count = self._open.get(user_id, 0) - 1
        if count > 0:
            self._open[user_id] = count
        else:
            self._open.pop(user_id, None)

    def open_streams(self, user_id: str) -> int:
        """How many streams the user has open now."""
        return self._open.get(user_id, 0)


class StreamSlot:
    """One claimed slot (or none, when `slots` is None); released once, however it ends."""

    def __init__(self, slots: StreamSlots | None, user_id: str) -> None:
        self._slots = slots
        self._user_id = user_id

    def release(self) -> None:
        """Give the slot back (again: nothing)."""
        if self._slots is not None:
            self._slots.release(self._user_id)
            self._slots = None

    def holding(self, result: StreamingResult) -> StreamingResult:
        """The stream, with the slot released when its frames end."""
        if self._slots is None:
            return result
        return replace(result, frames=self._held(result.frames))

    async def _held(self, frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        try:
            async for frame in frames:
                yield frame
        finally:
            self.release()
            # Close the inner stream now, not when it is collected: it holds the thread lease.
            close = getattr(frames, "aclose", None)
            if close is not None:
                await close()


class UserLimits:
    """Every per-user limit of the server; each is off when not configured."""

    def __init__(
        self, requests: RequestLimiter | None = None, streams: StreamSlots | None = None
    ) -> None:
        self.requests = requests
        self.streams = streams

    async def check_request(self, user_id: str) -> None:
        """Count a request against the user's rate limit."""
        if self.requests is not None:
            await self.requests.check(user_id)

    def claim_stream(self, user_id: str, body: bytes) -> StreamSlot:
        """A stream slot if `body` is a streaming request (else an empty one); may raise 429."""
        if self.streams is None or _request_type(body) not in STREAMING_TYPES:
            return StreamSlot(None, user_id)
        self.streams.claim(user_id)
        return StreamSlot(self.streams, user_id)


def limits_from_config(config: Config) -> UserLimits:
    """The limits a configuration asks for (`--rate-limit`, `--max-streams-per-user`)."""
    item = parse_rate(config.rate_limit)
    requests = None
    if item is not None:
        storage = open_storage(config.rate_limit_storage.get_secret_value())
        requests = RequestLimiter(item, storage, config.rate_limit_window)
    streams = StreamSlots(config.max_streams_per_user) if config.max_streams_per_user else None
    return UserLimits(requests, streams)


def _request_type(body: bytes) -> str | None:
    # Read before the protocol server decodes the body, so a refused stream saves nothing.
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    kind = value.get("type") if isinstance(value, dict) else None
    return kind if isinstance(kind, str) else None
