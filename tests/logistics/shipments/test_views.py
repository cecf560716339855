"""The shipment screens as the coordination and the workshops use them."""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.codes import group_label_code
from inventory.models import Role
from inventory.services import device_transition
from inventory.states import Status
from logistics.models import Shipment, ShipmentItem
from logistics.shipments.services import shipment_create, shipment_receive
from tests.builders import make_device, make_user, queries_of_get, reload, walk
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:shipment_list")
NEW = reverse("logistics:shipment_create")


def detail(shipment) -> str:
    return reverse("logistics:shipment_detail", args=[shipment.pk])


def receive(shipment) -> str:
    return reverse("logistics:shipment_receive", args=[shipment.pk])


def form_data(workshop, **extra) -> dict:
    return {"workshop": workshop.pk, "sent_on": "2026-03-02", "token": "t1", "send": "1"} | extra


# The list


def test_the_list_shows_each_shipment_with_its_receipt_progress(
    login, coordinator, workshop_staff, shipment, devices
):
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=devices[0].label_code_id)
    response = login(coordinator).get(LIST)
    assert response.status_code == 200
    assert shipment.reference in response.text
    [row] = response.context["page"].object_list
    assert (row.received_count, row.device_count) == (1, 3)
    assert NEW in response.text


def test_a_workshop_sees_only_the_shipments_addressed_to_it(
    login, coordinator, workshop_staff, other_workshop_org, shipment
):
    elsewhere = shipment_create(
        actor=coordinator,
        workshop=other_workshop_org,
        devices=[make_device(actor=coordinator).pk],
    )
    response = login(workshop_staff).get(LIST)
    assert list(response.context["page"].object_list) == [shipment]
    assert elsewhere.reference not in response.text
    assert NEW not in response.text
    assert receive(shipment) in response.text


def test_the_empty_list_says_what_to_do(login, coordinator, workshop_staff):
    for_coordinator = login(coordinator).get(LIST)
    assert 'class="empty"' in for_coordinator.text
    assert NEW in for_coordinator.text
    for_workshop = login(workshop_staff).get(LIST)
    assert 'class="empty"' in for_workshop.text
    assert NEW not in for_workshop.text


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_structures_and_funds_have_no_shipment_screens(request, login, persona, shipment):
    client = login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    assert client.get(detail(shipment)).status_code == 403
    assert client.get(reverse("logistics:workshop_queue")).status_code == 403


@pytest.mark.slow
def test_the_list_query_count_does_not_grow_with_the_rows(login, coordinator, workshop_org):
    client = login(coordinator)

    def ship(count):
        for _ in range(count):
            shipment_create(
                actor=coordinator,
                workshop=workshop_org,
                devices=[make_device(actor=coordinator).pk for _ in range(2)],
            )

    ship(3)
    with_three = queries_of_get(client, LIST)
    ship(40)
    with_forty_three = queries_of_get(client, LIST)
    assert with_three == with_forty_three
    assert with_three <= 8


# The shipment page and its delivery note


def test_the_shipment_page_lists_its_devices_received_or_not(
    login, coordinator, workshop_staff, shipment, devices
):
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=devices[1].label_code_id)
    response = login(coordinator).get(detail(shipment))
    assert response.status_code == 200
    text = response.text
    for device in devices:
        assert reverse("inventory:device_detail", args=[device.pk]) in text
    assert text.count("status--warning") == 2  # not yet received
    assert "Van" in text
    assert reverse("logistics:shipment_delivery_note", args=[shipment.pk]) in text


def test_another_workshops_shipment_is_not_found(login, other_workshop_org, shipment):
    client = login(make_user(organisation=other_workshop_org))
    for url in (
        detail(shipment),
        receive(shipment),
        reverse("logistics:shipment_delivery_note", args=[shipment.pk]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(receive(shipment), {"raw": "X"}).status_code == 404


def test_the_delivery_note_is_a_printable_page_of_its_own(login, coordinator, shipment, devices):
    response = login(coordinator).get(
        reverse("logistics:shipment_delivery_note", args=[shipment.pk])
    )
    assert response.status_code == 200
    text = response.text
    assert "@media print" in text
    # The print button works through a static script: the page has no inline handler.
    assert "data-print" in text
    assert "js/print.js" in text
    assert "onclick" not in text
    assert "site-nav" not in text
    for device in devices:
        assert group_label_code(device.label_code_id) in text


def test_the_shipment_page_query_count_does_not_grow_with_the_devices(
    login, coordinator, workshop_org
):
    client = login(coordinator)
    small = shipment_create(
        actor=coordinator, workshop=workshop_org, devices=[make_device(actor=coordinator).pk]
    )
    large = shipment_create(
        actor=coordinator,
        workshop=workshop_org,
        devices=[make_device(actor=coordinator).pk for _ in range(30)],
    )
    counts = []
    for shipment in (small, large):
        with CaptureQueriesContext(connection) as queries:
            client.get(detail(shipment))
        counts.append(len(queries))
    assert counts[0] == counts[1]


# A new shipment


def test_a_coordinator_ticks_devices_and_scans_others_into_a_shipment(
    login, coordinator, workshop_org, devices
):
    client = login(coordinator)
    form = client.get(NEW)
    assert form.status_code == 200
    assert len(form.context["page"].object_list) == 3
    response = client.post(
        NEW,
        form_data(
            workshop_org,
            device=[devices[0].pk, devices[1].pk],
            codes=f"\n{group_label_code(devices[2].label_code_id).lower()}\n",
            carrier="Camionnette",
            expected_on="2026-03-04",
        ),
    )
    shipment = Shipment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail(shipment)
    assert shipment.items.count() == 3
    assert (shipment.carrier, str(shipment.expected_on)) == ("Camionnette", "2026-03-04")
    assert {reload(d).status for d in devices} == {Status.SENT_TO_WORKSHOP}


def test_a_bad_device_refuses_the_shipment_and_names_it(login, coordinator, workshop_org, devices):
    lost = make_device(actor=coordinator)
    device_transition(actor=coordinator, device_id=lost.pk, action="declare_lost")
    response = login(coordinator).post(
        NEW, form_data(workshop_org, device=[devices[0].pk], codes=lost.label_code_id)
    )
    assert response.status_code == 200
    assert group_label_code(lost.label_code_id) in response.text
    assert [p.code for p in response.context["form"].problems] == ["not_sendable"]
    assert not Shipment.objects.exists()
    assert reload(devices[0]).status == Status.REGISTERED
    # The ticked device stays ticked for the corrected submission.
    assert f'value="{devices[0].pk}" id="select-{devices[0].pk}" checked' in response.text


def test_changing_page_keeps_the_ticks_of_the_other_pages(login, coordinator, workshop_org):
    first, *rest = [make_device(actor=coordinator) for _ in range(51)]
    client = login(coordinator)
    shown = client.get(NEW)
    assert f'name="cursor" value="{shown.context["page"].next_cursor}"' in shown.text
    response = client.post(
        NEW,
        {
            "workshop": workshop_org.pk,
            "device": [first.pk],
            "cursor": shown.context["page"].next_cursor,
        },
    )
    assert response.status_code == 200
    assert response.context["page"].page_number == 2
    assert len(response.context["page"]) == 1
    assert response.context["carried"] == [first.pk]
    assert f'<input type="hidden" name="device" value="{first.pk}">' in response.text
    assert not Shipment.objects.exists()
    # Paging is no submission: no error is shown for the fields not filled in yet.
    assert 'class="error-summary"' not in response.text
    assert not response.context["form"].errors


def test_the_list_filters_by_donor_and_category(login, coordinator, donor_org, devices):
    phone = make_device(actor=coordinator, category="smartphone", imei1="", donor=None)
    client = login(coordinator)
    by_donor = client.get(NEW, {"donor": donor_org.pk}).context["page"].object_list
    assert phone not in by_donor and len(by_donor) == 3
    by_category = client.get(NEW, {"category": "smartphone"}).context["page"].object_list
    assert list(by_category) == [phone]


def test_a_double_click_on_send_records_one_shipment(login, coordinator, workshop_org, devices):
    client = login(coordinator)
    data = form_data(workshop_org, device=[d.pk for d in devices])
    first = client.post(NEW, data)
    second = client.post(NEW, data)
    shipment = Shipment.objects.get()
    assert first["Location"] == second["Location"] == detail(shipment)


@pytest.mark.parametrize("persona", ["workshop_staff", "reader"])
def test_only_coordination_members_open_the_new_shipment_form(
    request, login, persona, coordinator_org, workshop_org, devices
):
    user = (
        make_user(organisation=coordinator_org, role=Role.READER)
        if persona == "reader"
        else request.getfixturevalue(persona)
    )
    client = login(user)
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, form_data(workshop_org, device=[devices[0].pk])).status_code == 403
    assert not Shipment.objects.exists()


def test_a_missing_workshop_is_a_field_error(login, coordinator, devices):
    response = login(coordinator).post(
        NEW, {"sent_on": "2026-03-02", "token": "t", "send": "1", "device": [devices[0].pk]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["workshop"]
    assert not Shipment.objects.exists()


# Receipt by scanning


def test_the_receipt_screen_receives_device_after_device(login, workshop_staff, shipment, devices):
    client = login(workshop_staff)
    page = client.get(receive(shipment))
    assert page.status_code == 200
    assert re.search(r'<input[^>]*name="raw"[^>]*autofocus', page.text)
    response = client.post(receive(shipment), {"raw": devices[0].label_code_id})
    assert response.status_code == 200
    assert response.context["outcome"]["result"] == "applied"
    assert response.context["remaining"] == 2
    assert 'data-result="applied"' in response.text
    assert ShipmentItem.objects.get(device=devices[0]).received_by == workshop_staff

    again = client.post(receive(shipment), {"raw": devices[0].label_code_id.lower()})
    assert again.context["outcome"]["result"] == "already_done"
    assert again.context["remaining"] == 2


def test_a_device_not_in_the_shipment_is_refused_and_stays_listed(
    login, coordinator, workshop_org, workshop_staff, shipment
):
    stray = make_device(actor=coordinator)
    shipment_create(actor=coordinator, workshop=workshop_org, devices=[stray.pk])
    client = login(workshop_staff)
    response = client.post(receive(shipment), {"raw": stray.label_code_id})
    assert response.status_code == 200
    assert response.context["outcome"]["code"] == "not_in_shipment"
    assert 'data-result="refused"' in response.text
    assert reload(stray).status == Status.SENT_TO_WORKSHOP
    later = client.get(receive(shipment))
    assert group_label_code(stray.label_code_id) in later.context["refusals"][0]["message"]


def test_a_workshop_reader_cannot_open_the_receipt_screen(login, workshop_org, shipment):
    client = login(make_user(organisation=workshop_org, role=Role.READER))
    assert client.get(receive(shipment)).status_code == 403
    assert client.get(detail(shipment)).status_code == 200


def test_every_device_received_says_so(login, workshop_staff, shipment, devices):
    client = login(workshop_staff)
    for device in devices:
        response = client.post(receive(shipment), {"raw": device.label_code_id})
    assert response.context["remaining"] == 0
    assert reverse("logistics:workshop_queue") in response.text


def test_a_receipt_on_the_general_scan_page_shows_on_the_shipment(
    login, workshop_staff, shipment, devices
):
    client = login(workshop_staff)
    client.post(
        reverse("inventory:scan"),
        {"raw": devices[2].label_code_id, "action": "receive_at_workshop"},
    )
    assert reload(devices[2]).status == Status.AT_WORKSHOP
    response = client.get(receive(shipment))
    assert [item.device.pk for item in response.context["received"]] == [devices[2].pk]


def test_the_device_link_is_offered_only_where_the_workshop_may_open_it(
    login, coordinator, workshop_staff, structure_org, shipment, devices
):
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=devices[0].label_code_id)
    walk(actor=workshop_staff, device=devices[0], actions=("start_reconditioning", "mark_ready"))
    device_transition(actor=coordinator, device_id=devices[0].pk, action="reserve", workflow=True)
    device_transition(
        actor=coordinator,
        device_id=devices[0].pk,
        action="lend",
        target=structure_org,
        workflow=True,
    )
    text = login(workshop_staff).get(detail(shipment)).text
    # Lent to a structure: no longer the workshop's to open; still listed by its code.
    assert reverse("inventory:device_detail", args=[devices[0].pk]) not in text
    assert group_label_code(devices[0].label_code_id) in text
    assert reverse("inventory:device_detail", args=[devices[1].pk]) in text
    assert reverse("inventory:device_detail", args=[devices[0].pk]) in (
        login(coordinator).get(detail(shipment)).text
    )


# Two coordinators at once, through the screens


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_coordinators_shipping_the_same_devices_at_once_get_one_shipment(
    coordinator_org, workshop_org, other_workshop_org
):
    first = make_user(organisation=coordinator_org, username="coord-a")
    second = make_user(organisation=coordinator_org, username="coord-b")
    devices = [make_device(actor=first) for _ in range(3)]
    clients = []
    for user in (first, second):
        client = Client()
        client.force_login(user)
        clients.append(client)
    targets = [workshop_org, other_workshop_org]

    def post(i):
        data = form_data(targets[i], device=[d.pk for d in devices], token=f"token-{i}")
        return clients[i].post(NEW, data).status_code

    results, errors = run_at_once(post, count=2)
    assert errors == []
    assert sorted(results) == [200, 302]
    [shipment] = Shipment.objects.all()
    assert shipment.items.count() == 3
    assert {reload(d).custodian_id for d in devices} == {shipment.workshop_id}


# In a real browser, like a handheld scanner at the workshop's door

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("REEMPLOI_SCREENSHOTS", Path(tempfile.gettempdir()) / "reemploi-screenshots")
)


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_scanner_firing_codes_fast_receives_a_shipment_on_a_phone(
    live_server, coordinator, workshop_org, workshop_staff
):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    devices = [make_device(actor=coordinator) for _ in range(4)]
    shipment = shipment_create(
        actor=coordinator, workshop=workshop_org, devices=[d.pk for d in devices[:3]]
    )
    stray = devices[3]
    shipment_create(actor=coordinator, workshop=workshop_org, devices=[stray.pk])
    # Playwright's sync API runs an event loop in this thread; Django must not refuse the ORM.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
            )
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="fr-FR")
            page.goto(f"{live_server.url}/login/")
            page.fill("input[name=username]", "bench")
            page.fill("input[name=password]", "a-long-test-password")
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.goto(f"{live_server.url}{receive(shipment)}")
            assert page.evaluate("document.activeElement.name") == "raw"
            # Codes fired one after another without waiting: the page queues them.
            for device in (devices[0], devices[1], stray, devices[0]):
                page.keyboard.type(device.label_code_id.lower(), delay=3)
                page.keyboard.press("Enter")
            # An arrow function, not an expression: Playwright evaluates a bare expression
            # with eval, which the page's Content-Security-Policy refuses.
            page.wait_for_function(
                "() => document.querySelector('[data-received]').dataset.received === '2'"
                " && document.querySelector('[data-result]').dataset.result === 'already_done'"
                " && document.querySelectorAll('.scan-list__item--refused').length === 1",
                timeout=15000,
            )
            assert page.evaluate("document.activeElement.name") == "raw"
            # Nothing wider than the phone's screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "shipment-receive-390.png"), full_page=True)
            page.goto(f"{live_server.url}{reverse('logistics:workshop_queue')}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(SHOTS / "workshop-queue-390.png"), full_page=True)
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert ShipmentItem.objects.filter(shipment=shipment, received_at__isnull=False).count() == 2
    assert reload(stray).status == Status.SENT_TO_WORKSHOP
