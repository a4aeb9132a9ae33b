"""The command line: `chatkit-server` / `python server.py`, serving under uvicorn."""

from __future__ import annotations

import logging
import os
import socket
import sys
from collections.abc import Sequence

import uvicorn

from chatkit_proto.errors import ConfigError

from .auth import refuse_anonymous_exposure
from .config import Config, load_config
from .connections import ServerConfig, connection_cap
from .factory import create_app
from .logs import configure_logging

logger = logging.getLogger("chatkit.server")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server; a configuration mistake is one line on stderr and exit status 2."""
    try:
        config = load_config(argv, os.environ)
        configure_logging(config.log_level, config.log_format)
        refuse_anonymous_exposure(config)
        sock = bind(config.host, config.port)
        app = create_app(config)
    except ConfigError as exc:
        print(f"chatkit-server: {exc.message}", file=sys.stderr)
        raise SystemExit(2) from None
    announce(config, sock)
    server = uvicorn.Server(server_config(config, app))
    server.run(sockets=[sock])


def server_config(config: Config, app: object) -> uvicorn.Config:
    """uvicorn's settings: our timeouts and connection cap, no access log, no WebSockets."""
    return ServerConfig(
        app,
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
    logger.info("attachments: %s", os.path.abspath(os.path.join(config.data_dir, "attachments")))
    if not os.environ.get("CHATKIT_SECRET"):
        logger.info("signing key: %s", os.path.abspath(os.path.join(config.data_dir, "secret.key")))
    logger.info(
        "serving %s: open %s/ or %s/inspector (API %s/chatkit)", config.app, root, root, root
    )


def describe_store(config: Config) -> str:
    """Where threads are kept, without any password a database URL may carry."""
    spec = config.store
    if spec == "memory":
        return "in memory (lost on exit)"
    if spec is None:
        return f"SQLite {os.path.abspath(os.path.join(config.data_dir, 'chatkit.db'))}"
    return f"SQLite {os.path.abspath(spec.removeprefix('sqlite:///'))}"
