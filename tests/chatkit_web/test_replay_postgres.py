"""Every reference transcript replayed against `server.py --store postgresql://…`."""

from __future__ import annotations

import secrets
import sys
from collections.abc import AsyncIterator

import asyncpg
import pytest

from chatkit_conformance.replay import replay
from tests.pg import POSTGRES_URL, with_query
from tests.test_reference_replay import DEVIATIONS, REFERENCE


@pytest.fixture
async def prefix(pg_schema: str) -> AsyncIterator[str]:
    """A prefix for the schemas of this test's servers, all dropped afterwards."""
    name = f"replay_{secrets.token_hex(4)}"
    yield name
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        schemas = await connection.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", f"{name}\\_%"
        )
        for row in schemas:
            await connection.execute(f"DROP SCHEMA {row['nspname']} CASCADE")
    finally:
        await connection.close()


async def test_reference_transcripts_against_server_py_on_postgresql(prefix: str) -> None:
    dsn = with_query(POSTGRES_URL, application_name=prefix)
    command = (
        f"{sys.executable} -m tests.chatkit_web.replay_server {prefix} --app conformance "
        f"--store {dsn} --model-script {{script}} --port {{port}} --log-level WARNING"
    )
    report = await replay(REFERENCE, server_cmd=command, deviations=DEVIATIONS)
    assert report.ok, "\n".join(report.lines(verbose=True))
    assert report.passed == len(REFERENCE)
    # Each server really ran on PostgreSQL: a schema per transcript, with its threads.
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        schemas = await connection.fetchval(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1", f"{prefix}\\_%"
        )
    finally:
        await connection.close()
    assert schemas == len(REFERENCE)
