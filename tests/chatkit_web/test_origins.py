"""Cross-site requests: an `Origin` neither this server's nor listed is refused, changing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chatkit_web import Config, create_app

EVIL = "https://evil.example"
APP_ORIGIN = "https://app.example.com"
CREATE = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "hi"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
)
LIST = json.dumps({"type": "threads.list", "params": {}})


def make_client(tmp_path: Path, *origins: str) -> TestClient:
    config = Config(
        app="tests.chatkit_web.apps:fast_app",
        store="memory",
        data_dir=str(tmp_path),
        cors_origins=origins,
    )
    return TestClient(create_app(config, env={}))


@pytest.fixture(params=[(), (APP_ORIGIN,)], ids=["no-cors", "cors"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path, *request.param) as client:
        yield client


def thread_ids(client: TestClient) -> list[str]:
    return [t["id"] for t in client.post("/chatkit", content=LIST).json()["data"]]


def create_thread(client: TestClient, **headers: str) -> int:
    with client.stream("POST", "/chatkit", content=CREATE, headers=headers) as response:
        response.read()
        return response.status_code


def test_a_cross_site_text_plain_post_is_refused_and_creates_nothing(client: TestClient) -> None:
    headers = {"origin": EVIL, "content-type": "text/plain"}
    response = client.post("/chatkit", content=CREATE, headers=headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "forbidden" and response.json()["message"]
    assert thread_ids(client) == []


def test_a_cross_site_delete_is_refused_and_deletes_nothing(client: TestClient) -> None:
    assert create_thread(client) == 200
    [thread_id] = thread_ids(client)
    delete = json.dumps({"type": "threads.delete", "params": {"thread_id": thread_id}})
    response = client.post("/chatkit", content=delete, headers={"origin": EVIL})
    assert response.status_code == 403
    assert thread_ids(client) == [thread_id]


@pytest.mark.parametrize(
    "origin", ["null", "evil", "http://testserver.evil.example", "ftp://testserver"]
)
def test_odd_origins_are_refused(client: TestClient, origin: str) -> None:
    assert client.post("/chatkit", content=LIST, headers={"origin": origin}).status_code == 403


@pytest.mark.parametrize(
    "origin", ["http://testserver", "http://TESTSERVER:80", "http://testserver/"]
)
def test_the_servers_own_origin_is_allowed(client: TestClient, origin: str) -> None:
    assert create_thread(client, origin=origin) == 200
    assert len(thread_ids(client)) == 1


def test_a_request_without_origin_needs_no_content_type(client: TestClient) -> None:
    response = client.post("/chatkit", content=LIST, headers={"content-type": ""})
    assert response.status_code == 200


def test_uploads_from_another_site_are_refused(client: TestClient) -> None:
    files = {"file": ("a.txt", b"hello", "text/plain")}
    response = client.post("/chatkit/upload", files=files, headers={"origin": EVIL})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"


def test_a_listed_origin_is_allowed_and_its_preflight_works(tmp_path: Path) -> None:
    with make_client(tmp_path, APP_ORIGIN) as client:
        preflight = client.options(
            "/chatkit",
            headers={
                "origin": APP_ORIGIN,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
        assert create_thread(client, origin=APP_ORIGIN) == 200
        evil_preflight = client.options(
            "/chatkit", headers={"origin": EVIL, "access-control-request-method": "POST"}
        )
        assert evil_preflight.status_code == 403
        assert evil_preflight.json()["code"] == "forbidden"
        assert "access-control-allow-origin" not in evil_preflight.headers


def test_a_wildcard_allows_every_origin(tmp_path: Path) -> None:
    with make_client(tmp_path, "*") as client:
        assert client.post("/chatkit", content=LIST, headers={"origin": EVIL}).status_code == 200


def test_reads_by_get_pass_whatever_their_origin(client: TestClient) -> None:
    assert client.get("/healthz", headers={"origin": EVIL}).status_code == 200
