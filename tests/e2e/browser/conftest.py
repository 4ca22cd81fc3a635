"""Real headless Chromium against ``punctual dev`` (the e2e ``dev`` fixture): one browser per run of this
module's tests on a worker, a fresh context per test, each test signed in with its own API key (its own
tenant).

Playwright's sync API keeps an asyncio loop marked running on the thread while it is started, so a later test
on the same xdist worker that calls ``asyncio.run`` (the async SDK's) would fail: the driver is module-scoped,
and pytest stops it before that worker moves on to another module's test."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from tests.e2e.browser.chromium import chromium_path
from tests.e2e.harness import DevProcess, unique_key

TIMEZONE = "Europe/Paris"  # the browser's zone: the form defaults to it, so times are read on its clock
ACTION_TIMEOUT_MS = 10_000
INSTALL_LOCK = Path("/tmp/punctual-chromium-install.lock")


@pytest.fixture(scope="session")
def chromium() -> str:
    # Two xdist workers may both find it missing: one installs while the other waits.
    with INSTALL_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return chromium_path()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium: str) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium, headless=True)
    yield launched
    launched.close()


@pytest.fixture
def api_key() -> str:
    return unique_key("ui")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        timezone_id=TIMEZONE, locale="en-GB", viewport={"width": 1300, "height": 900}
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield opened
    context.close()
    assert problems == [], problems  # an uncaught script error fails the test that caused it


@pytest.fixture
def signed_in(page: Page, dev: DevProcess, api_key: str) -> Page:
    page.goto(f"{dev.api}/ui/")
    page.get_by_label("API key").fill(api_key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Tasks").wait_for()
    return page
