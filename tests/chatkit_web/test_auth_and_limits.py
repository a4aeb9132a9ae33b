"""D6 (401 without valid credentials), D7 (429 with Retry-After) and D8 (500 without internals)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr
from starlette.testclient import TestClient

from chatkit_proto.context import RequestContext
from chatkit_proto.server import NonStreamingResult
from chatkit_proto.store.memory import MemoryStore
from chatkit_web import Config, create_app
from tests.apps import ScriptedApp

SECRET = "test-secret-with-enough-length-for-hs256"
LIST = json.dumps({"type": "threads.list", "params": {}})


def token(sub: str, *, secret: str = SECRET, expires_in: int = 60) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + expires_in}, secret, "HS256")


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    config = Config(
        app="tests.apps:slow_app",
        store="memory",
        data_dir=str(tmp_path),
        rate_limit="3/min",
        auth="jwt",
        jwt_secret=SecretStr(SECRET),
    )
    app = create_app(config, env={})
    return TestClient(app)


def test_d6_missing_or_invalid_credentials_get_401(client: TestClient) -> None:
    for headers in (
        {},
        {"authorization": "Basic abc"},
        {"authorization": f"Bearer {token('alice', secret='another-secret-of-enough-length!!')}"},
        {"authorization": f"Bearer {token('alice', expires_in=-10)}"},
    ):
        response = client.post("/chatkit", content=LIST, headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"
        assert SECRET not in response.text


def test_d6_the_token_subject_owns_the_threads(client: TestClient) -> None:
    alice = {"authorization": f"Bearer {token('alice')}"}
    bob = {"authorization": f"Bearer {token('bob')}"}
    create = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hi"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    with client.stream("POST", "/chatkit", content=json.dumps(create), headers=alice) as stream:
        first = next(stream.iter_lines())
    thread_id = json.loads(first.removeprefix("data: "))["thread"]["id"]
    get = json.dumps({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    assert client.post("/chatkit", content=get, headers=bob).status_code == 404


def test_d7_rate_limit_answers_429_with_retry_after(client: TestClient) -> None:
    headers = {"authorization": f"Bearer {token('carol')}"}
    statuses = [
        client.post("/chatkit", content=LIST, headers=headers).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    limited = client.post("/chatkit", content=LIST, headers=headers)
    assert limited.json()["code"] == "rate_limited"
    assert int(limited.headers["retry-after"]) >= 1
    other = {"authorization": f"Bearer {token('dave')}"}
    assert client.post("/chatkit", content=LIST, headers=other).status_code == 200


class BrokenStore(MemoryStore):
    async def load_thread(self, thread_id, ctx):  # type: ignore[override]
        raise RuntimeError("disk on fire at /var/lib/secret-path")


async def test_d8_unexpected_failure_is_a_generic_500() -> None:
    server = ScriptedApp(BrokenStore())
    body = json.dumps({"type": "threads.get_by_id", "params": {"thread_id": "thr_x"}})
    result = await server.process(body, RequestContext(user_id="u"))
    assert isinstance(result, NonStreamingResult) and result.status == 500
    error = json.loads(result.body)
    assert error["code"] == "internal" and "secret-path" not in error["message"]


def test_cors_preflight_for_the_widgets_origin(tmp_path: Path) -> None:
    config = Config(
        app="tests.apps:slow_app",
        store="memory",
        data_dir=str(tmp_path),
        cors_origins=("https://app.example.com",),
    )
    client = TestClient(create_app(config, env={}))
    preflight = client.options(
        "/chatkit",
        headers={
            "origin": "https://app.example.com",
            "access-control-request-method": "POST",
            "access-control-request-headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
    other = client.post("/chatkit", content=LIST, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
