"""Shipments, a workshop's queue and WEEE disposals on the API: batches all or nothing with each
refused device named, receipts by scanning, scoping like the web screens, history with the API
user, and lists whose cost does not grow with their rows."""

import csv
import io
from datetime import date

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from inventory.codes import group_label_code
from inventory.models import Device, IdempotencyRecord, Role
from inventory.reconditioning import services as bench
from inventory.services import device_transition
from inventory.states import Status
from labels.qr import qr_payload
from logistics.models import DisposalBatch, DisposalItem, Shipment, ShipmentItem
from logistics.shipments.services import shipment_receive
from tests.builders import (
    dispose,
    make_device,
    make_user,
    recycled,
    reload,
    session_client,
    shipped,
    token_client,
)

LEFT_ON = date(2025, 3, 14)


def weee_body(devices, **overrides) -> dict:
    body = {
        "eco_organisation": "ecosystem",
        "collector": "Envie 92",
        "left_on": LEFT_ON.isoformat(),
        "weight_kg": "42.50",
        "document_reference": "BSD-2025-0042",
        "devices": devices,
    }
    return body | overrides


def nothing_shipped() -> bool:
    return not (
        Shipment.objects.exists() or ShipmentItem.objects.exists() or Shipment.history.exists()
    )


def nothing_disposed() -> bool:
    return not (
        DisposalBatch.objects.exists()
        or DisposalItem.objects.exists()
        or DisposalBatch.history.exists()
    )


@pytest.fixture
def bench_client(workshop_staff) -> APIClient:
    return token_client(workshop_staff)


# Sending a shipment


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_a_shipment_sends_devices_by_id_and_code_with_the_api_user_in_history(
    make_client, coordinator, coordinator_org, workshop_org
):
    by_id, by_code = make_device(actor=coordinator), make_device(actor=coordinator)
    response = make_client(coordinator).post(
        "/api/shipments/",
        {
            "workshop": workshop_org.pk,
            "devices": [by_id.pk, group_label_code(by_code.label_code_id).lower()],
            "expected_on": "2099-01-01",
            "carrier": "Camionnette 2",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    shipment = Shipment.objects.get(pk=body["id"])
    assert (body["reference"], body["workshop"]["id"], body["sender"]["id"]) == (
        shipment.reference,
        workshop_org.pk,
        coordinator_org.pk,
    )
    assert (body["sent_by"], body["carrier"], body["device_count"], body["received_count"]) == (
        "coord",
        "Camionnette 2",
        2,
        0,
    )
    assert {item["device"]["id"] for item in body["items"]} == {by_id.pk, by_code.pk}
    assert {item["received_at"] for item in body["items"]} == {None}
    for device in (by_id, by_code):
        assert reload(device).status == Status.SENT_TO_WORKSHOP
    rows = [
        *shipment.history.all(),
        *ShipmentItem.history.all(),
        *Device.history.filter(history_change_reason="send_to_workshop"),
    ]
    assert len(rows) == 5
    assert {row.history_user for row in rows} == {coordinator}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"workshop": ...}, "workshop"),
        ({"workshop": None}, "workshop"),
        ({"workshop": "ECODAIR"}, "workshop"),
        ({"workshop": 999_999}, "workshop"),
        ({"devices": []}, "devices"),
        ({"devices": [True]}, "devices"),
        ({"devices": [1.5]}, "devices"),
        ({"devices": [0]}, "devices"),
        ({"devices": "ABC"}, "devices"),
        ({"sent_on": "14/03/2025"}, "sent_on"),
        ({"carrier": "x" * 121}, "carrier"),
    ],
)
def test_a_bad_shipment_names_its_field_and_writes_nothing(
    coord, workshop_org, device, overrides, field
):
    body = {"workshop": workshop_org.pk, "devices": [device.pk]} | overrides
    body = {name: value for name, value in body.items() if value is not ...}  # ...: left out
    response = coord.post("/api/shipments/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert nothing_shipped()
    assert reload(device).status == Status.REGISTERED


def test_the_service_names_its_fields_too(coord, workshop_org, structure_org, device):
    to_structure = coord.post(
        "/api/shipments/", {"workshop": structure_org.pk, "devices": [device.pk]}, format="json"
    )
    assert list(to_structure.json()["fields"]) == ["workshop"]
    backwards = coord.post(
        "/api/shipments/",
        {
            "workshop": workshop_org.pk,
            "devices": [device.pk],
            "sent_on": "2026-03-02",
            "expected_on": "2026-03-01",
        },
        format="json",
    )
    assert (backwards.status_code, list(backwards.json()["fields"])) == (400, ["expected_on"])
    assert nothing_shipped()


def test_a_refused_shipment_lists_every_device_that_cannot_go(
    coord, coordinator, workshop_org, device, at_workshop
):
    response = coord.post(
        "/api/shipments/",
        {
            "workshop": workshop_org.pk,
            "devices": [device.pk, at_workshop.pk, 999_999, "ABC-DEF-GHJ", "not a code"],
        },
        format="json",
    )
    assert response.status_code == 409, response.content
    error = response.json()
    assert error["code"] == "devices_refused"
    problems = {problem["device"]: problem["code"] for problem in error["problems"]}
    assert problems[group_label_code(at_workshop.label_code_id)] == "not_sendable"
    assert problems["999999"] == "not_found"
    assert problems["not a code"].startswith("code_")
    assert "ABC-DEF-GHJ" in problems
    assert group_label_code(device.label_code_id) not in problems
    assert all(problem["detail"] for problem in error["problems"])
    assert nothing_shipped()
    assert reload(device).status == Status.REGISTERED


def test_a_retried_shipment_with_its_idempotency_key_is_sent_once(coord, workshop_org, device):
    body = {"workshop": workshop_org.pk, "devices": [device.pk]}
    key = {"HTTP_IDEMPOTENCY_KEY": "shipment-1"}
    first = coord.post("/api/shipments/", body, format="json", **key)
    again = coord.post("/api/shipments/", body, format="json", **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert Shipment.objects.count() == 1 and Shipment.history.count() == 1

    other = coord.post("/api/shipments/", body | {"carrier": "Vélo"}, format="json", **key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert IdempotencyRecord.objects.count() == 1


def test_a_refused_shipment_stores_no_reply_under_its_key(coord, workshop_org, at_workshop):
    body = {"workshop": workshop_org.pk, "devices": [at_workshop.pk]}
    key = {"HTTP_IDEMPOTENCY_KEY": "shipment-2"}
    assert coord.post("/api/shipments/", body, format="json", **key).status_code == 409
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "fund_reader"])
def test_only_the_coordination_sends_shipments(request, workshop_org, device, persona):
    client = token_client(request.getfixturevalue(persona))
    body = {"workshop": workshop_org.pk, "devices": [device.pk]}
    response = client.post("/api/shipments/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert nothing_shipped()


# Reading shipments


def test_a_workshop_reads_only_the_shipments_addressed_to_it(
    bench_client, coordinator, workshop_org, other_workshop_org
):
    mine, _devices = shipped(coordinator, workshop_org, 2)
    theirs, _other = shipped(coordinator, other_workshop_org)
    listed = bench_client.get("/api/shipments/").json()["results"]
    assert [(row["id"], row["device_count"]) for row in listed] == [(mine.pk, 2)]
    assert bench_client.get(f"/api/shipments/{mine.pk}/").status_code == 200
    other = bench_client.get(f"/api/shipments/{theirs.pk}/")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_roles_without_shipments_get_403(request, coordinator, workshop_org, persona):
    shipment, _devices = shipped(coordinator, workshop_org)
    client = token_client(request.getfixturevalue(persona))
    for url in ("/api/shipments/", f"/api/shipments/{shipment.pk}/"):
        response = client.get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.slow
def test_the_shipment_list_costs_the_same_queries_for_10_and_60(
    coord, coordinator, workshop_org, other_workshop_org
):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert coord.get("/api/shipments/").status_code == 200
        return len(queries)

    for _ in range(10):
        shipped(coordinator, workshop_org)
    ten = count_queries()
    for n in range(50):
        shipped(coordinator, other_workshop_org if n % 2 else workshop_org, 2)
    assert count_queries() == ten


# Receiving by scanning


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_the_workshop_receives_by_scanning_and_a_second_scan_changes_nothing(
    make_client, coordinator, workshop_staff, workshop_org
):
    shipment, [device, other] = shipped(coordinator, workshop_org, 2)
    client = make_client(workshop_staff)
    url = f"/api/shipments/{shipment.pk}/receive/"
    scan = qr_payload(device.label_code_id, settings.SITE_URL)  # the label's QR, as scanned
    response = client.post(url, {"raw": scan}, format="json")
    assert response.status_code == 200, response.content
    receipt = response.json()
    assert (receipt["changed"], receipt["item"]["device"]["id"]) == (True, device.pk)
    assert receipt["item"]["received_at"] and receipt["item"]["received_by"] == "bench"
    assert receipt["item"]["device"]["status"] == Status.AT_WORKSHOP
    assert reload(device).status == Status.AT_WORKSHOP
    item = ShipmentItem.objects.get(device=device)
    assert item.history.latest().history_user == workshop_staff
    assert Device.history.filter(id=device.pk).latest().history_user == workshop_staff

    again = client.post(url, {"raw": device.label_code_id.lower()}, format="json")
    assert (again.status_code, again.json()["changed"]) == (200, False)
    assert again.json()["item"]["received_at"] == receipt["item"]["received_at"]

    detail = client.get(f"/api/shipments/{shipment.pk}/").json()
    assert detail["received_count"] == 1
    received = {item["device"]["id"]: item["received_at"] for item in detail["items"]}
    assert received[other.pk] is None and received[device.pk]


def test_a_scan_that_is_not_on_the_shipment_or_no_code_is_refused(
    bench_client, coordinator, workshop_org
):
    shipment, [device] = shipped(coordinator, workshop_org)
    stranger = make_device(actor=coordinator)
    url = f"/api/shipments/{shipment.pk}/receive/"
    outside = bench_client.post(url, {"raw": stranger.label_code_id}, format="json")
    assert (outside.status_code, outside.json()["code"]) == (409, "not_in_shipment")
    typo = bench_client.post(url, {"raw": "ABC"}, format="json")
    assert typo.status_code == 400 and typo.json()["code"].startswith("code_")
    missing = bench_client.post(url, {}, format="json")
    assert (missing.status_code, list(missing.json()["fields"])) == (400, ["raw"])
    assert reload(device).status == Status.SENT_TO_WORKSHOP


def test_another_workshops_shipment_cannot_be_received(
    bench_client, coordinator, other_workshop_org
):
    shipment, [device] = shipped(coordinator, other_workshop_org)
    response = bench_client.post(
        f"/api/shipments/{shipment.pk}/receive/", {"raw": device.label_code_id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert reload(device).status == Status.SENT_TO_WORKSHOP


def test_a_workshop_reader_cannot_receive(coordinator, workshop_org):
    reader = make_user(organisation=workshop_org, role=Role.READER, username="reader")
    shipment, [device] = shipped(coordinator, workshop_org)
    response = token_client(reader).post(
        f"/api/shipments/{shipment.pk}/receive/", {"raw": device.label_code_id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert reload(device).status == Status.SENT_TO_WORKSHOP


# A workshop's queue


def test_a_workshop_reads_its_queue_by_step_with_what_each_device_misses(
    bench_client, workshop_org, queue_devices
):
    response = bench_client.get(f"/api/workshops/{workshop_org.pk}/queue/")
    assert response.status_code == 200, response.content
    queue = response.json()
    assert (queue["workshop"]["id"], queue["total"]) == (workshop_org.pk, 5)
    assert [(step["status"], step["count"]) for step in queue["steps"]] == [
        (Status.SENT_TO_WORKSHOP, 2),
        (Status.AT_WORKSHOP, 1),
        (Status.IN_RECONDITIONING, 2),
    ]
    sent, received, reconditioning = queue["steps"]
    assert {device["shipment"] for device in sent["devices"]} == {queue_devices["shipment"].pk}
    assert sent["oldest_since"] and sent["oldest_age_days"] >= 0
    assert received["devices"][0]["missing"] == []
    missing = {d["id"]: [p["code"] for p in d["missing"]] for d in reconditioning["devices"]}
    assert missing[queue_devices["complete"].pk] == []
    assert {"tests_incomplete", "media_missing", "grade_missing"} <= set(
        missing[queue_devices["partial"].pk]
    )
    assert all(p["detail"] for d in reconditioning["devices"] for p in d["missing"])
    turnaround = queue["turnaround"]  # one pass so far: the device the fixture made ready
    assert (turnaround["days"], turnaround["count"]) == (90, 1)
    assert turnaround["median_days"] == turnaround["p90_days"] >= 0


def test_the_queue_takes_a_fixed_number_of_queries(
    bench_client, coord, workshop_org, queue_devices
):
    url = f"/api/workshops/{workshop_org.pk}/queue/"
    # The token with its user and the membership; the counters; one page per step; the pages'
    # categories at once; what the devices in reconditioning miss: their open cycles with
    # their lock checks, test results and erasures, the checklists, the media; the
    # turnaround's ready moves and their receipts. A workshop's own workshop is its
    # membership's: no query.
    with CaptureQueriesContext(connection) as queries:
        assert bench_client.get(url).status_code == 200
    assert len(queries) == 14, [query["sql"] for query in queries.captured_queries]
    # The coordination's: one query more, for the workshop it asked for.
    with CaptureQueriesContext(connection) as queries:
        assert coord.get(url).status_code == 200
    assert len(queries) == 15, [query["sql"] for query in queries.captured_queries]


def test_the_coordination_reads_any_workshops_queue(coord, workshop_org, queue_devices):
    assert coord.get(f"/api/workshops/{workshop_org.pk}/queue/").json()["total"] == 5


def test_another_workshops_queue_or_no_workshop_is_not_found(
    bench_client, coord, other_workshop_org, structure_org
):
    for client, pk in ((bench_client, other_workshop_org.pk), (coord, structure_org.pk)):
        response = client.get(f"/api/workshops/{pk}/queue/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_roles_without_a_queue_get_403(request, workshop_org, persona):
    client = token_client(request.getfixturevalue(persona))
    response = client.get(f"/api/workshops/{workshop_org.pk}/queue/")
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


@pytest.mark.slow
def test_the_queue_costs_the_same_queries_for_few_and_many_devices(
    bench_client, coordinator, workshop_org, workshop_staff
):
    def on_the_bench(count):
        shipment, devices = shipped(coordinator, workshop_org, count)
        for device in devices:
            shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
            bench.lock_checks_record(
                actor=workshop_staff, device_id=device.pk, outcomes={"mdm": "blocked"}
            )

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert bench_client.get(f"/api/workshops/{workshop_org.pk}/queue/").status_code == 200
        return len(queries)

    on_the_bench(2)
    shipped(coordinator, workshop_org, 2)
    few = count_queries()
    on_the_bench(20)
    shipped(coordinator, workshop_org, 20)
    assert count_queries() == few


# WEEE disposals


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_a_disposal_records_recycled_devices_with_the_api_user_in_history(
    make_client, coordinator, coordinator_org
):
    by_id, by_code = recycled(actor=coordinator), recycled(actor=coordinator)
    response = make_client(coordinator).post(
        "/api/disposals/",
        weee_body([by_id.pk, group_label_code(by_code.label_code_id)]),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    batch = DisposalBatch.objects.get(pk=body["id"])
    assert (body["reference"], body["weight_kg"], body["device_count"]) == (
        batch.reference,
        "42.50",
        2,
    )
    assert (body["organisation"]["id"], body["created_by"]) == (coordinator_org.pk, "coord")
    assert {device["id"] for device in body["devices"]} == {by_id.pk, by_code.pk}
    rows = [*batch.history.all(), *DisposalItem.history.all()]
    assert len(rows) == 3 and {row.history_user for row in rows} == {coordinator}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"weight_kg": 42.5}, "weight_kg"),  # a JSON number: decimals travel as strings
        ({"weight_kg": "0"}, "weight_kg"),
        ({"weight_kg": "1.234"}, "weight_kg"),
        ({"left_on": "2099-01-01"}, "left_on"),
        ({"left_on": None}, "left_on"),
        ({"document_reference": ""}, "document_reference"),
        ({"eco_organisation": "   "}, "eco_organisation"),
        ({"devices": []}, "devices"),
    ],
)
def test_a_bad_disposal_names_its_field_and_writes_nothing(coord, coordinator, overrides, field):
    device = recycled(actor=coordinator)
    response = coord.post("/api/disposals/", weee_body([device.pk]) | overrides, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert nothing_disposed()


def test_a_refused_disposal_lists_every_device_that_cannot_leave(coord, coordinator, device):
    gone = recycled(actor=coordinator)
    earlier = dispose(actor=coordinator, devices=[gone.pk])
    response = coord.post(
        "/api/disposals/", weee_body([device.pk, gone.pk, 999_999]), format="json"
    )
    assert response.status_code == 409, response.content
    error = response.json()
    assert error["code"] == "devices_refused"
    problems = {problem["device"]: problem["code"] for problem in error["problems"]}
    assert problems == {
        group_label_code(device.label_code_id): "not_recycled",
        group_label_code(gone.label_code_id): "already_disposed",
        "999999": "not_found",
    }
    assert earlier.reference in response.json()["detail"]
    assert DisposalBatch.objects.count() == 1

    one_kind = coord.post("/api/disposals/", weee_body([device.pk]), format="json")
    assert (one_kind.status_code, one_kind.json()["code"]) == (409, "not_recycled")


def test_a_retried_disposal_with_its_idempotency_key_is_recorded_once(coord, coordinator):
    body = weee_body([recycled(actor=coordinator).pk])
    key = {"HTTP_IDEMPOTENCY_KEY": "weee-1"}
    first = coord.post("/api/disposals/", body, format="json", **key)
    again = coord.post("/api/disposals/", body, format="json", **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert DisposalBatch.objects.count() == 1 and DisposalBatch.history.count() == 1
    other = coord.post("/api/disposals/", body | {"weight_kg": "1.00"}, format="json", **key)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


def test_a_workshop_disposes_of_its_own_recycled_devices_only(
    bench_client, coordinator, workshop_org, workshop_staff, other_workshop_org
):
    mine = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=mine.pk, action="receive_at_workshop", target=workshop_org
    )
    device_transition(actor=workshop_staff, device_id=mine.pk, action="recycle")
    theirs = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=theirs.pk,
        action="receive_at_workshop",
        target=other_workshop_org,
    )
    device_transition(actor=coordinator, device_id=theirs.pk, action="recycle")

    refused = bench_client.post("/api/disposals/", weee_body([theirs.pk]), format="json")
    assert (refused.status_code, refused.json()["code"]) == (409, "not_found")
    assert refused.json()["problems"][0]["device"] == str(theirs.pk)
    assert theirs.label_code_id not in refused.content.decode().replace("-", "")

    response = bench_client.post("/api/disposals/", weee_body([mine.pk]), format="json")
    assert response.status_code == 201
    assert response.json()["organisation"]["id"] == workshop_org.pk


def test_a_workshop_reads_only_the_batches_it_handed_over(
    bench_client, coordinator, workshop_org, workshop_staff
):
    mine = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=mine.pk, action="receive_at_workshop", target=workshop_org
    )
    device_transition(actor=workshop_staff, device_id=mine.pk, action="recycle")
    own = dispose(actor=workshop_staff, devices=[mine.pk])
    coordination = dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk])
    listed = bench_client.get("/api/disposals/").json()["results"]
    assert [row["id"] for row in listed] == [own.pk]
    assert bench_client.get(f"/api/disposals/{own.pk}/").status_code == 200
    other = bench_client.get(f"/api/disposals/{coordination.pk}/")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_roles_without_disposals_get_403(request, coordinator, persona):
    batch = dispose(actor=coordinator, devices=[recycled(actor=coordinator).pk])
    client = token_client(request.getfixturevalue(persona))
    for url in ("/api/disposals/", f"/api/disposals/{batch.pk}/", "/api/disposals/register.csv"):
        response = client.get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
    refused = client.post(
        "/api/disposals/", weee_body([recycled(actor=coordinator).pk]), format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "action_forbidden")
    assert DisposalBatch.objects.count() == 1


def test_the_disposal_list_filters_by_period(coord, coordinator):
    old = dispose(
        actor=coordinator, devices=[recycled(actor=coordinator).pk], left_on=date(2024, 6, 1)
    )
    new = dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        left_on=date(2025, 2, 1),
        document_reference="B",
    )

    def ids(**params) -> list[int]:
        response = coord.get("/api/disposals/", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids() == [new.pk, old.pk]
    assert ids(year=2024) == [old.pk]
    assert ids(start="2025-01-01") == [new.pk]
    assert ids(year=2025, end="2025-01-31") == []
    for params, field in (
        ({"start": "2025-02-01", "end": "2025-01-01"}, "end"),
        ({"year": "2025.0"}, "year"),
        ({"year": ""}, "year"),
        ({"year": 1999}, "year"),
        ({"year": 2024, "start": "2025-01-01"}, "year"),
    ):
        response = coord.get("/api/disposals/", params)
        assert (response.status_code, list(response.json()["fields"])) == (400, [field])


@pytest.mark.slow
def test_the_disposal_list_costs_the_same_queries_for_10_and_60(coord, coordinator):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert coord.get("/api/disposals/").status_code == 200
        return len(queries)

    for n in range(10):
        dispose(
            actor=coordinator, devices=[recycled(actor=coordinator).pk], document_reference=f"A{n}"
        )
    ten = count_queries()
    for n in range(50):
        dispose(
            actor=coordinator,
            devices=[recycled(actor=coordinator).pk, recycled(actor=coordinator).pk],
            document_reference=f"B{n}",
        )
    assert count_queries() == ten


def test_the_register_is_the_web_screens_csv(coord, coordinator, login):
    dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        left_on=date(2024, 6, 1),
        document_reference="=1+1",
    )
    dispose(
        actor=coordinator,
        devices=[recycled(actor=coordinator).pk],
        left_on=date(2025, 2, 1),
        document_reference="BSD-2",
    )
    response = coord.get("/api/disposals/register.csv", {"year": 2025})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    web = login(coordinator).get(reverse("logistics:disposal_register_csv"), {"year": 2025})
    assert response.content == web.content
    assert response["Content-Disposition"] == web["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 2 and rows[1][6] == "BSD-2"

    everything = coord.get("/api/disposals/register.csv")
    rows = list(csv.reader(io.StringIO(everything.content.decode("utf-8-sig")), delimiter=";"))
    assert [row[6] for row in rows[1:]] == ["'=1+1", "BSD-2"]  # oldest first, neutralised


def test_the_registers_errors_are_json_whatever_the_client_accepts(coord):
    response = coord.get("/api/disposals/register.csv", {"start": "soon"}, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["fields"]) == ["start"]
