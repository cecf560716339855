"""POST /api/scan/: scanned text → the device and its moves, every scan recorded, retries
replayed, and a query count that does not depend on the device's past."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.codes import check_symbol, group_label_code
from inventory.models import ScanEvent, ScanResult
from inventory.services import device_transition, label_codes_preprint
from tests.builders import make_device, reload, wrong_check

URL = "/api/scan/"
SITE = "https://reemploi.example.org"
UNUSED_CODE = "7QK2M9XH" + check_symbol("7QK2M9XH")


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def scan(client, raw, **fields):
    return client.post(URL, {"raw": raw, **fields}, format="json")


def test_a_scanned_url_gives_the_device_with_its_allowed_moves(api, workshop_staff, at_workshop):
    response = scan(api(workshop_staff), f"{SITE}/d/{at_workshop.label_code_id.lower()}")
    assert response.status_code == 200
    body = response.json()
    assert body["result"] == ScanResult.FOUND
    assert body["code"] is None
    assert body["detail"]
    assert body["replayed"] is False
    assert body["device"]["id"] == at_workshop.pk
    assert body["device"]["label_code"] == at_workshop.label_code_id
    assert body["device"]["category"]["code"] == "laptop"
    assert body["device"]["custodian"]["name"] == "ECODAIR"
    assert {m["action"] for m in body["device"]["allowed_moves"]} >= {"start_reconditioning"}
    event = ScanEvent.objects.get()
    assert (event.user, event.device, event.result) == (workshop_staff, at_workshop, "found")


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: group_label_code(code),
        lambda code: f"  {group_label_code(code).lower()}\n",
        lambda code: f"{SITE.upper()}/D/{code}",
    ],
)
def test_every_form_of_the_code_finds_the_device(api, coordinator, device, typed):
    response = scan(api(coordinator), typed(device.label_code_id))
    assert response.json()["result"] == ScanResult.FOUND
    assert response.json()["device"]["id"] == device.pk


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "code_empty"),
        ("   ", "code_empty"),
        ("4006381333931", "code_length"),
        ("garbage!!", "code_alphabet"),
        (f"https://evil.example.com/d/{UNUSED_CODE}", "code_foreign_url"),
    ],
)
def test_text_that_is_no_label_code_is_a_result_not_an_error(api, coordinator, raw, code):
    response = scan(api(coordinator), raw)
    assert response.status_code == 200
    body = response.json()
    assert (body["result"], body["code"], body["device"]) == (ScanResult.INVALID, code, None)
    assert body["detail"]
    assert ScanEvent.objects.get().error_code == code


def test_a_mistyped_check_character_never_resolves_to_a_device(api, coordinator, device):
    response = scan(api(coordinator), wrong_check(device.label_code_id))
    body = response.json()
    assert (body["result"], body["code"], body["device"]) == ("invalid", "code_check", None)


def test_an_unused_code_is_unknown(api, coordinator, device):
    body = scan(api(coordinator), UNUSED_CODE).json()
    assert (body["result"], body["code"], body["device"]) == ("unknown", "code_unknown", None)


def test_another_organisations_device_reads_exactly_like_an_unused_code(
    api, workshop_staff, at_other_workshop
):
    client = api(workshop_staff)
    foreign = scan(client, at_other_workshop.label_code_id).json()
    unused = scan(client, UNUSED_CODE).json()
    assert foreign == unused
    assert foreign["result"] == ScanResult.UNKNOWN


def test_a_fund_reader_finds_no_device(api, fund_reader, device):
    body = scan(api(fund_reader), device.label_code_id).json()
    assert (body["result"], body["device"]) == ("unknown", None)


def test_a_preprinted_label_not_yet_on_a_device_is_unassigned(api, coordinator):
    [label] = label_codes_preprint(actor=coordinator, count=1)
    body = scan(api(coordinator), label.code).json()
    assert (body["result"], body["code"], body["device"]) == (
        "unassigned",
        "code_unassigned",
        None,
    )


def test_the_same_client_id_replays_the_first_scan(api, workshop_staff, at_workshop):
    client = api(workshop_staff)
    first = scan(client, at_workshop.label_code_id, client_id="phone-1:7")
    again = scan(client, at_workshop.label_code_id, client_id="phone-1:7")
    assert first.json()["replayed"] is False
    assert again.status_code == 200
    assert again.json()["replayed"] is True
    assert again.json()["result"] == first.json()["result"] == ScanResult.FOUND
    assert again.json()["device"]["id"] == at_workshop.pk
    assert ScanEvent.objects.count() == 1


def test_a_replay_does_not_show_a_device_that_has_left_the_users_scope(
    api, coordinator, workshop_staff, device, workshop_org, other_workshop_org
):
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    client = api(workshop_staff)
    first = scan(client, device.label_code_id, client_id="phone-1:8").json()
    assert first["device"]["id"] == device.pk
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="receive_at_workshop",
        target=other_workshop_org,
    )
    again = scan(client, device.label_code_id, client_id="phone-1:8").json()
    assert again["replayed"] is True
    assert again["device"] is None


def test_scanned_at_is_recorded_as_the_client_time(api, coordinator, device):
    when = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    scan(api(coordinator), device.label_code_id, scanned_at=when.isoformat())
    assert ScanEvent.objects.get().client_time == when


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "raw"),
        ({"raw": None}, "raw"),
        ({"raw": {"code": "x"}}, "raw"),
        ({"raw": "x" * 1001}, "raw"),
        ({"raw": "ABC", "client_id": "c\x00"}, "client_id"),
        ({"raw": "ABC", "client_id": "c" * 65}, "client_id"),
        ({"raw": "ABC", "scanned_at": "yesterday"}, "scanned_at"),
    ],
)
def test_a_malformed_scan_answers_400_and_records_nothing(api, coordinator, body, field):
    response = api(coordinator).post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert ScanEvent.objects.count() == 0


def test_a_scan_holding_a_nul_is_recorded_as_read_and_refused(api, coordinator):
    # Scanned text is answered per scan whatever it holds (a batch must finish): the record
    # shows the control characters as U+FFFD, which PostgreSQL stores.
    body = json.dumps({"raw": "ABC\x00\ud800"})  # ASCII escapes: the surrogate travels
    response = api(coordinator).post(URL, body, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["result"] == ScanResult.INVALID
    assert ScanEvent.objects.get().raw == "ABC\ufffd\ufffd"


def test_an_anonymous_scan_answers_401_and_records_nothing(api, device):
    response = scan(api(), device.label_code_id)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert ScanEvent.objects.count() == 0


def _add_past(device, actor, rows: int) -> None:
    """History rows and earlier scans, as a device collects them over its life."""
    while device.history.count() < rows:
        device._history_user = actor
        device._change_reason = "save"
        device.save()
    for _ in range(rows):
        ScanEvent.objects.create(
            user=actor, device=device, raw=device.label_code_id, result="found"
        )


def queries_for_scan(client, raw: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = scan(client, raw)
    assert response.status_code == 200
    assert response.json()["result"] == ScanResult.FOUND
    return len(queries)


def test_scan_query_count_is_the_same_for_3_and_30_history_rows(
    api, workshop_staff, coordinator, workshop_org
):
    young = make_device(actor=coordinator)
    old = make_device(actor=coordinator)
    for device in (young, old):
        device_transition(
            actor=coordinator,
            device_id=device.pk,
            action="receive_at_workshop",
            target=workshop_org,
        )
    young, old = reload(young), reload(old)
    _add_past(young, coordinator, 3)
    _add_past(old, coordinator, 30)
    assert (young.history.count(), old.history.count()) == (3, 30)
    client = api(workshop_staff)
    scan(client, UNUSED_CODE)  # a first request, so that both counts are of a later one
    assert queries_for_scan(client, young.label_code_id) == queries_for_scan(
        client, old.label_code_id
    )
