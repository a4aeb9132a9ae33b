"""How to run the server: one configuration, from flags and environment variables alike.

Each setting is a field of `Config` with a flag (`--field-name`) and an environment variable
(its validation alias). pydantic-settings validates both the same way; a bad value is one line
naming the flag, the variable and what is allowed.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from chatkit_proto.errors import ConfigError
from chatkit_stores.postgres import check_schema_name

from .ratelimit import check_storage_uri, parse_rate

MAX_REQUEST_BYTES = 1024 * 1024
LOCAL_USER = "local"
STORE_SCHEMES = ("sqlite:///", "postgresql://", "postgres://")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
# Never echoed back in an error message: they may hold a key or a password.
SECRET_FIELDS = frozenset({"jwt_secret", "rate_limit_storage"})


def _setting(default: Any, env: str, help: str) -> Any:
    """A field settable by its own name (flags, code) or by the environment variable `env`."""
    return Field(default, validation_alias=AliasChoices(env), description=help)


class Config(BaseSettings):
    """Every field has a flag and an environment variable."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid", validate_by_name=True)

    host: str = _setting("127.0.0.1", "HOST", "address to listen on")
    port: Annotated[int, Field(ge=0, le=65535)] = _setting(8000, "PORT", "TCP port")
    store: str | None = _setting(
        None,
        "DATABASE_URL",
        "memory, sqlite:///PATH, a file path or postgresql://… (default: SQLite in the data dir)",
    )
    app: str = _setting("tasks", "CHATKIT_APP", "tasks, conformance, or module:attribute")
    model_script: str | None = _setting(
        None, "MODEL_SCRIPT", "play this model script instead of calling a model"
    )
    data_dir: str = _setting("data", "DATA_DIR", "where the database, attachments and key live")
    mcp_config: str | None = _setting(None, "MCP_CONFIG", "MCP servers for the tasks app's agent")
    model_timeout_seconds: Annotated[float, Field(gt=0)] = _setting(
        60.0, "MODEL_TIMEOUT_SECONDS", "longest wait for a model provider's next response chunk"
    )
    model_max_retries: Annotated[int, Field(ge=0)] = _setting(
        2, "MODEL_MAX_RETRIES", "retries of a failed model call (connection errors, 429, 5xx)"
    )
    log_level: LogLevel = _setting("INFO", "LOG_LEVEL", "DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_format: Literal["text", "json"] = _setting("text", "LOG_FORMAT", "text or json")
    ping_seconds: Annotated[float, Field(ge=0)] = _setting(
        15.0, "PING_SECONDS", "seconds between keep-alive comments on a silent stream; 0 disables"
    )
    max_request_bytes: Annotated[int, Field(gt=0)] = _setting(
        MAX_REQUEST_BYTES, "MAX_REQUEST_BYTES", "largest request body accepted"
    )
    user_id: str = _setting(LOCAL_USER, "CHATKIT_LOCAL_USER", "the one user without auth")
    stream_lease_seconds: Annotated[float, Field(gt=0)] = _setting(
        30.0,
        "STREAM_LEASE_SECONDS",
        "how long a crashed process can keep a thread busy (D15); renewed while streaming",
    )
    rate_limit: str = _setting("", "RATE_LIMIT", "requests per user, e.g. 60/min; empty: none")
    rate_limit_window: Literal["moving", "fixed"] = _setting(
        "moving", "RATE_LIMIT_WINDOW", "how requests are counted: moving or fixed window"
    )
    rate_limit_storage: SecretStr = _setting(
        SecretStr("memory://"),
        "RATE_LIMIT_STORAGE",
        "where request counts live: memory:// (this process) or redis://HOST:PORT (shared)",
    )
    max_streams_per_user: Annotated[int, Field(ge=0)] = _setting(
        0, "MAX_STREAMS_PER_USER", "answers streaming at once per user; 0: no limit"
    )
    auth: str = _setting("none", "CHATKIT_AUTH", "who is asking: none, jwt, or module:function")
    jwt_secret: SecretStr | None = _setting(
        None, "CHATKIT_JWT_SECRET", "HS256 key of --auth jwt (at least 32 bytes)"
    )
    jwks_url: str | None = _setting(
        None, "CHATKIT_JWKS_URL", "JWKS of --auth jwt with RS256/ES256 keys (instead of a secret)"
    )
    jwks_refresh_seconds: Annotated[float, Field(ge=0)] = _setting(
        30.0, "CHATKIT_JWKS_REFRESH_SECONDS", "least seconds between refetches for an unknown kid"
    )
    jwt_issuer: str | None = _setting(None, "CHATKIT_JWT_ISSUER", "required `iss` of tokens")
    jwt_audience: str | None = _setting(None, "CHATKIT_JWT_AUDIENCE", "required `aud` of tokens")
    jwt_leeway_seconds: Annotated[float, Field(ge=0)] = _setting(
        0.0, "CHATKIT_JWT_LEEWAY_SECONDS", "clock skew allowed on exp/nbf/iat"
    )
    jwt_user_claim: str = _setting("sub", "CHATKIT_JWT_USER_CLAIM", "the claim naming the user")
    jwt_tenant_claim: str | None = _setting(
        None, "CHATKIT_JWT_TENANT_CLAIM", "the claim naming the tenant (then required)"
    )
    allow_anonymous: bool = _setting(
        False, "CHATKIT_ALLOW_ANONYMOUS", "serve a non-loopback address with --auth none"
    )
    cors_origins: tuple[str, ...] = _setting(
        (), "CORS_ORIGINS", "comma-separated origins allowed to call the API from a browser"
    )
    domain_key: str = _setting(
        "local-dev", "CHATKIT_DOMAIN_KEY", "the ChatKit widget's domain key, for the page at /"
    )
    keep_alive_seconds: Annotated[int, Field(ge=1)] = _setting(
        5, "KEEP_ALIVE_SECONDS", "how long an idle connection stays open after a response"
    )
    header_timeout_seconds: Annotated[float, Field(gt=0)] = _setting(
        10.0, "HEADER_TIMEOUT_SECONDS", "time a connection has to send its request headers"
    )
    body_timeout_seconds: Annotated[float, Field(gt=0)] = _setting(
        20.0,
        "BODY_TIMEOUT_SECONDS",
        "time a request body has to arrive, extended while it keeps up 16 KiB/s; then 408",
    )
    send_timeout_seconds: Annotated[float, Field(ge=0)] = _setting(
        30.0,
        "SEND_TIMEOUT_SECONDS",
        "drop a connection whose client stops reading for this long; 0 disables",
    )
    max_connections: Annotated[int, Field(gt=0)] = _setting(
        1000, "MAX_CONNECTIONS", "open connections; beyond it the longest-idle are closed"
    )
    db_pool_size: Annotated[int, Field(ge=1)] = _setting(
        10, "DB_POOL_SIZE", "PostgreSQL connections per server process, at most"
    )
    db_schema: str = _setting(
        "chatkit", "DB_SCHEMA", "PostgreSQL schema of the tables, created if missing"
    )
    attachments_dir: str | None = _setting(
        None,
        "ATTACHMENTS_DIR",
        "directory of attachment bytes, shared by every process (default: in PostgreSQL with "
        "a PostgreSQL store, else DATA_DIR/attachments)",
    )
    workers: Annotated[int, Field(ge=1)] = _setting(
        1, "WEB_CONCURRENCY", "server processes on one port; more than 1 needs a shared store"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what `load_config` hands over: building a `Config` in code never reads os.environ."""
        return (init_settings,)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(origin.strip() for origin in value.split(",") if origin.strip())
        return value

    @field_validator("rate_limit")
    @classmethod
    def _valid_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("rate_limit_storage")
    @classmethod
    def _valid_storage(cls, value: SecretStr) -> SecretStr:
        check_storage_uri(value.get_secret_value())
        return value

    @field_validator("auth")
    @classmethod
    def _valid_auth(cls, value: str) -> str:
        module, colon, function = value.partition(":")
        if value in ("none", "jwt") or (colon and module and function):
            return value
        raise ValueError("use none, jwt or module:function")

    @field_validator("store")
    @classmethod
    def _valid_store(cls, value: str | None) -> str | None:
        if value is None or value == "" or value == "memory":
            return value or None
        if value.startswith("memory"):
            raise ValueError(f"the in-memory store is spelt 'memory', not {value!r}")
        if "://" in value and not value.startswith(STORE_SCHEMES):
            raise ValueError("use memory, sqlite:///PATH, a file path or postgresql://…")
        return value

    @field_validator("db_schema")
    @classmethod
    def _valid_schema(cls, value: str) -> str:
        return check_schema_name(value)


def flag_of(name: str) -> str:
    """The command-line flag of a field."""
    return "--ping" if name == "ping_seconds" else "--" + name.replace("_", "-")


def env_of(field: FieldInfo) -> str:
    """The environment variable of a field."""
    alias = field.validation_alias
    assert isinstance(alias, AliasChoices)
    return str(alias.choices[0])


def load_config(argv: Sequence[str] | None, env: Mapping[str, str]) -> Config:
    """Flags win over environment variables, which win over defaults; `ConfigError` if invalid."""
    values: dict[str, object] = {}
    for name, field in Config.model_fields.items():
        if env_of(field) in env:
            values[name] = env[env_of(field)]
    values.update(vars(_parser().parse_args(argv)))
    try:
        return Config.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Serve the ChatKit protocol.", argument_default=argparse.SUPPRESS
    )
    for name, field in Config.model_fields.items():
        if name == "user_id":
            continue
        default = field.default
        shown = default.get_secret_value() if isinstance(default, SecretStr) else default
        help_text = f"{field.description} (env {env_of(field)}; default {shown!r})"
        if field.annotation is bool:
            parser.add_argument(
                flag_of(name), dest=name, action="store_const", const="true", help=help_text
            )
        else:
            parser.add_argument(flag_of(name), dest=name, help=help_text)
    return parser


def _explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        field = Config.model_fields.get(name)
        where = f"{flag_of(name)} / {env_of(field)}" if field else name
        value = error.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float) else ""
        if name in SECRET_FIELDS:
            shown = ""
        lines.append(f"{where}: {error['msg'].removeprefix('Value error, ')}{shown}")
    return "; ".join(lines)
