"""Serving inside another ASGI application, whose start-up never reaches a mounted app's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from chatkit_proto.errors import ProtocolError

from .errors import error_response
from .services import Services


class OpenOnFirstRequest:
    """Opens the services before the first request if no lifespan has (a mounted app).

    Requests arriving together wait for one opening; a database that cannot be reached
    answers its JSON error (503) and the next request tries again.
    """

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Open if needed, then serve."""
        if scope["type"] != "lifespan" and not self.services.opened:
            try:
                await self.services.open()
            except ProtocolError as exc:
                await error_response(exc)(scope, receive, send)
                return
        await self.app(scope, receive, send)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Keep a ChatKit application's store open while the block runs.

    The application's own lifespan; a host application mounting it calls it from its own
    (`async with chatkit_web.lifespan(chatkit): yield`) to open at start-up and close cleanly.
    """
    services: Services = app.state.services
    await services.open()
    try:
        yield
    finally:
        await services.close()
