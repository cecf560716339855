"""The same batch uploaded by three clients at once (a phone retrying on a flaky network):
real threads and transactions on the configured database; each device moves once, no 500."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.models import Device, ScanEvent
from inventory.services import device_transition
from inventory.states import Status

from ..builders import make_device
from ..inventory.test_concurrency import run_at_once

URL = "/api/scan/batch/"
UPLOADS = 3
SCANS = 40


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    return client


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_uploads_of_one_batch_at_once_move_each_device_once(
    coordinator, workshop_staff, workshop_org
):
    devices = [make_device(actor=coordinator) for _ in range(SCANS)]
    for device in devices:
        device_transition(
            actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
        )
    body = {
        "batch": "van-12",
        "action": "receive_at_workshop",
        "scans": [
            {"client_id": f"phone-1:{i}", "raw": device.label_code_id}
            for i, device in enumerate(devices)
        ],
    }
    token_client(workshop_staff)  # the token exists before the race

    def upload(_i):
        response = token_client(workshop_staff).post(URL, body, format="json")
        return response.status_code, response.json()

    replies, errors = run_at_once(upload, count=UPLOADS)
    assert errors == []
    assert [status for status, _body in replies] == [200] * UPLOADS
    for _status, reply in replies:
        # Each upload reports every item as applied: by itself, or replayed from another.
        assert [row["client_id"] for row in reply["results"]] == [
            scan["client_id"] for scan in body["scans"]
        ]
        assert reply["summary"]["applied"] == SCANS
    replayed = sum(row["replayed"] for _status, reply in replies for row in reply["results"])
    assert replayed == SCANS * (UPLOADS - 1)
    assert ScanEvent.objects.count() == SCANS
    assert Device.objects.filter(status=Status.AT_WORKSHOP).count() == SCANS
    rows = Device.history.filter(history_change_reason="receive_at_workshop")
    assert rows.count() == SCANS
    assert {row.history_user_id for row in rows} == {workshop_staff.pk}
