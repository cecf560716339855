"""Review findings on the scan screens, kept as regressions."""

from inventory.codes import check_symbol, group_label_code
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.states import MOVES


def test_an_unknown_code_says_so_on_its_404_page(client, db):
    code = "7QK2M9XH" + check_symbol("7QK2M9XH")
    response = client.get(f"/d/{code}")
    assert response.status_code == 404
    assert response.context["message"] is SCAN_MESSAGES["code_unknown"]
    assert group_label_code(code) in response.text


def test_the_last_scans_name_the_move_not_its_identifier(login, workshop_staff, workshop_device):
    response = login(workshop_staff).post(
        "/scan/", {"raw": workshop_device.label_code_id, "action": "receive_at_workshop"}
    )
    [latest, *_] = response.context["recent"]
    assert latest.move_label == MOVES["receive_at_workshop"].label
    assert "(receive_at_workshop)" not in response.text
