"""The Starlette application: routes, middleware, error handlers and the store's lifespan."""

from __future__ import annotations

import os
from collections.abc import Mapping

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from .attachments import DIRECT_UPLOAD_PATH, FILES_PATH, UPLOAD_PATH
from .config import Config, load_config
from .deadlines import BodyDeadline
from .downloads import download
from .endpoint import chatkit_endpoint
from .errors import EXCEPTION_HANDLERS
from .health import healthz
from .mounting import OpenOnFirstRequest, lifespan
from .origins import OriginCheck
from .pages import PAGE_ROUTES
from .request_log import RequestLogMiddleware
from .services import build_services
from .uploads import direct_upload, two_phase_upload

ROUTES = [
    Route("/chatkit", chatkit_endpoint, methods=["POST"]),
    Route("/chatkit/api", chatkit_endpoint, methods=["POST"]),
    Route(DIRECT_UPLOAD_PATH, direct_upload, methods=["POST"]),
    Route(UPLOAD_PATH, two_phase_upload, methods=["POST", "PUT"]),
    Route(FILES_PATH, download, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    *PAGE_ROUTES,
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
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.services = services
    return app


def _middleware(config: Config) -> list[Middleware]:
    # Outermost first: every request is logged once, preflights and refusals included; a
    # cross-site request is refused before CORS or any route sees it.
    middleware = [
        Middleware(RequestLogMiddleware),
        Middleware(OriginCheck, allowed=config.cors_origins),
    ]
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
    middleware.append(Middleware(BodyDeadline, seconds=config.body_timeout_seconds))
    return middleware
