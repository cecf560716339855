"""The scan page in a real browser (headless Chromium), driven like a handheld scanner:
characters typed quickly one after another, then Enter."""

import pytest
from django.test import Client

from inventory.codes import group_label_code
from inventory.models import ScanEvent, ScanResult
from inventory.states import Status
from tests.builders import make_device, reload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_handheld_scanner_typing_the_label_url_then_enter(
    live_server, browser_page, sign_in, screenshots, workshop_staff, workshop_device, settings
):
    page = browser_page
    sign_in("bench")
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
    page.screenshot(path=str(screenshots / "scan-card.png"), full_page=True)

    with page.expect_navigation():
        page.get_by_role("button", name="Réception à l'atelier").click()
    result = page.locator("[data-result]")
    assert result.get_attribute("data-result") == ScanResult.APPLIED
    page.screenshot(path=str(screenshots / "scan-applied.png"), full_page=True)
    assert reload(workshop_device).status == Status.AT_WORKSHOP
    assert list(ScanEvent.objects.order_by("id").values_list("result", flat=True)) == [
        ScanResult.FOUND,
        ScanResult.APPLIED,
    ]


def test_a_mistyped_code_is_refused_visibly(
    live_server, browser_page, sign_in, screenshots, workshop_staff
):
    page = browser_page
    sign_in("bench")
    page.goto(f"{live_server.url}/scan/")
    with page.expect_navigation():
        page.keyboard.type("7QK-2M9-XH0", delay=5)
        page.keyboard.press("Enter")
    assert page.locator("[data-result]").get_attribute("data-result") == ScanResult.INVALID
    assert page.locator(".scan-card").count() == 0
    page.screenshot(path=str(screenshots / "scan-refused.png"), full_page=True)


def test_batch_mode_keeps_every_scan_fired_in_quick_succession(
    live_server, browser_page, screenshots, coordinator, workshop_org
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
    # An arrow function: Playwright evaluates a bare expression with eval, which the CSP refuses.
    page.wait_for_function(
        "() => document.querySelectorAll('.scan-list__item').length === 6", timeout=15000
    )
    page.screenshot(path=str(screenshots / "batch-fast.png"), full_page=True)
    events = ScanEvent.objects.order_by("id")
    assert [event.result for event in events] == [ScanResult.APPLIED] * 6
    assert {event.device_id for event in events} == {device.pk for device in devices}
    assert all(event.client_id for event in events)
    # The title follows the scans sent in the background: the latest result, as a reload would.
    last = group_label_code(devices[-1].label_code_id)
    page.wait_for_function(f"document.title.indexOf('{last}') >= 0", timeout=5000)
    assert page.title().startswith(f"Action effectuée\u00a0: {last}")
