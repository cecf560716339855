"""What schema-driven fuzzing (R11) found, kept as plain tests that run without schemathesis:
input the schema calls malformed is refused, not silently coerced or ignored."""

import pytest

from inventory.models import Device, LabelCode, ScanEvent


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/scan/", {"raw": "ABC", "client_id": 0}),
        ("/api/scan/", {"raw": 5}),
        ("/api/scan/batch/", {"action": "recycle", "scans": [{"client_id": "a", "raw": 0}]}),
        ("/api/scan/batch/", {"action": "recycle", "scans": [{"client_id": 7, "raw": "x"}]}),
        (
            "/api/scan/batch/",
            {"action": "recycle", "note": 1, "scans": [{"client_id": "a", "raw": "x"}]},
        ),
    ],
)
def test_numbers_where_the_schema_says_string_are_refused(api, coordinator, url, body):
    response = api(coordinator).post(url, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert ScanEvent.objects.count() == 0


def test_a_device_create_with_a_number_for_a_text_field_is_refused(api, coordinator):
    body = {"category": "laptop", "manufacturer": 3000, "specs": {"ram_gb": "8"}}
    response = api(coordinator).post("/api/devices/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"manufacturer", "specs"}
    assert Device.objects.count() == 0


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/labels/", {"codes": ["X"], "format": "avery-l7160", "start": "2"}, "start"),
        ("/api/labels/", {"codes": [123456789], "format": "avery-l7160"}, "codes"),
        ("/api/labels/preprint/", {"format": "avery-l7160", "count": "3"}, "count"),
        ("/api/labels/preprint/", {"format": "avery-l7160", "count": True}, "count"),
        ("/api/labels/preprint/", {"format": "avery-l7160", "sheets": 1.0}, "sheets"),
    ],
)
def test_label_bodies_take_json_integers_and_strings_only(api, coordinator, url, body, field):
    response = api(coordinator).post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert LabelCode.objects.count() == 0


def test_a_query_string_start_is_still_a_number(api, coordinator, device):
    response = api(coordinator).get(
        f"/api/devices/{device.pk}/label/", {"format": "avery-l7160", "start": "2"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/devices/", {"page_size": "null"}, "page_size"),
        ("/api/devices/", {"page_size": "0"}, "page_size"),
        ("/api/devices/", {"page": ""}, "page"),
        ("/api/devices/", {"status": ""}, "status"),
        ("/api/devices/", {"custodian": ""}, "custodian"),
        ("/api/organisations/", {"kind": ""}, "kind"),
        ("/api/organisations/", {"page_size": "-1"}, "page_size"),
    ],
)
def test_list_parameters_given_empty_or_malformed_answer_400(api, coordinator, url, params, field):
    response = api(coordinator).get(url, params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_page_sizes_above_the_cap_are_capped_and_empty_text_filters_are_ignored(
    api, coordinator, device
):
    response = api(coordinator).get("/api/devices/", {"page_size": "1000", "q": "", "category": ""})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [device.pk]


def test_a_page_beyond_the_last_answers_a_documented_404(api, coordinator):
    response = api(coordinator).get("/api/organisations/", {"page": "0"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    schema = api(coordinator).get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/devices/", "/api/organisations/", "/api/devices/{id}/history/"):
        assert "404" in schema["paths"][path]["get"]["responses"]


def test_a_text_is_measured_as_sent_before_its_whitespace_is_trimmed(api, coordinator):
    # "\x1e" is whitespace to Python: trimmed first, 65 characters would have passed as 64.
    scans = [{"client_id": "\x1e" + "c" * 64, "raw": "x"}]
    response = api(coordinator).post(
        "/api/scan/batch/", {"action": "recycle", "scans": scans}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"]["scans"]["0"]["client_id"]
    assert ScanEvent.objects.count() == 0


@pytest.mark.parametrize(
    "path", ["/api/devices/%0A/history/", "/api/devices/1%0A/", "/api/%0A", "/api/x%C2%87%0Ay/"]
)
def test_an_address_with_a_line_break_answers_404_in_json(api, coordinator, path):
    response = api(coordinator).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
