"""Matching runs and allocations: a run proposes, the coordination trims and approves, the
approval reserves the devices and counts the served units, all or nothing; a cancellation
releases; the database allows one active allocation per device."""

import importlib

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from inventory.errors import DomainError
from inventory.models import Device
from inventory.services import device_transition
from inventory.states import OrgKind, Status
from logistics.allocations import services as allocations
from logistics.models import (
    Allocation,
    AllocationStatus,
    MatchingRun,
    NeedLine,
    RunLine,
    RunStatus,
    RunUnserved,
)
from logistics.needs.lifecycle import NeedStatus
from tests.builders import (
    accepted_need,
    assert_counts_match,
    make_device,
    make_organisation,
    make_user,
    reconditioned,
    reload,
)
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def refused(call, code: str, status: int | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value
    if status is not None:
        assert caught.value.status == status
    return caught.value


def ready(coordinator, workshop, count=1, **fields) -> list[Device]:
    devices = []
    for _ in range(count):
        device = make_device(actor=coordinator, **fields)
        reconditioned(coordinator, device, workshop)
        devices.append(reload(device))
    return devices


@pytest.fixture
def stock(coordinator, workshop_org):
    return ready(coordinator, workshop_org, 3, ram_gb=8, storage_gb=256)


@pytest.fixture
def need(structure_staff, coordinator):
    return accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 2, "min_ram_gb": 4}],
    )


def test_os_families_are_read_from_what_the_bench_typed():
    assert allocations.os_family_of("Windows 11 Famille") == "windows"
    assert allocations.os_family_of("Ubuntu 24.04 LTS") == "linux"
    assert allocations.os_family_of("iPadOS 17") == "ios"
    assert allocations.os_family_of("ChromeOS Flex") == "chromeos"
    assert allocations.os_family_of("") == ""


# A run and its approval


def test_a_run_proposes_ready_devices_for_accepted_needs(coordinator, stock, need):
    run = allocations.matching_run_create(actor=coordinator)
    assert run.status == RunStatus.PROPOSED and run.units_asked == 2 and run.units_proposed == 2
    lines = list(run.lines.all())
    assert len(lines) == 2 and {line.device_id for line in lines} <= {d.pk for d in stock}
    assert all("ram" in line.met and sum(line.terms.values()) == line.cost for line in lines)
    assert run.weights == allocations.policy_weights().to_dict()
    # Proposing reserves nothing.
    assert all(reload(device).status == Status.READY for device in stock)


def test_approving_reserves_devices_and_serves_the_need(coordinator, stock, need):
    run = allocations.matching_run_create(actor=coordinator)
    made = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    assert len(made) == 2
    for allocation in made:
        assert allocation.status == AllocationStatus.ACTIVE and allocation.mode == "gift"
        assert allocation.structure_id == need.structure_id
        device = reload(allocation.device)
        assert device.status == Status.RESERVED
        assert device.history.latest("history_date").history_change_reason == "reserve"
    line = NeedLine.objects.get(need=need)
    assert line.quantity_served == 2
    need.refresh_from_db()
    assert need.status == NeedStatus.SERVED
    run.refresh_from_db()
    assert run.status == RunStatus.APPROVED and run.decided_by == coordinator
    refused(
        lambda: allocations.matching_run_approve(actor=coordinator, run_id=run.pk), "run_decided"
    )


def test_a_removed_line_is_not_approved_and_a_partial_approval_leaves_the_need_partly_served(
    coordinator, stock, need
):
    run = allocations.matching_run_create(actor=coordinator)
    first, second = run.lines.order_by("id")
    allocations.run_line_remove(actor=coordinator, run_id=run.pk, line_id=second.pk)
    made = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    assert [a.device_id for a in made] == [first.device_id]
    assert reload(Device.objects.get(pk=second.device_id)).status == Status.READY
    need.refresh_from_db()
    assert need.status == NeedStatus.PARTLY_SERVED


def test_a_line_is_swapped_only_for_a_suitable_ready_device(coordinator, workshop_org, stock, need):
    run = allocations.matching_run_create(actor=coordinator)
    line = run.lines.order_by("id").first()
    spare = next(d for d in stock if not run.lines.filter(device=d).exists())
    small = ready(coordinator, workshop_org, 1, ram_gb=2)[0]
    refused(
        lambda: allocations.run_line_swap(
            actor=coordinator, run_id=run.pk, line_id=line.pk, device=small.pk
        ),
        "device_unsuitable",
    )
    other = run.lines.exclude(pk=line.pk).first()
    refused(
        lambda: allocations.run_line_swap(
            actor=coordinator, run_id=run.pk, line_id=line.pk, device=other.device_id
        ),
        "device_in_run",
    )
    swapped = allocations.run_line_swap(
        actor=coordinator, run_id=run.pk, line_id=line.pk, device=spare.label_code_id
    )
    assert swapped.device_id == spare.pk and swapped.swapped


def test_a_device_taken_since_the_proposal_refuses_the_whole_approval(
    coordinator, stock, need, structure_staff
):
    first = allocations.matching_run_create(actor=coordinator)
    second = allocations.matching_run_create(actor=coordinator)
    allocations.matching_run_approve(actor=coordinator, run_id=first.pk)
    error = refused(
        lambda: allocations.matching_run_approve(actor=coordinator, run_id=second.pk),
        "devices_taken",
        409,
    )
    taken = set(first.lines.values_list("device_id", flat=True))
    assert set(error.params["devices"]) & taken
    assert Allocation.objects.count() == 2
    second.refresh_from_db()
    assert second.status == RunStatus.PROPOSED


def test_unserved_lines_say_why(coordinator, structure_staff, stock):
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[
            {"category": "tablet", "quantity": 1},
            {"category": "laptop", "quantity": 1, "min_ram_gb": 64},
        ],
    )
    run = allocations.matching_run_create(actor=coordinator)
    reasons = dict(
        RunUnserved.objects.filter(run=run).values_list("need_line__category_id", "reason")
    )
    assert reasons == {"tablet": "no_stock", "laptop": "spec_above_stock"}


def test_a_run_scoped_to_a_category_leaves_other_lines_out(coordinator, stock, structure_staff):
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 1}, {"category": "tablet", "quantity": 1}],
    )
    run = allocations.matching_run_create(actor=coordinator, category="laptop")
    assert run.units_asked == 1 and run.units_proposed == 1
    # The tablet line is listed with why it got nothing here.
    assert list(RunUnserved.objects.filter(run=run).values_list("reason", flat=True)) == [
        "out_of_scope"
    ]


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"territory": "T9"}, "territory"),
        ({"category": "spaceship"}, "category"),
        ({"weights": {"gravity": 1}}, "weights"),
    ],
)
def test_a_bad_scope_or_weight_is_refused(coordinator, fields, key):
    error = refused(lambda: allocations.matching_run_create(actor=coordinator, **fields), "invalid")
    assert key in error.params["fields"]
    assert not MatchingRun.objects.exists()


def test_only_the_coordination_runs_and_approves(structure_staff, workshop_staff, fund_reader):
    for user in (structure_staff, workshop_staff, fund_reader):
        refused(
            lambda user=user: allocations.matching_run_create(actor=user), "action_forbidden", 403
        )


def test_the_policy_is_data_the_coordination_edits(coordinator, structure_staff):
    weights = allocations.policy_weights().to_dict() | {"distance_other_side": 90}
    allocations.policy_update(actor=coordinator, weights=weights)
    assert allocations.policy_weights().distance_other_side == 90
    refused(lambda: allocations.policy_update(actor=coordinator, weights={"nope": 1}), "invalid")
    refused(
        lambda: allocations.policy_update(actor=structure_staff, weights=weights),
        "action_forbidden",
    )


# Cancelling


def test_cancelling_releases_the_device_and_reopens_the_need(coordinator, stock, need):
    run = allocations.matching_run_create(actor=coordinator)
    allocation = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)[0]
    refused(
        lambda: allocations.allocation_cancel(
            actor=coordinator, allocation_id=allocation.pk, reason=" "
        ),
        "invalid",
    )
    allocations.allocation_cancel(
        actor=coordinator, allocation_id=allocation.pk, reason="Structure fermée en août"
    )
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.CANCELLED and allocation.ended_at
    assert reload(allocation.device).status == Status.READY
    assert NeedLine.objects.get(need=need).quantity_served == 1
    need.refresh_from_db()
    assert need.status == NeedStatus.PARTLY_SERVED
    refused(
        lambda: allocations.allocation_cancel(
            actor=coordinator, allocation_id=allocation.pk, reason="encore"
        ),
        "allocation_not_active",
    )


# The database's guard (reliability R4)


def test_the_database_refuses_a_second_active_allocation_of_a_device(coordinator, stock, need):
    run = allocations.matching_run_create(actor=coordinator)
    allocation = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)[0]
    for _ in range(3):
        with pytest.raises(IntegrityError), transaction.atomic():
            Allocation.objects.create(
                device_id=allocation.device_id,
                need_line_id=allocation.need_line_id,
                structure_id=allocation.structure_id,
                mode="gift",
                created_by=coordinator,
            )
    # A cancelled one does not count.
    Allocation.objects.create(
        device_id=allocation.device_id,
        need_line_id=allocation.need_line_id,
        structure_id=allocation.structure_id,
        mode="gift",
        created_by=coordinator,
        status=AllocationStatus.CANCELLED,
    )


# Two coordinators approving overlapping runs at once (reliability R1 / R2)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("threads", [2, 8])
def test_overlapping_approvals_at_once_one_wins_whole(coordinator, workshop_org, threads):
    devices = ready(coordinator, workshop_org, 4)
    for n in range(3):
        staff = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE, name=f"S{n}"))
        accepted_need(
            structure_actor=staff,
            coordinator=coordinator,
            lines=[{"category": "laptop", "quantity": 2}],
        )
    runs = [allocations.matching_run_create(actor=coordinator) for _ in range(threads)]

    def work(i):
        return len(allocations.matching_run_approve(actor=coordinator, run_id=runs[i].pk))

    results, errors = run_at_once(work, count=threads)
    assert results == [4]
    assert {(e.code, e.status) for e in errors} == {("devices_taken", 409)}
    assert Allocation.objects.filter(status=AllocationStatus.ACTIVE).count() == 4
    assert sorted(Allocation.objects.values_list("device_id", flat=True)) == sorted(
        d.pk for d in devices
    )
    assert Device.objects.filter(status=Status.RESERVED).count() == 4
    assert sum(NeedLine.objects.values_list("quantity_served", flat=True)) == 4
    assert MatchingRun.objects.filter(status=RunStatus.APPROVED).count() == 1
    assert RunLine.objects.filter(run__status=RunStatus.APPROVED).count() == 4


# The migration that releases the reservations made before allocations existed

release_migration = importlib.import_module("logistics.migrations.0005_release_orphan_reservations")


def test_the_migration_releases_reservations_without_an_allocation(
    coordinator, workshop_org, stock, need
):
    run = allocations.matching_run_create(actor=coordinator)
    allocated = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    orphan = next(d for d in stock if d.pk not in {a.device_id for a in allocated})
    # Reserved from its page, as before issue 11.
    device_transition(actor=coordinator, device_id=orphan.pk, action="reserve", workflow=True)

    release_migration.release(apps, None)

    orphan = reload(orphan)
    assert orphan.status == Status.READY
    record = orphan.history.latest("history_date")
    assert record.history_change_reason == "release_reservation" and record.history_note
    assert all(reload(a.device).status == Status.RESERVED for a in allocated)
    assert_counts_match()
