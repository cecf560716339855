"""The scan page in a real browser (headless Chromium), driven like a handheld scanner:
characters typed quickly one after another, then Enter."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.test import Client

from inventory.models import ScanEvent, ScanResult
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, reload

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


def test_batch_mode_keeps_every_scan_fired_in_quick_succession(
    live_server, browser_page, coordinator, workshop_org
):
    devices = [make_device(actor=coordinator) for _ in range(6)]
    page = browser_page
    # Signed in through a session made on the server side: the login form has its own tests.
    client = Client()
    client.force_login(coordinator)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/scan/batch/")
    page.check("#move-send_to_workshop")
    page.select_option("#target-workshop", str(workshop_org.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Commencer à scanner").click()
    for device in devices:  # a scanner firing codes 20 ms apart, no page reload in between
        page.keyboard.type(device.label_code_id, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_timeout(20)
    page.wait_for_function(
        "document.querySelectorAll('.scan-list__item').length === 6", timeout=15000
    )
    page.screenshot(path=str(SHOTS / "batch-fast.png"), full_page=True)
    events = ScanEvent.objects.order_by("id")
    assert [event.result for event in events] == [ScanResult.APPLIED] * 6
    assert {event.device_id for event in events} == {device.pk for device in devices}
    assert all(event.client_id for event in events)
