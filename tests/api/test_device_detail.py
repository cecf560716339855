"""GET /api/devices/{id}/ and /api/devices/by-code/{code}/: the device's face, and 404 outside
the user's scope."""

import pytest

from inventory.codes import check_symbol, group_label_code
from inventory.models import LabelCode
from inventory.states import Status
from tests.builders import make_device, wrong_check


def detail_url(device) -> str:
    return f"/api/devices/{device.pk}/"


def by_code_url(code: str) -> str:
    return f"/api/devices/by-code/{code}/"


def test_detail_shows_identity_custody_status_and_allowed_moves(
    api, coordinator, coordinator_org, donor_org
):
    device = make_device(
        actor=coordinator,
        donor=donor_org,
        manufacturer="Lenovo",
        serial_number="pf1abc",
        asset_tag="IT-0042",
        ram_gb=8,
        screen_inches=14,
    )
    response = api(coordinator).get(detail_url(device))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == device.pk
    assert body["label_code"] == device.label_code_id
    assert body["label_code_display"] == group_label_code(device.label_code_id)
    assert body["category"]["code"] == "laptop"
    assert body["category"]["name"]
    assert (body["manufacturer"], body["serial_number"], body["asset_tag"]) == (
        "Lenovo",
        "PF1ABC",
        "IT-0042",
    )
    assert body["specs"]["ram_gb"] == 8
    assert body["specs"]["screen_inches"] == "14.0"
    assert body["donor"] == {"id": donor_org.pk, "name": donor_org.name}
    assert body["custodian"] == {
        "id": coordinator_org.pk,
        "name": coordinator_org.name,
        "kind": "coordinator",
    }
    assert body["status"] == Status.REGISTERED
    assert body["status_label"]
    actions = {move["action"] for move in body["allowed_moves"]}
    assert {"send_to_workshop", "receive_at_workshop", "recycle"} <= actions
    assert all(move["label"] for move in body["allowed_moves"])
    assert body["created_at"] and body["updated_at"]


def test_allowed_moves_follow_the_users_role(api, workshop_staff, structure_staff, at_workshop):
    body = api(workshop_staff).get(detail_url(at_workshop)).json()
    actions = {move["action"] for move in body["allowed_moves"]}
    assert "start_reconditioning" in actions
    assert "reserve" not in actions  # a coordinator's move


def test_device_without_donor_shows_null_donor(api, coordinator, device):
    plain = make_device(actor=coordinator)
    assert api(coordinator).get(detail_url(plain)).json()["donor"] is None


def test_another_organisations_device_answers_404(api, workshop_staff, at_other_workshop):
    response = api(workshop_staff).get(detail_url(at_other_workshop))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["detail"]


def test_structure_and_fund_do_not_see_a_workshop_device(
    api, structure_staff, fund_reader, at_workshop
):
    for user in (structure_staff, fund_reader):
        assert api(user).get(detail_url(at_workshop)).status_code == 404


@pytest.mark.parametrize("path", ["/api/devices/abc/", "/api/devices/-1/", "/api/devices/1.5/"])
def test_a_non_integer_id_answers_404_in_the_api_shape(api, coordinator, path):
    response = api(coordinator).get(path)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_huge_id_answers_404(api, coordinator):
    response = api(coordinator).get(f"/api/devices/{10**30}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# By label code


def test_by_code_accepts_lowercase_and_grouped_input(api, coordinator, device):
    code = device.label_code_id
    client = api(coordinator)
    for typed in (code.lower(), group_label_code(code), group_label_code(code).lower(), code):
        response = client.get(by_code_url(typed))
        assert response.status_code == 200, typed
        assert response.json()["id"] == device.pk


def test_by_code_accepts_spaces_between_groups(api, coordinator, device):
    code = device.label_code_id
    response = api(coordinator).get(by_code_url(f"{code[:3]}%20{code[3:6]}%20{code[6:]}"))
    assert response.status_code == 200
    assert response.json()["id"] == device.pk


@pytest.mark.parametrize(
    ("make_typed", "reason"),
    [
        (wrong_check, "check"),
        (lambda code: code[:-2], "length"),
        (lambda code: code[:-1] + "*", "alphabet"),
    ],
)
def test_by_code_rejects_a_code_that_cannot_be_valid(api, coordinator, device, make_typed, reason):
    response = api(coordinator).get(by_code_url(make_typed(device.label_code_id)))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_label_code"
    assert body["reason"] == reason
    assert body["detail"]


def test_by_code_of_an_unknown_valid_code_answers_404(api, coordinator, device):
    payload = "ZZZZZZZZ" if not device.label_code_id.startswith("ZZZZZZZZ") else "YYYYYYYY"
    response = api(coordinator).get(by_code_url(payload + check_symbol(payload)))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_by_code_of_a_preprinted_label_without_device_answers_404(api, coordinator):
    payload = "AAAAAAAA"
    LabelCode.objects.create(code=payload + check_symbol(payload))
    response = api(coordinator).get(by_code_url(payload + check_symbol(payload)))
    assert response.status_code == 404


def test_by_code_of_another_organisations_device_answers_404(
    api, workshop_staff, at_other_workshop
):
    response = api(workshop_staff).get(by_code_url(at_other_workshop.label_code_id))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_filters_do_not_hide_a_device_on_its_own_page(api, coordinator, device):
    response = api(coordinator).get(detail_url(device), {"status": "ready", "custodian": "x"})
    assert response.status_code == 200
    assert response.json()["id"] == device.pk
