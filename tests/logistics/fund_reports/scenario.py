"""A year of the channel, small enough to count by hand (2025, Paris time).

Two structures: S1 (Antony, EPT T2, a CCAS) and S2 (Boulogne-Billancourt, T3, an association).
Two programmes of the same funder: A (January–June, any territory) and B (July–December, T2).

- d1, d2 (laptops): given to S1 on 1 March under A; need decided 19 February (10 days' wait).
- d3 (laptop): lent to S2 on 1 April under A (need decided 2 March: 30 days), returned on
  1 August, reconditioned again, then given to S1 on 1 September. B refuses it (it already
  counts in A), so that allocation has no programme (need decided 22 August: 10 days).
- d4 (tablet): lent to S2 on 1 October (need decided 1 September: 30 days), due 1 November,
  still out on 31 December: on loan and overdue.
- d5 (laptop): recycled at the workshop's bench on 15 June.
- d6 (laptop): registered in 2024, never moved since: outside the period.

Reconditioning cycles ended "ready": d1, d2, d3, d3 again, d4 (five), each received 7 days
before, except d4's (21 days). d5's cycle ended "recycle".

By hand, for 2025:
- received 5 (d1–d5), reconditioned 5, handed over 5 (gifts 3, loans 2), recycled 1,
  reuse rate 5 / 6;
- on loan 1, overdue 1;
- units asked 5, accepted 5, served 5; structures that asked 2, equipped 2;
- waits 10, 10, 30, 10, 30 → median (3rd of 5) 10, 90th percentile (5th of 5) 30;
- workshop: ready 5, recycled 1, yield 5 / 6, turnaround 7, 7, 7, 7, 21 → median 7, p90 21;
- impact: 3 laptops × 3 years × (27 kg CO2e, 127 kg materials, 0.314 kg e-waste) = 243 kg,
  1,143 kg and 2.83 kg; the tablet is not estimated (1 device).
"""

import datetime as dt
from dataclasses import dataclass
from unittest import mock

from django.utils import timezone

from inventory.models import Commune, Device, Reconditioning
from inventory.services import device_transition
from inventory.states import OrgKind
from logistics.allocations.services import matching_run_approve, matching_run_create
from logistics.funding.services import programme_create
from logistics.handovers.services import hand_over_create
from logistics.loans.services import loan_return
from logistics.models import FundingProgramme, HandOver, Loan, LoanItem, Need
from tests.builders import (
    accepted_need,
    make_device,
    make_organisation,
    make_user,
    reconditioned,
    record_reconditioning,
    reload,
)

PARIS = dt.timezone(dt.timedelta(hours=1))  # winter time; every date below is at noon


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


@dataclass
class Year:
    s1: object
    s2: object
    fund: object
    workshop: object
    a: FundingProgramme
    b: FundingProgramme
    devices: dict
    refusal: Exception | None


def _on(day: dt.date):
    """Services that read "today" (a programme's period) see `day`."""
    return mock.patch("logistics.funding.services.timezone.localdate", return_value=day)


def _allocate(coordinator, *, programme=None, day: dt.date):
    run = matching_run_create(actor=coordinator)
    with _on(day):
        return matching_run_approve(actor=coordinator, run_id=run.pk, programme=programme)


def _hand(coordinator, allocations, *, handed: dt.date, decided: dt.date):
    hand_over = hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in allocations],
        received_by_name="Mme Agent d'accueil",
    )
    HandOver.objects.filter(pk=hand_over.pk).update(handed_at=noon(handed))
    need_ids = {a.need_line.need_id for a in allocations}
    Need.objects.filter(pk__in=need_ids).update(
        submitted_at=noon(decided - dt.timedelta(days=5)), decided_at=noon(decided)
    )
    return hand_over


def build_year(*, coordinator, workshop, fund) -> Year:
    antony = Commune.objects.get(insee_code="92002")
    boulogne = Commune.objects.get(insee_code="92012")
    s1 = make_organisation(
        kind=OrgKind.STRUCTURE, name="CCAS d'Antony", commune=antony, structure_type="CCAS"
    )
    s2 = make_organisation(
        kind=OrgKind.STRUCTURE, name="Association Boulogne", commune=boulogne, structure_type="ASSO"
    )
    s1_staff, s2_staff = make_user(organisation=s1), make_user(organisation=s2)
    a = programme_create(
        actor=coordinator,
        funder=fund,
        name="Programme A",
        starts_on="2025-01-01",
        ends_on="2025-06-30",
        target_devices=10,
    )
    b = programme_create(
        actor=coordinator,
        funder=fund,
        name="Programme B",
        starts_on="2025-07-01",
        ends_on="2025-12-31",
        territories=["T2"],
    )
    devices = {}

    def ready(name, category="laptop"):
        device = make_device(actor=coordinator, category=category)
        reconditioned(coordinator, device, workshop)
        devices[name] = reload(device)

    # d1, d2: a gift of two laptops to S1 under A.
    ready("d1"), ready("d2")
    accepted_need(
        structure_actor=s1_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 2}],
    )
    gift = _allocate(coordinator, programme=a.pk, day=dt.date(2025, 2, 25))
    _hand(coordinator, gift, handed=dt.date(2025, 3, 1), decided=dt.date(2025, 2, 19))
    # d3: lent to S2 under A, back on 1 August.
    ready("d3")
    accepted_need(
        structure_actor=s2_staff,
        coordinator=coordinator,
        mode="loan",
        loan_weeks=12,
        lines=[{"category": "laptop", "quantity": 1}],
    )
    loan_of_d3 = _allocate(coordinator, programme=a.pk, day=dt.date(2025, 3, 20))
    hand_over = _hand(
        coordinator, loan_of_d3, handed=dt.date(2025, 4, 1), decided=dt.date(2025, 3, 2)
    )
    loan = Loan.objects.get(hand_over=hand_over)
    loan_return(actor=coordinator, loan_id=loan.pk, returned=[devices["d3"].pk])
    LoanItem.objects.filter(loan=loan).update(closed_at=noon(dt.date(2025, 8, 1)))
    Loan.objects.filter(pk=loan.pk).update(
        started_on=dt.date(2025, 4, 1), due_on=dt.date(2025, 6, 24)
    )
    reconditioned(coordinator, devices["d3"], workshop)
    # …then given to S1: B refuses it, no programme.
    accepted_need(
        structure_actor=s1_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 1}],
    )
    refusal = None
    try:
        _allocate(coordinator, programme=b.pk, day=dt.date(2025, 8, 25))
    except Exception as exc:  # noqa: BLE001 (the test asserts what it is)
        refusal = exc
    second = _allocate(coordinator, day=dt.date(2025, 8, 25))
    _hand(coordinator, second, handed=dt.date(2025, 9, 1), decided=dt.date(2025, 8, 22))
    # d4: a tablet lent to S2, overdue at the year's end.
    ready("d4", category="tablet")
    accepted_need(
        structure_actor=s2_staff,
        coordinator=coordinator,
        mode="loan",
        loan_weeks=4,
        lines=[{"category": "tablet", "quantity": 1}],
    )
    tablet = _allocate(coordinator, day=dt.date(2025, 9, 20))
    hand_over = _hand(coordinator, tablet, handed=dt.date(2025, 10, 1), decided=dt.date(2025, 9, 1))
    Loan.objects.filter(hand_over=hand_over).update(
        started_on=dt.date(2025, 10, 1), due_on=dt.date(2025, 11, 1)
    )
    # d5: recycled at the bench.
    d5 = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=d5.pk, action="send_to_workshop", target=workshop
    )
    device_transition(actor=coordinator, device_id=d5.pk, action="receive_at_workshop")
    record_reconditioning(actor=coordinator, device=reload(d5))
    device_transition(actor=coordinator, device_id=d5.pk, action="recycle")
    devices["d5"] = reload(d5)
    Device.objects.filter(pk=d5.pk).update(status_changed_at=noon(dt.date(2025, 6, 15)))
    # d6: registered in 2024.
    devices["d6"] = make_device(actor=coordinator)
    Device.objects.filter(pk=devices["d6"].pk).update(created_at=noon(dt.date(2024, 11, 5)))
    # Dates: registered in January; the cycles in the order they ran.
    Device.objects.filter(pk__in=[devices[n].pk for n in ("d1", "d2", "d3", "d4", "d5")]).update(
        created_at=noon(dt.date(2025, 1, 15))
    )
    ends = {
        "d1": [dt.date(2025, 2, 1)],
        "d2": [dt.date(2025, 2, 1)],
        "d3": [dt.date(2025, 3, 1), dt.date(2025, 8, 20)],
        "d4": [dt.date(2025, 9, 10)],
        "d5": [dt.date(2025, 6, 15)],
    }
    for name, days in ends.items():
        cycles = Reconditioning.objects.filter(device=devices[name]).order_by("pk")
        assert cycles.count() == len(days), name
        for cycle, day in zip(cycles, days, strict=True):
            took = 21 if name == "d4" else 7
            Reconditioning.objects.filter(pk=cycle.pk).update(
                received_at=noon(day - dt.timedelta(days=took)),
                started_at=noon(day - dt.timedelta(days=took - 1)),
                completed_at=noon(day),
            )
    return Year(
        s1=s1, s2=s2, fund=fund, workshop=workshop, a=a, b=b, devices=devices, refusal=refusal
    )
