"""Everything the routes share, built once from a configuration."""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.requests import Request

from agents_layer.settings import AppSettings
from chatkit_proto.errors import ConfigError
from chatkit_proto.server import ChatKitServer
from chatkit_proto.store.base import Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_proto.store.records import MemoryRecords, RecordStore
from chatkit_stores.files import AttachmentFiles, LocalFiles
from chatkit_stores.postgres import PostgresStore
from chatkit_stores.postgres_files import PostgresFiles
from chatkit_stores.postgres_records import PostgresRecords
from chatkit_stores.sqlite import SQLiteStore
from chatkit_stores.sqlite_records import SQLiteRecords

from .attachments import HostedAttachments
from .auth import Authenticator, authenticator_from_config
from .config import Config
from .ratelimit import UserLimits, limits_from_config
from .signing import URLSigner, load_secret

BUILTIN_APPS = {
    "tasks": "agents_layer.apps.tasks:create_app",
    "conformance": "agents_layer.apps.conformance:create_app",
}
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


@dataclass(frozen=True, slots=True)
class Backend:
    """Where data lives, all on one database: threads, apps' records, attachment bytes."""

    store: Store
    records: RecordStore
    files: AttachmentFiles

    async def open(self) -> None:
        """Open the store, then the records that may live on its connections."""
        await self.store.open()
        try:
            await self.records.open()
        except BaseException:
            await self.store.close()
            raise

    async def close(self) -> None:
        """Close the records, then the store."""
        try:
            await self.records.close()
        finally:
            await self.store.close()


@dataclass(slots=True, eq=False)
class Services:
    """The protocol server and what the HTTP side needs around it.

    Opened by the application's lifespan, or by its first request when it is mounted in
    another application whose start-up never reaches it.
    """

    config: Config
    server: ChatKitServer
    backend: Backend
    attachments: HostedAttachments
    auth: Authenticator
    limiter: UserLimits
    _opened: bool = field(default=False, init=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)

    @property
    def store(self) -> Store:
        """The thread store."""
        return self.backend.store

    @property
    def opened(self) -> bool:
        """Whether the store is open."""
        return self._opened

    async def open(self) -> None:
        """Open the store once, however many requests ask at the same time."""
        if self._opened:
            return
        async with self._lock:
            if not self._opened:
                await self.backend.open()
                self._opened = True

    async def close(self) -> None:
        """End the open streams, close the app, then the store both may still use."""
        async with self._lock:
            try:
                await self.server.shutdown()
                await self.server.aclose()
            finally:
                if self._opened:
                    self._opened = False
                    await self.backend.close()


def build_services(config: Config, env: Mapping[str, str]) -> Services:
    """Open nothing yet: build the store, the app and the HTTP helpers for a configuration."""
    data_dir = Path(config.data_dir)
    backend = build_backend(config)
    attachments = HostedAttachments(backend.files, URLSigner(load_secret(data_dir, env)))
    settings = AppSettings(
        store=backend.store,
        records=backend.records,
        attachment_store=attachments,
        data_dir=data_dir,
        model_script=Path(config.model_script) if config.model_script else None,
        mcp_config=Path(config.mcp_config) if config.mcp_config else None,
        env=_app_environment(config, env),
    )
    server = load_app(config.app, settings)
    # An app ported from elsewhere may not pass the attachment store on: uploads still work.
    if server.attachment_store is None:
        server.attachment_store = attachments
    server.options.stream_lease_seconds = config.stream_lease_seconds
    if server.store is not backend.store:
        # The app brought a store of its own: that is the one the server opens and closes.
        backend = dataclasses.replace(backend, store=server.store)
    return Services(
        config=config,
        server=server,
        backend=backend,
        attachments=attachments,
        auth=authenticator_from_config(config),
        limiter=limits_from_config(config),
    )


def _app_environment(config: Config, env: Mapping[str, str]) -> dict[str, str]:
    """The environment apps read providers from, with the model settings as validated here."""
    return {
        **env,
        "MODEL_TIMEOUT_SECONDS": str(config.model_timeout_seconds),
        "MODEL_MAX_RETRIES": str(config.model_max_retries),
    }


def services_of(request: Request) -> Services:
    """The services of the application serving this request."""
    services: Services = request.app.state.services
    return services


def build_backend(config: Config) -> Backend:
    """`memory`, PostgreSQL, or an SQLite file; attachment bytes where every process reads them."""
    shared = Path(config.attachments_dir) if config.attachments_dir else None
    local = LocalFiles(shared or Path(config.data_dir) / "attachments")
    if config.store == "memory":
        return Backend(MemoryStore(), MemoryRecords(), local)
    if is_postgres(config.store):
        store = PostgresStore(
            str(config.store), max_size=config.db_pool_size, schema=config.db_schema
        )
        return Backend(store, PostgresRecords(store), local if shared else PostgresFiles(store))
    path = sqlite_path(config)
    return Backend(SQLiteStore(path), SQLiteRecords(path), local)


def is_postgres(spec: str | None) -> bool:
    """Whether a store setting names a PostgreSQL database."""
    return spec is not None and spec.startswith(POSTGRES_SCHEMES)


def sqlite_path(config: Config) -> Path:
    """The SQLite file of a configuration: `sqlite:///path`, a bare path, or in the data dir."""
    if not config.store:
        return Path(config.data_dir) / "chatkit.db"
    return Path(config.store.removeprefix("sqlite:///"))


def load_app(spec: str, settings: AppSettings) -> ChatKitServer:
    """Import `module:attribute` (or a built-in name) and build the app's server from it.

    The attribute is a `ChatKitServer`, or a callable (a function, or a subclass) that takes
    the `AppSettings` and returns one.
    """
    factory = _import_factory(spec)
    try:
        server = factory if isinstance(factory, ChatKitServer) else factory(settings)
    except ValueError as exc:
        # Configuration mistakes (a bad model script, MCP config, provider settings) are
        # reported as one clear line, not a traceback.
        raise ConfigError(f"cannot start {spec}: {exc}") from None
    if not isinstance(server, ChatKitServer):
        raise ConfigError(f"--app {spec} did not produce a ChatKitServer")
    return server


def _import_factory(spec: str) -> Any:
    target = BUILTIN_APPS.get(spec, spec)
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise ConfigError(f"--app must be a built-in name or module:attribute, got {spec!r}")
    # `--app myapp:create_app` names a module of the directory the server was started from.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"--app {spec}: no module named {exc.name!r}") from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ConfigError(f"--app {spec}: {module_name} has no attribute {attribute!r}") from None
