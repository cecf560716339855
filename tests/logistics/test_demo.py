"""The demo's logistics: a shipment partly received and a WEEE disposal, written once."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from inventory.demo.seed import DEMO_STRUCTURE_NAME
from inventory.models import Device
from inventory.states import Status
from logistics.models import (
    Allocation,
    DisposalBatch,
    HandOver,
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
def test_the_demo_gets_a_shipment_and_a_disposal_once(db):
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
    counts = (Shipment.history.count(), DisposalBatch.history.count(), Device.history.count())
    run("seed_logistics_demo")
    assert Shipment.objects.filter(kind=ShipmentKind.TO_WORKSHOP).count() == 1
    assert DisposalBatch.objects.count() == 1
    assert Need.objects.count() == needs
    assert (
        Shipment.history.count(),
        DisposalBatch.history.count(),
        Device.history.count(),
    ) == counts
