"""The request log: one line per request on every route, request ids, and nothing secret."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from starlette.testclient import TestClient

from chatkit_web import Config, create_app
from tests.chatkit_web.apps import GATE
from tests.chatkit_web.logcapture import CapturedLog
from tests.chatkit_web.serving import ChildServer, ThreadedServer

SECRET = "a-shared-secret-of-at-least-32-bytes!"
MESSAGE = "my secret is pineapple-horizon"
REPLY_WORDS = ("quokka", "marmalade", "zeppelin")
PNG = b"\x89PNG\r\n\x1a\nfake-image-bytes"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
LOG_WAIT_SECONDS = 20.0


def create_body(text: str = MESSAGE) -> str:
    return json.dumps(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": text}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
    )


def request(kind: str, **params: object) -> str:
    return json.dumps({"type": kind, "params": params})


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    config = Config(app="tests.chatkit_web.apps:words_app", store="memory", data_dir=str(tmp_path))
    return TestClient(create_app(config, env={}))


def test_every_route_logs_exactly_one_line(client: TestClient, captured_log: CapturedLog) -> None:
    listed = client.post("/chatkit", content=request("threads.list"))
    streamed = client.post("/chatkit", content=create_body())
    uploaded = client.post("/chatkit/upload", files={"file": ("cat.png", PNG, "image/png")})
    preview = client.get(uploaded.json()["preview_url"])
    created = client.post(
        "/chatkit",
        content=request("attachments.create", name="a.txt", size=5, mime_type="text/plain"),
    )
    descriptor = created.json()["upload_descriptor"]
    two_phase = client.post(descriptor["url"], content=b"hello", headers=descriptor["headers"])
    health = client.get("/healthz")
    missing = client.get("/nowhere")
    too_large = client.post("/chatkit", content=b" " * (2 * 1024 * 1024))
    responses = [
        listed,
        streamed,
        uploaded,
        preview,
        created,
        two_phase,
        health,
        missing,
        too_large,
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 200, 200, 200, 404, 413]

    lines = captured_log.requests()
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        (r.request.method, r.request.url.path, r.status_code) for r in responses
    ]
    assert [e["request_id"] for e in lines] == [r.headers["x-request-id"] for r in responses]
    assert [e["level"] for e in lines].count("DEBUG") == 1 and lines[6]["level"] == "DEBUG"
    assert lines[0]["type"] == "threads.list" and "stream" not in lines[0]
    assert lines[1]["type"] == "threads.create" and lines[1]["stream"] == "completed"
    assert str(lines[1]["thread"]).startswith("thr_")
    assert lines[4]["type"] == "attachments.create"
    assert all(e["user_id"] == "local" for e in lines[:6])
    assert all(ISO_UTC.fullmatch(str(e["time"])) for e in lines)


@pytest.mark.parametrize("incoming", ["abc-123", "0f8e4c1a-9b2d-4e6f-8a7b-1c2d3e4f5a6b", "a.b:c_d"])
def test_a_sane_incoming_request_id_is_kept(client: TestClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"x-request-id": incoming})
    assert response.headers["x-request-id"] == incoming


@pytest.mark.parametrize("incoming", ["", "has spaces", "x" * 65, "<script>", "id;drop", "a/b"])
def test_an_odd_incoming_request_id_is_replaced(client: TestClient, incoming: str) -> None:
    response = client.get("/healthz", headers={"x-request-id": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_errors_carry_the_request_id_too(client: TestClient) -> None:
    response = client.post("/chatkit", content=b"{nope", headers={"x-request-id": "req-err"})
    assert response.status_code == 400 and response.headers["x-request-id"] == "req-err"


@pytest.fixture
def gated_url(tmp_path: Path) -> Iterator[str]:
    config = Config(app="tests.chatkit_web.apps:gated_app", store="memory", data_dir=str(tmp_path))
    GATE.clear()
    with ThreadedServer(create_app(config, env={})) as server:
        try:
            yield server.url + "/chatkit"
        finally:
            GATE.set()


def wait_for_requests(log: CapturedLog, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + LOG_WAIT_SECONDS
    while len(log.requests()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return log.requests()


def test_a_stream_the_client_leaves_is_logged_cancelled(
    gated_url: str, captured_log: CapturedLog
) -> None:
    with httpx.stream("POST", gated_url, content=create_body(), timeout=10) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                break
    GATE.set()
    (entry,) = wait_for_requests(captured_log, 1)
    assert (entry["status"], entry["stream"], entry["type"]) == (200, "cancelled", "threads.create")


# -- the whole server at DEBUG, with SQLite and JWT auth ---------------------------------------


def token(user: str) -> str:
    return jwt.encode({"sub": user, "exp": int(time.time()) + 600}, SECRET, "HS256")


def test_debug_logs_of_a_real_server_hold_no_text_token_or_signature(tmp_path: Path) -> None:
    server = ChildServer(
        *("--app", "tests.chatkit_web.apps:words_app", "--store", str(tmp_path / "db.sqlite")),
        *("--data-dir", str(tmp_path), "--log-level", "DEBUG", "--log-format", "json"),
        log_path=tmp_path / "server.log",
        env={"CHATKIT_AUTH": "jwt", "CHATKIT_JWT_SECRET": SECRET},
    )
    bearer = token("alice")
    try:
        secrets, responses = exercise(server.url, bearer)
    finally:
        logged = server.stop()
    entries = [json.loads(line) for line in logged.splitlines()]
    for needle in (MESSAGE, "pineapple", *REPLY_WORDS, bearer, SECRET, *secrets):
        assert needle not in logged, f"{needle[:12]}… reached the log"
    lines = [e for e in entries if e["logger"] == "chatkit.request" and e["path"] != "/healthz"]
    # A stream's line is written once its last byte is sent: maybe after the next request's.
    by_id = {e["request_id"]: (e["method"], e["path"], e["status"]) for e in lines}
    assert len(lines) == len(by_id) == len(responses)
    assert by_id == {
        r.headers["x-request-id"]: (r.request.method, r.request.url.path, r.status_code)
        for r in responses
    }
    (stream,) = [e for e in lines if e["request_id"] == "client-chosen-id"]
    assert (stream["type"], stream["stream"]) == ("threads.create", "completed")
    assert all(e["user_id"] == "alice" for e in lines)
    health = [e for e in entries if e["logger"] == "chatkit.request" and e["path"] == "/healthz"]
    assert health and all(e["level"] == "DEBUG" for e in health)
    assert all(ISO_UTC.fullmatch(e["time"]) for e in entries)


def exercise(url: str, bearer: str) -> tuple[list[str], list[httpx.Response]]:
    """A stream, a direct and a two-phase upload, and downloads; the secrets handed out."""
    auth = {"authorization": f"Bearer {bearer}"}
    with httpx.Client(base_url=url, headers=auth, timeout=10) as http:
        stream = http.post(
            "/chatkit", content=create_body(), headers={"x-request-id": "client-chosen-id"}
        )
        thread_id = next(
            json.loads(line.removeprefix("data: "))["thread"]["id"]
            for line in stream.text.splitlines()
            if line.startswith("data: ") and '"thread.created"' in line
        )
        thread = http.post("/chatkit", content=request("threads.get_by_id", thread_id=thread_id))
        assert all(word in thread.text for word in REPLY_WORDS)
        direct = http.post("/chatkit/upload", files={"file": ("cat.png", PNG, "image/png")})
        preview = httpx.get(direct.json()["preview_url"], timeout=10)
        created = http.post(
            "/chatkit",
            content=request(
                "attachments.create", name="b.png", size=len(PNG), mime_type="image/png"
            ),
        )
        descriptor = created.json()["upload_descriptor"]
        upload = httpx.post(
            descriptor["url"], content=PNG, headers=descriptor["headers"], timeout=10
        )
        download = httpx.get(created.json()["preview_url"], timeout=10)
    assert preview.content == PNG and download.content == PNG
    signatures = [httpx.URL(r.json()["preview_url"]).params["sig"] for r in (direct, created)]
    secrets = [*signatures, descriptor["headers"]["x-upload-token"]]
    return secrets, [stream, thread, direct, preview, created, upload, download]
