"""JSON Schema (draft 2020-12) of the wire protocol: every request and every stream event.

`build_schema()` makes one document (`python -m chatkit_conformance.schema` writes it) whose `$defs` hold
`ChatKitReq` (the 16 request bodies, as a client may send them: validation mode),
`ThreadStreamEvent` (the 12 SSE event objects, as the server writes them: serialization
mode), the item, update and widget unions, and every JSON response body. The document
itself accepts any request body or stream event.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import TypeAdapter

from .attachments import Attachment
from .errors import ErrorBody
from .events import ThreadStreamEvent
from .items import ThreadItem
from .requests import ChatKitReq
from .responses import SyncCustomActionResponse, TranscriptionResult
from .threads import Page, Thread
from .updates import ThreadItemUpdate
from .widgets import COMPONENT_TYPES, PARENT_ONLY_TYPES, WidgetComponent, WidgetRoot

__all__ = ["DIALECT", "build_schema", "render"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:chatkit-proto:protocol"

_Mode = Literal["validation", "serialization"]
_REF = "#/$defs/{model}"

# (name in $defs, mode, type). Requests are read (validation); everything else is written.
_ENTRIES: tuple[tuple[str, _Mode, Any], ...] = (
    ("ChatKitReq", "validation", ChatKitReq),
    ("ThreadStreamEvent", "serialization", ThreadStreamEvent),
    ("ThreadItem", "serialization", ThreadItem),
    ("ThreadItemUpdate", "serialization", ThreadItemUpdate),
    ("WidgetRoot", "serialization", WidgetRoot),
    ("WidgetComponent", "serialization", WidgetComponent),
    ("Thread", "serialization", Thread),
    ("Page_Thread", "serialization", Page[Thread]),
    ("Page_ThreadItem", "serialization", Page[ThreadItem]),
    ("Attachment", "serialization", Attachment),
    ("TranscriptionResult", "serialization", TranscriptionResult),
    ("SyncCustomActionResponse", "serialization", SyncCustomActionResponse),
    ("ErrorBody", "serialization", ErrorBody),
)

_DYNAMIC = "DynamicComponent"


def build_schema() -> dict[str, Any]:
    """The whole protocol as one JSON Schema document."""
    inputs = [(name, mode, TypeAdapter(tp)) for name, mode, tp in _ENTRIES]
    top, definitions = TypeAdapter.json_schemas(inputs, by_alias=True, ref_template=_REF)
    defs: dict[str, Any] = dict(definitions.get("$defs", {}))

    # Generic pages get pydantic's long parametrised names; name them after their rows.
    renames: dict[str, str] = {}
    for name, mode, _ in _ENTRIES:
        schema = top[(name, mode)]
        ref = schema.get("$ref", "") if set(schema) == {"$ref"} else ""
        target = ref.removeprefix("#/$defs/")
        if target == name:
            continue
        if target and target != name and target.startswith("Page_"):
            renames[target] = name
            continue
        defs[name] = schema
    for old, new in renames.items():
        defs[new] = defs.pop(old)
        defs[new]["title"] = new
    document = _rename_refs(defs, renames)

    _admit_dynamic_components(document)
    return {
        "$schema": DIALECT,
        "$id": SCHEMA_ID,
        "title": "ChatKit server protocol",
        "description": (
            "Any request body a client POSTs (ChatKitReq) or any stream event the server "
            "sends as one SSE `data:` line (ThreadStreamEvent). Null model fields are never "
            "sent (SPEC §2.2); timestamps are ISO-8601 in UTC with `Z` (DEVIATIONS D13)."
        ),
        "anyOf": [
            {"$ref": _REF.format(model="ChatKitReq")},
            {"$ref": _REF.format(model="ThreadStreamEvent")},
        ],
        "$defs": dict(sorted(document.items())),
    }


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    """Rewrite `$ref`s to renamed definitions, everywhere in a schema tree."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                target = value.removeprefix("#/$defs/")
                value = _REF.format(model=renames.get(target, target))
            out[key] = _rename_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rename_refs(value, renames) for value in node]
    return node


def _admit_dynamic_components(defs: dict[str, Any]) -> None:
    """Make the widget unions say what their Python dispatcher does.

    A component whose `type` is a modelled component type validates only as that class;
    a ListViewItem only in `ListView.children` (PARENT_ONLY_TYPES); any other `type` (root
    names included) is a pass-through DynamicComponent. A `Basic`
    child may be a root *or* a pass-through component, so unions holding DynamicComponent
    use `anyOf` rather than `oneOf`.
    """
    dynamic = defs.get(_DYNAMIC)
    if dynamic is not None:
        dynamic["properties"]["type"] = {
            "title": "Type",
            "type": "string",
            "not": {"enum": sorted(COMPONENT_TYPES | PARENT_ONLY_TYPES)},
        }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            choices = node.get("oneOf")
            if isinstance(choices, list) and {"$ref": _REF.format(model=_DYNAMIC)} in choices:
                node["anyOf"] = node.pop("oneOf")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(defs)


def render(schema: dict[str, Any]) -> str:
    """The document as indented JSON text with a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
