"""How to run the server: one configuration, read from flags and environment variables."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

MAX_REQUEST_BYTES = 1024 * 1024
LOCAL_USER = "local"


@dataclass(frozen=True, slots=True)
class Config:
    """Every field has a flag and an environment variable."""

    host: str = "127.0.0.1"
    port: int = 8000
    store: str | None = None
    app: str = "tasks"
    model_script: str | None = None
    data_dir: str = "data"
    mcp_config: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    ping_seconds: float = 15.0
    max_request_bytes: int = MAX_REQUEST_BYTES
    user_id: str = LOCAL_USER
    stream_lease_seconds: float = 30.0
    rate_limit: str = ""
    cors_origins: tuple[str, ...] = ()
    domain_key: str = "local-dev"


def parse_config(argv: Sequence[str] | None, env: Mapping[str, str]) -> Config:
    """Flags win over environment variables, which win over defaults."""
    defaults = Config()
    parser = argparse.ArgumentParser(description="Serve the ChatKit protocol.")
    option: Callable[..., object] = parser.add_argument
    option("--host", default=env.get("HOST", defaults.host))
    option("--port", type=int, default=int(env.get("PORT", defaults.port)))
    option(
        "--store",
        default=env.get("DATABASE_URL"),
        help="memory, sqlite:///PATH or a file path (default: SQLite in the data dir)",
    )
    option(
        "--app",
        default=env.get("CHATKIT_APP", defaults.app),
        help="tasks, conformance, or module:attribute",
    )
    option(
        "--model-script",
        default=env.get("MODEL_SCRIPT"),
        help="play this model script instead of calling a model",
    )
    option("--data-dir", default=env.get("DATA_DIR", defaults.data_dir))
    option("--mcp-config", default=env.get("MCP_CONFIG"))
    option("--log-level", default=env.get("LOG_LEVEL", defaults.log_level))
    option("--log-format", choices=["text", "json"], default=env.get("LOG_FORMAT", "text"))
    option(
        "--ping",
        type=float,
        default=float(env.get("PING_SECONDS", defaults.ping_seconds)),
        help="seconds between keep-alive comments on a silent stream; 0 disables",
    )
    option(
        "--stream-lease-seconds",
        type=float,
        default=float(env.get("STREAM_LEASE_SECONDS", defaults.stream_lease_seconds)),
        help="how long a crashed process can keep a thread busy (D15); renewed while streaming",
    )
    option(
        "--rate-limit",
        default=env.get("RATE_LIMIT", ""),
        help="requests per user, e.g. 60/min (default: no limit)",
    )
    option(
        "--cors-origins",
        default=env.get("CORS_ORIGINS", ""),
        help="comma-separated origins allowed to call the API from a browser",
    )
    option(
        "--domain-key",
        default=env.get("CHATKIT_DOMAIN_KEY", defaults.domain_key),
        help="the ChatKit widget's domain key (OpenAI's domain allow-list) for the / page",
    )
    args = parser.parse_args(argv)
    return Config(
        host=args.host,
        port=args.port,
        store=args.store,
        app=args.app,
        model_script=args.model_script,
        data_dir=args.data_dir,
        mcp_config=args.mcp_config,
        log_level=args.log_level,
        log_format=args.log_format,
        ping_seconds=args.ping,
        stream_lease_seconds=args.stream_lease_seconds,
        rate_limit=args.rate_limit,
        cors_origins=tuple(
            origin.strip() for origin in args.cors_origins.split(",") if origin.strip()
        ),
        domain_key=args.domain_key,
    )
