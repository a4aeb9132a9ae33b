"""The tasks app's model when no provider is configured: a few fixed commands, no network.

It is a real Agents SDK `Model`: each call streams genuine Responses events (through the
scripted model's event builders), so the Runner executes the tools and the ChatKit adapter
converts the stream exactly as it would for a hosted model.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from agents.items import TResponseInputItem
from agents.tool import Tool
from openai.types.responses import ResponseStreamEvent

from agents_layer.model_script import ScriptFunctionCall, ScriptMessage, ScriptOutputItem, Turn
from agents_layer.scripted_model import PlayedModel, iter_turn_events

OFFLINE_MODEL_NAME = "offline-tasks"

HELP_DELTAS = (
    "This server is running **offline**: no language model is configured, ",
    "so I only understand a few commands:\n\n",
    "- `add <title>` adds a task\n- `list` shows your tasks\n",
    "- `done <number>` completes a task\n- `delete <number>` removes one\n\n",
    "To chat freely, restart the server with `LLM_PROVIDER=openai` and `OPENAI_API_KEY`, ",
    "or `LLM_PROVIDER=gemini` and `GEMINI_API_KEY`.",
)

_NUMBERED = re.compile(r"^(done|complete|delete|remove)\s+#?(\d+)\s*$", re.IGNORECASE)
_ADD = re.compile(r"^add\s+(.+)$", re.IGNORECASE | re.DOTALL)
_LIST = re.compile(r"^(list|ls|show)(\s+tasks)?\s*$", re.IGNORECASE)


def _text_of(content: object) -> str:
    """The text of a message's content, whether a string or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        parts = [part.get("text", "") for part in content if isinstance(part, Mapping)]
        return "".join(part for part in parts if isinstance(part, str))
    return ""


def _latest_exchange(items: Sequence[Any]) -> tuple[str, list[str]]:
    """The newest user message's text and the outputs of tools called since it."""
    text = ""
    outputs: list[str] = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        if item.get("role") == "user":
            text, outputs = _text_of(item.get("content")).strip(), []
        elif item.get("type") == "function_call_output":
            output = item.get("output")
            outputs.append(output if isinstance(output, str) else _text_of(output))
    return text, outputs


def command_call(text: str) -> ScriptFunctionCall | None:
    """The tool call a user command asks for, or None when the text is no command."""
    if match := _ADD.match(text):
        return ScriptFunctionCall(
            type="function_call", name="add_task", arguments={"title": match[1].strip()}
        )
    if _LIST.match(text):
        return ScriptFunctionCall(type="function_call", name="list_tasks", arguments={})
    if match := _NUMBERED.match(text):
        name = "complete_task" if match[1].lower() in ("done", "complete") else "delete_task"
        return ScriptFunctionCall(
            type="function_call", name=name, arguments={"number": int(match[2])}
        )
    return None


def plan_turn(items: str | Sequence[Any]) -> Turn:
    """What the offline model answers to this input: a tool call, its summary, or help."""
    text, outputs = _latest_exchange(
        [{"role": "user", "content": items}] if isinstance(items, str) else items
    )
    output: ScriptOutputItem
    if outputs:
        output = ScriptMessage(type="message", text=[" ".join(outputs)])
    elif (call := command_call(text)) is not None:
        output = call
    else:
        output = ScriptMessage(type="message", text=list(HELP_DELTAS))
    return Turn(output=[output])


class OfflineModel(PlayedModel):
    """Understands `add`, `list`, `done N` and `delete N`; explains itself otherwise."""

    async def _play(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        tools: list[Tool],
    ) -> AsyncIterator[ResponseStreamEvent]:
        # A random turn number keeps model item ids unique across calls and server restarts.
        turn_number = secrets.randbits(48)
        for event in iter_turn_events(plan_turn(input), turn_number, model=OFFLINE_MODEL_NAME):
            # Yield to the loop between events so the consumer sees them one by one.
            await asyncio.sleep(0)
            yield event


__all__ = ["HELP_DELTAS", "OFFLINE_MODEL_NAME", "OfflineModel", "command_call", "plan_turn"]
