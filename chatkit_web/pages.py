"""The browser pages: `/` embeds the ChatKit widget, `/inspector` speaks the protocol itself.

Both pages are plain files under `static/`; the server fills in one JSON block of settings
(where the API is, which app runs, whether a bearer token is needed) and serves the
protocol's JSON Schema for the inspector's validator.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from chatkit_proto.schema import build_schema, render

from .attachments import DIRECT_UPLOAD_PATH
from .auth import SingleUser
from .services import services_of

STATIC_DIR = Path(__file__).parent / "static"
API_PATH = "/chatkit"
INSPECTOR_PATH = "/inspector"
SCHEMA_PATH = "/inspector/chatkit.schema.json"
# The ChatKit web component, as OpenAI's quick start loads it.
WIDGET_SCRIPT_URL = "https://cdn.platform.openai.com/deployments/chatkit/chatkit.js"
_SETTINGS_SLOT = "{{PAGE_SETTINGS}}"

_PAGE_HEADERS = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}
# The inspector loads nothing from elsewhere; Ajv compiles validators with `new Function`.
_INSPECTOR_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self'; "
    "img-src 'self' data: blob: https: http:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


class PageSettings(BaseModel):
    """What a page needs to know about this server; paths are relative to its origin."""

    app: str
    api_path: str = API_PATH
    upload_path: str = DIRECT_UPLOAD_PATH
    inspector_path: str = INSPECTOR_PATH
    schema_path: str = SCHEMA_PATH
    widget_script_url: str = WIDGET_SCRIPT_URL
    domain_key: str
    auth: Literal["none", "bearer"]


async def widget_page(request: Request) -> Response:
    """The ChatKit widget pointed at this server."""
    return _page("widget.html", _settings(request), {})


async def inspector_page(request: Request) -> Response:
    """The protocol inspector: threads, chat, widgets and a schema-checked event log."""
    return _page("inspector.html", _settings(request), {"content-security-policy": _INSPECTOR_CSP})


async def schema_document(request: Request) -> Response:
    """The protocol's JSON Schema (draft 2020-12), as `python -m chatkit_proto.schema` writes it."""
    return Response(_schema_text(), media_type="application/schema+json")


def _settings(request: Request) -> PageSettings:
    services = services_of(request)
    return PageSettings(
        app=services.config.app,
        domain_key=services.config.domain_key,
        auth="none" if isinstance(services.auth, SingleUser) else "bearer",
    )


def _page(name: str, settings: PageSettings, headers: dict[str, str]) -> Response:
    html = _template(name).replace(_SETTINGS_SLOT, script_json(settings), 1)
    return HTMLResponse(html, headers={**_PAGE_HEADERS, **headers})


def script_json(settings: PageSettings) -> str:
    """The settings as JSON that cannot end the `<script>` element holding it."""
    # JSON allows \u003c wherever `<` may appear, which is only inside strings.
    return settings.model_dump_json().replace("<", "\\u003c")


@cache
def _template(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


@cache
def _schema_text() -> str:
    return render(build_schema())


PAGE_ROUTES: list[BaseRoute] = [
    Route("/", widget_page, methods=["GET"]),
    Route(INSPECTOR_PATH, inspector_page, methods=["GET"]),
    Route(SCHEMA_PATH, schema_document, methods=["GET"]),
    Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
]
