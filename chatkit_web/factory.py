"""The Starlette application: routes, middleware, error handlers and the store's lifespan."""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from chatkit_proto.errors import ProtocolError

from .attachments import DIRECT_UPLOAD_PATH, FILES_PATH, UPLOAD_PATH
from .config import Config, load_config
from .downloads import download
from .endpoint import chatkit_endpoint
from .errors import http_error_handler, protocol_error_handler
from .health import healthz
from .mounting import OpenOnFirstRequest, lifespan
from .services import build_services
from .uploads import direct_upload, two_phase_upload

ROUTES = [
    Route("/chatkit", chatkit_endpoint, methods=["POST"]),
    Route("/chatkit/api", chatkit_endpoint, methods=["POST"]),
    Route(DIRECT_UPLOAD_PATH, direct_upload, methods=["POST"]),
    Route(UPLOAD_PATH, two_phase_upload, methods=["POST", "PUT"]),
    Route(FILES_PATH, download, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]


def create_app(config: Config | None = None, env: Mapping[str, str] | None = None) -> Starlette:
    """Build the application; without a configuration, from the environment's settings.

    `create_app()` is the factory of `uvicorn 'server:create_app' --factory` and gunicorn.
    """
    environ = dict(os.environ if env is None else env)
    services = build_services(config or load_config([], environ), environ)
    app = Starlette(
        routes=ROUTES,
        lifespan=lifespan,
        # Innermost, so that CORS and the other middleware wrap a store that cannot open.
        middleware=[
            *_middleware(services.config),
            Middleware(OpenOnFirstRequest, services=services),
        ],
        exception_handlers={
            ProtocolError: protocol_error_handler,
            HTTPException: http_error_handler,
        },
    )
    app.state.services = services
    return app


def _middleware(config: Config) -> list[Middleware]:
    if not config.cors_origins:
        return []
    # The widget's page may live on another origin than this API (SPEC §1.7).
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["*"],
            allow_credentials=True,
        )
    ]
