"""Everything the routes share, built once from a configuration."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request

from agents_layer.settings import AppSettings
from chatkit_proto.app import ChatKitApp
from chatkit_proto.dispatch import AttachmentService, ChatKitServer, ServerOptions
from chatkit_proto.errors import ConfigError
from chatkit_proto.store.base import Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_stores.files import LocalFiles
from chatkit_stores.sqlite import SQLiteStore

from .attachments import HostedAttachments
from .auth import Authenticator, authenticator_from_config
from .config import Config
from .ratelimit import UserLimits, limits_from_config
from .signing import URLSigner, load_secret

BUILTIN_APPS = {
    "tasks": "agents_layer.apps.tasks:create_app",
    "conformance": "agents_layer.apps.conformance:create_app",
}


@dataclass(frozen=True, slots=True)
class Services:
    """The protocol server and what the HTTP side needs around it."""

    config: Config
    server: ChatKitServer
    store: Store
    app: ChatKitApp
    attachments: HostedAttachments
    auth: Authenticator
    limiter: UserLimits

    async def open(self) -> None:
        """Open the store; called by the application's lifespan."""
        await self.store.open()

    async def close(self) -> None:
        """End the open streams, close the app, then the store both may still use."""
        try:
            await self.server.shutdown()
            await self.app.aclose()
        finally:
            await self.store.close()


def build_services(config: Config, env: Mapping[str, str]) -> Services:
    """Open nothing yet: build the store, the app and the HTTP helpers for a configuration."""
    data_dir = Path(config.data_dir)
    store = open_store(config.store, data_dir)
    settings = AppSettings(
        store=store,
        data_dir=data_dir,
        model_script=Path(config.model_script) if config.model_script else None,
        mcp_config=Path(config.mcp_config) if config.mcp_config else None,
        env=env,
    )
    app = load_app(config.app, settings)
    files = LocalFiles(data_dir / "attachments")
    attachments = HostedAttachments(files, URLSigner(load_secret(data_dir, env)))
    service: AttachmentService = getattr(app, "attachments", None) or attachments
    options = ServerOptions(stream_lease_seconds=config.stream_lease_seconds)
    return Services(
        config=config,
        server=ChatKitServer(app, store, service, options),
        store=store,
        app=app,
        attachments=attachments,
        auth=authenticator_from_config(config),
        limiter=limits_from_config(config),
    )


def services_of(request: Request) -> Services:
    """The services of the application serving this request."""
    services: Services = request.app.state.services
    return services


def open_store(spec: str | None, data_dir: Path) -> Store:
    """`memory`, `sqlite:///path`, a bare file path, or (default) SQLite in the data dir."""
    if spec == "memory":
        return MemoryStore()
    if spec is None or spec == "":
        return SQLiteStore(data_dir / "chatkit.db")
    if spec.startswith("sqlite:///"):
        return SQLiteStore(Path(spec.removeprefix("sqlite:///")))
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise ConfigError(f"unsupported store {scheme}://… (use memory, sqlite:///PATH or a path)")
    return SQLiteStore(Path(spec))


def load_app(spec: str, settings: AppSettings) -> ChatKitApp:
    """Import `module:attribute` (or a built-in name) and build the app from it."""
    factory = _import_factory(spec)
    try:
        app = factory if isinstance(factory, ChatKitApp) else factory(settings)
    except ValueError as exc:
        # Configuration mistakes (a bad model script, MCP config, provider settings) are
        # reported as one clear line, not a traceback.
        raise ConfigError(f"cannot start {spec}: {exc}") from None
    if not isinstance(app, ChatKitApp):
        raise ConfigError(f"--app {spec} did not produce a ChatKitApp")
    return app


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
