"""Widget diffing (SPEC §10.2): the updates that turn one streamed widget state into the next."""

from __future__ import annotations

from typing import Any

from .updates import ThreadItemUpdate, WidgetRootUpdated, WidgetStreamingTextValueDelta
from .widgets import WidgetRoot

_STREAMING_TEXT_TYPES = frozenset({"Text", "Markdown"})


def diff_widgets(before: WidgetRoot, after: WidgetRoot) -> list[ThreadItemUpdate]:
    """The updates that take a client from widget state `before` to `after` (SPEC §10.2).

    Either exactly one `widget.root.updated`, or one `widget.streaming_text.value_delta` per
    `Text`/`Markdown` component with an id whose value grew (possibly none at all). Raises
    ValueError when a streaming text component's value was not appended to.
    """
    b = _wire(before)
    a = _wire(after)
    if _components_differ(b, a):
        return [WidgetRootUpdated(widget=after)]
    previous = {component["id"]: component for component in _streaming_texts(b)}
    updates: list[ThreadItemUpdate] = []
    for component in _streaming_texts(a):
        component_id = component["id"]
        # Step 1 compared ids and types position by position, so every id of `after` is in
        # `before`; a vanished id always ends in a root update instead.
        old_value: str = previous[component_id]["value"]
        new_value: str = component["value"]
        if new_value == old_value:
            continue
        if not new_value.startswith(old_value):
            raise ValueError(
                f"The value of streaming text component {component_id!r} changed from "
                f"{old_value!r} to {new_value!r}; updates must only append text"
            )
        updates.append(
            WidgetStreamingTextValueDelta(
                component_id=component_id,
                delta=new_value[len(old_value) :],
                done=not component.get("streaming", False),
            )
        )
    return updates


def _wire(widget: WidgetRoot) -> dict[str, Any]:
    # The wire form holds exactly the explicitly set props (nulls are never sent), which is
    # what the replacement check compares.
    return widget.model_dump(mode="json", by_alias=True, exclude_none=True)


def _is_streaming_text(node: dict[str, Any]) -> bool:
    return node.get("type") in _STREAMING_TEXT_TYPES and isinstance(node.get("value"), str)


def _components_differ(b: dict[str, Any], a: dict[str, Any]) -> bool:
    """Step 1: whether anything but an append to a streaming text value changed.

    `type`, `id` and `key` are compared like every other prop, and a prop set on one side
    only differs (nulls are never in the wire form). Only `children` hold components to
    recurse into: any other value, even a dict shaped like one, is compared as a whole.
    """
    if b.keys() != a.keys():
        return True
    appendable = _is_streaming_text(b) and _is_streaming_text(a)
    for prop, old in b.items():
        new = a[prop]
        if prop == "children":
            if _children_differ(old, new):
                return True
        elif prop == "value" and appendable:
            if not new.startswith(old):
                return True
        elif old != new:
            return True
    return False


def _children_differ(old: Any, new: Any) -> bool:
    """A `children` list compared child by child, or a single child (Transition)."""
    if isinstance(old, list) and isinstance(new, list):
        return len(old) != len(new) or any(map(_child_differs, old, new))
    return _child_differs(old, new)


def _child_differs(old: Any, new: Any) -> bool:
    if isinstance(old, dict) and isinstance(new, dict):
        return _components_differ(old, new)
    return bool(old != new)


def _streaming_texts(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Step 2: streaming text components with an id, depth first through `children` lists."""
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if _is_streaming_text(current) and current.get("id"):
            found.append(current)
        children = current.get("children")
        if isinstance(children, list):
            stack.extend(child for child in reversed(children) if isinstance(child, dict))
    return found
