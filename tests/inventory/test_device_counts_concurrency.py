"""Scanners, shipments and the recount at once, on real transactions: the counter rows every
move shares are locked in one order, so that moves in opposite directions wait for each other
instead of deadlocking, and nothing drifts."""

import pytest

from inventory.counts import device_counts_recount
from inventory.models import DeviceCount
from inventory.services import device_transition
from inventory.states import Status
from logistics.shipments.services import shipment_create
from tests.builders import assert_counts_match, make_device, make_user, reconditioned
from tests.concurrency import THREADS, run_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROUNDS = 4


def test_reservations_and_releases_at_once_neither_deadlock_nor_drift(coordinator, workshop_org):
    # Half the devices go ready → reserved while the other half go reserved → ready: the
    # same two counter rows, taken in opposite directions.
    devices = []
    for i in range(THREADS):
        device = make_device(actor=coordinator)
        reconditioned(coordinator, device, workshop_org)
        if i % 2:
            device_transition(
                actor=coordinator, device_id=device.pk, action="reserve", workflow=True
            )
        devices.append(device.pk)

    def toggle(i):
        for round_ in range(ROUNDS):
            action = "reserve" if (i + round_) % 2 == 0 else "release_reservation"
            device_transition(actor=coordinator, device_id=devices[i], action=action, workflow=True)

    results, errors = run_at_once(toggle)
    assert errors == []
    assert len(results) == THREADS
    assert_counts_match()


def test_shipments_and_single_moves_across_custodians_neither_deadlock_nor_drift(
    coordinator, workshop_org, other_workshop_org, workshop_staff
):
    # A shipment moves devices from two custodians: in device order, the other workshop's
    # first. Single moves from the coordination to the same workshop run meanwhile.
    other_staff = make_user(organisation=other_workshop_org)
    for _round in range(ROUNDS):
        elsewhere = [make_device(actor=other_staff).pk for _ in range(THREADS // 2)]
        here = [make_device(actor=coordinator).pk for _ in range(THREADS)]

        def work(i, elsewhere=elsewhere, here=here):
            if i % 2 == 0:
                shipment_create(
                    actor=coordinator,
                    workshop=workshop_org,
                    devices=[elsewhere[i // 2], here[i]],
                )
            else:
                device_transition(
                    actor=coordinator,
                    device_id=here[i],
                    action="send_to_workshop",
                    target=workshop_org,
                )

        results, errors = run_at_once(work)
        assert errors == []
        assert len(results) == THREADS
    assert_counts_match()
    assert device_counts_recount(fix=False) == []
    sent = DeviceCount.objects.get(custodian=workshop_org, status=Status.SENT_TO_WORKSHOP)
    assert sent.count == ROUNDS * (THREADS + THREADS // 2)


def test_a_recount_while_devices_move_finds_no_drift(coordinator, workshop_org):
    devices = []
    for _ in range(THREADS):
        device = make_device(actor=coordinator)
        reconditioned(coordinator, device, workshop_org)
        devices.append(device.pk)
    found = []

    def work(i):
        if i == 0:
            for _ in range(ROUNDS * 5):
                found.extend(device_counts_recount(fix=True))
            return
        for round_ in range(ROUNDS * 2):
            action = "reserve" if round_ % 2 == 0 else "release_reservation"
            device_transition(actor=coordinator, device_id=devices[i], action=action, workflow=True)

    results, errors = run_at_once(work)
    assert errors == []
    # A recount that read the counters and the devices at different moments would report
    # (and "fix") a drift that is not there.
    assert found == []
    assert_counts_match()
