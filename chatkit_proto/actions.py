"""Actions: what a widget or the host page dispatches, and how a widget configures one."""

from __future__ import annotations

from typing import Generic, Literal

from pydantic import Field
from typing_extensions import TypeVar

from .base import JSONValue, ProtoModel

ActionHandler = Literal["server", "client"]
LoadingBehavior = Literal["auto", "none", "self", "container"]


TType = TypeVar("TType", bound=str, default=str)
TPayload = TypeVar("TPayload", default=JSONValue)


class Action(ProtoModel, Generic[TType, TPayload]):
    """An action as a request carries it (SPEC §3.10): an app-defined name and its payload.

    Generic only for type checkers (`Action[Literal["todo.done"], TodoPayload]`); requests
    decode to the plain `Action`.
    """

    type: TType
    payload: TPayload = None  # type: ignore[assignment]


class ActionConfig(ProtoModel):
    """An action bound to a widget prop (SPEC §13.4); defaults are always written out."""

    type: str
    payload: JSONValue = None
    handler: ActionHandler = "server"
    loading_behavior: LoadingBehavior = Field(default="auto", alias="loadingBehavior")
    streaming: bool = True
