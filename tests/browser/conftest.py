"""Browser fixtures: one Debian Chromium per session driven by Playwright, and the servers."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.browser.servers import DATA, ServerProcess

try:
    from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
except ImportError:  # pragma: no cover - reported by the `browser` fixture
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

CHROMIUM = Path("/usr/bin/chromium")
# Without these Chromium stalls on a closed network (updates, sync, QUIC probes).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
VIEWPORT: ViewportSize = {"width": 1400, "height": 860}
# Anything but this machine's loopback is refused inside the browser.
NOT_LOOPBACK = re.compile(r"^(?!https?://(127\.0\.0\.1|localhost)[:/]).*")
EXPECT_TIMEOUT_MS = 20_000

Shot = Callable[[str], Path]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, launched once for the whole session."""
    if not HAVE_PLAYWRIGHT or not CHROMIUM.exists():
        reason = "browser tests need `pip install playwright` and `apt-get install -y chromium`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context and page; a JavaScript exception fails the test."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    context.route(NOT_LOOPBACK, lambda route: route.abort())
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Shot:
    """`shot("step")` saves a screenshot as tests/browser/artifacts/<test>-<n>-<step>.png."""
    taken: list[Path] = []

    def take(step: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{len(taken) + 1:02d}-{step}.png"
        page.screenshot(path=str(path))
        taken.append(path)
        return path

    return take


@pytest.fixture(scope="session")
def tasks_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The default app (tasks) with the offline model and a SQLite store."""
    server = ServerProcess(data_dir=tmp_path_factory.mktemp("tasks"))
    yield server
    server.stop()


def scripted_server(
    tmp_path_factory: pytest.TempPathFactory, app: str, script: str
) -> Iterator[ServerProcess]:
    """A server whose model plays `tests/browser/data/<script>`."""
    server = ServerProcess(
        "--app",
        app,
        "--model-script",
        str(DATA / script),
        data_dir=tmp_path_factory.mktemp(script.removesuffix(".json")),
    )
    yield server
    server.stop()
