"""The scan page in a real browser (headless Chromium), driven like a handheld scanner:
characters typed quickly one after another, then Enter."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from inventory.models import ScanEvent, ScanResult
from inventory.services import device_transition
from inventory.states import Status

from ..builders import make_device, reload

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed"),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(
    os.environ.get("REEMPLOI_SCREENSHOTS", Path(tempfile.gettempdir()) / "reemploi-screenshots")
)


@pytest.fixture
def browser_page(live_server):
    # Playwright's sync API runs an event loop in this thread; Django must not refuse the ORM.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
        yield page
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def workshop_device(coordinator, workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    return device


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "a-long-test-password")
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_a_handheld_scanner_typing_the_label_url_then_enter(
    live_server, browser_page, workshop_staff, workshop_device, settings
):
    page = browser_page
    sign_in(page, live_server.url, "bench")
    page.goto(f"{live_server.url}/scan/")
    # The input has the focus without a click: the scanner can start typing at once.
    assert page.evaluate("document.activeElement.name") == "raw"
    url = f"{settings.SITE_URL.upper()}/D/{workshop_device.label_code_id}"
    with page.expect_navigation():
        page.keyboard.type(url, delay=5)
        page.keyboard.press("Enter")
    card = page.locator(".scan-card")
    assert workshop_device.label_code_id[:3] in card.inner_text()
    assert page.evaluate("document.activeElement.name") == "raw"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "scan-card.png"), full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name="Réception à l'atelier").click()
    result = page.locator("[data-result]")
    assert result.get_attribute("data-result") == ScanResult.APPLIED
    page.screenshot(path=str(SHOTS / "scan-applied.png"), full_page=True)
    assert reload(workshop_device).status == Status.AT_WORKSHOP
    assert list(ScanEvent.objects.order_by("id").values_list("result", flat=True)) == [
        ScanResult.FOUND,
        ScanResult.APPLIED,
    ]


def test_a_mistyped_code_is_refused_visibly(live_server, browser_page, workshop_staff):
    page = browser_page
    sign_in(page, live_server.url, "bench")
    page.goto(f"{live_server.url}/scan/")
    with page.expect_navigation():
        page.keyboard.type("7QK-2M9-XH0", delay=5)
        page.keyboard.press("Enter")
    assert page.locator("[data-result]").get_attribute("data-result") == ScanResult.INVALID
    assert page.locator(".scan-card").count() == 0
    page.screenshot(path=str(SHOTS / "scan-refused.png"), full_page=True)
