"""`/`, `/inspector`, the schema and the static files, without a browser."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chatkit_proto.schema import build_schema
from chatkit_web import Config, create_app, load_config
from chatkit_web.pages import STATIC_DIR, WIDGET_SCRIPT_URL, PageSettings, script_json

SETTINGS = re.compile(r'<script type="application/json" id="page-settings">(.*?)</script>', re.S)


def client(tmp_path: Path, env: dict[str, str] | None = None, **config: Any) -> TestClient:
    app = create_app(Config(store="memory", data_dir=str(tmp_path), **config), env=env or {})
    return TestClient(app)


def page_settings(html: str) -> dict[str, Any]:
    match = SETTINGS.search(html)
    assert match is not None
    settings: dict[str, Any] = json.loads(match[1])
    return settings


def test_the_widget_page_is_served_with_this_servers_settings(tmp_path: Path) -> None:
    response = client(tmp_path, domain_key="domain_pk_123").get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert page_settings(response.text) == {
        "app": "tasks",
        "api_path": "/chatkit",
        "upload_path": "/chatkit/upload",
        "inspector_path": "/inspector",
        "schema_path": "/inspector/chatkit.schema.json",
        "widget_script_url": WIDGET_SCRIPT_URL,
        "domain_key": "domain_pk_123",
        "auth": "none",
    }
    assert '<script type="module" src="/static/widget.js">' in response.text


def test_the_pages_say_when_a_bearer_token_is_needed(tmp_path: Path) -> None:
    with client(tmp_path, auth="jwt", jwt_secret="s" * 32) as http:
        for path in ("/", "/inspector"):
            response = http.get(path)
            assert response.status_code == 200, path
            assert page_settings(response.text)["auth"] == "bearer"
        # The pages are public; the protocol is not.
        assert http.post("/chatkit", json={"type": "threads.list", "params": {}}).status_code == 401


def test_the_inspector_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    response = client(tmp_path).get("/inspector")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert sources and all(source.startswith("/") for source in sources), sources
    assert "/static/vendor/ajv2020.bundle.js" in sources


def test_the_schema_is_the_one_the_cli_writes(tmp_path: Path) -> None:
    response = client(tmp_path).get("/inspector/chatkit.schema.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/schema+json")
    assert response.json() == json.loads(json.dumps(build_schema()))


def test_static_files_and_the_vendored_validator_with_its_licence(tmp_path: Path) -> None:
    http = client(tmp_path)
    for path in ("inspector.js", "inspector/api.js", "inspector.css", "vendor/ajv2020.bundle.js"):
        response = http.get(f"/static/{path}")
        assert response.status_code == 200, path
    assert http.get("/static/inspector.js").headers["content-type"].startswith("text/javascript")
    licence = (STATIC_DIR / "vendor" / "ajv2020.bundle.LICENSE.txt").read_text(encoding="utf-8")
    for package in ("ajv 8.17.1", "fast-deep-equal", "json-schema-traverse", "fast-uri"):
        assert package in licence
    assert "Evgeny Poberezkin" in licence and "Redistribution and use" in licence
    missing = http.get("/static/nope.js")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_settings_json_cannot_close_its_script_element() -> None:
    settings = PageSettings(app="</script><script>alert(1)</script>", domain_key="k", auth="none")
    text = script_json(settings)
    assert "<" not in text
    assert json.loads(text)["app"] == "</script><script>alert(1)</script>"


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        ([], {}, "local-dev"),
        ([], {"CHATKIT_DOMAIN_KEY": "domain_pk_env"}, "domain_pk_env"),
        (["--domain-key", "domain_pk_flag"], {"CHATKIT_DOMAIN_KEY": "x"}, "domain_pk_flag"),
    ],
)
def test_the_domain_key_setting(argv: list[str], env: dict[str, str], expected: str) -> None:
    assert load_config(argv, env).domain_key == expected
