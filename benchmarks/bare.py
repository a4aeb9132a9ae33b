"""The bare stack the ChatKit server is compared with, built from the same parts.

- `stream_app`: a Starlette endpoint streaming pre-encoded SSE frames (no protocol, no agent).
- `json_app`: a Starlette endpoint answering a pre-encoded JSON body.
- `runner_stream_app`: a Starlette endpoint that runs the Agents SDK Runner over the same model
  script and sends one pre-encoded frame per Runner event (Starlette + Runner, nothing else).
- `consume_bare_runner`: the Runner alone, in-process, consuming a script turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from agents import Agent, RunConfig, Runner
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from agents_layer.model_script import ModelScript
from agents_layer.scripted_model import ScriptedModel

SSE = "text/event-stream"
RUNNER_FRAME = b'data: {"type":"thread.item.updated","item_id":"msg_1","update":{}}\n\n'


def bare_agent() -> Agent[None]:
    """An agent with no tools: the Runner's own per-event cost only."""
    return Agent(name="Assistant", instructions="You are a helpful task assistant.")


async def consume_bare_runner(model: ScriptedModel, agent: Agent[None]) -> int:
    """Run one turn through `Runner.run_streamed`, reading every event; return the count."""
    result = Runner.run_streamed(
        agent, "hi", run_config=RunConfig(model=model, tracing_disabled=True)
    )
    count = 0
    async for _event in result.stream_events():
        count += 1
    return count


def stream_app(frames: list[bytes], delay: float = 0.0) -> Starlette:
    """POST /stream answers the given frames, sleeping `delay` before each when positive."""

    async def body() -> AsyncIterator[bytes]:
        for frame in frames:
            if delay:
                await asyncio.sleep(delay)
            yield frame

    async def endpoint(request: Request) -> Response:
        await request.body()
        return StreamingResponse(body(), media_type=SSE)

    return Starlette(routes=[Route("/stream", endpoint, methods=["POST"])])


def json_app(bodies: dict[str, bytes]) -> Starlette:
    """POST /json/{name} answers the pre-encoded body of that name."""

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(bodies[request.path_params["name"]], media_type="application/json")

    return Starlette(routes=[Route("/json/{name}", endpoint, methods=["POST"])])


def runner_stream_app(script: ModelScript) -> Starlette:
    """POST /stream runs the Runner over the next script turn, one frame per Runner event."""
    model = ScriptedModel(script)
    agent = bare_agent()

    async def body() -> AsyncIterator[bytes]:
        result = Runner.run_streamed(
            agent, "hi", run_config=RunConfig(model=model, tracing_disabled=True)
        )
        async for _event in result.stream_events():
            yield RUNNER_FRAME

    async def endpoint(request: Request) -> Response:
        await request.body()
        return StreamingResponse(body(), media_type=SSE)

    return Starlette(routes=[Route("/stream", endpoint, methods=["POST"])])
