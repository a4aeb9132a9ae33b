"""Settings from flags and environment: precedence, validation, one-line errors."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from chatkit_proto.errors import ConfigError
from chatkit_web.cli import bind
from chatkit_web.config import Config, load_config

ROOT = Path(__file__).parents[2]


def test_defaults_without_flags_or_environment() -> None:
    assert load_config([], {}) == Config()


def test_flags_win_over_the_environment() -> None:
    config = load_config(["--port", "9001"], {"PORT": "9000", "LOG_LEVEL": "debug"})
    assert (config.port, config.log_level) == (9001, "DEBUG")


def test_environment_names_map_to_fields() -> None:
    env = {"DATABASE_URL": "memory", "CHATKIT_APP": "conformance", "CORS_ORIGINS": "a, b,"}
    config = load_config([], env)
    assert (config.store, config.app, config.cors_origins) == ("memory", "conformance", ("a", "b"))


def test_memory_store_is_kept_as_memory() -> None:
    assert load_config(["--store", "memory"], {}).store == "memory"


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--log-level", "nope"], {}, "--log-level / LOG_LEVEL: Input should be"),
        (["--rate-limit", "10/fortnight"], {}, "--rate-limit / RATE_LIMIT: a rate limit looks"),
        ([], {"PORT": "abc"}, "--port / PORT: Input should be a valid integer"),
        (["--store", "memory:"], {}, "--store / DATABASE_URL: the in-memory store is spelt"),
        (["--store", "mysql://x"], {}, "--store / DATABASE_URL: use memory"),
        (["--ping", "-1"], {}, "--ping / PING_SECONDS: Input should be greater than"),
    ],
)
def test_a_bad_value_names_the_setting(argv: list[str], env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(argv, env)
    assert caught.value.message.startswith(expected)


def test_a_busy_port_is_a_config_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            bind("127.0.0.1", port)


@pytest.mark.parametrize("argv", [["--log-level", "nope"], ["--app", "pkg:missing"]])
def test_the_command_line_exits_2_with_one_line(argv: list[str], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *argv, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("chatkit-server: ")


@pytest.mark.parametrize(
    "url", ["postgresql://chatkit@localhost/chatkit", "postgres://u:p@db.example:6543/app"]
)
def test_a_postgresql_url_is_a_store(url: str) -> None:
    assert load_config(["--store", url], {}).store == url
    assert load_config([], {"DATABASE_URL": url}).store == url


def test_deployment_settings_from_the_environment() -> None:
    env = {
        "DB_POOL_SIZE": "4",
        "DB_SCHEMA": "support_bot",
        "ATTACHMENTS_DIR": "/srv/shared",
        "WEB_CONCURRENCY": "3",
    }
    config = load_config([], env)
    assert (config.db_pool_size, config.db_schema) == (4, "support_bot")
    assert (config.attachments_dir, config.workers) == ("/srv/shared", 3)
    assert (Config().db_schema, Config().workers, Config().attachments_dir) == ("chatkit", 1, None)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--db-schema", "Chat-Kit"], "--db-schema / DB_SCHEMA: schema must be a lowercase"),
        (["--db-schema", "pg_catalog"], "--db-schema / DB_SCHEMA: schema must be a lowercase"),
        (["--db-pool-size", "0"], "--db-pool-size / DB_POOL_SIZE: Input should be greater"),
        (["--workers", "0"], "--workers / WEB_CONCURRENCY: Input should be greater"),
    ],
)
def test_a_bad_deployment_setting_names_it(argv: list[str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(argv, {})
    assert caught.value.message.startswith(expected)
