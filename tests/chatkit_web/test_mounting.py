"""The application mounted under a path of a host Starlette (or FastAPI) application.

A mounted application's lifespan never runs: it opens its store on its first request, or
the host opens it from its own lifespan with `chatkit_web.lifespan`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

import chatkit_web
from chatkit_proto.store.memory import MemoryStore
from chatkit_web import Config, create_app
from chatkit_web.services import Backend
from tests.chatkit_web.processes import user_input

HELD_APP = "tests.chatkit_web.held_app:create_app"


def chatkit(tmp_path: Path, store: str | None = None) -> Starlette:
    """The ChatKit application on an SQLite file (or `store`)."""
    config = Config(
        store=store or f"sqlite:///{tmp_path / 'chatkit.db'}",
        app=HELD_APP,
        data_dir=str(tmp_path / "data"),
    )
    return create_app(config, env={})


async def home(request: Request) -> PlainTextResponse:
    """The host's own page."""
    return PlainTextResponse("host")


def host(mounted: Starlette, **options: Any) -> Starlette:
    """A host application with its own route and the ChatKit application under /support."""
    return Starlette(routes=[Route("/", home), Mount("/support", app=mounted)], **options)


def body(type_: str, **params: Any) -> str:
    """A protocol request body."""
    return json.dumps({"type": type_, "params": params})


def events(text: str) -> list[dict[str, Any]]:
    """The events of a whole SSE body."""
    return [json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: ")]


def test_a_mounted_app_opens_its_store_on_the_first_request(tmp_path: Path) -> None:
    with TestClient(host(chatkit(tmp_path))) as client:
        assert client.get("/").text == "host"
        created = client.post(
            "/support/chatkit", content=body("threads.create", input=user_input("hi"))
        )
        assert created.status_code == 200
        assert created.headers["content-type"].startswith("text/event-stream")
        stream = events(created.text)
        assert [e["type"] for e in stream][:3] == [
            "thread.created",
            "thread.item.done",
            "stream_options",
        ]
        assert stream[-1]["type"] == "thread.item.done"
        assert stream[-1]["item"]["content"][0]["text"] == "ok"
        listed = client.post("/support/chatkit", content=body("threads.list"))
        assert [t["id"] for t in listed.json()["data"]] == [stream[0]["thread"]["id"]]


def test_signed_urls_of_a_mounted_app_carry_its_path(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\nbytes"
    with TestClient(host(chatkit(tmp_path))) as client:
        upload = client.post(
            "/support/chatkit/upload", files={"file": ("cat.png", png, "image/png")}
        )
        assert upload.status_code == 200
        preview_url = upload.json()["preview_url"]
        assert preview_url.startswith("http://testserver/support/chatkit/files/")
        preview = client.get(preview_url)
        assert (preview.status_code, preview.content) == (200, png)


async def test_requests_arriving_together_open_the_store_once(tmp_path: Path) -> None:
    mounted = chatkit(tmp_path, store="memory")
    services = mounted.state.services
    counting = CountingStore()
    services.backend = Backend(counting, services.backend.records, services.backend.files)
    transport = httpx.ASGITransport(app=host(mounted))
    async with httpx.AsyncClient(transport=transport, base_url="http://host") as client:
        answers = await asyncio.gather(
            *(client.post("/support/chatkit", content=body("threads.list")) for _ in range(20))
        )
    assert [a.status_code for a in answers] == [200] * 20
    assert counting.opened == 1


class CountingStore(MemoryStore):
    """A memory store that counts how often it is opened, and opens slowly."""

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0

    async def open(self) -> None:
        """Take a while, so that the other requests arrive meanwhile."""
        await asyncio.sleep(0.05)
        self.opened += 1


def test_the_hosts_lifespan_opens_and_closes_the_store(tmp_path: Path) -> None:
    mounted = chatkit(tmp_path)

    @asynccontextmanager
    async def host_lifespan(app: Starlette) -> AsyncIterator[None]:
        async with chatkit_web.lifespan(mounted):
            yield

    services = mounted.state.services
    with TestClient(host(mounted, lifespan=host_lifespan)) as client:
        assert services.opened
        listed = client.post("/support/chatkit", content=body("threads.list"))
        assert listed.json() == {"data": [], "has_more": False}
    assert not services.opened


def test_an_unreachable_database_answers_503_until_it_can_open(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens, so every connection is refused at once.
    mounted = chatkit(tmp_path, store="postgresql://chatkit:s3cret-pw@127.0.0.1:1/chatkit")
    with TestClient(host(mounted)) as client:
        for _ in range(2):
            answer = client.post("/support/chatkit", content=body("threads.list"))
            assert answer.status_code == 503
            assert answer.json()["code"] == "store.unavailable"
            assert "s3cret-pw" not in answer.text
    assert not mounted.state.services.opened


def test_mounted_in_fastapi(tmp_path: Path) -> None:
    fastapi = pytest.importorskip("fastapi", reason="FastAPI is not installed")
    app = fastapi.FastAPI()
    app.mount("/support", chatkit(tmp_path))
    with TestClient(app) as client:
        created = client.post(
            "/support/chatkit", content=body("threads.create", input=user_input("hi"))
        )
        assert events(created.text)[-1]["item"]["content"][0]["text"] == "ok"
