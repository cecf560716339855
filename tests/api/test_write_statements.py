"""What each write and scan costs on the API, statement by statement (issue 10: "say how many
statements each costs and why each is needed").

The tests run inside a transaction, so a service's own transaction shows as SAVEPOINT/RELEASE
where production sends BEGIN/COMMIT, which Django does not count; a transaction nested in a
caller's shows nothing. The clients authenticate by token, as the mobile app does: one read per
request of the token joined to its user and the user's scope (membership + organisation).
"""

import pytest

from inventory.models import Category, Device, IdempotencyRecord, ScanEvent, ScanResult
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, reload, shipped, token_client


@pytest.fixture
def coord_api(coordinator):
    client = token_client(coordinator)
    client.get("/api/organisations/")  # a first request: what is counted is a later one
    return client


@pytest.fixture
def bench_api(workshop_staff):
    client = token_client(workshop_staff)
    client.get("/api/organisations/")
    return client


def sql(captured, verb: str) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith(verb)]


def test_registering_costs_eight_statements_and_its_transaction(
    coord_api, donor_org, django_assert_num_queries
):
    Category.objects.get(code="laptop")
    body = {
        "category": "laptop",
        "manufacturer": "Dell",
        "serial_number": "W-1",
        "donor": donor_org.pk,
    }
    # token + user + scope, category, donor; SAVEPOINT (BEGIN in production); the duplicate
    # check (names the field and the device that holds the serial or IMEI; the constraints
    # remain the last guard); the label code's INSERT … ON CONFLICT DO NOTHING (no savepoint
    # of its own); the device's INSERT; its history row; the counters' upsert (the home
    # pages' counts move in the same transaction); RELEASE (COMMIT).
    with django_assert_num_queries(8 + 2):
        response = coord_api.post("/api/devices/", body, format="json")
    assert response.status_code == 201
    device = Device.objects.get(pk=response.json()["id"])
    assert response.json()["label_code"] == device.label_code_id
    assert response.json()["category"]["code"] == "laptop"
    assert response.json()["donor"]["id"] == donor_org.pk
    [row] = device.history.all()
    assert (row.history_change_reason, row.history_user.username) == ("register", "coord")


def test_registering_with_an_idempotency_key_costs_one_more(
    coord_api, donor_org, django_assert_num_queries
):
    body = {"category": "laptop", "manufacturer": "Dell", "serial_number": "W-2"}
    # token + user + scope; SAVEPOINT (BEGIN); category; the register as above, with no
    # savepoint of its own (any refusal rolls the whole transaction back): duplicate check,
    # label code, device, history, counters; the record with its reply, last (a key used
    # before fails on its unique constraint, or sooner on the serial, and is read then, so a
    # first request reads nothing more); RELEASE (COMMIT).
    with django_assert_num_queries(8 + 2):
        response = coord_api.post(
            "/api/devices/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1"
        )
    assert response.status_code == 201
    assert IdempotencyRecord.objects.get(key="key-1").response_status == 201
    # The replay: token + user (with its scope); the register refused by the duplicate check
    # (SAVEPOINT, category, duplicate check, ROLLBACK TO, RELEASE); the record's read.
    with django_assert_num_queries(7):
        again = coord_api.post("/api/devices/", body, format="json", HTTP_IDEMPOTENCY_KEY="key-1")
    assert again.json() == response.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Device.objects.filter(serial_number="W-2").count() == 1


def test_a_move_costs_six_statements_and_its_transaction(
    coord_api, coordinator, workshop_org, django_assert_num_queries
):
    device = make_device(actor=coordinator)
    body = {"action": "send_to_workshop", "target": workshop_org.pk, "note": "van 3"}
    # token + user + scope, the target organisation (validated by the serializer); SAVEPOINT
    # (BEGIN in production, not counted); the device locked and joined to its category,
    # custodian and donor; the UPDATE of the changed columns; the history row; the counters'
    # upsert; RELEASE (COMMIT). The reply is serialised from those objects: no read after.
    with django_assert_num_queries(6 + 2) as captured:
        response = coord_api.post(f"/api/devices/{device.pk}/transition/", body, format="json")
    assert response.status_code == 200
    assert response.json()["device"]["custodian"]["id"] == workshop_org.pk
    assert response.json()["device"]["category"]["code"] == "laptop"
    [update] = sql(captured, "UPDATE")
    # Only what the move changed: a concurrent correction of the specs is not overwritten.
    assert "manufacturer" not in update and "notes" not in update
    row = reload(device).history.first()
    assert (row.history_change_reason, row.history_note, row.history_user.username) == (
        "send_to_workshop",
        "van 3",
        "coord",
    )
    assert row.custodian_id == workshop_org.pk


def test_a_status_change_costs_five_statements_and_its_transaction(
    bench_api, at_workshop, workshop_org, django_assert_num_queries
):
    # token + user + scope; SAVEPOINT; the locked read; the UPDATE; the history row; the
    # counters' upsert; RELEASE. The custodian in the reply is the joined row.
    with django_assert_num_queries(5 + 2):
        response = bench_api.post(
            f"/api/devices/{at_workshop.pk}/transition/",
            {"action": "start_reconditioning"},
            format="json",
        )
    assert response.json()["changed"] is True
    assert response.json()["device"]["custodian"]["id"] == workshop_org.pk
    assert reload(at_workshop).status == Status.IN_RECONDITIONING
    assert at_workshop.history.first().history_change_reason == "start_reconditioning"


def test_a_scan_costs_three_statements(bench_api, at_workshop, django_assert_num_queries):
    body = {"raw": at_workshop.label_code_id.lower(), "client_id": "phone:1"}
    # token + user + scope; the device looked up by code (joined to what the reply shows); the
    # record's INSERT, in a savepoint (+2) only because the test holds a transaction: alone,
    # it is its own transaction. No read of the client id before it: one seen before fails on
    # its key.
    with django_assert_num_queries(3 + 2):
        response = bench_api.post("/api/scan/", body, format="json")
    assert response.json()["result"] == ScanResult.FOUND
    assert response.json()["device"]["category"]["code"] == "laptop"
    assert ScanEvent.objects.filter(client_id="phone:1").count() == 1
    again = bench_api.post("/api/scan/", body, format="json")
    assert again.json()["replayed"] is True
    assert ScanEvent.objects.filter(client_id="phone:1").count() == 1


def scans(devices, prefix):
    return [{"client_id": f"{prefix}:{i}", "raw": d.label_code_id} for i, d in enumerate(devices)]


def test_a_batch_scan_costs_ten_statements_per_scan_and_the_receipt_of_a_shipment_three_more(
    coordinator, workshop_org, workshop_staff, bench_api, django_assert_num_queries
):
    _shipment, sent = shipped(coordinator, workshop_org, 3)
    walk_in = [make_device(actor=coordinator) for _ in range(3)]
    for device in walk_in:
        device_transition(
            actor=coordinator,
            device_id=device.pk,
            action="receive_at_workshop",
            target=workshop_org,
        )
    url = "/api/scan/batch/"
    # Per scan: the look-up by code; SAVEPOINT (BEGIN in production); the move in its own
    # SAVEPOINT (all or nothing by itself), the locked read, the UPDATE, the history row;
    # the counters' upsert; the shipment's open item read and closed (UPDATE + its history
    # row), since a device that was sent may be on a shipment; RELEASE; the scan's record with
    # its result; RELEASE.
    # Around them: token + user + scope.
    with django_assert_num_queries(1 + 3 * 13):
        response = bench_api.post(
            url, {"action": "receive_at_workshop", "scans": scans(sent, "a")}, format="json"
        )
    assert response.json()["summary"]["applied"] == 3
    assert all(item.received_at for item in _shipment.items.all())
    # A move that concerns no shipment: 10 per scan (no shipment item is read).
    with django_assert_num_queries(1 + 3 * 10):
        response = bench_api.post(
            url, {"action": "start_reconditioning", "scans": scans(walk_in, "b")}, format="json"
        )
    assert response.json()["summary"]["applied"] == 3
    for device in walk_in:
        assert reload(device).status == Status.IN_RECONDITIONING
        row = device.history.first()
        assert (row.history_change_reason, row.history_user) == (
            "start_reconditioning",
            workshop_staff,
        )


def test_a_receipt_of_a_device_never_sent_reads_no_shipment(
    coord_api, coordinator, workshop_org, django_assert_num_queries
):
    device = make_device(actor=coordinator)
    body = {"action": "receive_at_workshop", "target": workshop_org.pk}
    # As any move (token + user + scope, target, SAVEPOINT, locked read, UPDATE, history row,
    # counters, RELEASE): only a device that was sent may have an open shipment item to close.
    with django_assert_num_queries(6 + 2) as captured:
        response = coord_api.post(f"/api/devices/{device.pk}/transition/", body, format="json")
    assert response.json()["changed"] is True
    assert not [q for q in captured.captured_queries if "logistics_shipmentitem" in q["sql"]]
