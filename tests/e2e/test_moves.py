"""The device page's moves on a 320 px phone, by the keyboard only: the next step first, the
exits behind one choice with one confirmation, focus always visible."""

import pytest

from inventory.states import Status
from tests.builders import reload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def tab_to(page, predicate: str, limit: int = 80) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"never reached by Tab: {predicate}")


def focus_ring(page) -> str:
    return page.evaluate(
        """(() => { const s = getComputedStyle(document.activeElement);
                    return s.outlineStyle + ' ' + s.boxShadow; })()"""
    )


def test_an_exit_by_the_keyboard_at_320_px(
    live_server, browser_page, sign_in, screenshots, coordinator, device
):
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in("coord")
    page.goto(f"{live_server.url}/devices/{device.pk}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The next step is the one primary button of the actions.
    primary = page.locator(".moves button.button:not(.button--secondary)")
    assert primary.all_inner_texts() == ["Envoyer à un atelier"]
    assert page.locator("select[name=target]").count() == 1

    tab_to(page, "el.tagName === 'SUMMARY' && el.parentElement.classList.contains('move-exit')")
    assert focus_ring(page) != "none none"
    page.keyboard.press("Enter")
    page.screenshot(path=str(screenshots / "device-exit-320.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    tab_to(page, "el.id === 'exit-action'")
    page.select_option("#exit-action", "recycle")
    tab_to(page, "el.id === 'exit-confirm'")
    page.keyboard.press("Space")
    tab_to(page, "el.type === 'submit' && el.closest('.move--exit') !== null")
    assert focus_ring(page) != "none none"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert reload(device).status == Status.RECYCLED
