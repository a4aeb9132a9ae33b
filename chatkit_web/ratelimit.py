"""A per-user token bucket (D7): bursts allowed, a steady rate enforced, in this process."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from chatkit_proto.errors import ProtocolError


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows `rate` requests per `per` seconds per user, with bursts up to `burst`."""

    def __init__(
        self,
        rate: float,
        per: float = 60.0,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refill = rate / per
        self.capacity = float(burst if burst is not None else max(1, math.ceil(rate)))
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def check(self, user_id: str) -> None:
        """Take one token for the user, or raise `rate_limited` with a Retry-After."""
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.updated) * self.refill)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = math.ceil((1 - bucket.tokens) / self.refill)
        raise ProtocolError(
            "rate_limited", "Too many requests. Try again in a moment.", retry_after=wait
        )


def parse_rate(spec: str) -> RateLimiter | None:
    """`60/min`, `5/s`, `1000/hour`, or empty/`0` for no limit."""
    if not spec or spec == "0":
        return None
    count, _, unit = spec.partition("/")
    seconds = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
    if unit not in seconds or not count.replace(".", "", 1).isdigit():
        raise ValueError(f"a rate limit looks like 60/min (units s, min, hour), not {spec!r}")
    return RateLimiter(float(count), seconds[unit])
