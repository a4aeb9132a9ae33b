"""Every error under the ChatKit routes is the JSON error body, with a `message` and a code."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from python_multipart.exceptions import MultipartParseError
from starlette.applications import Starlette
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from chatkit_web import Config, create_app
from chatkit_web.errors import EXCEPTION_HANDLERS


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    config = Config(app="tests.chatkit_web.apps:fast_app", store="memory", data_dir=str(tmp_path))
    with TestClient(create_app(config, env={})) as client:
        yield client


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["code"] == code and isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("POST", "/chatkit/nope"), ("GET", "/chatkit/files/"), ("POST", "/nope/")],
)
def test_unknown_paths_are_404_json(client: TestClient, method: str, path: str) -> None:
    assert_error(client.request(method, path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/chatkit"), ("PUT", "/chatkit"), ("DELETE", "/chatkit/upload"),
     ("POST", "/chatkit/files/atc_1"), ("PATCH", "/chatkit/upload/atc_1"), ("HEAD", "/chatkit")],
)  # fmt: skip
def test_wrong_methods_are_405_json_with_allow(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert "allow" in response.headers
    if method != "HEAD":
        assert_error(response, 405, "method_not_allowed")


def test_an_oversized_body_is_413_json(client: TestClient) -> None:
    assert_error(
        client.post("/chatkit", content=b" " * (2 * 1024 * 1024)), 413, "payload_too_large"
    )


def test_a_body_that_is_not_a_request_is_400_json(client: TestClient) -> None:
    assert_error(client.post("/chatkit", content=b"\xff\xfe"), 400, "invalid_request")
    assert_error(client.post("/chatkit", content=json.dumps([1])), 400, "invalid_request")


async def raise_multipart(request: Request) -> Response:
    raise MultiPartException("Missing boundary in multipart.")


async def raise_parser(request: Request) -> Response:
    raise MultipartParseError("bad byte")


async def raise_bug(request: Request) -> Response:
    raise RuntimeError("secret internals at /var/lib/x")


def test_form_errors_and_bugs_raised_anywhere_are_json() -> None:
    app = Starlette(
        routes=[
            Route("/multipart", raise_multipart),
            Route("/parser", raise_parser),
            Route("/bug", raise_bug),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    client = TestClient(app, raise_server_exceptions=False)
    assert_error(client.get("/multipart"), 400, "invalid_request")
    assert_error(client.get("/parser"), 400, "invalid_request")
    bug = client.get("/bug")
    assert_error(bug, 500, "internal")
    assert "secret" not in bug.text
