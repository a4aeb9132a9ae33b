"""`GET /healthz`: the process is up and serving."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def healthz(request: Request) -> Response:
    """Answer that the server is up."""
    return JSONResponse({"status": "ok"})
