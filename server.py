"""The Starlette application that serves the ChatKit protocol, and its command line."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sse_starlette.event import ServerSentEvent
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Send

from agents_layer.settings import AppSettings
from chatkit_proto.app import ChatKitApp
from chatkit_proto.attachment_files import LocalAttachments
from chatkit_proto.codec import dump_json
from chatkit_proto.context import RequestContext
from chatkit_proto.dispatch import (
    AttachmentService,
    ChatKitServer,
    JSONResult,
    ServerOptions,
    error_result,
)
from chatkit_proto.errors import InvalidRequest, NotFound, ProtocolError
from chatkit_proto.store.base import NotFoundError, Store
from chatkit_proto.store.memory import MemoryStore
from chatkit_web.auth import Authenticator, authenticator_from_env
from chatkit_web.logs import configure_logging, log_request
from chatkit_web.ratelimit import RateLimiter, parse_rate

logger = logging.getLogger("chatkit.server")

BUILTIN_APPS = {
    "tasks": "agents_layer.apps.tasks:create_app",
    "conformance": "agents_layer.apps.conformance:create_app",
}
MAX_REQUEST_BYTES = 1024 * 1024
LOCAL_USER = "local"


@dataclass(frozen=True, slots=True)
class Config:
    """How to run the server; every field has a flag and an environment variable."""

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


# -- building blocks ------------------------------------------------------------------------


def open_store(spec: str | None, data_dir: Path) -> Store:
    """`memory`, `sqlite:///path`, a bare file path, or (default) SQLite in the data dir."""
    if spec == "memory":
        return MemoryStore()
    from chatkit_stores.sqlite import SQLiteStore

    if spec is None or spec == "":
        return SQLiteStore(data_dir / "chatkit.db")
    if spec.startswith("sqlite:///"):
        return SQLiteStore(Path(spec.removeprefix("sqlite:///")))
    if "://" in spec:
        scheme = spec.split("://", 1)[0]
        raise SystemExit(f"unsupported store {scheme}://… (use memory, sqlite:///PATH or a path)")
    return SQLiteStore(Path(spec))


def load_app(spec: str, settings: AppSettings) -> ChatKitApp:
    """Import `module:attribute` (or a built-in name) and build the app from it."""
    target = BUILTIN_APPS.get(spec, spec)
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise SystemExit(f"--app must be a built-in name or module:attribute, got {spec!r}")
    factory = getattr(importlib.import_module(module_name), attribute)
    try:
        app = factory if isinstance(factory, ChatKitApp) else factory(settings)
    except ValueError as exc:
        # Configuration mistakes (a bad model script, MCP config, provider settings) are
        # reported as one clear line, not a traceback.
        raise SystemExit(f"cannot start {spec}: {exc}") from None
    if not isinstance(app, ChatKitApp):
        raise SystemExit(f"{spec} did not produce a ChatKitApp")
    return app


def attachment_secret(data_dir: Path, env: Mapping[str, str]) -> bytes:
    """The key that signs upload/download URLs: from CHATKIT_SECRET, else kept in the data dir."""
    if env.get("CHATKIT_SECRET"):
        return env["CHATKIT_SECRET"].encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


class _EventStream(EventSourceResponse):
    """sse-starlette's response (pings, disconnects, shutdown), minus one idle cost per frame."""

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        # Without a send timeout, the cancel scope sse-starlette opens around every send is
        # a no-op that still costs microseconds per frame, the largest share of its overhead.
        if self.send_timeout is None:
            await send(message)
        else:
            await super()._send_with_timeout(send, message)


class _PingComment(ServerSentEvent):
    """A bare `: ping` comment line (D10): no blank line follows, so nothing is dispatched."""

    def encode(self) -> bytes:
        return b": ping\n"


# -- the application ------------------------------------------------------------------------


def create_app(config: Config, env: Mapping[str, str] | None = None) -> Starlette:
    """Build the Starlette app for a configuration."""
    env = dict(os.environ if env is None else env)
    data_dir = Path(config.data_dir)
    store = open_store(config.store, data_dir)
    settings = AppSettings(
        store=store,
        data_dir=data_dir,
        model_script=Path(config.model_script) if config.model_script else None,
        mcp_config=Path(config.mcp_config) if config.mcp_config else None,
        env=env,
    )
    chat_app = load_app(config.app, settings)
    files = LocalAttachments(data_dir / "attachments", attachment_secret(data_dir, env))
    service: AttachmentService = getattr(chat_app, "attachments", None) or files
    options = ServerOptions(stream_lease_seconds=config.stream_lease_seconds)
    server = ChatKitServer(chat_app, store, service, options)
    auth: Authenticator = authenticator_from_env(env, config.user_id)
    limiter: RateLimiter | None = parse_rate(config.rate_limit)

    def caller(request: Request) -> str:
        """The authenticated user, within their rate limit; raises `ProtocolError`."""
        user_id = auth.identify(request.headers).user_id
        if limiter is not None:
            limiter.check(user_id)
        return user_id

    def context(request: Request, user_id: str | None = None) -> RequestContext:
        return RequestContext(
            user_id=user_id or config.user_id,
            locale=request.headers.get("accept-language"),
            base_url=_base_url(request),
        )

    async def chatkit(request: Request) -> Response:
        started = time.perf_counter()
        try:
            user_id = caller(request)
            body = await _read_body(request, config.max_request_bytes)
        except ProtocolError as exc:
            return _answer(error_result(exc), started)
        except ClientDisconnect:
            return Response(status_code=499)
        result = await server.process(body, context(request, user_id))
        if isinstance(result, JSONResult):
            return _answer(result, started)
        frames = _logged(result.frames, result.request_type, result.thread_id, started)
        ping = {"ping_message_factory": _PingComment} if config.ping_seconds else {}
        return _EventStream(frames, sep="\n", ping=config.ping_seconds, **ping)

    async def direct_upload(request: Request) -> Response:
        try:
            ctx = context(request, caller(request))
        except ProtocolError as exc:
            return _error(exc)
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return _error(InvalidRequest("Send the file as a multipart part named 'file'"))
        data = await upload.read()
        try:
            record = files.record_for_upload(
                upload.filename or "upload",
                upload.content_type or "application/octet-stream",
                len(data),
                ctx,
            )
        except ProtocolError as exc:
            return _error(exc)
        await files.write(ctx.user_id, record.id, data)
        await store.save_attachment(record, ctx)
        return Response(dump_json(record), media_type="application/json")

    async def two_phase_upload(request: Request) -> Response:
        attachment_id = request.path_params["attachment_id"]
        owner = request.query_params.get("owner", "")
        token = request.headers.get("x-upload-token", "")
        if not files.verify("upload", owner, attachment_id, token):
            return _error(NotFound("Attachment"))
        ctx = context(request, owner)
        try:
            record = await store.load_attachment(attachment_id, ctx)
        except NotFoundError:
            return _error(NotFound("Attachment"))
        data = await _upload_bytes(request, files.limits.max_bytes)
        files.limits.check(len(data), record.mime_type)
        await files.write(owner, attachment_id, data)
        record.upload_descriptor = None
        await store.save_attachment(record, ctx)
        return Response(dump_json(record), media_type="application/json")

    async def download(request: Request) -> Response:
        attachment_id = request.path_params["attachment_id"]
        owner = request.query_params.get("owner", "")
        try:
            expires = int(request.query_params.get("expires", "0"))
        except ValueError:
            expires = 0
        signature = request.query_params.get("sig", "")
        if not expires or not files.verify("download", owner, attachment_id, signature, expires):
            return _error(NotFound("Attachment"))
        try:
            record = await store.load_attachment(attachment_id, context(request, owner))
        except NotFoundError:
            return _error(NotFound("Attachment"))
        path = files.path(owner, attachment_id)
        if not path.exists():
            return _error(NotFound("Attachment"))
        # User-supplied bytes served from our origin: never let a browser run them.
        inline = record.mime_type.startswith("image/") and record.mime_type != "image/svg+xml"
        return FileResponse(
            path,
            media_type=record.mime_type,
            filename=record.name,
            content_disposition_type="inline" if inline else "attachment",
            headers={"x-content-type-options": "nosniff", "content-security-policy": "sandbox"},
        )

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await chat_app.aclose()
            await store.close()

    routes = [
        Route("/chatkit", chatkit, methods=["POST"]),
        Route("/chatkit/api", chatkit, methods=["POST"]),
        Route("/chatkit/upload", direct_upload, methods=["POST"]),
        Route("/chatkit/upload/{attachment_id}", two_phase_upload, methods=["POST", "PUT"]),
        Route("/chatkit/files/{attachment_id}", download, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    middleware = []
    if config.cors_origins:
        # The widget's page may live on another origin than this API (SPEC §1.7).
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(config.cors_origins),
                allow_methods=["GET", "POST", "PUT"],
                allow_headers=["*"],
                allow_credentials=True,
            )
        )
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.chatkit = server
    return app


def _base_url(request: Request) -> str:
    """The public root of this server as the client reached it (cheaper than `base_url`)."""
    scope = request.scope
    host = request.headers.get("host")
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = server[0] if server[1] is None else f"{server[0]}:{server[1]}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        if int(declared) > limit:
            raise ProtocolError("payload_too_large", f"Request bodies are limited to {limit} bytes")
        # The server enforces the declared length, so the body can be read in one go.
        return await request.body()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError("payload_too_large", f"Request bodies are limited to {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _upload_bytes(request: Request, limit: int) -> bytes:
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise InvalidRequest("Send the file as a multipart part named 'file'")
        return await upload.read()
    return await _read_body(request, limit)


async def _logged(
    frames: AsyncIterator[bytes], request_type: str | None, thread_id: str | None, started: float
) -> AsyncIterator[bytes]:
    outcome = "cancelled"
    try:
        async for frame in frames:
            yield frame
        outcome = "completed"
    finally:
        log_request(request_type, thread_id, 200, started, outcome)


def _answer(result: JSONResult, started: float) -> Response:
    log_request(result.request_type, result.thread_id, result.status, started)
    return Response(
        result.body,
        status_code=result.status,
        media_type="application/json",
        headers=result.headers,
    )


def _error(error: ProtocolError) -> Response:
    result = error_result(error)
    return Response(
        result.body,
        status_code=result.status,
        media_type="application/json",
        headers=result.headers,
    )


# -- command line ---------------------------------------------------------------------------


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
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server under uvicorn."""
    config = parse_config(argv, os.environ)
    configure_logging(config.log_level, config.log_format)
    app = create_app(config)
    logger.info("serving %s on http://%s:%s/chatkit", config.app, config.host, config.port)
    uvicorn.run(app, host=config.host, port=config.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
