"""R6 under concurrency: the same batch of 200 scans (10 of them conflicting by now) uploaded
by three clients at once, as a phone retrying on a flaky network might. Real threads and
transactions on the configured database: each device moves once, every reply is complete,
no 500."""

import pytest

from inventory.models import Device, ScanEvent
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, token_client
from tests.concurrency import run_at_once

URL = "/api/scan/batch/"
UPLOADS = 3
SCANS = 200


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_three_uploads_of_one_batch_at_once_move_each_device_once(
    coordinator, workshop_org, other_workshop_org
):
    devices = [make_device(actor=coordinator) for _ in range(SCANS)]
    moved = devices[::20]
    for device in moved:
        device_transition(
            actor=coordinator,
            device_id=device.pk,
            action="receive_at_workshop",
            target=other_workshop_org,
        )
    body = {
        "batch": "van-12",
        "action": "send_to_workshop",
        "target": workshop_org.pk,
        "scans": [
            {"client_id": f"phone-1:{i}", "raw": device.label_code_id}
            for i, device in enumerate(devices)
        ],
    }
    token_client(coordinator)  # the token exists before the race

    def upload(_i):
        response = token_client(coordinator).post(URL, body, format="json")
        return response.status_code, response.json()

    replies, errors = run_at_once(upload, count=UPLOADS)
    assert errors == []
    assert [status for status, _reply in replies] == [200] * UPLOADS
    for _status, reply in replies:
        # Every upload reports every item, by itself or replayed from another upload.
        assert [row["client_id"] for row in reply["results"]] == [
            scan["client_id"] for scan in body["scans"]
        ]
        assert (reply["summary"]["applied"], reply["summary"]["refused"]) == (190, 10)
    replayed = sum(row["replayed"] for _status, reply in replies for row in reply["results"])
    assert replayed == SCANS * (UPLOADS - 1)
    assert ScanEvent.objects.count() == SCANS
    sent = Device.objects.filter(status=Status.SENT_TO_WORKSHOP, custodian=workshop_org)
    assert sent.count() == SCANS - len(moved)
    rows = Device.history.filter(history_change_reason="send_to_workshop")
    assert rows.count() == SCANS - len(moved)
    assert {row.history_user_id for row in rows} == {coordinator.pk}
