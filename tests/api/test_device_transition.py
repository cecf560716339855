"""POST /api/devices/{id}/transition/ and GET /api/devices/{id}/history/."""

import pytest

from inventory.states import Status
from tests.builders import reload


def transition_url(device) -> str:
    return f"/api/devices/{device.pk}/transition/"


def history_url(device) -> str:
    return f"/api/devices/{device.pk}/history/"


def move(client, device, action, **fields):
    return client.post(transition_url(device), {"action": action, **fields}, format="json")


def test_a_move_answers_200_with_changed_and_the_device(api, coordinator, device, workshop_org):
    response = move(api(coordinator), device, "send_to_workshop", target=workshop_org.pk)
    assert response.status_code == 200
    body = response.json()
    assert body["changed"] is True
    assert body["device"]["id"] == device.pk
    assert body["device"]["status"] == Status.SENT_TO_WORKSHOP
    assert body["device"]["custodian"]["id"] == workshop_org.pk
    assert "receive_at_workshop" in {m["action"] for m in body["device"]["allowed_moves"]}
    assert reload(device).status == Status.SENT_TO_WORKSHOP


def test_the_same_move_repeated_is_a_no_op(api, workshop_staff, at_workshop):
    client = api(workshop_staff)
    first = move(client, at_workshop, "start_reconditioning", note="bench 3")
    again = move(client, at_workshop, "start_reconditioning")
    assert first.json()["changed"] is True
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["device"]["status"] == Status.IN_RECONDITIONING
    assert at_workshop.history.filter(history_change_reason="start_reconditioning").count() == 1


def test_an_illegal_move_answers_409_and_changes_nothing(api, coordinator, device):
    response = move(api(coordinator), device, "mark_ready")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["detail"]
    assert reload(device).status == Status.REGISTERED
    assert device.history.count() == 1


@pytest.mark.parametrize("action", ["teleport", "", None, 3, ["recycle"]])
def test_an_unknown_action_answers_400(api, coordinator, device, action):
    response = move(api(coordinator), device, action)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "action" in response.json()["fields"]


def test_a_missing_target_answers_400_target_required(api, coordinator, device):
    response = move(api(coordinator), device, "send_to_workshop")
    assert response.status_code == 400
    assert response.json()["code"] == "target_required"


def test_a_target_of_the_wrong_kind_answers_400(api, coordinator, device, structure_org):
    response = move(api(coordinator), device, "send_to_workshop", target=structure_org.pk)
    assert response.status_code == 400
    assert response.json()["code"] == "target_wrong_kind"


@pytest.mark.parametrize("target", ["abc", 10**30, 2.5, {"id": 1}])
def test_a_malformed_target_answers_400(api, coordinator, device, target):
    response = move(api(coordinator), device, "send_to_workshop", target=target)
    assert response.status_code == 400
    assert "target" in response.json()["fields"]


def test_an_overlong_note_answers_400(api, coordinator, device, workshop_org):
    response = move(
        api(coordinator), device, "send_to_workshop", target=workshop_org.pk, note="n" * 1001
    )
    assert response.status_code == 400
    assert "note" in response.json()["fields"]
    assert reload(device).status == Status.REGISTERED


def test_a_role_not_allowed_the_move_answers_403_and_writes_no_history(
    api, structure_staff, lent_device
):
    history_rows = lent_device.history.count()
    response = move(api(structure_staff), lent_device, "return_loan")
    assert response.status_code == 403
    assert response.json()["code"] == "action_forbidden"
    assert lent_device.history.count() == history_rows


@pytest.mark.parametrize("action", ["reserve", "release_reservation", "hand_over_gift", "lend"])
def test_the_moves_of_the_allocations_are_refused_at_the_generic_door(
    api, coordinator, at_workshop, action
):
    history_rows = at_workshop.history.count()
    response = move(api(coordinator), at_workshop, action)
    assert response.status_code == 409
    assert response.json()["code"] == "move_owned_by_workflow"
    assert at_workshop.history.count() == history_rows


def test_a_move_on_another_organisations_device_answers_404(api, workshop_staff, at_other_workshop):
    response = move(api(workshop_staff), at_other_workshop, "start_reconditioning")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert reload(at_other_workshop).status == Status.AT_WORKSHOP


def test_a_fund_reader_cannot_move_a_device_it_cannot_see(api, fund_reader, device):
    response = move(api(fund_reader), device, "recycle")
    assert response.status_code == 404


def test_a_move_on_a_non_integer_id_answers_404(api, coordinator):
    response = api(coordinator).post(
        "/api/devices/abc/transition/", {"action": "recycle"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


# History


def test_history_lists_the_moves_newest_first_with_user_and_note(
    api, coordinator, workshop_staff, at_workshop, workshop_org
):
    move(api(workshop_staff), at_workshop, "start_reconditioning", note="écran fissuré")
    response = api(workshop_staff).get(history_url(at_workshop))
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["action"] for row in rows] == [
        "start_reconditioning",
        "receive_at_workshop",
        "register",
    ]
    assert rows[0]["user"] == "bench"
    assert rows[0]["note"] == "écran fissuré"
    assert rows[0]["status"] == Status.IN_RECONDITIONING
    assert rows[0]["status_label"]
    assert rows[0]["custodian"] == {"id": workshop_org.pk, "name": workshop_org.name}
    assert rows[-1]["user"] == "coord"


def test_history_of_another_organisations_device_answers_404(
    api, workshop_staff, at_other_workshop
):
    response = api(workshop_staff).get(history_url(at_other_workshop))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_history_is_paginated(api, coordinator, at_workshop):
    body = api(coordinator).get(history_url(at_workshop), {"page_size": 1}).json()
    assert body["count"] == 2
    assert len(body["results"]) == 1
