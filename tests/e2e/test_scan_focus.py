"""The scanner's keystrokes reach the input even after a tap elsewhere on the page."""

import pytest

from inventory.models import ScanEvent, ScanResult

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_scan_after_tapping_the_card_still_reaches_the_input(
    live_server,
    browser_page,
    sign_in,
    workshop_staff,
    workshop_device,
):
    page = browser_page
    sign_in("bench")
    page.goto(f"{live_server.url}/scan/")
    with page.expect_navigation():
        page.keyboard.type(workshop_device.label_code_id, delay=5)
        page.keyboard.press("Enter")
    page.locator(".scan-card .lead").click()  # a tap on the text takes the focus away
    with page.expect_navigation():
        page.keyboard.type(workshop_device.label_code_id.lower(), delay=5)
        page.keyboard.press("Enter")
    assert ScanEvent.objects.filter(result=ScanResult.FOUND).count() == 2
