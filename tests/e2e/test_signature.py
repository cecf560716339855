"""Signing a hand-over receipt on a 390 px phone: a stroke drawn on the pad with the pointer
reaches the server as a PNG, and the hand-over is signed."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from logistics.handovers import services as handovers
from logistics.models import HandOver, SignatureKind
from tests.builders import allocated

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def stroke(page, points) -> None:
    """A finger's path across the pad, as pointer moves between a press and a release."""
    box = page.locator("[data-signature-canvas]").bounding_box()
    x0, y0 = box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=6)
    page.mouse.up()


def test_a_stroke_drawn_at_390_px_signs_the_receipt(
    live_server,
    browser_page,
    sign_in,
    screenshots,
    settings,
    tmp_path,
    coordinator,
    structure_staff,
    workshop_org,
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )
    hand_over = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], received_by_name="Awa Diallo"
    )
    page = browser_page
    sign_in("structure")
    page.goto(f"{live_server.url}/hand-overs/{hand_over.pk}/sign/")

    # With the script, the pad replaces the notice that asks for a paper copy.
    canvas = page.locator("[data-signature-canvas]")
    assert canvas.is_visible()
    assert page.locator("[data-signature-fallback]").is_hidden()
    assert canvas.bounding_box()["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("#id_drawn-signer_name").input_value() == "Awa Diallo"

    # An empty pad is not sent: the page says what is missing.
    page.locator("[data-signature-form] button[type=submit]").click()
    status = page.locator("[data-signature-status]")
    assert status.is_visible() and status.inner_text().strip()
    assert page.url.endswith("/sign/")

    # A stroke, cleared, then the signature itself.
    stroke(page, [(0.7, 0.9), (0.95, 0.9)])
    page.locator("[data-signature-clear]").click()
    stroke(page, [(0.1, 0.7), (0.25, 0.3), (0.4, 0.75), (0.6, 0.25), (0.85, 0.6)])
    page.screenshot(path=str(screenshots / "hand-over-sign-390.png"), full_page=True)
    with page.expect_navigation():
        page.locator("[data-signature-form] button[type=submit]").click()
    assert page.url.endswith(f"/hand-overs/{hand_over.pk}/")

    hand_over = HandOver.objects.get(pk=hand_over.pk)
    assert hand_over.signature_kind == SignatureKind.DRAWN
    assert hand_over.signer_name == "Awa Diallo"
    with default_storage.open(hand_over.signature_file, "rb") as handle:
        png = handle.read()
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        grey = image.convert("L")
        # The drawing reached the server: dark ink on white, and the cleared stroke is gone.
        assert grey.getextrema()[0] < 64
        width, height = grey.size
        assert grey.getpixel((int(0.82 * width), int(0.9 * height))) > 200
    assert hand_over.receipt_file.endswith("-signed.pdf")
