"""The widget page (`/`) in Chromium, with OpenAI's script refused or replaced by a stand-in."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, Route, expect

from chatkit_web.pages import WIDGET_SCRIPT_URL
from tests.browser.conftest import JWT_DOMAIN_KEY, Shot, bearer
from tests.browser.servers import ServerProcess

# Stands in for chatkit.js: an <openai-chatkit> element that keeps the options it is given.
STAND_IN = """
customElements.define("openai-chatkit", class extends HTMLElement {
  setOptions(options) {
    window.chatkitOptions = options;
    this.textContent = `stand-in ChatKit element, api.url = ${options.api.url}`;
  }
});
"""
OPTIONS_AS_JSON = """() => {
  const options = window.chatkitOptions;
  return {...options, api: {...options.api, fetch: typeof options.api.fetch},
          onClientTool: typeof options.onClientTool};
}"""
LIST_WITH_OPTIONS_FETCH = """async () => {
  const response = await window.chatkitOptions.api.fetch("/chatkit", {
    method: "POST",
    headers: {"content-type": "application/json"},
    body: JSON.stringify({type: "threads.list", params: {}}),
  });
  return response.status;
}"""


def serve_stand_in(route: Route) -> None:
    route.fulfill(body=STAND_IN, content_type="text/javascript")


def widget_options(page: Page) -> dict[str, Any]:
    expect(page.locator("body")).to_have_attribute("data-widget", "ready")
    options: dict[str, Any] = page.evaluate(OPTIONS_AS_JSON)
    return options


def test_without_the_widget_script_the_page_points_to_the_inspector(
    page: Page, shot: Shot, tasks_server: ServerProcess
) -> None:
    page.route(WIDGET_SCRIPT_URL, lambda route: route.abort("internetdisconnected"))
    page.goto(f"{tasks_server.url}/")
    offline = page.locator("#offline")
    expect(offline).to_be_visible()
    expect(offline).to_contain_text(WIDGET_SCRIPT_URL)
    expect(page.locator("body")).to_have_attribute("data-widget", "offline")
    shot("offline")
    offline.get_by_role("link", name="Open the inspector").click()
    expect(page).to_have_url(f"{tasks_server.url}/inspector")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


def test_the_widget_is_pointed_at_this_server(
    page: Page, shot: Shot, tasks_server: ServerProcess
) -> None:
    page.route(WIDGET_SCRIPT_URL, serve_stand_in)
    page.goto(f"{tasks_server.url}/")
    options = widget_options(page)
    assert options["api"] == {
        "url": f"{tasks_server.url}/chatkit",
        "domainKey": "local-dev",
        "uploadStrategy": {"type": "direct", "uploadUrl": f"{tasks_server.url}/chatkit/upload"},
        "fetch": "undefined",
    }
    assert options["history"] == {"enabled": True, "showDelete": True, "showRename": True}
    assert options["threadItemActions"] == {"feedback": True, "retry": True}
    assert options["composer"]["attachments"]["enabled"] is True
    assert options["onClientTool"] == "function"
    expect(page.locator("#chatkit")).to_contain_text(f"{tasks_server.url}/chatkit")
    page.locator("#auth-toggle").click()
    expect(page.locator("#fetch-snippet")).to_contain_text("Authorization: `Bearer ${token}`")
    shot("widget-and-auth-help")


def test_a_bearer_token_goes_through_api_fetch(
    page: Page, shot: Shot, jwt_server: ServerProcess
) -> None:
    page.route(WIDGET_SCRIPT_URL, serve_stand_in)
    page.goto(f"{jwt_server.url}/")
    options = widget_options(page)
    assert options["api"]["domainKey"] == JWT_DOMAIN_KEY
    assert options["api"]["fetch"] == "undefined"
    expect(page.locator("#auth-panel")).to_be_visible()
    expect(page.locator("#auth-hint")).to_contain_text("requires a bearer token")
    shot("token-asked")

    page.fill("#token-input", bearer("carol"))
    page.locator("#auth-form button[type=submit]").click()
    page.wait_for_function("() => typeof window.chatkitOptions.api.fetch === 'function'")
    assert page.evaluate(LIST_WITH_OPTIONS_FETCH) == 200
    page.fill("#token-input", "not-a-token")
    page.locator("#auth-form button[type=submit]").click()
    assert page.evaluate(LIST_WITH_OPTIONS_FETCH) == 401
