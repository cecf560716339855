"""The WEEE screens as the coordination and the workshops use them, and the register export."""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext

from inventory.codes import group_label_code
from inventory.models import Role
from logistics.models import DisposalBatch, DisposalItem
from tests.builders import dispose, make_device, make_user, recycled
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:disposal_list")
NEW = reverse("logistics:disposal_create")
CSV = reverse("logistics:disposal_register_csv")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def workshop_batch(workshop_staff, workshop_recycled):
    return dispose(actor=workshop_staff, devices=[workshop_recycled.pk])


@pytest.fixture
def coordination_batch(coordinator):
    return dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        left_on=datetime.date(2024, 11, 5),
        document_reference="BSD-COORD",
    )


def form_data(**overrides) -> dict:
    data = {
        "eco_organisation": "Ecologic",
        "collector": "Envie 92",
        "left_on": "2025-03-14",
        "weight_kg": "12,5",
        "document_reference": "BSD-77",
        "codes": "",
        "notes": "",
        "token": "t-1",
        "record": "1",
    }
    return data | overrides


def parse_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


# The list


def test_the_list_shows_each_organisation_its_batches(
    login, coordinator, workshop_staff, workshop_batch, coordination_batch
):
    page = login(coordinator).get(LIST)
    assert page.status_code == 200
    assert workshop_batch.reference in page.text and coordination_batch.reference in page.text
    page = login(workshop_staff).get(LIST)
    assert workshop_batch.reference in page.text
    assert coordination_batch.reference not in page.text


def test_an_empty_list_says_so_and_offers_the_first_batch(login, coordinator):
    page = login(coordinator).get(LIST)
    assert gettext("No WEEE disposal recorded yet.") in page.text
    assert f'href="{NEW}"' in page.text
    assert f'href="{CSV}' not in page.text


def test_a_workshop_reader_reads_the_list_but_is_not_offered_to_record(login, workshop_org):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    page = login(reader).get(LIST)
    assert page.status_code == 200
    assert f'href="{NEW}"' not in page.text
    assert login(reader).get(NEW).status_code == 403


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_organisations_outside_the_bench_are_refused_every_screen(
    request, login, persona, coordination_batch
):
    client = login(request.getfixturevalue(persona))
    for url in (LIST, NEW, CSV, reverse("logistics:disposal_detail", args=[coordination_batch.pk])):
        assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(coordination_batch):
    response = Client().get(LIST)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_the_list_filters_by_year(login, coordinator, coordination_batch, workshop_batch):
    page = login(coordinator).get(LIST, {"year": "2024"})
    assert coordination_batch.reference in page.text
    assert workshop_batch.reference not in page.text
    assert f"{CSV}?year=2024" in page.text


def test_a_period_ending_before_it_starts_is_an_error_linked_to_its_field(login, coordinator):
    page = login(coordinator).get(LIST, {"start": "2025-05-01", "end": "2025-01-01"})
    assert page.status_code == 200
    assert 'id="id_end_error"' in page.text
    assert re.search(r'<input[^>]*aria-describedby="id_end_error"[^>]*id="id_end"', page.text)


@pytest.mark.slow
def test_the_list_costs_the_same_queries_for_10_and_40_batches(login, coordinator):
    client = login(coordinator)

    def queries_for(count: int) -> int:
        for _ in range(count - DisposalBatch.objects.count()):
            dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk])
        with CaptureQueriesContext(connection) as queries:
            page = client.get(LIST)
        assert page.text.count("DEEE-") >= count
        return len(queries)

    assert queries_for(10) == queries_for(40)


# One batch


def test_a_batch_page_lists_its_devices(login, workshop_staff, workshop_batch, workshop_recycled):
    page = login(workshop_staff).get(reverse("logistics:disposal_detail", args=[workshop_batch.pk]))
    assert page.status_code == 200
    assert group_label_code(workshop_recycled.label_code_id) in page.text
    assert workshop_batch.document_reference in page.text
    # Still in the workshop's custody: its page opens from here.
    assert reverse("inventory:device_detail", args=[workshop_recycled.pk]) in page.text


def test_another_organisations_batch_is_not_found(
    login, workshop_staff, other_workshop_org, workshop_batch, coordination_batch
):
    other = make_user(organisation=other_workshop_org)
    for user, batch in ((other, workshop_batch), (workshop_staff, coordination_batch)):
        url = reverse("logistics:disposal_detail", args=[batch.pk])
        assert login(user).get(url).status_code == 404
    assert (
        login(workshop_staff).get(reverse("logistics:disposal_detail", args=[99999])).status_code
        == 404
    )


# Recording a batch


def test_the_form_lists_recycled_devices_awaiting_disposal(
    login, coordinator, workshop_staff, workshop_recycled, workshop_batch
):
    waiting = recycled(actor=coordinator)
    at_intake = make_device(actor=coordinator)
    page = login(coordinator).get(NEW)
    assert page.status_code == 200
    assert group_label_code(waiting.label_code_id) in page.text
    assert group_label_code(at_intake.label_code_id) not in page.text
    # Already gone with the workshop's batch.
    assert group_label_code(workshop_recycled.label_code_id) not in page.text
    text = login(workshop_staff).get(NEW).text
    empty = gettext(
        "No recycled device awaits disposal here. Devices are marked recycled from their page "
        "or by scanning; they then appear in this list."
    )
    assert empty in text


def test_ticked_and_typed_devices_leave_in_one_batch(login, coordinator, coordinator_org):
    ticked, typed = recycled(actor=coordinator), recycled(actor=coordinator)
    response = login(coordinator).post(
        NEW,
        form_data(device=[str(ticked.pk)], codes=f"\n{group_label_code(typed.label_code_id)}\n"),
    )
    batch = DisposalBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("logistics:disposal_detail", args=[batch.pk])
    assert sorted(batch.items.values_list("device_id", flat=True)) == [ticked.pk, typed.pk]
    assert (batch.weight_kg, batch.organisation) == (Decimal("12.50"), coordinator_org)
    assert DisposalBatch.history.get().history_user == coordinator


def test_a_refused_device_is_named_and_the_form_keeps_its_input(login, coordinator):
    good, at_intake = recycled(actor=coordinator), make_device(actor=coordinator)
    page = login(coordinator).post(
        NEW, form_data(device=[str(good.pk)], codes=at_intake.label_code_id)
    )
    assert page.status_code == 200
    assert "error-summary" in page.text
    assert group_label_code(at_intake.label_code_id) in page.text
    assert 'value="BSD-77"' in page.text
    assert f'value="{good.pk}" id="select-{good.pk}" checked' in page.text
    assert not DisposalBatch.objects.exists()


def test_a_missing_field_is_an_error_linked_to_its_input(login, coordinator):
    device = recycled(actor=coordinator)
    page = login(coordinator).post(NEW, form_data(device=[str(device.pk)], document_reference=""))
    assert page.status_code == 200
    assert 'href="#id_document_reference"' in page.text
    assert re.search(
        r'<input[^>]*aria-describedby="[^"]*id_document_reference_error[^"]*"', page.text
    )
    assert not DisposalBatch.objects.exists()


def test_a_zero_weight_is_refused_on_its_field(login, coordinator):
    device = recycled(actor=coordinator)
    page = login(coordinator).post(NEW, form_data(device=[str(device.pk)], weight_kg="0"))
    assert 'id="id_weight_kg_error"' in page.text
    assert not DisposalBatch.objects.exists()


def test_no_device_is_a_form_error(login, coordinator):
    page = login(coordinator).post(NEW, form_data())
    assert escape(gettext("Choose at least one recycled device.")) in page.text
    assert not DisposalBatch.objects.exists()


def test_the_same_form_posted_twice_records_one_batch(login, coordinator):
    device = recycled(actor=coordinator)
    client = login(coordinator)
    first = client.post(NEW, form_data(device=[str(device.pk)]))
    second = client.post(NEW, form_data(device=[str(device.pk)]))
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert DisposalBatch.objects.count() == 1


def test_a_workshop_cannot_tick_another_workshops_device(login, workshop_staff, coordinator):
    elsewhere = recycled(actor=coordinator)
    page = login(workshop_staff).post(NEW, form_data(device=[str(elsewhere.pk)]))
    assert page.status_code == 200
    assert not DisposalBatch.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_posting_the_same_device_at_once_get_one_batch_and_no_5xx(
    coordinator, workshop_org
):
    device = recycled(actor=coordinator)
    second = make_user(organisation=coordinator.membership.organisation, role=Role.MANAGER)
    clients = []
    for user in (coordinator, second):
        client = Client()
        client.force_login(user)
        clients.append(client)

    def work(i):
        return clients[i].post(NEW, form_data(device=[str(device.pk)], token=f"t-{i}")).status_code

    results, errors = run_at_once(work, count=2)
    assert errors == []
    assert sorted(results) == [200, 302]
    assert DisposalItem.objects.filter(device=device).count() == 1


# The register


def test_the_register_has_one_line_per_batch(
    login, coordinator, workshop_batch, coordination_batch
):
    response = login(coordinator).get(CSV)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, *lines = parse_csv(response)
    assert len(header) == 8
    assert [line[1] for line in lines] == [coordination_batch.reference, workshop_batch.reference]
    assert lines[0] == [
        "2024-11-05",
        coordination_batch.reference,
        "ecosystem",
        "Envie 92",
        "1",
        "42,50",
        "BSD-COORD",
        "Coordination 92",
    ]


def test_a_workshop_exports_its_own_batches_only(
    login, workshop_staff, workshop_batch, coordination_batch
):
    _header, *lines = parse_csv(login(workshop_staff).get(CSV))
    assert [line[1] for line in lines] == [workshop_batch.reference]


def test_the_register_of_one_year(login, coordinator, workshop_batch, coordination_batch):
    _header, *lines = parse_csv(login(coordinator).get(CSV, {"year": "2024"}))
    assert [line[1] for line in lines] == [coordination_batch.reference]
    _header, *lines = parse_csv(
        login(coordinator).get(CSV, {"start": "2025-01-01", "end": "2025-12-31"})
    )
    assert [line[1] for line in lines] == [workshop_batch.reference]


def test_an_invalid_period_sends_back_to_the_list_with_its_error(login, coordinator):
    response = login(coordinator).get(CSV, {"start": "2025-05-01", "end": "2025-01-01"})
    assert response.status_code == 302
    assert response["Location"].startswith(LIST)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_register_cells_that_could_run_as_formulas_are_neutralised(
    login, coordinator, coordinator_org, start
):
    coordinator_org.name = f"{start}Coordination"
    coordinator_org.save()
    batch = dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        eco_organisation=f"{start}cmd|' /C calc'!A0",
        collector=f'{start}HYPERLINK("http://x")',
        document_reference=f"{start}1+1",
        notes=f"{start}1",
    )
    batch.refresh_from_db()
    _header, line = parse_csv(login(coordinator).get(CSV))
    stored = [
        batch.eco_organisation,
        batch.collector,
        batch.document_reference,
        coordinator_org.name,
    ]
    cells = [line[2], line[3], line[6], line[7]]
    # The service trims text, so a leading tab or CR may already be gone; whatever remains
    # starting like a formula carries the quote, and nothing else was changed.
    assert cells == [("'" + text) if text.startswith(TRIGGERS) else text for text in stored]
    assert not any(text.startswith(TRIGGERS) for text in cells)
    assert cells[3] == "'" + f"{start}Coordination"


@pytest.mark.parametrize(
    "start",
    ["\uff1d", "\uff0b", "\uff0d", "\uff20", "\u200b=", "\ufeff+", "\u2060-", "\u200e@"]
    + ["\u200f=", "\u200c\uff1d", " \u200b=", "\u00a0\u200b@"],
)
def test_register_cells_starting_with_a_look_alike_or_a_hidden_trigger_are_neutralised(
    login, coordinator, coordinator_org, start
):
    coordinator_org.name = f"{start}Coordination"
    coordinator_org.save()
    batch = dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        eco_organisation=f"{start}cmd|' /C calc'!A0",
        collector=f'{start}HYPERLINK("http://x")',
        document_reference=f"{start}1+1",
    )
    batch.refresh_from_db()
    _header, line = parse_csv(login(coordinator).get(CSV))
    stored = [batch.eco_organisation, batch.collector, batch.document_reference]
    stored.append(coordinator_org.name)
    # Read back as CSV, each cell is the stored text behind one quote, and nothing else.
    assert [line[2], line[3], line[6], line[7]] == ["'" + text for text in stored]


def test_the_device_page_names_the_weee_batch_through_the_logistics_hook(
    login, workshop_staff, workshop_batch, workshop_recycled
):
    # The device page is inventory's; the line about the batch is logistics' (a registered
    # device fact), so inventory's template never reads a logistics model.
    url = reverse("inventory:device_detail", args=[workshop_recycled.pk])
    detail = reverse("logistics:disposal_detail", args=[workshop_batch.pk])
    page = login(workshop_staff).get(url)
    assert page.status_code == 200
    assert gettext("WEEE disposal") in page.text
    assert workshop_batch.reference in page.text
    assert f'href="{detail}"' in page.text


def test_a_recycled_device_not_yet_in_a_batch_says_so_on_its_page(login, coordinator):
    device = recycled(actor=coordinator)
    page = login(coordinator).get(reverse("inventory:device_detail", args=[device.pk]))
    assert gettext("Not yet handed to an éco-organisme") in page.text


def test_logistics_registers_its_device_fact_from_its_apps_ready():
    from inventory.web import device_facts
    from logistics.disposals.selectors import disposal_facts

    assert disposal_facts in device_facts.registered()
