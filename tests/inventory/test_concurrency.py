"""Several scanners at once: real threads, real transactions, on the configured database.

The suite runs on a file SQLite database by default and on PostgreSQL when DATABASE_URL is
set (CI does both); an in-memory database would hide these races.
"""

import pytest

from inventory.errors import DomainError
from inventory.models import Category, Device
from inventory.services import device_register, device_transition
from inventory.states import OrgKind, Status
from tests.builders import make_organisation, reload, walk
from tests.concurrency import THREADS, run_at_once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_scanners_receiving_one_device_change_it_once(workshop_staff, workshop_device):
    results, errors = run_at_once(
        lambda i: (
            device_transition(
                actor=workshop_staff, device_id=workshop_device.pk, action="receive_at_workshop"
            ).changed
        )
    )
    assert errors == []
    assert sorted(results) == [False] * (THREADS - 1) + [True]
    assert reload(workshop_device).status == Status.AT_WORKSHOP
    rows = workshop_device.history.filter(history_change_reason="receive_at_workshop")
    assert rows.count() == 1
    assert rows.get().history_user == workshop_staff


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_loans_of_one_device_to_different_structures_give_one_loan(
    coordinator, workshop_device
):
    walk(
        actor=coordinator,
        device=workshop_device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    structures = [make_organisation(kind=OrgKind.STRUCTURE) for _ in range(THREADS)]

    results, errors = run_at_once(
        lambda i: (
            device_transition(
                actor=coordinator,
                device_id=workshop_device.pk,
                action="lend",
                target=structures[i],
                workflow=True,
            ).changed
        )
    )
    assert results == [True]
    assert len(errors) == THREADS - 1
    assert {(e.code, e.status) for e in errors if isinstance(e, DomainError)} == {
        ("transition_not_allowed", 409)
    }
    assert all(isinstance(e, DomainError) for e in errors)
    device = reload(workshop_device)
    assert device.status == Status.ON_LOAN
    assert workshop_device.history.filter(history_change_reason="lend").count() == 1
    assert device.custodian in structures


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_registrations_of_one_serial_create_one_device(coordinator):
    laptop = Category.objects.get(code="laptop")
    results, errors = run_at_once(
        lambda i: (
            device_register(
                actor=coordinator, category=laptop, manufacturer="Lenovo", serial_number="PF1ABCDE"
            ).pk
        )
    )
    assert len(results) == 1
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, DomainError) and e.code == "duplicate" for e in errors), errors
    assert Device.objects.filter(serial_number="PF1ABCDE").count() == 1
    assert Device.history.filter(serial_number="PF1ABCDE").count() == 1
