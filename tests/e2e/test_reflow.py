"""Reflow at 320 px (WCAG 2.1 SC 1.4.10) and text spacing (SC 1.4.12), in a real browser.

Each persona opens every web page it may see, found from the URL patterns (a new page is
checked without editing this file), at 320 CSS px: nothing may scroll sideways or stick out of
the viewport, and no box may cut its text; then the same with the text-spacing styles.
"""

import os
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from inventory.documents.services import certificate_issue
from inventory.models import Category
from inventory.organisations.services import member_invite
from inventory.services import device_transition
from inventory.states import Status
from logistics.allocations.services import matching_run_create
from logistics.deliveries.services import delivery_create, delivery_dispatch
from logistics.fund_reports.figures import Period
from logistics.fund_reports.figures import Scope as FiguresScope
from logistics.fund_reports.services import report_issue
from logistics.funding.services import programme_create
from logistics.handovers.services import hand_over_create, hand_over_sign
from logistics.loans.services import device_report_create
from tests.builders import (
    PNG_1PX,
    accepted_need,
    allocated,
    dispose,
    donor_sheet,
    hand_over,
    make_device,
    make_donation,
    make_need,
    reconditioned,
    recycled,
    walk,
)
from tests.e2e.conftest import ARGS, CHROMIUM
from tests.e2e.reflow import PROBLEMS_JS, TEXT_SPACING_CSS, WIDTH, web_routes

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# Long unbroken values, as donors' spreadsheets and e-mail addresses bring them.
LONG_SERIAL = "SN-" + "7QK2M9XHP" * 8
LONG_MODEL = "ThinkPad-X1-Carbon-Gen11-21HMCTO1WW-AZERTY-FR-Intel-Core-i7-1365U-vPro"
# A donor's spreadsheet with a wrong row, for the import preview.
SPREADSHEET = {
    "name": "don-avec-un-nom-de-fichier-tres-long-exporte-du-logiciel-de-gestion.csv",
    "mimeType": "text/csv",
    "buffer": donor_sheet(
        [
            ("PC portable", "Lenovo", LONG_MODEL, LONG_SERIAL, ""),
            ("Grille-pain", "Lenovo", "X", "SN-2", ""),
        ]
    ),
}


def devices_in_every_state(coordinator, workshop_org, structure_org, donor_org) -> dict:
    """One device per status, the workshop's and the structure's share among them."""
    devices = {}

    def new(**fields):
        return make_device(actor=coordinator, donor=donor_org, **fields)

    devices[Status.REGISTERED] = new(serial_number=LONG_SERIAL, model_name=LONG_MODEL)
    sent = new()
    device_transition(
        actor=coordinator, device_id=sent.pk, action="send_to_workshop", target=workshop_org
    )
    devices[Status.SENT_TO_WORKSHOP] = sent
    for status, actions in (
        (Status.AT_WORKSHOP, ("receive_at_workshop",)),
        (Status.IN_RECONDITIONING, ("receive_at_workshop", "start_reconditioning")),
        (Status.DISMANTLED, ("receive_at_workshop", "dismantle")),
    ):
        device = new(category="smartphone", manufacturer="Samsung", model_name=LONG_MODEL)
        device_transition(
            actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
        )
        walk(actor=coordinator, device=device, actions=actions)
        devices[status] = device
    for status in (Status.READY, Status.RESERVED, Status.GIVEN, Status.ON_LOAN, Status.RETURNED):
        device = new()
        reconditioned(coordinator, device, workshop_org)
        if status == Status.RESERVED:
            device_transition(
                actor=coordinator, device_id=device.pk, action="reserve", workflow=True
            )
        elif status == Status.GIVEN:
            hand_over(coordinator, device, "hand_over_gift", structure_org)
        elif status in (Status.ON_LOAN, Status.RETURNED):
            hand_over(coordinator, device, "lend", structure_org)
            if status == Status.RETURNED:
                device_transition(actor=coordinator, device_id=device.pk, action="return_loan")
        devices[status] = device
    devices[Status.RECYCLED] = recycled(actor=coordinator)
    exits = ((Status.RETURNED_TO_DONOR, "return_to_donor"), (Status.LOST, "declare_lost"))
    for status, action in exits:
        device = new()
        device_transition(actor=coordinator, device_id=device.pk, action=action, note="x " * 200)
        devices[status] = device
    assert set(devices) == set(Status.values)
    return devices


def page_urls(values: dict) -> list[tuple[str, str]]:
    """(route name, URL) of every page: each path parameter filled with every value given for
    it; a route with a parameter the data has no value for fails the test, to be added."""
    urls = []
    for name, route, converters in web_routes():
        first = route.split("/")[0]
        options = [{}]
        for parameter in converters:
            given = values.get((name, parameter), values.get((first, parameter)))
            assert given, f"no value for <{parameter}> of {name} ({route}): add one to the test"
            options = [dict(option, **{parameter: value}) for option in options for value in given]
        for kwargs in options:
            for query in values.get((name, "?"), [""]):
                urls.append((name, reverse(name, kwargs=kwargs) + query))
    return urls


def problems_of(page) -> list[str]:
    found = page.evaluate(PROBLEMS_JS, WIDTH)
    # Through a constructed stylesheet: an injected <style> would be refused by the CSP.
    page.evaluate(
        "css => { const sheet = new CSSStyleSheet(); sheet.replaceSync(css);"
        " document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet]; }",
        TEXT_SPACING_CSS,
    )
    found += [f"with text spacing: {problem}" for problem in page.evaluate(PROBLEMS_JS, WIDTH)]
    return found


def test_every_page_reflows_at_320_px_with_and_without_text_spacing(
    live_server,
    coordinator,
    workshop_staff,
    structure_staff,
    fund_reader,
    donor_user,
    workshop_org,
    structure_org,
    donor_org,
    certified,
    queue_devices,
):
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    started = time.monotonic()
    donation = certified["laptop"].donation
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    long_donation = make_donation(
        actor=coordinator,
        donor=donor_org,
        received_on=date(2026, 3, 3),
        pickup_address="12 boulevard de la Défense-Nord-Ouest-Bâtiment-C-Escalier-B 92000 Nanterre",
    )
    states = devices_in_every_state(coordinator, workshop_org, structure_org, donor_org)
    disposal = dispose(
        actor=coordinator,
        devices=[states[Status.RECYCLED].pk],
        weight_kg=Decimal("1234.50"),
        document_reference="BSD-2026-" + "0042" * 10,
    )
    # An accepted need, and a matching run that proposes the ready laptop for it.
    matched = accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 1}],
    )
    run = matching_run_create(actor=coordinator)
    # A delivery on its way, a loan handed over (receipt signed) and one reported device.
    lent = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )
    handed = hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in lent],
        received_by_name="Awa Diallo-Mbaye de la Roche-Fontenelle",
        note="Avec housses, chargeurs et un point d'accès 4G " * 5,
    )
    hand_over_sign(actor=structure_staff, hand_over_id=handed.pk, signer_name="Awa", image=PNG_1PX)
    device_report_create(actor=structure_staff, device_id=lent[0].device_id, kind="broken")
    gifts = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=3
    )
    unsigned = hand_over_create(
        actor=coordinator, allocation_ids=[gifts[2].pk], received_by_name="Jean Morel"
    )
    delivery = delivery_create(
        actor=coordinator, allocation_ids=[a.pk for a in gifts[:2]], via_depot=True
    )
    delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    invited = member_invite(
        actor=coordinator, organisation_id=structure_org.pk, email="invitee@exemple.fr"
    )
    # The fund's screens: a programme of the fund reader's fund with a long name, the year's
    # figures (the allocations above count in none), and a report issued for it.
    today = date.today()
    programme = programme_create(
        actor=coordinator,
        funder=fund_reader.membership.organisation,
        name="Programme départemental d'équipement numérique des structures de médiation " * 2,
        starts_on=date(today.year, 1, 1),
        ends_on=date(today.year, 12, 31),
        target_devices=120,
    )
    fund_report = report_issue(
        actor=coordinator,
        period=Period(date(today.year, 1, 1), today),
        scope=FiguresScope(programme=programme),
    )
    values = {
        ("devices", "pk"): [device.pk for device in states.values()],
        ("inventory:bench_record", "pk"): [
            states[Status.IN_RECONDITIONING].pk,
            certified["laptop"].pk,
            certified["desktop"].pk,
        ],
        ("donations", "pk"): [donation.pk, long_donation.pk],
        ("shipments", "pk"): [queue_devices["shipment"].pk],
        ("weee", "pk"): [disposal.pk],
        ("needs", "pk"): [matched.pk, make_need(actor=structure_staff).pk],
        ("matching", "pk"): [run.pk],
        ("structures", "pk"): [structure_org.pk],
        ("structures", "user_id"): [invited.pk],
        ("invitation", "uidb64"): [urlsafe_base64_encode(force_bytes(invited.pk))],
        # A token link redirects to "set-password" within its session: the page a link
        # opens once its token was used (or in another browser) is the one checked here.
        ("invitation", "token"): ["set-password"],
        ("deliveries", "pk"): [delivery.pk],
        ("hand-overs", "pk"): [handed.pk, unsigned.pk],
        ("logistics:hand_over_create", "?"): ["", f"?delivery={delivery.pk}"],
        ("loans", "pk"): [handed.loan.pk],
        ("receipts", "code"): [handed.verification_code],
        ("checklists", "code"): [Category.objects.filter(holds_data=True).first().code],
        ("certificates", "code"): [certificate.verification_code],
        ("d", "code"): [states[Status.READY].label_code_id],
        ("scan", "batch"): ["reflow"],
        # The pages a query string opens: a batch for a move, a list with filters set.
        ("inventory:scan_batch", "?"): ["?action=receive_at_workshop"],
        ("inventory:device_list", "?"): ["", f"?status=ready&q=&donor={donor_org.pk}"],
        ("labels:print", "?"): [f"?device={states[Status.REGISTERED].pk}"],
        ("logistics:programme_detail", "pk"): [programme.pk],
        ("logistics:programme_edit", "pk"): [programme.pk],
        ("logistics:fund_report_detail", "pk"): [fund_report.pk],
        ("logistics:fund_report_verify_code", "code"): [fund_report.verification_code],
        # The dashboard: this year, a programme's scope by commune, a longer period (its charts
        # scroll in their regions) by programme.
        ("logistics:fund_dashboard", "?"): [
            "",
            f"?programme={programme.pk}&by=commune",
            f"?start={today.year - 2}-01-01&end={today.isoformat()}&by=programme",
        ],
    }
    urls = page_urls(values)
    personas = {
        "coordination": coordinator,
        "workshop": workshop_staff,
        "structure": structure_staff,
        "fund": fund_reader,
        "donor": donor_user,
        "anonymous": None,
    }
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the sync API runs an event loop here
    checked, opened, problems = [], set(), []
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for persona, user in personas.items():
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": 640}, locale="fr-FR"
                )
                client = Client()
                if user is not None:
                    client.force_login(user)
                    context.add_cookies(
                        [
                            {
                                "name": "sessionid",
                                "value": client.cookies["sessionid"].value,
                                "url": live_server.url,
                            }
                        ]
                    )
                page = context.new_page()
                for name, url in urls:
                    # Asked first without a browser, which is much faster: a page refused to
                    # this persona (403, 404, a redirect to the login page) is not its page.
                    if client.get(url).status_code != 200:
                        continue
                    assert page.goto(live_server.url + url).status == 200, url
                    opened.add(name)
                    checked.append(f"{persona} {url}")
                    problems += [f"{persona} {url}: {found}" for found in problems_of(page)]
                if persona == "coordination":
                    # A page reached by a POST: the import preview, its errors and its rows.
                    url = reverse("inventory:donation_import", args=[long_donation.pk])
                    page.goto(live_server.url + url)
                    page.set_input_files("input[type=file]", SPREADSHEET)
                    with page.expect_navigation():
                        page.get_by_role("button", name="Prévisualiser l'import").click()
                    assert page.locator("#import-errors").count() == 1
                    checked.append(f"{persona} {url} (preview)")
                    problems += [f"{persona} preview: {found}" for found in problems_of(page)]
                context.close()
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    elapsed = time.monotonic() - started
    print(f"reflow: {len(checked)} pages checked, {len(urls)} URLs a persona, {elapsed:.0f} s")
    never = sorted({name for name, _url in urls} - opened)
    assert not never, (
        f"no persona could open {never}: give the test data for them, or list them in "
        "tests/e2e/reflow.py NOT_PAGES if they answer no page (a POST only, a file)"
    )
    assert not problems, "\n".join(problems)


def test_the_menu_and_the_filters_fold_on_a_phone_and_unfold_by_keyboard(
    live_server, browser_page, sign_in, coordinator, device
):
    page = browser_page
    page.set_viewport_size({"width": WIDTH, "height": 640})
    sign_in("coord")
    page.goto(f"{live_server.url}/devices/")
    menu = page.get_by_role("button", name="Menu", exact=True)
    devices_link = page.get_by_role("navigation").get_by_role("link", name="Appareils")
    assert menu.get_attribute("aria-expanded") == "false"
    assert menu.get_attribute("aria-controls") == "site-menu"
    assert not devices_link.is_visible()

    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert devices_link.is_visible()
    assert problems_of(page) == []  # the open menu reflows too
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#site-menu') !== null")
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.matches('[data-menu-toggle]')")
    page.keyboard.press("Space")
    assert menu.get_attribute("aria-expanded") == "true"

    # The search box stays; the other filters fold, and open when one of them is set.
    filters = page.locator("details.filters__more")
    assert page.get_by_role("textbox", name="Rechercher").is_visible()
    assert filters.evaluate("details => details.open") is False
    assert not page.get_by_role("combobox", name="Statut").is_visible()
    filters.locator("summary").focus()
    page.keyboard.press("Enter")
    assert page.get_by_role("combobox", name="Statut").is_visible()
    page.goto(f"{live_server.url}/devices/?status=ready")
    assert filters.evaluate("details => details.open") is True
    assert "1 actif" in filters.locator("summary").inner_text()

    # On a wide screen nothing is folded and there is no menu button.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/devices/")
    assert not menu.is_visible()
    assert devices_link.is_visible()
    assert filters.evaluate("details => details.open") is True
