"""MCP servers for an app's agent, from a JSON config file (`--mcp-config FILE`).

The file lists servers by name; a server with `command` is started as a stdio subprocess, a
server with `url` is reached over streamable HTTP:

    {"servers": [
        {"name": "files", "command": "python", "args": ["srv.py"], "env": {"TOKEN": "…"},
         "cwd": "tools", "timeout_seconds": 10},
        {"name": "docs", "url": "http://127.0.0.1:9000/mcp", "headers": {"Authorization": "…"}}
    ]}

A relative `cwd` is taken from the config file's folder. `env` and `headers` are secrets: they
are kept as `SecretStr` so that no repr, log line or error message shows their values.

The servers live as long as the process: `MCPServers` connects them all once, on first use,
and `aclose` cleans them up at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, Literal

from agents.mcp import (
    MCPServer,
    MCPServerManager,
    MCPServerStdio,
    MCPServerStreamableHttp,
)
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SecretStr,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from agents_layer.json_files import read_json
from chatkit_proto.errors import ConfigError

__all__ = [
    "HttpServerConfig",
    "MCPConfig",
    "MCPConfigError",
    "MCPServers",
    "StdioServerConfig",
    "build_servers",
    "load_mcp_config",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 10.0


class MCPConfigError(ConfigError):
    """The MCP config file could not be read or is invalid; the message names file and path."""


class _ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0)
    """How long to wait for any one answer of the server (a tool call included)."""


class StdioServerConfig(_ServerConfig):
    """A server started as a subprocess and spoken to over its stdin/stdout."""

    command: str = Field(min_length=1)
    args: list[str] = []
    env: dict[str, SecretStr] | None = None
    """Added to a minimal default environment (PATH, HOME…), not to the server's own."""
    cwd: Path | None = None


class HttpServerConfig(_ServerConfig):
    """A server reached over the streamable HTTP transport."""

    url: str = Field(pattern=r"^https?://")
    headers: dict[str, SecretStr] | None = None


def _transport(value: Any) -> Literal["stdio", "http"] | None:
    """The kind of server an entry describes: `command` for stdio, `url` for HTTP."""
    if isinstance(value, dict):
        if "command" in value:
            return "stdio"
        if "url" in value:
            return "http"
        return None
    if isinstance(value, StdioServerConfig):
        return "stdio"
    if isinstance(value, HttpServerConfig):
        return "http"
    return None


ServerConfig = Annotated[
    Annotated[StdioServerConfig, Tag("stdio")] | Annotated[HttpServerConfig, Tag("http")],
    Discriminator(
        _transport,
        custom_error_type="server_kind",
        custom_error_message='a server needs "command" (stdio) or "url" (streamable HTTP)',
    ),
]


class MCPConfig(BaseModel):
    """The whole config file: the MCP servers every agent of the app gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    servers: list[ServerConfig] = []

    @model_validator(mode="after")
    def _unique_names(self) -> MCPConfig:
        names = [server.name for server in self.servers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"server names must be unique; repeated: {', '.join(duplicates)}")
        return self


def _json_path(loc: Sequence[int | str]) -> str:
    """Render a pydantic error location as `$.servers[0].env`, without union tag steps."""
    path = "$"
    for step in loc:
        if isinstance(step, int):
            path += f"[{step}]"
        elif path.endswith("]") and step in ("stdio", "http"):
            # The union tag pydantic adds after a server's index: implied by the entry itself.
            continue
        else:
            path += f".{step}"
    return path


def _describe(error: ErrorDetails) -> str:
    """One `path: problem` line; never the offending input, which may be a secret."""
    match error["type"]:
        case "extra_forbidden":
            problem = "unknown key"
        case "missing":
            problem = "missing required key"
        case _:
            problem = error["msg"].removeprefix("Value error, ")
    return f"{_json_path(error['loc'])}: {problem}"


def parse_mcp_config(data: object, *, source: str = "<mcp config>") -> MCPConfig:
    """Validate an in-memory config, raising MCPConfigError with one line per problem."""
    try:
        return MCPConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"{source}: {_describe(error)}" for error in exc.errors()]
        raise MCPConfigError("\n".join(lines)) from None


def load_mcp_config(path: str | PathLike[str]) -> MCPConfig:
    """Read and validate an MCP config JSON file; relative `cwd`s are made absolute."""
    source = str(path)
    data = read_json(path, MCPConfigError)
    config = parse_mcp_config(data, source=source)
    base = Path(path).resolve().parent
    return config.model_copy(
        update={
            "servers": [
                server.model_copy(update={"cwd": base / server.cwd})
                if isinstance(server, StdioServerConfig) and server.cwd is not None
                else server
                for server in config.servers
            ]
        }
    )


def _secrets(values: dict[str, SecretStr] | None) -> dict[str, str] | None:
    if values is None:
        return None
    return {key: value.get_secret_value() for key, value in values.items()}


def build_servers(config: MCPConfig) -> list[MCPServer]:
    """The Agents SDK server objects for a config, not yet connected."""
    servers: list[MCPServer] = []
    for server in config.servers:
        # The agent is rebuilt every turn and a server's tools do not change while it runs,
        # so its tool list is fetched once instead of once per model call.
        if isinstance(server, StdioServerConfig):
            params: dict[str, Any] = {"command": server.command, "args": list(server.args)}
            if server.env is not None:
                params["env"] = _secrets(server.env)
            if server.cwd is not None:
                params["cwd"] = str(server.cwd)
            servers.append(
                MCPServerStdio(
                    params,  # type: ignore[arg-type]
                    name=server.name,
                    cache_tools_list=True,
                    client_session_timeout_seconds=server.timeout_seconds,
                )
            )
        else:
            http: dict[str, Any] = {"url": server.url, "timeout": server.timeout_seconds}
            if server.headers is not None:
                http["headers"] = _secrets(server.headers)
            servers.append(
                MCPServerStreamableHttp(
                    http,  # type: ignore[arg-type]
                    name=server.name,
                    cache_tools_list=True,
                    client_session_timeout_seconds=server.timeout_seconds,
                )
            )
    return servers


class MCPServers:
    """The process's MCP servers: connected together on first use, cleaned up by `aclose`.

    A server that fails to connect is logged and left out; the agent runs with the others.
    """

    def __init__(self, servers: Sequence[MCPServer]) -> None:
        # One worker task per server (connect_in_parallel) keeps each server's connect and
        # cleanup in the same task, although the first request connects and shutdown cleans up.
        self._manager = MCPServerManager(servers, connect_in_parallel=True)
        self._lock = asyncio.Lock()
        self._connected = False

    @classmethod
    def from_config(cls, config: MCPConfig) -> MCPServers:
        """The servers of a loaded config."""
        return cls(build_servers(config))

    @property
    def names(self) -> list[str]:
        """The configured servers' names, connected or not."""
        return [server.name for server in self._manager.all_servers]

    async def active(self) -> list[MCPServer]:
        """The connected servers, connecting all of them on the first call."""
        async with self._lock:
            if not self._connected:
                await self._manager.connect_all()
                self._connected = True
                for server, error in self._manager.errors.items():
                    logger.error(
                        "MCP server %s could not connect (%s); running without it",
                        server.name,
                        type(error).__name__,
                    )
            return self._manager.active_servers

    async def aclose(self) -> None:
        """Clean up every connected server (stops stdio subprocesses); safe to call twice."""
        async with self._lock:
            if self._connected:
                await self._manager.cleanup_all()
                self._connected = False

    async def __aenter__(self) -> MCPServers:
        await self.active()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
