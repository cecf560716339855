"""Label downloads: GET /api/devices/{id}/label/, POST /api/labels/ and /api/labels/preprint/.

PDFs are checked through their text layer (PDFium) and against the renderer's own output;
errors are JSON whatever the client accepted, and nothing tells one organisation about
another's devices.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.codes import check_symbol, group_label_code
from inventory.models import LabelCode
from inventory.services import label_codes_preprint
from labels.formats import all_formats, get_format
from labels.qr import qr_payload
from labels.render import LabelItem, item_from_device, layout_pages, render_pdf
from tests.builders import make_device, wrong_check
from tests.labels.decoding import decode_labels, page_texts

SITE = "https://reemploi.example.org"
NETWORK = "Réseau test"
UNUSED_CODE = "7QK2M9XH" + check_symbol("7QK2M9XH")
LABELS = "/api/labels/"
PREPRINT = "/api/labels/preprint/"
LABEL_SITE = {"site_url": SITE, "network_name": NETWORK}


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.NETWORK_NAME = NETWORK


def label_url(device) -> str:
    return f"/api/devices/{device.pk}/label/"


def text_of(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return "\n".join(page_texts(response.content))


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


# One device's label


def test_a_devices_label_is_a_pdf_whose_text_holds_the_grouped_code(api, coordinator, device):
    response = api(coordinator).get(label_url(device), {"format": "avery-l7160"})
    assert response.status_code == 200
    text = text_of(response)
    assert group_label_code(device.label_code_id) in text
    assert NETWORK in text
    assert "label-" in response["Content-Disposition"]


def test_start_places_the_label_on_a_half_used_sheet(api, coordinator, device):
    response = api(coordinator).get(label_url(device), {"format": "avery-l7160", "start": 5})
    expected = render_pdf(
        [item_from_device(device)],
        "avery-l7160",
        start_position=4,
        site_url=SITE,
        network_name=NETWORK,
    )
    assert response.content == expected
    assert (
        response.content
        != api(coordinator).get(label_url(device), {"format": "avery-l7160"}).content
    )


def test_the_label_qr_decodes_to_the_devices_url(api, coordinator, device):
    response = api(coordinator).get(label_url(device), {"format": "brother-dk11209"})
    pages = layout_pages(
        [item_from_device(device)], "brother-dk11209", site_url=SITE, network_name=NETWORK
    )
    [(payload, decoded)] = decode_labels(response.content, pages, 300)
    assert decoded == [payload]
    assert payload.upper().endswith(f"/D/{device.label_code_id}")


def test_a_zebra_label_comes_as_zpl_text_on_request(api, coordinator, device):
    response = api(coordinator).get(label_url(device), {"format": "zebra-2x1in", "output": "zpl"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert device.label_code_id in text
    assert group_label_code(device.label_code_id) in text


def test_an_accept_header_asking_for_pdf_is_honoured(api, coordinator, device):
    response = api(coordinator).get(
        label_url(device), {"format": "avery-l7163"}, headers={"Accept": "application/pdf"}
    )
    assert response.status_code == 200
    assert group_label_code(device.label_code_id) in text_of(response)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "format"),
        ({"format": "dymo-99012"}, "format"),
        ({"format": "avery-l7160", "start": 0}, "start"),
        ({"format": "avery-l7160", "start": 22}, "start"),
        ({"format": "avery-l7160", "start": "one"}, "start"),
        ({"format": "brother-dk11209", "start": 2}, "start"),
        ({"format": "avery-l7160", "output": "zpl"}, "output"),
        ({"format": "zebra-2x1in", "output": "png"}, "output"),
    ],
)
def test_bad_label_options_answer_400_in_json(api, coordinator, device, params, field):
    response = api(coordinator).get(
        label_url(device), params, headers={"Accept": "application/pdf"}
    )
    body = assert_json_error(response, 400, "invalid")
    assert field in body["fields"]


def test_another_organisations_device_label_answers_404_in_json(
    api, workshop_staff, at_other_workshop
):
    response = api(workshop_staff).get(
        label_url(at_other_workshop),
        {"format": "avery-l7160"},
        headers={"Accept": "application/pdf"},
    )
    assert_json_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/devices/999999/label/", "/api/devices/abc/label/"])
def test_a_label_of_no_device_answers_404(api, coordinator, path):
    assert_json_error(api(coordinator).get(path, {"format": "avery-l7160"}), 404, "not_found")


def test_a_fund_reader_gets_no_label(api, fund_reader, device):
    response = api(fund_reader).get(label_url(device), {"format": "avery-l7160"})
    assert_json_error(response, 404, "not_found")


def test_an_anonymous_label_request_answers_401_in_json(api, device):
    response = api().get(
        label_url(device), {"format": "avery-l7160"}, headers={"Accept": "application/pdf"}
    )
    assert_json_error(response, 401, "not_authenticated")


# Several devices' labels


def test_labels_of_several_devices_come_in_the_order_given(api, coordinator):
    devices = [make_device(actor=coordinator, model_name=f"Latitude {n}") for n in range(3)]
    codes = [
        devices[2].label_code_id.lower(),
        group_label_code(devices[0].label_code_id),
        devices[1].label_code_id,
    ]
    response = api(coordinator).post(
        LABELS, {"codes": codes, "format": "avery-l7163"}, format="json"
    )
    assert response.status_code == 200
    expected = render_pdf(
        [item_from_device(devices[i]) for i in (2, 0, 1)],
        "avery-l7163",
        site_url=SITE,
        network_name=NETWORK,
    )
    assert response.content == expected
    text = text_of(response)
    for device in devices:
        assert group_label_code(device.label_code_id) in text


def test_labels_as_zpl_for_a_zebra_printer(api, coordinator, device):
    body = {"codes": [device.label_code_id] * 2, "format": "zebra-2x1in", "output": "zpl"}
    response = api(coordinator).post(LABELS, body, format="json")
    assert response.status_code == 200
    assert response.content.decode().count("^XA") == 2


def test_a_code_that_cannot_be_a_label_code_answers_400_naming_its_position(
    api, coordinator, device
):
    codes = [device.label_code_id, wrong_check(device.label_code_id), "ABC"]
    response = api(coordinator).post(
        LABELS, {"codes": codes, "format": "avery-l7160"}, format="json"
    )
    body = assert_json_error(response, 400, "invalid_label_code")
    assert body["reason"] == "check"
    assert set(body["fields"]["codes"]) == {"1", "2"}


def test_codes_of_no_device_in_scope_answer_404_alike_and_name_only_positions(
    api, workshop_staff, at_workshop, at_other_workshop, coordinator
):
    [preprinted] = label_codes_preprint(actor=coordinator, count=1)
    client = api(workshop_staff)
    replies = [
        client.post(
            LABELS,
            {"codes": [at_workshop.label_code_id, other], "format": "avery-l7160"},
            format="json",
        )
        for other in (at_other_workshop.label_code_id, UNUSED_CODE, preprinted.code)
    ]
    bodies = [assert_json_error(reply, 404, "not_found") for reply in replies]
    assert bodies[0] == bodies[1] == bodies[2]
    assert list(bodies[0]["fields"]["codes"]) == ["1"]
    assert at_other_workshop.label_code_id not in replies[0].content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "avery-l7160"}, "codes"),
        ({"codes": [], "format": "avery-l7160"}, "codes"),
        ({"codes": "ABC", "format": "avery-l7160"}, "codes"),
        ({"codes": [UNUSED_CODE] * 1001, "format": "avery-l7160"}, "codes"),
        ({"codes": [UNUSED_CODE]}, "format"),
        ({"codes": [UNUSED_CODE], "format": "avery-l7160", "start": 22}, "start"),
    ],
)
def test_a_label_request_that_is_not_valid_answers_400(api, coordinator, body, field):
    response = api(coordinator).post(LABELS, body, format="json")
    assert field in assert_json_error(response, 400, "invalid")["fields"]


def test_a_thousand_labels_come_in_one_request(api, coordinator, device):
    body = {"codes": [device.label_code_id] * 1000, "format": "zebra-2x1in", "output": "zpl"}
    response = api(coordinator).post(LABELS, body, format="json")
    assert response.status_code == 200, response.content
    assert response.content.decode().count("^XA") == 1000


def queries_for_labels(client, devices) -> int:
    body = {"codes": [d.label_code_id for d in devices], "format": "avery-l7651"}
    with CaptureQueriesContext(connection) as queries:
        response = client.post(LABELS, body, format="json")
    assert response.status_code == 200
    return len(queries)


def test_labels_query_count_is_the_same_for_3_and_30_devices(api, coordinator):
    devices = [make_device(actor=coordinator) for _ in range(30)]
    client = api(coordinator)
    assert queries_for_labels(client, devices[:3]) == queries_for_labels(client, devices)


# Pre-printed sheets


def test_preprinting_a_sheet_issues_fresh_codes_and_prints_them(api, coordinator):
    response = api(coordinator).post(
        PREPRINT, {"format": "avery-l7160", "sheets": 1}, format="json"
    )
    assert response.status_code == 200
    codes = list(LabelCode.objects.filter(preprint_run=1).values_list("code", flat=True))
    assert len(codes) == get_format("avery-l7160").per_page == 21
    text = text_of(response)
    for code in codes:
        assert group_label_code(code) in text
    assert LabelCode.objects.filter(preprint_run=1, issued_by=coordinator).count() == 21


def test_preprinting_from_a_later_position_fills_the_rest_of_the_sheets(api, workshop_staff):
    body = {"format": "avery-l7160", "sheets": 2, "start": 5}
    response = api(workshop_staff).post(PREPRINT, body, format="json")
    assert response.status_code == 200
    codes = [group_label_code(code) for code in LabelCode.objects.values_list("code", flat=True)]
    assert len(codes) == 2 * 21 - 4
    first, second = page_texts(response.content)
    assert sum(code in first for code in codes) == 21 - 4
    assert sum(code in second for code in codes) == 21


def test_preprinting_a_count_issues_that_many_codes(api, coordinator):
    response = api(coordinator).post(
        PREPRINT, {"format": "brother-dk22205", "count": 3}, format="json"
    )
    assert response.status_code == 200
    assert LabelCode.objects.count() == 3
    assert len(page_texts(response.content)) == 3


@pytest.mark.parametrize(
    "body",
    [
        {"format": "avery-l7160"},
        {"format": "avery-l7160", "sheets": 1, "count": 5},
        {"format": "avery-l7160", "sheets": 0},
        {"format": "avery-l7160", "sheets": 21},
        {"format": "avery-l7160", "count": 1001},
        {"format": "avery-l7160", "sheets": 1, "start": 22},
        {"format": "nope", "sheets": 1},
        {"sheets": 1},
    ],
)
def test_a_preprint_request_that_is_not_valid_answers_400_and_issues_nothing(
    api, coordinator, body
):
    assert_json_error(api(coordinator).post(PREPRINT, body, format="json"), 400, "invalid")
    assert LabelCode.objects.count() == 0


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_only_coordinators_and_workshops_preprint(db, api, request, persona):
    user = request.getfixturevalue(persona)
    response = api(user).post(
        PREPRINT,
        {"format": "avery-l7160", "sheets": 1},
        format="json",
        headers={"Accept": "application/pdf"},
    )
    assert_json_error(response, 403, "action_forbidden")
    assert LabelCode.objects.count() == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", list(all_formats()))
def test_a_thousand_preprinted_labels_in_one_request_all_decode_at_203_dpi(api, coordinator, name):
    response = api(coordinator).post(PREPRINT, {"format": name, "count": 1000}, format="json")
    assert response.status_code == 200, response.content
    codes = list(LabelCode.objects.values_list("code", flat=True))
    assert len(codes) == 1000
    # The same positions as the document's (any order of the codes fills the same labels):
    # each label's own area is read and must give exactly one of the issued codes' URLs.
    pages = layout_pages([LabelItem(code) for code in codes], name, **LABEL_SITE)
    results = decode_labels(response.content, pages, 203)
    assert len(results) == 1000
    found = [texts[0] for _, texts in results if len(texts) == 1]
    assert sorted(found) == sorted(qr_payload(code, SITE) for code in codes)
