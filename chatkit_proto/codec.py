"""The wire codec: request bytes to typed requests, events to SSE frames, bodies to JSON."""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import ErrorDetail, InvalidRequest
from .events import TextDelta, ThreadStreamEvent
from .requests import ChatKitReq
from .sse import frame

MAX_DEPTH = 64
"""The deepest nesting of objects and arrays a request may have (the body itself is level 1).

What a request carries is stored, read back and sent again, inside envelopes a few levels
deep; the strictest decoder on that path (pydantic's JSON parser) refuses more than 200
levels and orjson's encoder more than 254, so a request accepted at 250 levels left its
thread unreadable. 64 is far beyond any real payload and far below both.
"""

_TOO_DEEP = f"Invalid request: objects and arrays nest deeper than {MAX_DEPTH} levels"

# Built once: constructing a TypeAdapter of the request union costs milliseconds.
_REQUEST_ADAPTER: TypeAdapter[ChatKitReq] = TypeAdapter(ChatKitReq)

_TEXT_DELTA_HEAD = b'data: {"type":"thread.item.updated","item_id":'
_TEXT_DELTA_MID = b',"update":{"type":"assistant_message.content_part.text_delta","content_index":'
_TEXT_DELTA_TAIL = b"}}\n\n"
_ITEM_EVENT_HEADS = {
    kind: b'data: {"type":"' + kind.encode() + b'","item":'
    for kind in ("thread.item.added", "thread.item.done", "thread.item.replaced")
}


def decode_request(body: bytes | str) -> ChatKitReq:
    """Parse and validate a request body; any problem raises `InvalidRequest`, nothing else."""
    try:
        # orjson refuses what JSON does not allow (NaN, Infinity, numbers beyond a double),
        # so no non-finite float can reach a model and later be written out as `null`.
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise InvalidRequest(_TOO_DEEP) from None
        raise InvalidRequest("Request body is not valid JSON") from None
    if not isinstance(data, dict):
        problem = "Input should be an object"
        raise InvalidRequest(f"Invalid request: {problem}", [ErrorDetail(path="", message=problem)])
    if _bracket_count(body) > MAX_DEPTH and _too_deep(data):
        raise InvalidRequest(_TOO_DEEP)
    try:
        return _REQUEST_ADAPTER.validate_python(data)
    except ValidationError as exc:
        raise _invalid_request(data, exc) from None
    except (ValueError, TypeError, RecursionError) as exc:
        # pydantic-core refuses some inputs (e.g. absurd nesting) outside of a
        # ValidationError; they are still the client's bad input.
        raise InvalidRequest(f"Invalid request body: {type(exc).__name__}") from None


def _bracket_count(body: bytes | str) -> int:
    """An upper bound of the nesting depth, counted at C speed (brackets in strings count)."""
    if isinstance(body, str):
        return body.count("[") + body.count("{")
    return body.count(b"[") + body.count(b"{")


def _too_deep(data: dict[str, Any]) -> bool:
    """Whether objects and arrays nest deeper than `MAX_DEPTH`; iterative, never recursive."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def dump_json(model: BaseModel) -> bytes:
    """Compact UTF-8 JSON of a model with every null model field left out (SPEC §2.2)."""
    return model.__pydantic_serializer__.to_json(model, by_alias=True, exclude_none=True)


def dump_plain(model: BaseModel) -> dict[str, Any]:
    """The JSON-compatible value of a model, as `dump_json` would write it."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def encode_event(event: ThreadStreamEvent | TextDelta) -> bytes:
    """One SSE frame for one stream event."""
    if type(event) is TextDelta:
        return (
            _TEXT_DELTA_HEAD
            + orjson.dumps(event.item_id)
            + _TEXT_DELTA_MID
            + str(event.content_index).encode()
            + b',"delta":'
            + orjson.dumps(event.delta)
            + _TEXT_DELTA_TAIL
        )
    head = _ITEM_EVENT_HEADS.get(event.type)
    if head is not None:
        # Serialising the item by its own class skips pydantic's union dispatch over the
        # eleven item types, a large share of the cost of a widget-sized event.
        return head + dump_json(event.item) + b"}\n\n"  # type: ignore[union-attr]
    return frame(dump_json(event))  # type: ignore[arg-type]


def encode_body(body: BaseModel | dict[str, Any]) -> bytes:
    """A JSON response body: a model, or a literal object such as `{}`."""
    if isinstance(body, BaseModel):
        return dump_json(body)
    return orjson.dumps(body)


def _invalid_request(data: Any, exc: ValidationError) -> InvalidRequest:
    details: list[ErrorDetail] = []
    for error in exc.errors(include_url=False, include_input=False):
        kind = error["type"]
        path = _path_in(data, error["loc"])
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            path = _join(path, "type")
            message = _unknown_type_message(error.get("ctx") or {})
        else:
            message = error["msg"]
        details.append(ErrorDetail(path=path, message=message))
    first = details[0]
    where = f"{first.path}: " if first.path else ""
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return InvalidRequest(f"Invalid request: {where}{first.message}{more}", details)


def _unknown_type_message(ctx: dict[str, Any]) -> str:
    tag = ctx.get("tag")
    if tag is None:
        return "Field required"
    return f"Unknown type {tag!r}"


def _path_in(data: Any, loc: tuple[int | str, ...]) -> str:
    """Render a pydantic location as a JSON path, dropping the union tags pydantic inserts."""
    path = ""
    last = len(loc) - 1
    for position, step in enumerate(loc):
        if isinstance(data, list) and isinstance(step, int):
            path += f"[{step}]"
            data = data[step] if -len(data) <= step < len(data) else None
        elif isinstance(data, dict) and position < last and _is_tag(data, step):
            continue
        elif isinstance(data, dict) and step in data:
            path = _join(path, str(step))
            data = data[step]
        else:
            path = _join(path, str(step))
            data = None
    return path


def _is_tag(data: dict[str, Any], step: int | str) -> bool:
    # pydantic locates union members by their discriminator value ("threads.create") or, in
    # untagged unions, by class name; neither is a key of the JSON the client sent.
    if not isinstance(step, str) or step in data:
        return False
    return step == data.get("type") or step[:1].isupper()


def _join(path: str, key: str) -> str:
    if not _PLAIN_KEY.fullmatch(key):
        # Keys that would read as path syntax are written as JSON strings in brackets.
        return f"{path}[{orjson.dumps(key).decode()}]"
    return f"{path}.{key}" if path else key


_PLAIN_KEY = re.compile(r"[^.\[\]\"]+")
