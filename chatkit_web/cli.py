"""The command line: `chatkit-server` / `python server.py`, serving under uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from chatkit_proto.errors import ConfigError

from .auth import refuse_anonymous_exposure
from .config import Config, env_of, load_config
from .connections import ServerConfig, connection_cap
from .factory import create_app
from .gc_tuning import tune_for_serving
from .logs import configure_logging
from .services import is_postgres, sqlite_path

logger = logging.getLogger("chatkit.server")

WORKER_APP = "chatkit_web.cli:worker_app"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server; a configuration mistake is one line on stderr and exit status 2."""
    try:
        config = load_config(argv, os.environ)
        configure_logging(config.log_level, config.log_format)
        refuse_anonymous_exposure(config)
        check_workers(config)
        sock = bind(config.host, config.port)
        # Built even when workers build their own: a bad app or setting fails here, in one
        # line, and the signing key exists before the workers race to create it.
        app = create_app(config)
    except ConfigError as exc:
        print(f"chatkit-server: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
    announce(config, sock)
    if config.workers == 1:
        tune_for_serving()
        server = uvicorn.Server(server_config(config, app))
        server.run(sockets=[sock])
    else:
        serve_workers(config, sock)


def check_workers(config: Config) -> None:
    """Refuse worker processes that would not share their threads."""
    if config.workers > 1 and config.store == "memory":
        raise ConfigError(
            "--workers / WEB_CONCURRENCY: each worker would keep its own threads in memory; "
            "use a store they share (an SQLite file or postgresql://…)"
        )


def serve_workers(config: Config, sock: socket.socket) -> None:
    """`config.workers` uvicorn processes on the one socket, each configured like this one."""
    # Workers are fresh interpreters (spawned): they read their settings where uvicorn's
    # workers read theirs, from the environment, which flags are copied into.
    os.environ.update(config_environment(config))
    for name in config_unset(config):
        os.environ.pop(name, None)
    settings = server_config(config, WORKER_APP, factory=True, workers=config.workers)
    Multiprocess(settings, sockets=[sock]).run()


def worker_app() -> Starlette:
    """The application of one `--workers` process, from the settings its parent exported."""
    config = load_config([], os.environ)
    configure_logging(config.log_level, config.log_format)
    app = create_app(config)
    tune_for_serving()
    return app


def config_environment(config: Config) -> dict[str, str]:
    """The environment variables that make `load_config([], env)` rebuild `config`."""
    env: dict[str, str] = {}
    for name, field in Config.model_fields.items():
        value = getattr(config, name)
        if value is None:
            continue
        env[env_of(field)] = _environment_value(value)
    return env


def _environment_value(value: object) -> str:
    """How `load_config` reads a setting back: secrets unmasked, lists comma-joined."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def config_unset(config: Config) -> list[str]:
    """The variables of settings that are unset, so that no stale value reaches a worker."""
    return [
        env_of(field)
        for name, field in Config.model_fields.items()
        if getattr(config, name) is None
    ]


def server_config(config: Config, app: object, **extra: object) -> uvicorn.Config:
    """uvicorn's settings: our timeouts and connection cap, no access log, no WebSockets."""
    return ServerConfig(
        app,
        **extra,
        header_timeout=config.header_timeout_seconds,
        send_timeout=config.send_timeout_seconds or None,
        max_connections=connection_cap(config.max_connections),
        timeout_keep_alive=config.keep_alive_seconds,
        ws="none",
        log_config=None,
        access_log=False,
    )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything claims to be serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def announce(config: Config, sock: socket.socket) -> None:
    """Say where data lives and what to open."""
    host, port = sock.getsockname()[:2]
    root = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    logger.info("store: %s", describe_store(config))
    logger.info("attachments: %s", describe_attachments(config))
    if not os.environ.get("CHATKIT_SECRET"):
        logger.info("signing key: %s", os.path.abspath(os.path.join(config.data_dir, "secret.key")))
    if config.workers > 1:
        logger.info("workers: %d processes", config.workers)
    logger.info(
        "serving %s: open %s/ or %s/inspector (API %s/chatkit)", config.app, root, root, root
    )


def describe_store(config: Config) -> str:
    """Where threads are kept, without any password a database URL may carry."""
    if config.store == "memory":
        return "in memory (lost on exit)"
    if is_postgres(config.store):
        return f"PostgreSQL {_database(str(config.store))}, schema {config.db_schema}"
    return f"SQLite {sqlite_path(config).absolute()}"


def describe_attachments(config: Config) -> str:
    """Where attachment bytes are kept."""
    if config.attachments_dir:
        return os.path.abspath(config.attachments_dir)
    if is_postgres(config.store):
        return "in the PostgreSQL database"
    return os.path.abspath(os.path.join(config.data_dir, "attachments"))


def _database(url: str) -> str:
    """`host:port/database` of a PostgreSQL URL: never its user, password or parameters."""
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    database = parts.path.lstrip("/") or "(default database)"
    return f"{parts.hostname or 'localhost'}{port}/{database}"
