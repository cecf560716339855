"""The demo's logistics: a year of history month by month (donations, reconditioning, needs,
hand-overs, programmes), a shipment partly received, a WEEE disposal and the fund's report of
the previous month, written once."""

import datetime
import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from inventory.demo.seed import DEMO_STRUCTURE_NAME
from inventory.models import Device, Reconditioning
from inventory.states import Status
from logistics.models import (
    Allocation,
    DisposalBatch,
    FundingProgramme,
    FundReport,
    HandOver,
    HandOverItem,
    Loan,
    LoanStatus,
    MatchingRun,
    Need,
    Shipment,
    ShipmentItem,
    ShipmentKind,
)
from logistics.needs.lifecycle import NeedStatus

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(name: str) -> str:
    out = io.StringIO()
    call_command(name, stdout=out)
    return out.getvalue()


def test_without_the_inventory_demo_it_says_what_to_run_first(db):
    with pytest.raises(CommandError):
        run("seed_logistics_demo")
    assert not Shipment.objects.exists()


@override_settings(PASSWORD_HASHERS=FAST_HASHER)
@pytest.mark.slow
def test_the_demo_gets_a_year_a_shipment_a_disposal_and_a_report_once(db):
    run("seed_demo")
    run("seed_logistics_demo")
    shipment = Shipment.objects.get(kind=ShipmentKind.TO_WORKSHOP)
    items = ShipmentItem.objects.filter(shipment=shipment)
    assert items.count() == 6
    assert items.filter(received_at__isnull=False).count() == 2
    assert set(
        Device.objects.filter(shipment_items__shipment=shipment).values_list("status", flat=True)
    ) == {Status.SENT_TO_WORKSHOP, Status.AT_WORKSHOP}
    batch = DisposalBatch.objects.get()
    assert batch.items.count() == 12
    for model in (Shipment, ShipmentItem, DisposalBatch):
        assert not model.history.filter(history_user__isnull=True).exists()
    # Needs of every fate and of varied ages, across the territories.
    statuses = set(Need.objects.values_list("status", flat=True))
    assert {
        NeedStatus.DRAFT,
        NeedStatus.SUBMITTED,
        NeedStatus.DECLINED,
        NeedStatus.CANCELLED,
        NeedStatus.EXPIRED,
        NeedStatus.SERVED,
    } <= statuses
    # Accepted needs the approved run left (wholly or partly) to the proposed one.
    assert statuses & {NeedStatus.ACCEPTED, NeedStatus.PARTLY_SERVED}
    ages = sorted(Need.objects.values_list("created_at", flat=True))
    assert (ages[-1] - ages[0]).days >= 100
    assert Need.objects.values("structure__commune__territory").distinct().count() >= 3
    assert (
        not Need.history.filter(history_user__isnull=True)
        .exclude(history_change_reason="need_expire")
        .exists()
    )
    needs = Need.objects.count()
    # One run approved, its devices reserved by allocations; one proposed; no other reservation.
    assert set(MatchingRun.objects.values_list("status", flat=True)) == {"approved", "proposed"}
    assert MatchingRun.objects.filter(status="proposed").count() == 1
    assert MatchingRun.objects.get(status="proposed").lines.exists()
    # Deliveries, hand-overs and loans (issue 12): signed receipts and one to sign; a loan
    # overdue; an itinerant kit partly returned; a delivery on its way through the depot.
    hand_overs = HandOver.objects.all()
    assert hand_overs.exclude(signature_kind="").count() >= 3
    assert hand_overs.filter(signature_kind="").exists()
    assert all(h.receipt_sha256 and h.receipt_file for h in hand_overs)
    today = timezone.localdate()
    assert Loan.objects.filter(status=LoanStatus.OPEN, due_on__lt=today).exists()
    kits = Loan.objects.filter(
        hand_over__items__allocation__need_line__need__purpose="itinerant_kit"
    ).distinct()
    assert kits.filter(structure__name=DEMO_STRUCTURE_NAME).exists()
    for kit in kits:
        assert 0 < kit.units_out < kit.items.count() and kit.status == LoanStatus.OPEN
        assert kit.items.filter(outcome="returned").count() == 1
    assert Shipment.objects.filter(kind=ShipmentKind.DELIVERY, stage="to_structure").exists()
    assert Shipment.objects.filter(kind=ShipmentKind.DELIVERY, stage="delivered").exists()
    for model in (HandOver, Loan, Allocation):
        assert not model.history.filter(history_user__isnull=True).exists()
    reserved = Device.objects.filter(status=Status.RESERVED)
    assert reserved.exists()
    assert reserved.count() == Allocation.objects.filter(status="active").count()
    assert not reserved.exclude(allocations__status="active").exists()
    check_the_year()
    counts = (Shipment.history.count(), DisposalBatch.history.count(), Device.history.count())
    programmes = FundingProgramme.objects.count()
    run("seed_logistics_demo")
    assert Shipment.objects.filter(kind=ShipmentKind.TO_WORKSHOP).count() == 1
    assert DisposalBatch.objects.count() == 1
    assert Need.objects.count() == needs
    assert FundingProgramme.objects.count() == programmes
    assert FundReport.objects.count() == 1
    assert (
        Shipment.history.count(),
        DisposalBatch.history.count(),
        Device.history.count(),
    ) == counts


def _month_starts(count: int) -> list[datetime.date]:
    """The first days of the current month and of the `count - 1` before it."""
    today = timezone.localdate()
    starts = []
    for back in range(count):
        year, month = divmod(today.year * 12 + today.month - 1 - back, 12)
        starts.append(datetime.date(year, month + 1, 1))
    return starts


def check_the_year() -> None:
    """A year of history that every chart and breakdown of the fund's reports shows."""
    # Every month of the last twelve received devices and handed some over.
    for first in _month_starts(12):
        after = (first + datetime.timedelta(days=32)).replace(day=1)
        bounds = [
            timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
            for day in (first, after)
        ]
        assert Device.objects.filter(created_at__range=bounds).exists(), first
        assert HandOver.objects.filter(handed_at__range=bounds).exists(), first
        assert (
            Reconditioning.objects.filter(completed_at__range=bounds, outcome="mark_ready").exists()
            or first == _month_starts(1)[0]
        ), first
    # No negative wait: each device was handed over after its need was accepted, and after
    # its allocation was approved; each cycle received its device before it started.
    items = HandOverItem.objects.select_related("hand_over", "allocation__need_line__need")
    assert items.exists()
    for item in items:
        need = item.allocation.need_line.need
        assert need.decided_at is not None
        assert need.decided_at <= item.hand_over.handed_at, need.reference
        assert item.allocation.created_at <= item.hand_over.handed_at
    assert not Reconditioning.objects.filter(received_at__gt=F("started_at")).exists()
    assert not Reconditioning.objects.filter(completed_at__lt=F("started_at")).exists()
    # Gifts and loans; loans returned, and some overdue.
    assert {item.mode for item in items} == {"gift", "loan"}
    assert Loan.objects.filter(status=LoanStatus.ENDED).exists()
    # Structures of the four EPT, several types, publics and purposes were served.
    served = Need.objects.filter(lines__allocations__hand_over_item__isnull=False).distinct()
    assert served.values("structure__commune__territory").distinct().count() == 4
    assert served.values("structure__structure_type").distinct().count() >= 5
    assert served.values("public").distinct().count() >= 5
    assert served.values("purpose").distinct().count() == 4
    # Programmes with allocations attributed to them, handed over; some allocations in none.
    programmes = FundingProgramme.objects.all()
    assert 2 <= programmes.count() <= 3
    for programme in programmes:
        assert programme.allocations.filter(status="handed_over").exists(), programme.name
        assert programme.history.filter(history_user__isnull=False).exists()
    assert items.filter(allocation__programme__isnull=True).exists()
    # Devices recycled or dismantled along the year.
    assert Device.objects.filter(status__in=[Status.RECYCLED, Status.DISMANTLED]).count() > 10
    # The figures of the last twelve months: something in every month and every breakdown.
    from logistics.fund_reports.figures import Period, Scope
    from logistics.fund_reports.selectors import report_build

    document = report_build(Period(_month_starts(12)[-1], timezone.localdate()), Scope())
    assert len(document["months"]) == 12
    for month in document["months"]:
        assert month["received"] and month["handed_over"], month["key"]
        assert month["wait_median_days"] is not None and month["wait_median_days"] >= 0
    for dimension, rows in document["breakdowns"].items():
        assert sum(row["handed_over"] or 0 for row in rows) > 0, dimension
    assert len(document["breakdowns"]["territory"]) == 4
    assert len([row for row in document["workshops"] if row["ready"]]) == 2
    assert all(row["turnaround_median_days"] > 0 for row in document["workshops"] if row["ready"])
    assert document["totals"]["recycled"] and document["totals"]["on_loan"]
    assert document["totals"]["overdue"] and document["totals"]["units_asked"]
    assert len(document["programmes"]) == FundingProgramme.objects.count()
    # One report issued, the previous month's, its stored files those whose SHA-256 it keeps.
    report = FundReport.objects.get()
    assert report.period_start == _month_starts(2)[1]
    assert report.period_end == _month_starts(1)[0] - datetime.timedelta(days=1)
    assert report.figures["totals"]["handed_over"] > 0
    for kind in ("pdf", "csv", "xlsx"):
        name = getattr(report, f"{kind}_file")
        assert name and default_storage.exists(name), kind
        with default_storage.open(name, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == getattr(report, f"{kind}_sha256")
