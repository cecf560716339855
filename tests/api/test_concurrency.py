"""Concurrent API creates: the database decides, replies are only 201/409, never a 500."""

import pytest

from inventory.models import Device, IdempotencyRecord
from tests.builders import token_client
from tests.concurrency import run_at_once

URL = "/api/devices/"
BODY = {"category": "laptop", "manufacturer": "Dell", "serial_number": "7XK2L3J"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_creates_of_one_serial_give_one_201_and_nineteen_409(coordinator):
    token_client(coordinator)  # create the token before the race
    replies, errors = run_at_once(
        lambda i: (lambda r: (r.status_code, r.json()))(
            token_client(coordinator).post(URL, BODY, format="json")
        )
    )
    assert errors == []
    statuses = sorted(status for status, _body in replies)
    assert statuses == [201] + [409] * 19
    assert {body["code"] for status, body in replies if status == 409} == {"duplicate"}
    assert Device.objects.count() == 1
    assert Device.history.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ten_retries_at_once_with_one_idempotency_key_create_one_device(coordinator):
    token_client(coordinator)
    replies, errors = run_at_once(
        lambda i: (lambda r: (r.status_code, r.json()))(
            token_client(coordinator).post(
                URL, BODY, format="json", headers={"Idempotency-Key": "scan-42"}
            )
        ),
        count=10,
    )
    assert errors == []
    assert {status for status, _body in replies} == {201}
    assert len({body["id"] for _status, body in replies}) == 1
    assert len({body["label_code"] for _status, body in replies}) == 1
    assert Device.objects.count() == 1
    assert Device.history.count() == 1
    assert IdempotencyRecord.objects.count() == 1
