"""examples/todo_mcp.py through `server.py`: the agent's tools run on the stdio MCP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.chatkit_web.processes import ServerProcess, streamed, user_input

SCRIPT = Path(__file__).parent / "data" / "todo_mcp_script.json"
# Names the caller from its `x-user` header, so that two users can talk to one server.
AUTH = "tests.chatkit_web.custom_auth:identify"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        "--app", "examples.todo_mcp:app", "--model-script", str(SCRIPT),
        "--store", "memory", "--auth", AUTH, data_dir=tmp_path,
    )  # fmt: skip
    yield process
    process.stop()


def send(server: ServerProcess, user: str, type_: str, **params: Any) -> list[dict[str, Any]]:
    """The events of one streamed request made by `user`."""
    body = json.dumps({"type": type_, "params": params})
    response = httpx.post(
        f"{server.url}/chatkit", content=body, headers={"x-user": user}, timeout=30
    )
    assert response.status_code == 200, response.text
    return streamed(response)


def done_items(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The items of the `thread.item.done` events of one type."""
    return [
        e["item"] for e in events if e["type"] == "thread.item.done" and e["item"]["type"] == kind
    ]


def texts(node: object) -> list[str]:
    """Every Text value of a widget tree, in order."""
    if isinstance(node, list):
        return [text for child in node for text in texts(child)]
    if not isinstance(node, dict):
        return []
    own = [node["value"]] if node.get("type") == "Text" else []
    return own + texts(node.get("children", []))


def badges(node: object) -> list[str]:
    """Every Badge label of a widget tree, in order."""
    if isinstance(node, list):
        return [label for child in node for label in badges(child)]
    if not isinstance(node, dict):
        return []
    own = [node["label"]] if node.get("type") == "Badge" else []
    return own + badges(node.get("children", []))


def answer(events: list[dict[str, Any]]) -> str:
    (message,) = done_items(events, "assistant_message")
    return "".join(part["text"] for part in message["content"])


def test_tasks_live_on_the_mcp_server_per_user(server: ServerProcess) -> None:
    added = send(server, "alice", "threads.create", input=user_input("Add buy milk"))
    assert not [e for e in added if e["type"] == "error"], added
    assert answer(added) == "Added Buy milk."
    thread_id = added[0]["thread"]["id"]

    shown = send(
        server, "alice", "threads.add_user_message", thread_id=thread_id,
        input=user_input("Show my list"),
    )  # fmt: skip
    (widget_item,) = done_items(shown, "widget")
    # Only the MCP server's add_task stored the task; show_tasks read it back from there.
    assert texts(widget_item["widget"]) == ["Buy milk"]
    assert badges(widget_item["widget"]) == ["open"]
    assert widget_item["copy_text"] == "[ ] Buy milk"
    assert answer(shown) == "Here is your list."

    # Another user's list, on the same MCP server process, is empty.
    other = send(server, "bob", "threads.create", input=user_input("Show my list"))
    (empty,) = done_items(other, "widget")
    assert texts(empty["widget"]) == ["Nothing to do."]

    button = widget_item["widget"]["children"][0]["children"][0]["children"][2]
    completed = send(
        server, "alice", "threads.custom_action", thread_id=thread_id,
        item_id=widget_item["id"], action=button["onClickAction"],
    )  # fmt: skip
    (replaced,) = [e for e in completed if e["type"] == "thread.item.replaced"]
    assert replaced["item"]["id"] == widget_item["id"]
    assert texts(replaced["item"]["widget"]) == ["Buy milk"]
    assert badges(replaced["item"]["widget"]) == ["done"]
    assert replaced["item"]["copy_text"] == "[x] Buy milk"
