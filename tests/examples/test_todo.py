"""examples/todo.py: an official-SDK app ported by its imports, run through `server.py`."""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

ROOT = Path(__file__).parents[2]
DATA = Path(__file__).parent / "data"
SECRET = "an-hs256-secret-of-at-least-32-bytes"


def _body_without_imports(path: Path, drop: set[str] = frozenset()) -> list[str]:
    """The module's statements as AST dumps, without imports, docstring or the named defs."""
    tree = ast.parse(path.read_text())
    kept = []
    for node in tree.body[1:]:  # the docstring says which file it is
        if isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if isinstance(node, ast.FunctionDef) and node.name in drop:
            continue
        kept.append(ast.dump(node))
    return kept


def test_the_port_differs_from_the_official_sdk_app_in_its_imports_only() -> None:
    original = _body_without_imports(DATA / "todo_official_sdk.py")
    port = _body_without_imports(ROOT / "examples" / "todo.py", drop={"app"})
    assert port == original
    assert len(original) > 10


def _token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable, str(ROOT / "server.py"), "--app", "examples.todo:app",
        "--model-script", str(DATA / "todo_script.json"), "--store", "memory",
        "--data-dir", str(tmp_path), "--port", str(port),
        "--auth", "jwt", "--jwt-secret", SECRET,
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _send(base: str, user: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.post(
        f"{base}/chatkit",
        json=request,
        headers={"authorization": f"Bearer {_token(user)}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")
    ]


def _message(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def _widgets(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event["item"]
        for event in events
        if event["type"] in ("thread.item.done", "thread.item.replaced")
        and event["item"]["type"] == "widget"
    ]


def _texts(widget: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("value", "label"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for child in node.get("children") or []:
                walk(child)

    walk(widget["widget"])
    return found


def test_the_todo_app_keeps_each_users_tasks_and_answers_actions(server: str) -> None:
    created = _send(
        server, "alice", {"type": "threads.create", "params": {"input": _message("add buy milk")}}
    )
    thread_id = created[0]["thread"]["id"]
    answers = [
        e["item"]
        for e in created
        if e["type"] == "thread.item.done" and e["item"]["type"] == "assistant_message"
    ]
    assert answers[-1]["content"][0]["text"] == "Added buy milk."

    listed = _send(
        server,
        "alice",
        {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": _message("list")},
        },
    )
    (widget,) = _widgets(listed)
    assert _texts(widget) == ["buy milk", "open", "Complete"]
    assert widget["copy_text"] == "1 tasks"

    # Bob's list is his own: empty.
    other = _send(server, "bob", {"type": "threads.create", "params": {"input": _message("list")}})
    (empty,) = _widgets(other)
    assert _texts(empty) == ["Nothing to do."]

    button = widget["widget"]["children"][0]["children"][0]["children"][2]
    action = button["onClickAction"]
    done = _send(
        server,
        "alice",
        {
            "type": "threads.custom_action",
            "params": {
                "thread_id": thread_id,
                "item_id": widget["id"],
                "action": {"type": action["type"], "payload": action["payload"]},
            },
        },
    )
    (replaced,) = _widgets(done)
    assert replaced["id"] == widget["id"]
    assert _texts(replaced) == ["buy milk", "done", "Complete"]
