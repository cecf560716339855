"""Two hand-overs of one device at once (issue 12; reliability R3 on a hand-over): eight clients
of one organisation (the workshop's tablets, or the coordination's) hand the same allocation
over through the API at the same instant, five rounds, on the configured database (a file
SQLite database by default, or PostgreSQL). Each round: exactly one 201, the others 409
`allocation_not_active` (or `already_handed_over` when the database's constraint decides), one
hand-over item, the device given or lent once; never a 5xx."""

import pytest

from inventory.models import Device
from inventory.states import Status
from logistics.models import HandOver, HandOverItem, Loan, LoanItem
from tests.builders import allocated, token_client
from tests.concurrency import run_at_once

THREADS = 8
ROUNDS = 5
CONFLICTS = {"allocation_not_active", "already_handed_over"}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_hand_overs_of_one_allocation_at_once_hand_it_over_once(
    coordinator, workshop_staff, structure_staff, workshop_org, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)  # the receipts each winner stores
    for user in (coordinator, workshop_staff):
        token_client(user)  # the tokens exist before the race
    for round_ in range(ROUNDS):
        mode = "loan" if round_ % 2 else "gift"
        [allocation] = allocated(
            coordinator=coordinator,
            structure_actor=structure_staff,
            workshop=workshop_org,
            count=1,
            mode=mode,
        )
        body = {"allocations": [allocation.pk], "received_by_name": f"Awa {round_}"}

        user = workshop_staff if round_ % 2 == 0 else coordinator

        def hand_over(i, body=body, user=user):
            reply = token_client(user).post("/api/hand-overs/", body, format="json")
            return reply.status_code, reply.json()

        replies, errors = run_at_once(hand_over, count=THREADS)
        assert errors == [], errors[:3]
        statuses = sorted(status for status, _body in replies)
        assert statuses == [201] + [409] * (THREADS - 1), (round_, statuses, replies)
        assert {body["code"] for status, body in replies if status == 409} <= CONFLICTS
        [won] = [body for status, body in replies if status == 201]
        assert [item["allocation"] for item in won["items"]] == [allocation.pk]

        assert HandOverItem.objects.filter(allocation=allocation).count() == 1
        assert HandOver.objects.count() == round_ + 1
        device = Device.objects.get(pk=allocation.device_id)
        expected = Status.ON_LOAN if mode == "loan" else Status.GIVEN
        assert device.status == expected
        assert device.history.filter(status=expected).count() == 1
        lent = LoanItem.objects.filter(device=device)
        assert lent.count() == (1 if mode == "loan" else 0)
        assert (won["loan"] is not None) == (mode == "loan")
    assert Loan.objects.count() == ROUNDS // 2
