"""Browser fixtures: one Debian Chromium per session driven by Playwright, and the servers."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the browser tests last, after every asyncio test of the session.

    While the session's browser is open, Playwright's sync API leaves its event loop marked as
    running in this thread, and pytest-asyncio cannot start a loop of its own beside it.
    """
    here = Path(__file__).resolve().parent
    items.sort(key=lambda item: here in Path(item.path).resolve().parents)


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


JWT_SECRET = "browser-test-secret-with-enough-length"
JWT_DOMAIN_KEY = "domain_pk_browser_test"


@dataclass(frozen=True)
class Servers:
    """Every `server.py` the browser tests use; a scripted model serves one test only."""

    tasks: ServerProcess
    slow: ServerProcess
    tool: ServerProcess
    structured: ServerProcess
    jwt: ServerProcess

    def all(self) -> list[ServerProcess]:
        return [self.tasks, self.slow, self.tool, self.structured, self.jwt]


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """All the servers, started side by side (each takes seconds to import its app)."""
    directory = tmp_path_factory.mktemp

    def scripted(app: str, script: str) -> ServerProcess:
        args = ("--app", app, "--model-script", str(DATA / script))
        return ServerProcess(*args, data_dir=directory(script.removesuffix(".json")))

    started = Servers(
        # The default app (tasks) with the offline model and a SQLite store.
        tasks=ServerProcess(data_dir=directory("tasks")),
        slow=scripted("tasks", "slow_answer.json"),
        tool=scripted("conformance", "client_tool.json"),
        structured=scripted("conformance", "structured_input.json"),
        jwt=ServerProcess(
            "--domain-key",
            JWT_DOMAIN_KEY,
            data_dir=directory("jwt"),
            env={"CHATKIT_AUTH": "jwt", "CHATKIT_JWT_SECRET": JWT_SECRET},
        ),
    )
    try:
        for server in started.all():
            server.wait_until_up()
        yield started
    finally:
        for server in started.all():
            server.stop()


@pytest.fixture
def tasks_server(servers: Servers) -> ServerProcess:
    return servers.tasks


@pytest.fixture
def jwt_server(servers: Servers) -> ServerProcess:
    """Needs `Authorization: Bearer <JWT signed with JWT_SECRET>`; domain key JWT_DOMAIN_KEY."""
    return servers.jwt


def bearer(user: str) -> str:
    """A valid token for `jwt_server`."""
    return jwt.encode({"sub": user, "exp": int(time.time()) + 600}, JWT_SECRET, "HS256")
