"""Loans fixtures: a kit lent through the real hand-over, loans made cheaply for the lists, and
English messages (the catalogue has them in French)."""

import datetime
import itertools

import pytest
from django.utils import timezone

from logistics.handovers.services import hand_over_create
from logistics.models import HandOver, Loan, LoanItem
from tests.builders import allocated, make_device

_codes = itertools.count(1)


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def lend(*, coordinator, structure_actor, workshop, count: int = 2, **hand_over) -> Loan:
    """`count` laptops reconditioned, allocated to the structure's need for a loan and handed
    over by the coordination: the loan (a kit when count > 1)."""
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_actor,
        workshop=workshop,
        count=count,
        mode="loan",
    )
    done = hand_over_create(
        actor=coordinator,
        allocation_ids=[allocation.pk for allocation in made],
        received_by_name="Awa Diallo",
        **hand_over,
    )
    return Loan.objects.get(hand_over=done)


def move_dates(loan: Loan, *, due_in_days: int, started_days_ago: int = 60) -> Loan:
    """The loan's dates moved (a test's clock): due `due_in_days` from today (negative: late)."""
    today = timezone.localdate()
    Loan.objects.filter(pk=loan.pk).update(
        started_on=today - datetime.timedelta(days=started_days_ago),
        due_on=today + datetime.timedelta(days=due_in_days),
    )
    loan.refresh_from_db()
    return loan


def bare_loan(*, actor, structure, devices: int = 1, due_in_days: int = 10) -> Loan:
    """A loan written straight to its tables (no lifecycle): enough for the lists' tests, which
    need many loans and not their devices' history."""
    today = timezone.localdate()
    hand_over = HandOver.objects.create(
        structure=structure,
        verification_code=f"TEST{next(_codes):08d}",
        handed_by=actor,
        received_by_name="Awa Diallo",
    )
    loan = Loan.objects.create(
        structure=structure,
        hand_over=hand_over,
        started_on=today - datetime.timedelta(days=30),
        due_on=today + datetime.timedelta(days=due_in_days),
        units_out=devices,
    )
    for _ in range(devices):
        LoanItem.objects.create(loan=loan, device=make_device(actor=actor))
    return loan


@pytest.fixture
def kit(coordinator, structure_staff, workshop_org):
    """Three laptops lent to the structure persona's organisation in one loan."""
    return lend(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=3,
    )


def give(*, coordinator, structure_actor, workshop, count: int = 1):
    """`count` laptops given to the structure through the real hand-over: the devices."""
    made = allocated(
        coordinator=coordinator, structure_actor=structure_actor, workshop=workshop, count=count
    )
    hand_over_create(
        actor=coordinator,
        allocation_ids=[allocation.pk for allocation in made],
        received_by_name="Awa Diallo",
    )
    return [allocation.device for allocation in made]


@pytest.fixture
def gift(coordinator, structure_staff, workshop_org):
    """A laptop given to the structure persona's organisation."""
    [device] = give(coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org)
    return device
