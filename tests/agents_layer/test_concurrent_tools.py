"""Tool calls the Agents SDK runs concurrently keep their events together (SPEC §16).

A tool's `stream()` never suspends the tool as long as the adapter has nothing left to map,
so each call's progress updates, widget events and client effects stay together, in the
order the calls started; only a tool that itself awaits something that suspends (here real
loopback I/O) lets another call's events in between its own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from agents import Agent, RunConfig, RunContextWrapper, Runner, function_tool

from agents_layer.adapter import stream_agent_response
from agents_layer.context import AgentContext
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from chatkit_proto.base import utc_now
from chatkit_proto.codec import encode_event
from chatkit_proto.context import RequestContext
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.threads import ThreadMetadata
from chatkit_proto.widgets import Card, Markdown, Text

ANSWER = [
    "thread.item.added:assistant_message",
    "assistant_message.content_part.added",
    "assistant_message.content_part.text_delta",
    "assistant_message.content_part.done",
    "thread.item.done:assistant_message",
]


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    return {"type": "function_call", "name": tool, "arguments": arguments}


def model(*calls: dict[str, Any]) -> ScriptedModel:
    """One response with a message and the given calls, then a closing message."""
    first = {"output": [{"type": "message", "text": ["On it."]}, *calls]}
    last = {"output": [{"type": "message", "text": ["Done."]}]}
    return ScriptedModel(parse_script({"turns": [first, last]}))


async def run(
    scripted: ScriptedModel,
    tools: Sequence[Any],
    on_event: Any = None,
) -> list[dict[str, Any]]:
    """Stream one response; `on_event` sees each event as the client receives it."""
    store = MemoryStore()
    request = RequestContext(user_id="tester")
    thread = ThreadMetadata(id="thr_concurrent", created_at=utc_now())
    await store.save_thread(thread, request)
    context = AgentContext(thread, store, request, newest_items=[])
    agent = Agent[AgentContext](name="Assistant", tools=list(tools))
    result = Runner.run_streamed(
        agent, "hi", context=context, run_config=RunConfig(model=scripted, tracing_disabled=True)
    )
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(10), aclosing(stream_agent_response(context, result)) as events:
        async for event in events:
            seen.append(json.loads(encode_event(event).removeprefix(b"data: ")))
            if on_event is not None:
                on_event(seen[-1])
    return seen


def tool_outputs(scripted: ScriptedModel) -> list[Any]:
    """What the tools returned, as the second model call received it."""
    items: list[Any] = list(scripted.calls[1].input)
    return [
        i["output"]
        for i in items
        if isinstance(i, dict) and i.get("type") == "function_call_output"
    ]


def label(event: dict[str, Any]) -> str:
    """The event's kind, with the item type of item events."""
    if event["type"] == "thread.item.updated":
        return str(event["update"]["type"])
    if "item" in event:
        return f"{event['type']}:{event['item']['type']}"
    return str(event["type"])


def tool_events(events: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The events between the two answers, each with the tool call that sent it."""
    assert [label(e) for e in events[:5]] == ANSWER
    assert [label(e) for e in events[-5:]] == ANSWER
    widgets: dict[str, str] = {}
    out = []
    for event in events[5:-5]:
        out.append((label(event), _owner(event, widgets)))
    return out


def _owner(event: dict[str, Any], widgets: dict[str, str]) -> str:
    """Which call sent the event: its name is in every progress text, effect and widget."""
    if event["type"] == "progress_update":
        return str(event["text"]).split(":")[0]
    if event["type"] == "client_effect":
        return str(event["data"]["call"])
    if "item" in event:
        widgets[event["item"]["id"]] = event["item"]["copy_text"]
        return widgets[event["item"]["id"]]
    return widgets[event["item_id"]]


# --- Tools: each names its call in everything it sends --------------------------------------


@function_tool
async def report(ctx: RunContextWrapper[AgentContext], name: str) -> str:
    """Progress, a static widget, a second progress line and a client effect."""
    await ctx.context.progress(f"{name}: looking")
    await ctx.context.stream_widget(Card(children=[Text(value=name)]), copy_text=name)
    await ctx.context.progress(f"{name}: found")
    await ctx.context.client_effect("report.done", {"call": name})
    return f"{name} reported"


@function_tool
async def draft(ctx: RunContextWrapper[AgentContext], name: str) -> str:
    """A widget streamed from states, then a client effect."""

    async def states() -> AsyncIterator[Card]:
        for text, streaming in (
            ("", True),
            ("Dear", True),
            ("Dear you", True),
            ("Dear you", False),
        ):
            yield Card(children=[Markdown(id="body", value=text, streaming=streaming)])

    await ctx.context.stream_widget(states(), copy_text=name)
    await ctx.context.client_effect("draft.done", {"call": name})
    return f"{name} drafted"


@function_tool
async def refresh(ctx: RunContextWrapper[AgentContext], name: str) -> str:
    """A progress line and a client effect."""
    await ctx.context.progress(f"{name}: refreshing", icon="reload")
    await ctx.context.client_effect("board.refresh", {"call": name})
    return f"{name} refreshed"


REPORT = [
    ("progress_update", "{}"),
    ("thread.item.done:widget", "{}"),
    ("progress_update", "{}"),
    ("client_effect", "{}"),
]
DRAFT = [
    ("thread.item.added:widget", "{}"),
    ("widget.streaming_text.value_delta", "{}"),
    ("widget.streaming_text.value_delta", "{}"),
    ("widget.root.updated", "{}"),
    ("thread.item.done:widget", "{}"),
    ("client_effect", "{}"),
]
REFRESH = [("progress_update", "{}"), ("client_effect", "{}")]


def expect(pattern: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    return [(kind, owner.format(name)) for kind, owner in pattern]


async def test_two_concurrent_calls_keep_their_events_together_in_call_order() -> None:
    events = await run(model(call("report", name="a"), call("report", name="b")), [report])
    assert tool_events(events) == expect(REPORT, "a") + expect(REPORT, "b")


async def test_three_concurrent_calls_mixing_widgets_progress_and_effects() -> None:
    scripted = model(call("draft", name="a"), call("refresh", name="b"), call("report", name="c"))
    events = await run(scripted, [report, draft, refresh])
    assert tool_events(events) == expect(DRAFT, "a") + expect(REFRESH, "b") + expect(REPORT, "c")
    # The SDK really ran them as one step: all three results reach the second model call.
    assert tool_outputs(scripted) == ["a drafted", "b refreshed", "c reported"]


async def test_a_call_awaiting_real_io_lets_the_other_calls_in_between() -> None:
    """Between its two events the call waits on a loopback socket, answered only once the
    client has the other calls' events: those land in between, each still in one piece."""
    answered = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        await answered.wait()
        writer.write(request.upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]

    @function_tool
    async def fetch(ctx: RunContextWrapper[AgentContext], name: str) -> str:
        """Progress, a network round trip, then the result as a widget."""
        await ctx.context.progress(f"{name}: fetching")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"result\n")
        reply = (await reader.readline()).decode().strip()
        writer.close()
        await writer.wait_closed()
        await ctx.context.stream_widget(Card(children=[Text(value=reply)]), copy_text=name)
        return reply

    def on_event(event: dict[str, Any]) -> None:
        if event["type"] == "client_effect" and event["data"]["call"] == "c":
            answered.set()

    async with server:
        scripted = model(
            call("fetch", name="a"), call("report", name="b"), call("refresh", name="c")
        )
        events = await run(scripted, [fetch, report, refresh], on_event)
    assert tool_events(events) == [
        ("progress_update", "a"),
        *expect(REPORT, "b"),
        *expect(REFRESH, "c"),
        ("thread.item.done:widget", "a"),
    ]
    widget = next(
        e for e in events if label(e) == "thread.item.done:widget" and e["item"]["copy_text"] == "a"
    )
    assert widget["item"]["widget"]["children"][0]["value"] == "RESULT"
