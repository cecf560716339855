"""The Content-Security-Policy in a real browser: the scan page (camera included), the API
documentation, the admin and the main screens run with zero violations.

Chromium's fake camera plays a video file made here, showing a device's QR label: the scan
page's camera code (getUserMedia, then jsQR on a canvas) must read it and look the device up.
"""

import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from labels.qr import QUIET_ZONE_MODULES, qr_matrix
from logistics.shipments.services import shipment_create
from tests.builders import PASSWORD, make_device
from tests.e2e.conftest import ARGS, CHROMIUM

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

WIDTH, HEIGHT = 640, 480
# Every violation the page reports, wherever it comes from (a script, a style, an image).
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def qr_video(path: Path, text: str, frames: int = 10) -> Path:
    """A YUV4MPEG2 clip (what Chromium's fake camera plays) showing the QR code of `text`."""
    modules = qr_matrix(text).modules
    size = len(modules) + 2 * QUIET_ZONE_MODULES
    scale = min(WIDTH, HEIGHT) * 3 // 4 // size
    left, top = (WIDTH - size * scale) // 2, (HEIGHT - size * scale) // 2
    luma = bytearray([235]) * (WIDTH * HEIGHT)
    for row, line in enumerate(modules):
        for column, dark in enumerate(line):
            if not dark:
                continue
            x = left + (column + QUIET_ZONE_MODULES) * scale
            y = top + (row + QUIET_ZONE_MODULES) * scale
            for dy in range(scale):
                start = (y + dy) * WIDTH + x
                luma[start : start + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            out.write(b"FRAME\n" + bytes(luma) + chroma + chroma)
    return path


@pytest.fixture
def open_browser(live_server):
    """open_browser(camera_file=None): a page whose fake camera plays that file (or Chromium's
    test pattern), with every CSP violation recorded."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    browsers = []

    def launch(camera_file: Path | None = None):
        camera = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
        if camera_file:
            camera.append(f"--use-file-for-fake-video-capture={camera_file}")
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS + camera)
        browsers.append(chromium)
        context = chromium.new_context(
            viewport={"width": 390, "height": 844}, locale="fr-FR", base_url=live_server.url
        )
        context.grant_permissions(["camera"], origin=live_server.url)
        context.add_init_script(LISTEN)
        page = context.new_page()
        page.console_violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text
                and page.console_violations.append(message.text)
            ),
        )
        return page

    try:
        yield launch
    finally:
        for chromium in browsers:
            chromium.close()
        playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def violations(page) -> list[str]:
    return page.console_violations + page.evaluate("window.__cspViolations")


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert violations(page) == []


@pytest.fixture
def scanned_device(coordinator, workshop_org):
    device = make_device(actor=coordinator)
    shipment_create(actor=coordinator, workshop=workshop_org, devices=[device.pk])
    return device


def test_the_scan_page_reads_a_label_with_the_camera_under_the_policy(
    open_browser, workshop_staff, scanned_device, screenshots, tmp_path
):
    page = open_browser(qr_video(tmp_path / "label.y4m", scanned_device.label_code_id))
    sign_in(page, "bench")
    response = page.goto("/scan/")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert page.locator("[data-camera]").is_visible()  # scan.js ran and offered the camera
    # The only way on from here is the camera: jsQR reads the label and the form is sent.
    with page.expect_navigation(timeout=20000):
        page.get_by_role("button", name="Utiliser la caméra").click()
    # jsQR read the label from the camera's frames, and the page looked the device up.
    assert scanned_device.label_code_id[:3] in page.locator(".scan-card").inner_text()
    page.screenshot(path=str(screenshots / "csp-scan-camera.png"), full_page=True)
    assert violations(page) == []


def test_the_camera_starts_and_looks_for_a_code(open_browser, workshop_staff):
    page = open_browser()
    sign_in(page, "bench")
    page.goto("/scan/")
    page.get_by_role("button", name="Utiliser la caméra").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('[data-camera-video]');"
        " return !v.hidden && v.readyState >= 2 && v.videoWidth > 0; }",
        timeout=10000,
    )
    status = page.locator("[data-camera-status]")
    assert status.inner_text() == status.get_attribute("data-msg-looking")
    page.wait_for_timeout(500)  # a few rounds of the decoding loop
    assert violations(page) == []


def test_the_api_documentation_runs_under_the_policy(open_browser, screenshots):
    page = open_browser()
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-tag", timeout=20000)  # the schema was fetched and drawn
    assert page.locator(".opblock").count() > 10
    page.locator(".opblock-summary").first.click()  # an operation opens
    page.wait_for_selector(".opblock-body", timeout=5000)
    # "Try it out" sends a real request from the page (connect-src): anonymous, it gets 401.
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    status = page.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=10000)
    assert "401" in status.inner_text()
    page.screenshot(path=str(screenshots / "csp-api-docs.png"))
    assert violations(page) == []


def test_the_admin_runs_under_the_policy(open_browser, coordinator, device):
    get_user_model().objects.create_superuser(username="boss", password=PASSWORD)
    page = open_browser()
    page.goto("/admin/login/")
    page.fill("input[name=username]", "boss")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("input[type=submit]")
    for url in (
        reverse("admin:index"),
        reverse("admin:inventory_device_changelist"),
        reverse("admin:inventory_device_change", args=[device.pk]),
        reverse("admin:inventory_organisation_add"),
        reverse("admin:auth_user_changelist"),
    ):
        page.goto(url)
        page.wait_for_load_state("load")
    # The changelist's filters and the sidebar are scripts: they ran.
    page.goto(reverse("admin:inventory_device_changelist"))
    assert page.evaluate("typeof window.django") == "object"
    assert violations(page) == []


def test_the_main_screens_run_under_the_policy(
    open_browser, coordinator, workshop_org, donation, screenshots
):
    devices = [make_device(actor=coordinator) for _ in range(2)]
    shipment = shipment_create(actor=coordinator, workshop=workshop_org, devices=[devices[0].pk])
    page = open_browser()
    sign_in(page, "coord")
    for url in (
        reverse("home"),
        reverse("inventory:device_list"),
        reverse("inventory:device_detail", args=[devices[1].pk]),
        reverse("inventory:donation_detail", args=[donation.pk]),
        reverse("logistics:shipment_detail", args=[shipment.pk]),
        reverse("logistics:shipment_delivery_note", args=[shipment.pk]),
        reverse("logistics:disposal_list"),
        reverse("inventory:checklist_index"),
        reverse("inventory:scan_batch_start"),
    ):
        page.goto(url)
        page.wait_for_load_state("load")
        assert violations(page) == [], url
    # The delivery note's print button is shown and wired by its static script.
    page.goto(reverse("logistics:shipment_delivery_note", args=[shipment.pk]))
    assert page.get_by_role("button", name="Imprimer").is_visible()
    # A form sent back with errors: its inline focus script (with the nonce) ran.
    page.goto(reverse("logistics:shipment_create"))
    with page.expect_navigation():
        page.click("button[name=send]")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert violations(page) == []
