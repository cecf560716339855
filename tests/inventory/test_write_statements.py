"""What the web writes and the pre-print of label codes cost, statement by statement (issue 10).

The tests hold a transaction, so a service's own transaction shows as SAVEPOINT/RELEASE where
production sends BEGIN/COMMIT, which Django does not count. A signed-in page reads the session,
then its user joined to the user's scope (membership + organisation), once per request.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import services
from inventory.codes import generate_label_code
from inventory.models import Device, LabelCode
from inventory.selectors import user_scope
from inventory.services import device_transition, label_codes_preprint
from inventory.states import Status
from tests.builders import make_device, reload
from tests.concurrency import THREADS, run_at_once


@pytest.fixture
def web(login, coordinator):
    client = login(coordinator)
    client.get("/")  # a first request: what is counted is a later one
    return client


def test_registering_on_the_web_costs_nine_statements_and_its_transaction(
    web, coordinator_org, django_assert_num_queries
):
    form = {
        "category": "laptop",
        "manufacturer": "Dell",
        "serial_number": "WEB-1",
        "custodian": coordinator_org.pk,
    }
    # session, user + scope; the category and the custodian the form validates; SAVEPOINT
    # (BEGIN in production); the duplicate check; the label code's INSERT … ON CONFLICT DO
    # NOTHING; the device's INSERT; its history row; the counters' upsert; RELEASE (COMMIT).
    with django_assert_num_queries(9 + 2):
        response = web.post("/devices/new/", form)
    assert response.status_code == 302
    device = Device.objects.get(serial_number="WEB-1")
    assert LabelCode.objects.filter(code=device.label_code_id).exists()
    [row] = device.history.all()
    assert (row.history_change_reason, row.history_user.username) == ("register", "coord")


def test_a_move_on_the_web_costs_seven_statements_and_its_transaction(
    web, coordinator, workshop_org, django_assert_num_queries
):
    device = make_device(actor=coordinator)
    form = {"action": "send_to_workshop", "target": workshop_org.pk, "note": "van 2"}
    # session, user + scope; the target the form validates; SAVEPOINT (BEGIN in production);
    # the device locked and joined (the service's read is the page's only read of it: a
    # device out of sight answers 404 from it); the UPDATE of the changed columns; the history
    # row; the counters' upsert; RELEASE. Whether the device is still in sight afterwards is
    # read from the row in hand.
    with django_assert_num_queries(7 + 2):
        response = web.post(f"/devices/{device.pk}/move/", form)
    assert response.status_code == 302
    device = reload(device)
    assert (device.status, device.custodian_id) == (Status.SENT_TO_WORKSHOP, workshop_org.pk)
    row = device.history.first()
    assert (row.history_change_reason, row.history_note, row.history_user.username) == (
        "send_to_workshop",
        "van 2",
        "coord",
    )


def test_a_web_move_of_a_device_out_of_sight_answers_404_and_changes_nothing(
    login, workshop_staff, device
):
    response = login(workshop_staff).post(
        f"/devices/{device.pk}/move/", {"action": "declare_lost", "confirm": "on"}
    )
    assert response.status_code == 404
    assert reload(device).status == Status.REGISTERED


def test_a_web_move_that_takes_the_device_out_of_sight_leads_to_the_list(
    login, coordinator, workshop_staff, workshop_org, donor_org
):
    device = make_device(actor=coordinator, donor=donor_org)
    device_transition(
        actor=coordinator, device_id=device.pk, action="receive_at_workshop", target=workshop_org
    )
    response = login(workshop_staff).post(
        f"/devices/{device.pk}/move/", {"action": "return_to_donor", "confirm": "on"}
    )
    assert response.status_code == 302
    assert response.url == reverse("inventory:device_list")
    assert reload(device).custodian_id == donor_org.pk


def preprint_statements(actor, count: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        labels = label_codes_preprint(actor=actor, count=count)
    assert len({label.code for label in labels}) == count
    return len(captured)


def test_a_preprint_costs_the_same_few_statements_for_one_code_and_for_a_thousand(coordinator):
    user_scope(coordinator)  # the permission's read, once per request, cached on the user
    # SAVEPOINT; the advisory lock (PostgreSQL only); the last run; one INSERT … ON CONFLICT
    # DO NOTHING RETURNING for every code; RELEASE.
    one = preprint_statements(coordinator, 1)
    thousand = preprint_statements(coordinator, 1000)
    assert one == thousand == (5 if connection.vendor == "postgresql" else 4)
    assert LabelCode.objects.filter(preprint_run=2, issued_by=coordinator).count() == 1000


def test_a_preprint_draws_again_only_for_the_codes_already_issued(coordinator, monkeypatch):
    taken = [label.code for label in label_codes_preprint(actor=coordinator, count=2)]
    fresh = [generate_label_code() for _ in range(8)]
    # The first draw repeats the two issued codes; the second gives fresh ones.
    draws = iter([taken[0], *fresh[:3], taken[1], *fresh[3:]])
    monkeypatch.setattr(services, "generate_label_code", lambda: next(draws))
    with CaptureQueriesContext(connection) as captured:
        labels = label_codes_preprint(actor=coordinator, count=5)
    codes = [label.code for label in labels]
    assert sorted(codes) == sorted(fresh[:5])
    inserts = [q for q in captured if q["sql"].startswith("INSERT")]
    assert len(inserts) == 2  # the five drawn, then the two drawn again for the collisions
    assert set(LabelCode.objects.filter(preprint_run=2).values_list("code", flat=True)) == set(
        codes
    )
    assert LabelCode.objects.get(code=taken[0]).preprint_run == 1


def test_a_collision_when_registering_draws_another_code(coordinator, monkeypatch):
    [taken] = label_codes_preprint(actor=coordinator, count=1)
    fresh = generate_label_code()
    draws = iter([taken.code, fresh])
    monkeypatch.setattr(services, "generate_label_code", lambda: next(draws))
    device = make_device(actor=coordinator)
    assert device.label_code_id == fresh
    assert reload(device).label_code.preprint_run is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pre_prints_at_once_never_share_a_run(coordinator):
    results, errors = run_at_once(
        lambda i: {label.preprint_run for label in label_codes_preprint(actor=coordinator, count=3)}
    )
    assert errors == []
    runs = [run for result in results for run in result]
    assert sorted(runs) == list(range(1, THREADS + 1))
    assert LabelCode.objects.filter(preprint_run__isnull=False).count() == 3 * THREADS


def test_a_move_from_the_scan_page_reads_the_device_by_its_code_once(
    login, workshop_staff, at_workshop
):
    client = login(workshop_staff)
    client.get("/scan/")
    form = {"raw": at_workshop.label_code_id, "action": "start_reconditioning"}
    with CaptureQueriesContext(connection) as captured:
        response = client.post("/scan/", form)
    assert response.status_code == 200
    assert reload(at_workshop).status == Status.IN_RECONDITIONING
    by_code = [
        q["sql"]
        for q in captured
        if q["sql"].startswith("SELECT") and '"inventory_device"."label_code" =' in q["sql"]
    ]
    # The look-up of the scan; the card shows the row the move left, not a second look-up.
    assert len(by_code) == 1
    assert at_workshop.label_code_id in response.content.decode()
