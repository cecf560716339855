"""Any text a scanner can type gives a per-scan answer, never a server error (issue 9).

"[/" once reached urllib's IPv6 parser and raised ValueError on every path that reads a scan:
the parser itself now turns whatever it cannot read into a refused code.
"""

import uuid

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from inventory.codes import InvalidCode, code_from_scan
from inventory.models import ScanEvent, ScanResult
from inventory.scanning.services import device_scan
from inventory.states import Status
from tests.builders import make_device, reload, token_client
from tests.logistics.disposals.test_services import recycled

SITE = "https://reemploi.example.org"
BROKEN = ["[/", "]/", "/[", "http://[/d/ABC", "//[::1/d/x", "HTTPSM!![!", "[!"]
SCANNER_TEXT = st.one_of(
    st.text(),
    st.text(alphabet="[]/:!@#%?&=.-_ABCDEFGHJKMNPQRSTVWXYZ0123456789hHtTpPsS", max_size=60),
    st.builds(lambda tail: f"{SITE}/D/{tail}", st.text(max_size=30)),
    st.builds(lambda host, tail: f"https://{host}/d/{tail}", st.text(max_size=20), st.text()),
)


@hypothesis_settings(max_examples=400, deadline=None)
@given(SCANNER_TEXT)
def test_the_scan_parser_answers_a_code_or_a_refusal_for_any_text(raw):
    try:
        code = code_from_scan(raw, SITE)
    except InvalidCode as refused:
        assert refused.reason in {"empty", "foreign_url", "length", "alphabet", "check"}
    else:
        assert len(code) == 9


@pytest.mark.parametrize("raw", BROKEN)
def test_text_no_url_parser_can_read_is_a_refused_code(raw):
    with pytest.raises(InvalidCode):
        code_from_scan(raw, SITE)


@pytest.mark.parametrize("raw", BROKEN)
def test_the_scan_api_records_a_refusal(workshop_staff, raw):
    response = token_client(workshop_staff).post("/api/scan/", {"raw": raw}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["result"] == ScanResult.INVALID
    assert ScanEvent.objects.filter(user=workshop_staff, result=ScanResult.INVALID).exists()


@pytest.mark.parametrize("path", ["/d/%5B!", "/d/%5B%2F", "/D/%5B!/"])
def test_the_label_address_answers_400_not_500(client, path):
    assert client.get(path).status_code == 400


def test_a_batch_with_an_unreadable_scan_reports_each_scan_and_finishes(
    workshop_staff, coordinator, workshop_org
):
    first, last = (make_device(actor=coordinator) for _ in range(2))
    for device in (first, last):
        token_client(coordinator).post(
            f"/api/devices/{device.pk}/transition/",
            {"action": "send_to_workshop", "target": workshop_org.pk},
            format="json",
        )
    scans = [
        {"raw": first.label_code_id, "client_id": str(uuid.uuid4())},
        {"raw": "[/", "client_id": str(uuid.uuid4())},
        {"raw": last.label_code_id, "client_id": str(uuid.uuid4())},
    ]
    body = {"action": "receive_at_workshop", "scans": scans}
    client = token_client(workshop_staff)
    for _upload in range(2):  # a re-upload replays, and still finishes
        response = client.post("/api/scan/batch/", body, format="json")
        assert response.status_code == 200, response.content
        results = [scan["result"] for scan in response.json()["results"]]
        assert results[1] == ScanResult.INVALID and len(results) == 3
    assert reload(first).status == reload(last).status == Status.AT_WORKSHOP


def test_shipments_and_disposals_refuse_unreadable_codes_by_device(coordinator, workshop_org):
    client = token_client(coordinator)
    shipment = client.post(
        "/api/shipments/", {"workshop": workshop_org.pk, "devices": ["[/"]}, format="json"
    )
    assert shipment.status_code == 409, shipment.content
    assert shipment.json()["problems"] == [
        {
            "device": "[/",
            "code": "code_foreign_url",
            "detail": shipment.json()["problems"][0]["detail"],
        }
    ]
    disposal = client.post(
        "/api/disposals/",
        {
            "eco_organisation": "ecosystem",
            "left_on": "2025-03-14",
            "weight_kg": "12.00",
            "document_reference": "BSD-1",
            "devices": [recycled(actor=coordinator).pk, "[/"],
        },
        format="json",
    )
    assert disposal.status_code == 409, disposal.content
    assert [problem["code"] for problem in disposal.json()["problems"]] == ["code_foreign_url"]


def test_a_shipment_receipt_refuses_an_unreadable_scan(coordinator, workshop_staff, workshop_org):
    shipped = token_client(coordinator).post(
        "/api/shipments/",
        {"workshop": workshop_org.pk, "devices": [make_device(actor=coordinator).pk]},
        format="json",
    )
    url = f"/api/shipments/{shipped.json()['id']}/receive/"
    response = token_client(workshop_staff).post(url, {"raw": "[/"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "code_foreign_url"


@pytest.mark.parametrize("action", ["", "receive_at_workshop"])
def test_the_scan_page_shows_a_refusal(login, workshop_staff, action):
    response = login(workshop_staff).post("/scan/", {"raw": "[/", "action": action})
    assert response.status_code == 200
    assert ScanEvent.objects.get(user=workshop_staff).result == ScanResult.INVALID


CONTROL_TEXT = ["\x00", "lap\x00top", "\x1d0104012345678901", "\ud800", "A\x00/[", "\x7f\x1b[2J"]


@pytest.mark.parametrize("raw", CONTROL_TEXT)
def test_control_characters_and_lone_surrogates_are_recorded_as_read(workshop_staff, raw):
    # PostgreSQL refuses NUL in text and psycopg cannot encode a lone surrogate: the record
    # shows them as U+FFFD, so the scan is stored and refused like any unreadable text.
    outcome = device_scan(actor=workshop_staff, raw=raw)
    assert outcome.result == ScanResult.INVALID
    stored = ScanEvent.objects.get(pk=outcome.event.pk).raw
    assert stored == "".join("\ufffd" if not ch.isprintable() else ch for ch in raw)


def test_the_scan_page_records_a_scan_holding_a_nul(login, workshop_staff):
    response = login(workshop_staff).post("/scan/", {"raw": "ABC\x00DEF"})
    assert response.status_code == 200
    assert ScanEvent.objects.get(user=workshop_staff).raw == "ABC\ufffdDEF"
