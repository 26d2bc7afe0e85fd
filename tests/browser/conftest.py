"""Browser fixtures: one Chromium per run (Debian's, never a downloaded one), the app with the
demo data served on a real port for each test, a fresh browser context per page, and an
axe-core check.

A browser test fails, never skips, when Chromium is missing or cannot start: `make test`
installs it. Only SHARING_SKIP_BROWSER_TESTS=1 skips them, and the run says so loudly.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from sharing import create_app
from sharing.accounts import demo
from sharing.catalog.imports import runner as import_runner
from sharing.mail import wait_for_background_mail
from tests.conftest import Mailbox, mailbox_of

# Debian's chromium on the PATH, or the browser SHARING_CHROMIUM names (a path or a command).
CHROMIUM_NAME = os.environ.get("SHARING_CHROMIUM") or "chromium"
CHROMIUM = shutil.which(CHROMIUM_NAME)
CHROMIUM_MISSING = (f"Chromium not found ({CHROMIUM_NAME!r}): `make test` installs Debian's chromium; "
                    "or set SHARING_CHROMIUM to a Chromium, or SHARING_SKIP_BROWSER_TESTS=1 to skip these tests")
SKIP_BROWSER_TESTS = os.environ.get("SHARING_SKIP_BROWSER_TESTS") == "1"
SKIPPED_WARNING = "SHARING_SKIP_BROWSER_TESTS=1: {} NOT RUN (skipped on request)"
_skipped: list[str] = []
# No sandbox (we run as root), no GPU, and nothing that would reach for the network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
DEMO_PASSWORD: str = demo.demo_data()["password"]
BLOCKING_IMPACTS = {"serious", "critical"}
HERE = Path(__file__).resolve().parent

# How long a single step may take (a page load, a click, an expectation), in milliseconds: a
# loaded 2-core machine running other suites is slow, and waiting costs nothing when the page
# is ready. Steps that do big work (a 3,000-row import) say how long they may take themselves.
STEP_TIMEOUT = 30_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test here is a browser test; SHARING_SKIP_BROWSER_TESTS=1 skips them (and only it)."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
        if SKIP_BROWSER_TESTS and item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.skip(reason=SKIPPED_WARNING.format("browser test")))
            _skipped.append(item.nodeid)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _skipped:
        warning = SKIPPED_WARNING.format(f"{len(_skipped)} browser test(s)")
        terminalreporter.write_sep("!", f"WARNING: {warning}", red=True, bold=True)


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str = ""
    app: Flask | None = None

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if CHROMIUM is None:
        pytest.fail(CHROMIUM_MISSING, pytrace=False)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    expect.set_options(timeout=STEP_TIMEOUT)
    yield browser
    browser.close()


@pytest.fixture
def live_server(browser: Browser, databases, smtp_server, tmp_path: Path) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """The app on a fresh migrated database with the demo data, served on 127.0.0.1: one per test,
    so no test sees what another wrote. The demo is loaded as `sharing demo load` loads it. Its
    mail goes to the suite's real SMTP server (the ``mailbox`` fixture reads what arrived).

    It asks for the browser first, so without Chromium nothing is built before the failure.
    """
    app = create_app({
        "TESTING": True,
        "SHARING_DATABASE_URL": databases.fresh(),
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server[0].port,
        "SHARING_BASE_URL": "http://delning.test",
        "SHARING_PHOTO_DIR": str(tmp_path / "photos"),
        "PAGE_CACHE_DIR": str(tmp_path / "page-cache"),
    })
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code == 0 and result.exception is None, (result.output, result.exception)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    # Closing the server waits for requests still running, so none outlives the engine below.
    server.daemon_threads, server.block_on_close = False, True  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app.config["SHARING_DATABASE_URL"], app)
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()
        assert wait_for_background_mail(timeout=30), "background mail still sending after 30 s"
        for import_id in import_runner.running():  # an import the test started writes to this database
            assert import_runner.wait(import_id, timeout=300), f"import {import_id} still running"
        app.extensions["sharing.engine"].dispose()


@pytest.fixture
def mailbox(smtp_server, live_server: LiveServer) -> Iterator[Mailbox]:  # type: ignore[no-untyped-def]
    """The suite's mailbox, whose reads run the live server's mail job (its notices queued later)."""
    assert live_server.app is not None
    with mailbox_of(smtp_server, live_server.app) as mailbox:
        yield mailbox


@pytest.fixture
def new_page(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """Makes pages, each in a new context of its own (no cookies shared between tests), in a
    browser that asks for Swedish; ``options`` go to the context (a phone's viewport, say)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> Page:
        context = browser.new_context(base_url=live_server.url, **{"locale": "sv-SE", **options})
        context.set_default_timeout(STEP_TIMEOUT)
        context.set_default_navigation_timeout(STEP_TIMEOUT)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


_axe = Axe()


def assert_accessible(page: Page) -> None:
    """axe-core (shipped with axe-playwright-python, no CDN) finds nothing serious or critical."""
    results = _axe.run(page)
    blocking = [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [f"axe: {len(blocking)} serious or critical violation(s) on {page.url}"]
        for violation in blocking:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
            for node in violation["nodes"]:
                lines.append(f"    at {' '.join(map(str, node['target']))}: {node.get('failureSummary', '')}")
        report = "\n".join(lines)
        print(report)
        pytest.fail(report, pytrace=False)

