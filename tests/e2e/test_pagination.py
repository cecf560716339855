"""The device list's pages in a real browser: the nav fits 320 px, is reached and followed by
keyboard with a visible focus, and its links keep the filters."""

import pytest

from inventory import views as inventory_views
from tests.builders import make_device
from tests.e2e.reflow import PROBLEMS_JS, WIDTH

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_pagination_fits_a_phone_and_follows_the_keyboard(
    live_server, browser_page, sign_in, coordinator, screenshots, monkeypatch
):
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 4)
    for _ in range(13):
        make_device(actor=coordinator)
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 800})
    sign_in("coord")
    page.goto(f"{live_server.url}/devices/?category=laptop")
    nav = page.get_by_role("navigation", name="Pages")
    nav.get_by_role("link", name="Suivante").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "category=laptop" in page.url and "cursor=" in page.url
    assert page.get_by_role("heading", name="13 appareils · page 2 sur 4").is_visible()
    links = [link.inner_text() for link in nav.get_by_role("link").all()]
    assert links == ["Première", "Précédente", "Suivante", "Dernière"]
    assert nav.locator('[aria-current="page"]').inner_text() == "Page 2"
    assert page.evaluate(PROBLEMS_JS, WIDTH) == []
    last = nav.get_by_role("link", name="Dernière")
    last.focus()
    outline = last.evaluate("link => getComputedStyle(link).outlineStyle")
    assert outline != "none"
    page.screenshot(path=str(screenshots / "device-list-pages-320.png"), full_page=True)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", name="13 appareils · page 4 sur 4").is_visible()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(page.url.replace("cursor=", "cursor=x"))
    assert page.get_by_text("Ce lien de page ne mène nulle part").is_visible()
    page.screenshot(path=str(screenshots / "device-list-pages-1280.png"), full_page=True)
