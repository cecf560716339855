"""R8: every write through the API, by token or by session, leaves history rows with a user."""

import pytest

from inventory.models import Device
from tests.builders import session_client, token_client


@pytest.mark.parametrize("make_client", [token_client, session_client])
def test_history_rows_equal_changes_and_all_carry_their_user(
    make_client, coordinator, workshop_staff, workshop_org
):
    coord, bench = make_client(coordinator), make_client(workshop_staff)
    created = coord.post(
        "/api/devices/", {"category": "laptop", "manufacturer": "HP"}, format="json"
    )
    assert created.status_code == 201
    device_id = created.json()["id"]
    moves = [
        (coord, {"action": "send_to_workshop", "target": workshop_org.pk}),
        (bench, {"action": "receive_at_workshop"}),
        (bench, {"action": "receive_at_workshop"}),  # a repeat: no change, no row
        (bench, {"action": "start_reconditioning"}),
        (bench, {"action": "lend"}),  # refused: the allocations' move, no row
    ]
    changed = 1
    for client, body in moves:
        reply = client.post(f"/api/devices/{device_id}/transition/", body, format="json")
        assert reply.status_code in (200, 403, 409), reply.json()
        changed += reply.status_code == 200 and reply.json()["changed"]
    rows = Device.history.filter(id=device_id)
    assert rows.count() == changed == 4
    assert not rows.filter(history_user__isnull=True).exists()
    assert set(rows.values_list("history_user__username", flat=True)) == {"coord", "bench"}
