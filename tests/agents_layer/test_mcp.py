"""MCP servers from a config file: validation, and an agent really calling a stdio server."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from agents import Agent, RunConfig, Runner, set_tracing_disabled

from agents_layer.apps.tasks import create_app
from agents_layer.mcp import (
    HttpServerConfig,
    MCPConfigError,
    MCPServers,
    StdioServerConfig,
    build_servers,
    load_mcp_config,
    parse_mcp_config,
)
from agents_layer.model_script import parse_script
from agents_layer.scripted_model import ScriptedModel
from agents_layer.settings import AppSettings
from chatkit_proto.context import RequestContext
from chatkit_proto.server import StreamingResult
from chatkit_proto.store.memory import MemoryStore

DATA = Path(__file__).parent / "data"
ECHO_SERVER = DATA / "echo_mcp_server.py"
TOOL_TURN = {
    "output": [{"type": "function_call", "name": "echo_upper", "arguments": {"text": "hello"}}]
}
ANSWER_TURN = {"output": [{"type": "message", "text": ["Done."]}]}


@pytest.fixture(autouse=True)
def _no_tracing() -> None:
    set_tracing_disabled(True)


def _write(tmp_path: Path, config: object) -> Path:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps(config))
    return path


def test_config_reads_both_transports_and_resolves_cwd(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "servers": [
                {"name": "files", "command": "python", "args": ["srv.py"], "cwd": "tools"},
                {
                    "name": "docs",
                    "url": "http://127.0.0.1:9000/mcp",
                    "headers": {"Authorization": "Bearer s3cret"},
                },
            ]
        },
    )
    files, docs = load_mcp_config(path).servers
    assert isinstance(files, StdioServerConfig)
    assert files.cwd == tmp_path.resolve() / "tools"
    assert isinstance(docs, HttpServerConfig)
    assert "s3cret" not in repr(docs)
    stdio, http = build_servers(load_mcp_config(path))
    assert (stdio.name, http.name) == ("files", "docs")


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        (
            {"servers": [{"name": "a", "command": "x", "envv": {}}]},
            "$.servers[0].envv: unknown key",
        ),
        ({"servers": [], "extra": 1}, "$.extra: unknown key"),
        (
            {"servers": [{"name": "a"}]},
            '$.servers[0]: a server needs "command" (stdio) or "url" (streamable HTTP)',
        ),
        ({"servers": [{"command": "x"}]}, "$.servers[0].name: missing required key"),
        (
            {"servers": [{"name": "a", "url": "ftp://host"}]},
            "$.servers[0].url: String should match pattern",
        ),
        (
            {"servers": [{"name": "a", "command": "x"}, {"name": "a", "url": "http://h/"}]},
            "server names must be unique; repeated: a",
        ),
    ],
)
def test_invalid_config_names_file_and_json_path(
    tmp_path: Path, config: object, problem: str
) -> None:
    path = _write(tmp_path, config)
    with pytest.raises(MCPConfigError) as caught:
        load_mcp_config(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_invalid_config_never_echoes_secret_values() -> None:
    config = {"servers": [{"name": "a", "command": "x", "env": {"TOKEN": ["s3cret"]}}]}
    with pytest.raises(MCPConfigError) as caught:
        parse_mcp_config(config)
    assert "$.servers[0].env.TOKEN" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(MCPConfigError, match="cannot read the file"):
        load_mcp_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"servers": [')
    with pytest.raises(MCPConfigError, match=r"not valid JSON \(line 1"):
        load_mcp_config(broken)


async def test_agent_calls_a_stdio_mcp_server(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "servers": [
                {
                    "name": "echo",
                    "command": sys.executable,
                    "args": [str(ECHO_SERVER)],
                    "env": {"ECHO_TAG": "mcp:"},
                }
            ]
        },
    )
    model = ScriptedModel(parse_script({"turns": [TOOL_TURN, ANSWER_TURN]}))
    async with MCPServers.from_config(load_mcp_config(path)) as servers:
        agent = Agent(name="Echo", instructions="Echo.", mcp_servers=await servers.active())
        result = Runner.run_streamed(agent, "shout hello", run_config=RunConfig(model=model))
        _ = [event async for event in result.stream_events()]
        # A second use reuses the connected server instead of starting another.
        assert await servers.active() == agent.mcp_servers
    assert result.final_output == "Done."
    first, second = model.calls
    assert "echo_upper" in first.tools
    outputs = [
        item
        for item in second.input
        if isinstance(item, dict) and item.get("type") == "function_call_output"
    ]
    assert len(outputs) == 1
    assert "mcp:HELLO" in json.dumps(outputs[0]["output"])


async def test_a_server_that_cannot_start_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ghost = {"name": "ghost", "command": str(tmp_path / "no-such-program")}
    config = parse_mcp_config({"servers": [{**ghost, "env": {"TOKEN": "s3cret"}}]})
    servers = MCPServers.from_config(config)
    assert servers.names == ["ghost"]
    with caplog.at_level(logging.DEBUG):
        assert await servers.active() == []
        await servers.aclose()
    assert "ghost could not connect" in caplog.text
    assert "s3cret" not in caplog.text


async def test_tasks_app_gives_its_agent_the_configured_servers(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        {"servers": [{"name": "echo", "command": sys.executable, "args": [str(ECHO_SERVER)]}]},
    )
    script = tmp_path / "script.json"
    script.write_text(json.dumps({"turns": [TOOL_TURN, ANSWER_TURN]}))
    settings = AppSettings(
        store=MemoryStore(), data_dir=tmp_path, model_script=script, mcp_config=config
    )
    app = create_app(settings)
    assert isinstance(app.model, ScriptedModel) and app.mcp is not None
    server = app
    request = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "shout hello"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    try:
        result = await server.process(json.dumps(request), RequestContext(user_id="alice"))
        assert isinstance(result, StreamingResult)
        frames = [frame async for frame in result.frames]
    finally:
        await app.aclose()
    assert any(b"Done." in frame for frame in frames)
    assert "HELLO" in json.dumps(app.model.calls[1].input)
