"""A stand-in ChatKit endpoint answering from data files, beside the real page routes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from chatkit_web import Config, build_services
from chatkit_web.pages import PAGE_ROUTES

from .servers import DATA


class CannedEndpoint:
    """Answers each request type from `data/<file>`: `.json` as JSON, `.jsonl` as an SSE stream."""

    def __init__(self, answers: Mapping[str, str]) -> None:
        self.answers = dict(answers)
        self.requests: list[dict[str, Any]] = []

    async def answer(self, request: Request) -> Response:
        """Record the request body and play the answer for its type."""
        body: dict[str, Any] = json.loads(await request.body())
        self.requests.append(body)
        name = self.answers.get(body["type"])
        if name is None:
            return JSONResponse({"message": "not served here", "code": "invalid_request"}, 400)
        text = (DATA / name).read_text(encoding="utf-8")
        if name.endswith(".jsonl"):
            frames = [f"data: {line}\n\n" for line in text.splitlines()]
            return StreamingResponse(iter(frames), media_type="text/event-stream")
        return Response(text, media_type="application/json")

    def sent(self, type_: str) -> list[dict[str, Any]]:
        """The params of every request of one type, in order."""
        return [body["params"] for body in self.requests if body["type"] == type_]


def canned_app(endpoint: CannedEndpoint, data_dir: Path) -> Starlette:
    """The real pages and static files, with `endpoint` as the protocol's `/chatkit`."""
    app = Starlette(routes=[Route("/chatkit", endpoint.answer, methods=["POST"]), *PAGE_ROUTES])
    app.state.services = build_services(Config(store="memory", data_dir=str(data_dir)), {})
    return app
