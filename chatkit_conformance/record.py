"""The recorder: drive a server with a request script and write what it answered as a transcript."""

from __future__ import annotations

import asyncio
import json
import platform
from contextlib import AbstractAsyncContextManager, nullcontext
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from chatkit_proto.errors import ChatKitError

from .launcher import launched_server
from .templates import TemplateError
from .transcript import Exchange, RequestScript, ScriptExchange, Transcript, load_request_script
from .wire import Step, perform

DEFAULT_ENDPOINT = "/chatkit"
DEFAULT_TIMEOUT = 30.0
_VERSIONED = (
    "chatkit-backend",
    "openai-agents",
    "openai",
    "pydantic",
    "starlette",
    "uvicorn",
    "httpx",
)


class RecordError(ChatKitError):
    """An exchange that could not be performed, so the scenario cannot be recorded."""

    code = "conformance.record_failed"


def record_transcript(
    script: RequestScript | str | Path,
    *,
    url: str | None = None,
    server_cmd: str | None = None,
    model_script: dict[str, Any] | str | Path | None = None,
    endpoint: str = DEFAULT_ENDPOINT,
    timeout: float = DEFAULT_TIMEOUT,
) -> Transcript:
    """Record a request script against `url`, or against a fresh `server_cmd` server."""
    return asyncio.run(
        record(
            script,
            url=url,
            server_cmd=server_cmd,
            model_script=model_script,
            endpoint=endpoint,
            timeout=timeout,
        )
    )


async def record(
    script: RequestScript | str | Path,
    *,
    url: str | None = None,
    server_cmd: str | None = None,
    model_script: dict[str, Any] | str | Path | None = None,
    endpoint: str = DEFAULT_ENDPOINT,
    timeout: float = DEFAULT_TIMEOUT,
) -> Transcript:
    """The async form of `record_transcript`."""
    if (url is None) == (server_cmd is None):
        raise ValueError("give exactly one of url and server_cmd")
    requests = script if isinstance(script, RequestScript) else load_request_script(script)
    turns = _model_script(model_script) if model_script is not None else requests.script
    server: AbstractAsyncContextManager[str] = (
        launched_server(server_cmd, turns, endpoint=endpoint)
        if server_cmd is not None
        else nullcontext(url or "")
    )
    exchanges: list[Exchange] = []
    async with server as target, httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
        variables: dict[str, Any] = {}
        streamed = False
        for index, request in enumerate(requests.exchanges):
            try:
                step = await perform(http, target, request, variables)
            except (TemplateError, httpx.HTTPError) as exc:
                raise RecordError(f"exchange {index} ({request.note}): {exc}") from exc
            exchanges.append(_exchange(request, step, with_raw=not streamed))
            streamed = streamed or step.answer.is_stream
    fields: dict[str, Any] = {
        "format": 1,
        "scenario": requests.scenario,
        "description": requests.description,
        "sdk": versions(),
    }
    if turns is not None:
        fields["script"] = turns
    if requests.normalise is not None:
        fields["normalise"] = requests.normalise
    return Transcript(**fields, exchanges=exchanges)


def versions() -> dict[str, str]:
    """Our package and the libraries it runs on, as the `sdk` field of a transcript."""
    found = {}
    for name in _VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    found["python"] = platform.python_version()
    return found


def _exchange(request: ScriptExchange, step: Step, *, with_raw: bool) -> Exchange:
    """The transcript entry of one performed exchange, fields in the reference order."""
    answer = step.answer
    fields: dict[str, Any] = {
        "note": request.note,
        "request_template": request.request_template,
        "request": step.request,
    }
    if request.request_template is None:
        fields["request_raw"] = request.request_raw
    fields.update(status=answer.status, content_type=answer.content_type, headers=answer.headers)
    if request.disconnect_after is not None:
        fields["disconnect_after"] = request.disconnect_after
        fields["client_disconnected"] = answer.client_disconnected
    if answer.events is not None:
        fields["events"] = answer.events
        if with_raw or answer.client_disconnected or answer.transport_error:
            fields["raw"] = answer.raw
    elif answer.has_response:
        fields["response"] = answer.response
    else:
        fields["response_text"] = answer.response_text
    if answer.transport_error:
        fields["transport_error"] = answer.transport_error
    if request.captures:
        fields["captures"] = request.captures
    return Exchange(**fields)


def _model_script(source: dict[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    try:
        loaded = json.loads(Path(source).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecordError(f"{source}: {exc}") from None
    if not isinstance(loaded, dict):
        raise RecordError(f"{source}: a model script is a JSON object")
    return loaded
