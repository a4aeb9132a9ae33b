"""Message content: what users send and what the assistant answers (SPEC §3.4, §3.5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .base import JSONObject, ProtoModel
from .sources import Annotation


class UserMessageTextContent(ProtoModel):
    """Plain text typed by the user."""

    type: Literal["input_text"] = "input_text"
    text: str


class UserMessageTagContent(ProtoModel):
    """An @-mention of an integration entity; `data` is proxied from the client untouched."""

    type: Literal["input_tag"] = "input_tag"
    id: str
    text: str
    data: JSONObject
    group: str | None = None
    interactive: bool = False


UserMessageContent = Annotated[
    UserMessageTextContent | UserMessageTagContent, Field(discriminator="type")
]


class ToolChoice(ProtoModel):
    """The composer tool the user picked."""

    id: str


class InferenceOptions(ProtoModel):
    """The composer tool and model the user picked; both optional."""

    tool_choice: ToolChoice | None = None
    model: str | None = None


class UserMessageInput(ProtoModel):
    """The `input` of `threads.create` and `threads.add_user_message`."""

    content: list[UserMessageContent]
    attachments: list[str]
    quoted_text: str | None = None
    inference_options: InferenceOptions


class AssistantMessageContent(ProtoModel):
    """One output-text part of an assistant message, rendered as Markdown."""

    annotations: list[Annotation] = Field(default_factory=list)
    text: str
    type: Literal["output_text"] = "output_text"
