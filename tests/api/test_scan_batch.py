"""POST /api/scan/batch/: one move over many scans, each reported; uploads replayed, never
applied twice (R6), a body that is not valid records nothing, and a query count that grows
by the same number of queries per scan."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.codes import check_symbol
from inventory.models import Device, ScanEvent, ScanResult
from inventory.scanning.selectors import batch_scans
from inventory.services import device_transition, label_codes_preprint
from inventory.states import Status
from tests.builders import make_device, reload

URL = "/api/scan/batch/"
UNUSED_CODE = "7QK2M9XH" + check_symbol("7QK2M9XH")


def upload(client, scans, action="receive_at_workshop", **fields):
    return client.post(URL, {"action": action, "scans": scans, **fields}, format="json")


def scans_of(devices, prefix="phone-1") -> list[dict]:
    return [
        {"client_id": f"{prefix}:{i}", "raw": device.label_code_id.lower()}
        for i, device in enumerate(devices)
    ]


def sent_to(coordinator, workshop, count: int) -> list[Device]:
    devices = [make_device(actor=coordinator) for _ in range(count)]
    for device in devices:
        device_transition(
            actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop
        )
    return devices


def test_a_batch_applies_the_move_to_each_device_and_reports_each(
    api, coordinator, workshop_staff, workshop_org
):
    devices = sent_to(coordinator, workshop_org, 3)
    response = upload(api(workshop_staff), scans_of(devices), note="palette 4")
    assert response.status_code == 200
    body = response.json()
    assert [row["client_id"] for row in body["results"]] == ["phone-1:0", "phone-1:1", "phone-1:2"]
    assert {row["result"] for row in body["results"]} == {ScanResult.APPLIED}
    assert [row["device_id"] for row in body["results"]] == [d.pk for d in devices]
    assert all(row["code"] is None and row["detail"] for row in body["results"])
    assert not any(row["replayed"] for row in body["results"])
    assert body["summary"]["applied"] == 3
    assert sum(body["summary"].values()) == 3
    for device in devices:
        assert reload(device).status == Status.AT_WORKSHOP
        last = reload(device).history.first()
        assert (last.history_change_reason, last.history_user, last.history_note) == (
            "receive_at_workshop",
            workshop_staff,
            "palette 4",
        )


def test_each_kind_of_result_is_reported_with_its_code(
    api, coordinator, workshop_staff, workshop_org, at_other_workshop
):
    ready, refused = sent_to(coordinator, workshop_org, 2)
    device_transition(actor=coordinator, device_id=refused.pk, action="declare_lost")
    [preprinted] = label_codes_preprint(actor=coordinator, count=1)
    scans = [
        {"client_id": "a", "raw": ready.label_code_id},
        {"client_id": "b", "raw": ready.label_code_id},
        {"client_id": "c", "raw": "not a code"},
        {"client_id": "d", "raw": UNUSED_CODE},
        {"client_id": "e", "raw": at_other_workshop.label_code_id},
        {"client_id": "f", "raw": preprinted.code},
    ]
    body = upload(api(workshop_staff), scans).json()
    rows = [(row["result"], row["code"]) for row in body["results"]]
    assert rows == [
        ("applied", None),
        ("already_done", None),
        ("invalid", "code_length"),
        ("unknown", "code_unknown"),
        ("unknown", "code_unknown"),  # another organisation's device reads as unknown
        ("unassigned", "code_unassigned"),
    ]
    assert [row["device_id"] for row in body["results"]] == [ready.pk, ready.pk] + [None] * 4
    assert body["summary"] == {
        "applied": 1,
        "already_done": 1,
        "refused": 0,
        "invalid": 1,
        "unknown": 2,
        "unassigned": 1,
        "found": 0,
    }
    assert ScanEvent.objects.filter(user=workshop_staff).count() == 6


def test_a_refused_move_is_reported_with_the_lifecycle_code(api, coordinator, device):
    body = upload(api(coordinator), scans_of([device]), action="mark_ready").json()
    [row] = body["results"]
    assert (row["result"], row["code"], row["device_id"]) == (
        "refused",
        "transition_not_allowed",
        device.pk,
    )
    assert row["detail"]
    assert body["summary"]["refused"] == 1
    assert reload(device).status == Status.REGISTERED
    assert ScanEvent.objects.get().result == ScanResult.REFUSED


def test_the_batch_id_given_is_kept_and_one_is_generated_otherwise(
    api, coordinator, workshop_staff, workshop_org
):
    first, second = sent_to(coordinator, workshop_org, 2)
    client = api(workshop_staff)
    given = upload(client, scans_of([first], "a"), batch="bench-3 morning").json()
    assert given["batch"] == "bench-3 morning"
    events, summary = batch_scans(workshop_staff, "bench-3 morning")
    assert [event.device for event in events] == [first]
    assert summary == {"applied": 1}
    generated = upload(client, scans_of([second], "b")).json()
    assert str(uuid.UUID(generated["batch"])) == generated["batch"]
    assert ScanEvent.objects.get(client_id="b:0").batch == generated["batch"]


def test_uploading_the_same_batch_again_replays_every_item(
    api, coordinator, workshop_staff, workshop_org
):
    devices = sent_to(coordinator, workshop_org, 3)
    client = api(workshop_staff)
    first = upload(client, scans_of(devices), batch="b1").json()
    again = upload(client, scans_of(devices), batch="b1").json()
    assert [row["result"] for row in again["results"]] == [
        row["result"] for row in first["results"]
    ]
    assert all(row["replayed"] for row in again["results"])
    assert again["summary"] == first["summary"]
    assert ScanEvent.objects.count() == 3


ONE_SCAN = [{"client_id": "a", "raw": "x"}]
RECEIVE = {"action": "receive_at_workshop"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (RECEIVE | {"scans": [{"raw": "x"}]}, "scans"),
        (RECEIVE | {"scans": [{"client_id": "", "raw": "x"}]}, "scans"),
        (RECEIVE | {"scans": [{"client_id": "c" * 65, "raw": "x"}]}, "scans"),
        (RECEIVE | {"scans": [{"client_id": "a"}]}, "scans"),
        (RECEIVE | {"scans": []}, "scans"),
        (RECEIVE | {"scans": {"client_id": "a", "raw": "x"}}, "scans"),
        (RECEIVE, "scans"),
        ({"action": "teleport", "scans": ONE_SCAN}, "action"),
        ({"scans": ONE_SCAN}, "action"),
        ({"action": "send_to_workshop", "target": 10**9, "scans": ONE_SCAN}, "target"),
        ({"action": "send_to_workshop", "target": "ECODAIR", "scans": ONE_SCAN}, "target"),
        (RECEIVE | {"batch": "b" * 37, "scans": ONE_SCAN}, "batch"),
        (RECEIVE | {"note": "n" * 1001, "scans": ONE_SCAN}, "note"),
    ],
)
def test_a_batch_that_is_not_valid_answers_400_and_records_nothing(
    api, workshop_staff, body, field
):
    response = api(workshop_staff).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert ScanEvent.objects.count() == 0


def test_a_client_id_twice_in_one_upload_is_named_and_nothing_is_recorded(
    api, coordinator, workshop_staff, workshop_org
):
    devices = sent_to(coordinator, workshop_org, 3)
    scans = scans_of(devices)
    scans[2]["client_id"] = scans[0]["client_id"]
    response = upload(api(workshop_staff), scans)
    assert response.status_code == 400
    errors = response.json()["fields"]["scans"]
    assert list(errors) == ["2"]
    assert list(errors["2"]) == ["client_id"] and errors["2"]["client_id"][0]
    assert ScanEvent.objects.count() == 0
    assert {reload(device).status for device in devices} == {Status.SENT_TO_WORKSHOP}


def test_more_than_500_scans_answer_400_and_record_nothing(api, workshop_staff, at_workshop):
    scans = [{"client_id": str(i), "raw": at_workshop.label_code_id} for i in range(501)]
    response = upload(api(workshop_staff), scans, action="start_reconditioning")
    assert response.status_code == 400
    assert "scans" in response.json()["fields"]
    assert ScanEvent.objects.count() == 0
    assert reload(at_workshop).status == Status.AT_WORKSHOP


def test_an_anonymous_batch_answers_401_and_records_nothing(api, at_workshop):
    response = upload(api(), scans_of([at_workshop]))
    assert response.status_code == 401
    assert ScanEvent.objects.count() == 0


def test_a_fund_reader_batch_moves_nothing(api, fund_reader, device):
    from inventory.models import ScanEvent

    response = upload(api(fund_reader), scans_of([device]), action="recycle")
    # Refused as a whole before any scan is recorded, and without a word about the device.
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert device.label_code_id not in response.text
    assert ScanEvent.objects.count() == 0
    assert reload(device).status == Status.REGISTERED


# R6: a batch of 200 scans, 10 of them conflicting by now, uploaded three times


@pytest.mark.slow
def test_r6_a_batch_of_200_uploaded_three_times_applies_each_move_once(
    api, coordinator, workshop_org, other_workshop_org
):
    devices = [make_device(actor=coordinator) for _ in range(200)]
    # Ten devices were received at another workshop before the upload: their move is refused.
    moved = devices[::20]
    for device in moved:
        device_transition(
            actor=coordinator,
            device_id=device.pk,
            action="receive_at_workshop",
            target=other_workshop_org,
        )
    scans = scans_of(devices)
    client = api(coordinator)
    for attempt in range(3):
        response = upload(
            client, scans, action="send_to_workshop", target=workshop_org.pk, batch="r6"
        )
        assert response.status_code == 200
        body = response.json()
        assert [row["client_id"] for row in body["results"]] == [s["client_id"] for s in scans]
        refused = {row["device_id"] for row in body["results"] if row["result"] == "refused"}
        assert refused == {device.pk for device in moved}
        assert {row["code"] for row in body["results"] if row["result"] == "refused"} == {
            "transition_not_allowed"
        }
        assert body["summary"]["applied"] == 190
        assert body["summary"]["refused"] == 10
        assert sum(body["summary"].values()) == 200  # 0 dropped
        assert {row["replayed"] for row in body["results"]} == {attempt > 0}

    assert ScanEvent.objects.count() == 200
    assert ScanEvent.objects.filter(batch="r6").count() == 200
    assert Device.objects.filter(
        status=Status.SENT_TO_WORKSHOP, custodian=workshop_org
    ).count() == (190)
    assert Device.history.filter(history_change_reason="send_to_workshop").count() == 190


# Query counts


def queries_for_batch(client, devices, prefix) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = upload(client, scans_of(devices, prefix))
    assert response.status_code == 200
    assert response.json()["summary"]["applied"] == len(devices)
    return len(queries)


def test_batch_query_count_grows_by_the_same_number_of_queries_per_scan(
    api, coordinator, workshop_staff, workshop_org
):
    devices = sent_to(coordinator, workshop_org, 36)
    client = api(workshop_staff)
    upload(client, scans_of([devices[0]], "warm"))  # a first request: both counts are of later ones
    five = queries_for_batch(client, devices[1:6], "five")
    ten = queries_for_batch(client, devices[6:16], "ten")
    twenty = queries_for_batch(client, devices[16:36], "twenty")
    per_scan = (ten - five) // 5
    assert ten - five == 5 * per_scan
    assert twenty - ten == 10 * per_scan
    # Replay check, lookup, event insert, locked read, device update, history row, event
    # update: 7 statements, plus the 2 savepoints' SAVEPOINT/RELEASE in the test transaction,
    # plus the look-up of an open shipment of the device that the receipt closes (logistics),
    # plus the upsert of the home pages' device counters (inventory.counts, issue 10).
    assert per_scan <= 13


def test_a_batch_refused_as_a_whole_records_nothing_so_the_corrected_upload_applies(
    api, coordinator, workshop_org
):
    from inventory.models import ScanEvent
    from tests.builders import make_device

    device = make_device(actor=coordinator)
    scans = [{"client_id": "c-1", "raw": device.label_code_id}]
    client = api(coordinator)
    refused = client.post(
        "/api/scan/batch/", {"action": "send_to_workshop", "scans": scans}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "target_required")
    assert ScanEvent.objects.count() == 0
    fixed = client.post(
        "/api/scan/batch/",
        {"action": "send_to_workshop", "target": workshop_org.pk, "scans": scans},
        format="json",
    )
    assert fixed.json()["results"][0]["result"] == "applied"


def test_a_scan_holding_a_nul_is_reported_and_the_batch_finishes(
    api, coordinator, workshop_staff, workshop_org
):
    first, last = sent_to(coordinator, workshop_org, 2)
    scans = scans_of([first]) + [{"client_id": "nul", "raw": "A\x00B"}]
    scans += scans_of([last], prefix="phone-2")
    response = upload(api(workshop_staff), scans, target=workshop_org.pk)
    assert response.status_code == 200, response.content
    results = [item["result"] for item in response.json()["results"]]
    assert results == ["applied", "invalid", "applied"]
