"""The bench record in a real browser at 390 px: from the scan card to "ready" by taps and
the keyboard only, as a technician with a phone does it."""

import pytest

from inventory.models import LockCheck, Reconditioning
from inventory.models import TestItem as ChecklistItem
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, reload

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_from_the_scan_card_to_ready_in_a_few_taps(
    live_server,
    browser_page,
    sign_in,
    screenshots,
    coordinator,
    workshop_org,
    workshop_staff,
):
    phone_free = make_device(actor=coordinator, category="screen", manufacturer="Iiyama")
    device_transition(
        actor=coordinator, device_id=phone_free.pk, action="send_to_workshop", target=workshop_org
    )
    device_transition(actor=workshop_staff, device_id=phone_free.pk, action="receive_at_workshop")
    page = browser_page
    sign_in("bench")
    page.goto(f"{live_server.url}/scan/")
    with page.expect_navigation():
        page.keyboard.type(phone_free.label_code_id, delay=5)
        page.keyboard.press("Enter")
    with page.expect_navigation():
        page.get_by_role("link", name="Ouvrir la fiche atelier").click()
    assert "Fiche atelier" in page.title()

    # Locks: a label is the tap target of its radio button.
    locks = page.locator("#locks fieldset")
    for index in range(locks.count()):
        locks.nth(index).get_by_text("Sans objet", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer les contrôles de verrouillage").click()
    assert LockCheck.objects.filter(outcome="not_applicable").count() == 6

    # The checklist: one tap per line.
    items = page.locator("#tests fieldset")
    for index in range(items.count()):
        items.nth(index).get_by_text("Réussi", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer les résultats des tests").click()

    page.locator("#assessment").get_by_text("A : très bon état esthétique", exact=False).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le grade et l'état").click()

    page.screenshot(path=str(screenshots / "bench-record-complete.png"), full_page=True)
    assert page.locator("[data-code]").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Déclarer disponible (en stock)").click()
    assert reload(phone_free).status == Status.READY
    cycle = Reconditioning.objects.get(device=phone_free)
    assert cycle.outcome == "mark_ready"
    assert cycle.test_results.count() == ChecklistItem.objects.filter(category_id="screen").count()
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def in_view(page, selector: str) -> bool:
    return page.evaluate(
        """(s) => { const r = document.querySelector(s).getBoundingClientRect();
                    return r.top > -1 && r.top < window.innerHeight; }""",
        selector,
    )


def test_the_record_lands_on_what_happened_and_never_drops_choices_silently(
    live_server, browser_page, sign_in, screenshots, workshop_staff, at_workshop
):
    device_transition(actor=workshop_staff, device_id=at_workshop.pk, action="start_reconditioning")
    page = browser_page
    page.set_viewport_size({"width": 320, "height": 640})
    sign_in("bench")
    bench = f"{live_server.url}/devices/{at_workshop.pk}/bench/"
    page.goto(bench)

    # An error: the title says so, the focus and the screen are on the error summary.
    page.locator("#repairs summary").click()
    page.fill("#id_cost", "-5")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la réparation").click()
    assert page.title().startswith("Erreur\u00a0: ")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert in_view(page, "[data-error-summary]")
    assert page.input_value("#id_cost") == "-5"
    page.screenshot(path=str(screenshots / "bench-record-error-320.png"))

    # Saved: the focus and the screen are on the message; the title is plain again.
    page.fill("#id_part", "Clavier")
    page.fill("#id_cost", "25")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la réparation").click()
    assert not page.title().startswith("Erreur")
    assert page.evaluate("document.activeElement.classList.contains('messages')")
    assert in_view(page, ".messages")
    assert "Réparation enregistrée" in page.locator(".messages").inner_text()

    # A choice not saved yet: leaving asks first (the browser's own dialog).
    asked = []
    page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
    page.locator("#locks fieldset").first.get_by_text("Sans objet", exact=True).click()
    page.locator(".breadcrumb a").first.click()
    page.wait_for_timeout(500)
    assert asked == ["beforeunload"]
    assert page.url.startswith(bench)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
