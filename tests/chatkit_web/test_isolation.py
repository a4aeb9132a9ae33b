"""Users see only their own data: user B with user A's ids, through every request and file route.

The matrix is data (`data/isolation.json`): 16 request types and 8 file-route attempts, run
against the memory and the SQLite store. Every answer must be a 404 (or, where no id of A's
is involved, B's own empty answer), show nothing of A's, and leave A's data as it was.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from chatkit_proto.requests import STREAMING_TYPES
from chatkit_web import Config, create_app

SECRET = "a-shared-secret-of-at-least-32-bytes!"
MATRIX = json.loads((Path(__file__).parent / "data" / "isolation.json").read_text())
A_TEXT = "alice private plans"
A_FILE = "alice-secret-diagram.png"
PNG = b"\x89PNG\r\n\x1a\nalice-bytes"


def headers_of(user: str) -> dict[str, str]:
    token = jwt.encode({"sub": user, "exp": int(time.time()) + 600}, SECRET, "HS256")
    return {"authorization": f"Bearer {token}"}


@dataclass
class World:
    """A's thread and attachments, B's own attachment, and a client for both."""

    client: TestClient
    ids: dict[str, Any]
    records: dict[str, dict[str, Any]]

    def post(self, user: str, body: object) -> Any:
        # The test client's response type lives in a module it does not export.
        return self.client.post("/chatkit", content=json.dumps(body), headers=headers_of(user))

    def attachment(self, user: str, name: str, *, upload: bool) -> dict[str, Any]:
        params = {"name": name, "size": len(PNG), "mime_type": "image/png"}
        record: dict[str, Any] = self.post(
            user, {"type": "attachments.create", "params": params}
        ).json()
        if upload:
            descriptor = record["upload_descriptor"]
            done = self.client.post(descriptor["url"], content=PNG, headers=descriptor["headers"])
            assert done.status_code == 200
        return record

    def snapshot_of_a(self) -> list[str]:
        """Everything A can see, as A sees it."""
        thread = {"thread_id": self.ids["thread_id"]}
        answers = [
            self.post("alice", {"type": "threads.get_by_id", "params": thread}).text,
            self.post("alice", {"type": "items.list", "params": thread}).text,
            self.post("alice", {"type": "threads.list", "params": {}}).text,
        ]
        preview = self.client.get(self.records["a_image"]["preview_url"])
        return [*answers, preview.content.decode("latin-1")]


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    store = "memory" if request.param == "memory" else str(tmp_path / "db.sqlite")
    config = Config(
        app="tests.chatkit_web.apps:words_app",
        store=store,
        data_dir=str(tmp_path),
        auth="jwt",
        jwt_secret=SecretStr(SECRET),
    )
    with TestClient(create_app(config, env={})) as client:
        world = World(client, {}, {})
        world.records["a_image"] = world.attachment("alice", A_FILE, upload=True)
        world.records["a_pending"] = world.attachment("alice", "alice-pending.png", upload=False)
        world.records["b_image"] = world.attachment("bob", "bob.png", upload=True)
        message = {"content": [{"type": "input_text", "text": A_TEXT}], "inference_options": {}}
        message["attachments"] = [world.records["a_image"]["id"]]
        created = world.post("alice", {"type": "threads.create", "params": {"input": message}})
        assert created.status_code == 200
        thread_id = _thread_id(created.text)
        items = world.post("alice", {"type": "items.list", "params": {"thread_id": thread_id}})
        kinds = {item["type"]: item["id"] for item in items.json()["data"]}
        world.ids.update(
            thread_id=thread_id,
            user_item=kinds["user_message"],
            assistant_item=kinds["assistant_message"],
            a_image=world.records["a_image"]["id"],
            a_pending=world.records["a_pending"]["id"],
            input=MATRIX["input"],
        )
        yield world


def _thread_id(stream: str) -> str:
    for line in stream.splitlines():
        if line.startswith("data: ") and '"thread.created"' in line:
            thread_id: str = json.loads(line.removeprefix("data: "))["thread"]["id"]
            return thread_id
    raise AssertionError("no thread.created event")


def fill(value: Any, ids: dict[str, Any]) -> Any:
    """The value with each `{name}` string replaced by A's id (or object) of that name."""
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [fill(entry, ids) for entry in value]
    if isinstance(value, dict):
        return {key: fill(entry, ids) for key, entry in value.items()}
    return value


def secrets_of_a(world: World) -> list[str]:
    """What must never appear in an answer to B."""
    ids = [value for value in world.ids.values() if isinstance(value, str)]
    token = world.records["a_pending"]["upload_descriptor"]["headers"]["x-upload-token"]
    return [A_TEXT, A_FILE, "alice", token, *ids]


def test_the_matrix_covers_every_request_type() -> None:
    types = {case["type"] for case in MATRIX["requests"]}
    assert len(MATRIX["requests"]) == len(types) == 16
    assert types >= STREAMING_TYPES


def test_user_b_cannot_reach_user_a_through_any_request(world: World) -> None:
    before = world.snapshot_of_a()
    hidden = secrets_of_a(world)
    for case in MATRIX["requests"]:
        body = {"type": case["type"], "params": fill(case["params"], world.ids)}
        answer = world.post("bob", body)
        assert answer.status_code == case["expect"], (case["type"], answer.text)
        assert answer.headers["content-type"] == "application/json", case["type"]
        if "answer" in case:
            assert answer.json() == case["answer"], case["type"]
        leaked = [text for text in hidden if text in answer.text]
        assert not leaked, (case["type"], leaked)
    assert world.snapshot_of_a() == before
    listed = world.post("bob", {"type": "threads.list", "params": {}}).json()
    assert listed["data"] == []


def test_user_b_cannot_reach_user_a_through_the_file_routes(world: World) -> None:
    before = world.snapshot_of_a()
    hidden = secrets_of_a(world)
    for case in MATRIX["files"]:
        answer = world.client.request(case["method"], **_file_request(world, case))
        assert answer.status_code == case["expect"], (case["about"], answer.text)
        assert PNG not in answer.content, case["about"]
        leaked = [text for text in hidden if text in answer.text]
        assert not leaked, (case["about"], leaked)
    assert world.snapshot_of_a() == before
    # A's pending upload is still A's to finish.
    descriptor = world.records["a_pending"]["upload_descriptor"]
    finished = world.client.post(descriptor["url"], content=PNG, headers=descriptor["headers"])
    assert finished.status_code == 200


def _file_request(world: World, case: dict[str, Any]) -> dict[str, Any]:
    """URL, query and headers of a file-route attempt: A's id, some owner, someone's credentials."""
    attachment_id = world.records[case["attachment"]]["id"]
    source = world.records[case["credentials_of"]] if case["credentials_of"] else None
    headers = headers_of("bob")
    if case["method"] == "GET":
        params = {"owner": case["owner"]}
        if source is not None:
            signed = httpx.URL(source["preview_url"]).params
            params |= {"expires": signed["expires"], "sig": signed["sig"]}
        return {"url": f"/chatkit/files/{attachment_id}", "params": params, "headers": headers}
    if source is not None:
        headers["x-upload-token"] = source["upload_descriptor"]["headers"]["x-upload-token"]
    return {
        "url": f"/chatkit/upload/{attachment_id}",
        "params": {"owner": case["owner"]},
        "headers": headers,
        "content": b"bob was here",
    }
