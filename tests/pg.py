"""A fresh PostgreSQL schema per test on `CHATKIT_TEST_POSTGRES_URL`, and its sessions only.

Every test gets a schema with a random name, dropped afterwards, and connects with that
name as its `application_name`, so a test can end its own sessions (as a database restart
would) without touching anyone else's.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
import pytest

POSTGRES_URL = os.environ.get("CHATKIT_TEST_POSTGRES_URL", "")
SKIP_REASON = (
    "CHATKIT_TEST_POSTGRES_URL is not set (e.g. postgresql://postgres@127.0.0.1:5432/test)"
)
requires_postgres = pytest.mark.skipif(not POSTGRES_URL, reason=SKIP_REASON)


def with_query(url: str, **params: str) -> str:
    """The URL with extra query parameters."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


@pytest.fixture
async def pg_schema() -> AsyncIterator[str]:
    """A fresh schema name (skips without PostgreSQL); dropped with everything in it."""
    if not POSTGRES_URL:
        pytest.skip(SKIP_REASON)
    name = f"chatkit_test_{secrets.token_hex(6)}"
    yield name
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    finally:
        await connection.close()


@pytest.fixture
def pg_dsn(pg_schema: str) -> str:
    """The test database URL, tagged with the schema's name as application_name."""
    return with_query(POSTGRES_URL, application_name=pg_schema)


async def terminate_sessions(application_name: str) -> int:
    """End every session tagged `application_name`, as a restart would; how many there were."""
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        ended = await connection.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = $1",
            application_name,
        )
    finally:
        await connection.close()
    return int(ended)
