"""An in-memory index of rows ordered by (created_at, insertion sequence), with cursors."""

from __future__ import annotations

import bisect
import itertools
from datetime import datetime
from typing import Generic, TypeVar

from ..threads import Order, Page
from .base import NotFoundError

V = TypeVar("V")
_sequence = itertools.count()

Key = tuple[datetime, int]


class OrderedRows(Generic[V]):
    """Rows keyed by id, kept sorted by creation time; ties keep insertion order."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Key, V]] = {}
        self._keys: list[tuple[Key, str]] = []

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, row_id: str) -> V | None:
        """The row with that id, if any."""
        row = self._rows.get(row_id)
        return row[1] if row else None

    def upsert(self, row_id: str, created_at: datetime, value: V) -> None:
        """Insert a row, or replace an existing one's value keeping its position."""
        existing = self._rows.get(row_id)
        if existing is not None:
            self._rows[row_id] = (existing[0], value)
            return
        key = (created_at, next(_sequence))
        self._rows[row_id] = (key, value)
        bisect.insort(self._keys, (key, row_id))

    def delete(self, row_id: str) -> None:
        """Remove a row if present."""
        row = self._rows.pop(row_id, None)
        if row is None:
            return
        index = bisect.bisect_left(self._keys, (row[0], row_id))
        del self._keys[index]

    def page(self, limit: int, after: str | None, order: Order) -> Page[V]:
        """Up to `limit` rows strictly after the `after` row, in `order`."""
        keys = self._keys
        if order == "asc":
            start = 0
            if after is not None:
                start = bisect.bisect_right(keys, (self._key_of(after), after))
            chosen = keys[start : start + limit]
            has_more = start + limit < len(keys)
        else:
            end = len(keys)
            if after is not None:
                end = bisect.bisect_left(keys, (self._key_of(after), after))
            begin = max(0, end - limit)
            chosen = keys[begin:end][::-1]
            has_more = begin > 0
        data = [self._rows[row_id][1] for _, row_id in chosen]
        last = chosen[-1][1] if has_more and chosen else None
        return Page(data=data, has_more=has_more, after=last)

    def _key_of(self, row_id: str) -> Key:
        row = self._rows.get(row_id)
        if row is None:
            raise NotFoundError("cursor", row_id)
        return row[0]
