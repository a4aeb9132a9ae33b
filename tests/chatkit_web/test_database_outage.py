"""A PostgreSQL restart under a running server: requests in flight fail cleanly, later ones work.

A restart is played by ending this test's own sessions (tagged with its application_name)
while a request is blocked on a lock the test holds; the PostgreSQL server itself keeps
running for everyone else.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from chatkit_web import Config, create_app
from tests.chatkit_web.live import serving
from tests.chatkit_web.processes import user_input
from tests.pg import POSTGRES_URL, terminate_sessions

LOCK_WAIT_SECONDS = 30


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """The file whose creation lets a held stream finish."""
    return tmp_path / "release"


@pytest.fixture
def url(pg_dsn: str, pg_schema: str, tmp_path: Path, release: Path) -> Iterator[str]:
    """The server on this test's schema, under uvicorn."""
    config = Config(
        store=pg_dsn,
        db_schema=pg_schema,
        app="tests.chatkit_web.held_app:create_app",
        data_dir=str(tmp_path / "data"),
    )
    with serving(create_app(config, env={"HELD_APP_RELEASE": str(release)})) as root:
        yield f"{root}/chatkit"


@pytest.fixture
async def admin(url: str, pg_schema: str) -> AsyncIterator[asyncpg.Connection]:
    """An untagged connection to the schema: it survives the 'restart'."""
    connection = await asyncpg.connect(POSTGRES_URL, server_settings={"search_path": pg_schema})
    yield connection
    await connection.close()


def body(type_: str, **params: Any) -> str:
    """A protocol request body."""
    return json.dumps({"type": type_, "params": params})


async def down_until_done(
    admin: asyncpg.Connection, application_name: str, call: asyncio.Future[Any]
) -> None:
    """End the server's sessions whenever one blocks on a lock, until `call` is done.

    The database is 'down' for as long as the call tries: its first statement and the
    store's retry on a fresh connection both lose their session.
    """
    sql = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE application_name = $1 AND wait_event_type = 'Lock'"
    )
    while not call.done():
        # Inside a transaction, statistics views keep the snapshot of their first read.
        await admin.execute("SELECT pg_stat_clear_snapshot()")
        if await admin.fetchval(sql, application_name):
            await terminate_sessions(application_name)
        await asyncio.sleep(0.01)


async def rest_of(lines: AsyncIterator[str]) -> list[dict[str, Any]]:
    """The events left in a stream."""
    return [json.loads(line[6:]) async for line in lines if line.startswith("data: ")]


async def test_a_json_request_in_flight_answers_503_then_requests_succeed(
    url: str, admin: asyncpg.Connection, pg_schema: str
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(url, content=body("threads.create", input=user_input("hi")))
        assert created.status_code == 200
        async with admin.transaction():
            await admin.execute("LOCK TABLE threads IN ACCESS EXCLUSIVE MODE")
            in_flight = asyncio.ensure_future(client.post(url, content=body("threads.list")))
            await asyncio.wait_for(down_until_done(admin, pg_schema, in_flight), LOCK_WAIT_SECONDS)
            failed = await in_flight
        assert failed.status_code == 503
        assert failed.headers["content-type"] == "application/json"
        assert failed.headers["retry-after"] == "1"
        assert failed.json()["code"] == "store.unavailable"
        assert POSTGRES_URL.split("@")[-1] not in failed.text
        listed = await client.post(url, content=body("threads.list"))
        assert listed.status_code == 200 and len(listed.json()["data"]) == 1


async def test_a_stream_in_flight_ends_with_an_error_event_then_requests_succeed(
    url: str, admin: asyncpg.Connection, pg_schema: str, release: Path
) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        request = body("threads.create", input=user_input("hold"))
        async with client.stream("POST", url, content=request) as response:
            assert response.status_code == 200
            lines = response.aiter_lines()
            seen = [json.loads((await anext(lines)).removeprefix("data: "))]
            thread_id = seen[0]["thread"]["id"]
            async with admin.transaction():
                # The held answer's completion is written to `items`: it blocks there.
                await admin.execute("LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
                release.touch()
                rest = asyncio.ensure_future(rest_of(lines))
                await asyncio.wait_for(down_until_done(admin, pg_schema, rest), LOCK_WAIT_SECONDS)
            seen += await rest
        assert seen[-1]["type"] == "error"
        assert seen[-1]["code"] == "stream.error" and seen[-1]["allow_retry"] is True

        thread = await client.post(url, content=body("threads.get_by_id", thread_id=thread_id))
        assert thread.status_code == 200
        [message] = thread.json()["items"]["data"][:1]
        assert (message["type"], message["content"][0]["text"]) == ("user_message", "hold")
        # The lease was given back once the database answered again: the thread is free.
        again = body("threads.add_user_message", thread_id=thread_id, input=user_input("more"))
        follow_up = await client.post(url, content=again)
        assert follow_up.status_code == 200
        assert [line for line in follow_up.text.splitlines() if '"ok"' in line]


async def test_connections_lost_while_idle_are_replaced_unnoticed(url: str, pg_schema: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        created = await client.post(url, content=body("threads.create", input=user_input("hi")))
        assert created.status_code == 200
        assert await terminate_sessions(pg_schema) >= 1
        listed = await client.post(url, content=body("threads.list"))
        assert listed.status_code == 200 and len(listed.json()["data"]) == 1
