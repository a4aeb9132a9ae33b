"""Hypothesis strategies for the protocol's wire models (install the `testing` extra).

`chatkit_proto.testing.strategies` has one strategy per request, event, item, update and
widget; `register_strategies()` makes `st.from_type` draw them for every model class, so
`st.from_type(ThreadStreamEvent)` yields any stream event.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from ..events import TextDelta, ThreadStreamEvent
from ..items import ThreadItem
from ..requests import ChatKitReq
from ..updates import ThreadItemUpdate
from . import strategies

__all__ = ["register_strategies", "strategies"]

_UNIONS: tuple[tuple[Any, Mapping[str, SearchStrategy[Any]]], ...] = (
    (ThreadStreamEvent, strategies.EVENTS),
    (ThreadItem, strategies.ITEMS),
    (ChatKitReq, strategies.REQUESTS),
    (ThreadItemUpdate, strategies.UPDATES),
)


def register_strategies() -> None:
    """Let `st.from_type` draw every request, event, item and update class from our strategies."""
    for union, by_type in _UNIONS:
        for model in _members(union):
            st.register_type_strategy(model, by_type[model.model_fields["type"].default])
    st.register_type_strategy(TextDelta, strategies.text_deltas)


def _members(union: Any) -> Iterator[Any]:
    """The model classes of a (possibly `Annotated`, possibly nested) union."""
    args = typing.get_args(union)
    if not args:
        yield union
        return
    if typing.get_origin(union) is typing.Annotated:
        yield from _members(args[0])
        return
    for arg in args:
        yield from _members(arg)
