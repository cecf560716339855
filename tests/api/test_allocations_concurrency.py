"""Reliability R1 (PostgreSQL) and R2 (a file SQLite database): 50 coordinators' clients approve
at once 50 matching runs that all propose the same 10 ready devices to 60 one-unit needs, 20
rounds. Each round: exactly 10 allocations, no device allocated twice, replies only 201 or 409,
never a 5xx (nor "database is locked")."""

import pytest

from inventory.models import Device
from inventory.states import OrgKind, Status
from logistics.allocations import services as allocations
from logistics.models import Allocation, AllocationStatus, MatchingRun, RunStatus
from tests.builders import (
    accepted_need,
    make_device,
    make_organisation,
    make_user,
    reconditioned,
    token_client,
)
from tests.concurrency import run_at_once

THREADS = 50
ROUNDS = 20
DEVICES = 10
NEEDS = 60


@pytest.mark.slow
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_approvals_of_ten_devices_at_once_allocate_each_device_once(
    coordinator, workshop_org
):
    for _ in range(DEVICES):
        reconditioned(coordinator, make_device(actor=coordinator), workshop_org)
    for n in range(NEEDS // 5):
        staff = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE, name=f"S{n}"))
        for _ in range(5):
            accepted_need(
                structure_actor=staff,
                coordinator=coordinator,
                lines=[{"category": "laptop", "quantity": 1}],
            )
    token_client(coordinator)  # the token exists before the race
    for round_ in range(ROUNDS):
        runs = [allocations.matching_run_create(actor=coordinator) for _ in range(THREADS)]
        assert {run.units_proposed for run in runs} == {DEVICES}

        def approve(i, runs=runs):
            reply = token_client(coordinator).post(
                f"/api/matching-runs/{runs[i].pk}/approve/", {}, format="json"
            )
            return reply.status_code, reply.json()

        replies, errors = run_at_once(approve, count=THREADS)
        assert errors == [], errors[:3]
        statuses = sorted(status for status, _body in replies)
        assert statuses == [201] + [409] * (THREADS - 1), (round_, statuses)
        assert {body["code"] for status, body in replies if status == 409} == {"devices_taken"}
        active = Allocation.objects.filter(status=AllocationStatus.ACTIVE)
        assert active.count() == DEVICES
        assert active.values("device").distinct().count() == DEVICES
        assert Device.objects.filter(status=Status.RESERVED).count() == DEVICES
        assert MatchingRun.objects.filter(status=RunStatus.APPROVED).count() == round_ + 1
        # Ready again for the next round: every allocation cancelled, its device released.
        for allocation in active:
            allocations.allocation_cancel(
                actor=coordinator, allocation_id=allocation.pk, reason="round"
            )
        MatchingRun.objects.filter(status=RunStatus.PROPOSED).update(status=RunStatus.DISCARDED)
    assert Allocation.objects.count() == DEVICES * ROUNDS
