"""A tiny stdio MCP server for the tests: one tool, `echo_upper`."""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("echo")


@server.tool()
def echo_upper(text: str) -> str:
    """Return the text in capitals, tagged with ECHO_TAG from the environment."""
    return f"{os.environ.get('ECHO_TAG', '')}{text.upper()}"


if __name__ == "__main__":
    server.run("stdio")
