"""Actions: what a widget or the host page dispatches, and how a widget configures one."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import JSONValue, ProtoModel

ActionHandler = Literal["server", "client"]
LoadingBehavior = Literal["auto", "none", "self", "container"]


class Action(ProtoModel):
    """An action as a request carries it (SPEC §3.10): an app-defined name and its payload."""

    type: str
    payload: JSONValue = None


class ActionConfig(ProtoModel):
    """An action bound to a widget prop (SPEC §13.4); defaults are always written out."""

    type: str
    payload: JSONValue = None
    handler: ActionHandler = "server"
    loading_behavior: LoadingBehavior = Field(default="auto", alias="loadingBehavior")
    streaming: bool = True
