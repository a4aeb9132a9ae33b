"""The command line: start-up lines, worker processes and the settings handed to them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest

from chatkit_proto.errors import ConfigError
from chatkit_web.cli import check_workers, config_environment, describe_attachments, describe_store
from chatkit_web.config import Config, load_config
from tests.chatkit_web.processes import ROOT, ServerProcess, free_port, streamed, user_input
from tests.pg import POSTGRES_URL

HELD_APP = "tests.chatkit_web.held_app:create_app"


def test_the_store_line_names_host_and_database_never_the_password() -> None:
    url = "postgresql://chatkit:s3cret-pw@db.example:6543/app?sslmode=require&password=x2"
    config = Config(store=url, db_schema="support")
    line = describe_store(config)
    assert line == "PostgreSQL db.example:6543/app, schema support"
    assert describe_attachments(config) == "in the PostgreSQL database"
    shared = Config(store=url, attachments_dir="/srv/shared")
    assert describe_attachments(shared) == "/srv/shared"
    assert describe_store(Config(store="postgres://localhost")) == (
        "PostgreSQL localhost/(default database), schema chatkit"
    )


def test_the_store_line_of_sqlite_and_memory(tmp_path: Path) -> None:
    assert describe_store(Config(store="memory")) == "in memory (lost on exit)"
    assert describe_store(Config(data_dir=str(tmp_path))) == f"SQLite {tmp_path / 'chatkit.db'}"
    assert describe_store(Config(store=f"sqlite:///{tmp_path}/x.db")) == f"SQLite {tmp_path}/x.db"


def test_workers_rebuild_the_parents_configuration_from_the_environment() -> None:
    config = load_config(
        [
            *("--store", "postgresql://u:p@h/db", "--db-schema", "s1", "--workers", "3"),
            *("--cors-origins", "https://a.example,https://b.example", "--ping", "2.5"),
            *("--app", "conformance", "--log-level", "debug", "--stream-lease-seconds", "7"),
        ],
        {"CHATKIT_LOCAL_USER": "me"},
    )
    assert load_config([], config_environment(config)) == config
    assert "MODEL_SCRIPT" not in config_environment(config)


def test_workers_with_the_memory_store_are_refused() -> None:
    with pytest.raises(ConfigError, match="each worker would keep its own threads in memory"):
        check_workers(Config(store="memory", workers=2))
    check_workers(Config(store="memory"))
    check_workers(Config(workers=2))


def test_the_command_line_refuses_workers_on_memory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "--store", "memory", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--workers / WEB_CONCURRENCY" in done.stderr


async def tagged_sessions(application_name: str) -> int:
    """How many sessions the server's processes have open."""
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
                application_name,
            )
        )
    finally:
        await connection.close()


def exercise(url: str, threads: int) -> None:
    """Create threads through one port, then find, continue and list every one of them."""
    created = []
    for n in range(threads):
        answer = httpx.post(
            f"{url}/chatkit",
            content=json.dumps(
                {"type": "threads.create", "params": {"input": user_input(f"hi {n}")}}
            ),
            timeout=30,
        )
        created.append(streamed(answer)[0]["thread"]["id"])
    for thread_id in created:
        request = {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input("again")},
        }
        answer = httpx.post(f"{url}/chatkit", content=json.dumps(request), timeout=30)
        assert streamed(answer)[-1]["item"]["content"][0]["text"] == "ok"
    listed = httpx.post(
        f"{url}/chatkit",
        content=json.dumps({"type": "threads.list", "params": {"limit": 50, "order": "asc"}}),
        timeout=30,
    )
    assert [t["id"] for t in listed.json()["data"]] == created


def test_server_py_with_workers_on_postgresql(pg_dsn: str, pg_schema: str, tmp_path: Path) -> None:
    server = ServerProcess(
        *("--store", pg_dsn, "--db-schema", pg_schema, "--workers", "2", "--app", HELD_APP),
        data_dir=tmp_path,
    )
    try:
        # Each worker opened a pool of its own at start-up: two processes, one database.
        deadline = time.monotonic() + 30
        while asyncio.run(tagged_sessions(pg_schema)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert asyncio.run(tagged_sessions(pg_schema)) >= 2
        exercise(server.url, 6)
    finally:
        server.stop()
    assert server.process.returncode == 0


def test_uvicorn_factory_with_workers_reads_the_environment(
    pg_dsn: str, pg_schema: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": pg_dsn,
        "DB_SCHEMA": pg_schema,
        "CHATKIT_APP": HELD_APP,
        "DATA_DIR": str(tmp_path),
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "server:create_app", "--factory"]
    process = subprocess.Popen(
        [*command, "--workers", "2", "--port", str(port), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        exercise(url, 4)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
