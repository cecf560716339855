"""Browser tests: Debian's Chromium (never a browser download of its own) driven by Playwright
against the live server, on a phone-sized page. Without Chromium or Playwright they skip.

Screenshots go to $REEMPLOI_SCREENSHOTS (default: reemploi-screenshots in the temp directory).
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.builders import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(live_server):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    # Playwright's sync API runs an event loop in this thread; Django must not refuse the ORM.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
            yield page
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def sign_in(browser_page, live_server):
    """Sign in through the login form: sign_in("bench")."""

    def sign_in_as(username: str) -> None:
        browser_page.goto(f"{live_server.url}/login/")
        browser_page.fill("input[name=username]", username)
        browser_page.fill("input[name=password]", PASSWORD)
        with browser_page.expect_navigation():
            browser_page.click("button[type=submit]")

    return sign_in_as


@pytest.fixture
def screenshots() -> Path:
    default = Path(tempfile.gettempdir()) / "reemploi-screenshots"
    directory = Path(os.environ.get("REEMPLOI_SCREENSHOTS", default))
    directory.mkdir(parents=True, exist_ok=True)
    return directory
