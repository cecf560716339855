"""Deliveries, hand-overs, loans and reports through their services: the rules each one
keeps, the refusals, and the records they leave."""

import datetime

import pytest
from django.utils import timezone

from inventory.errors import DomainError
from inventory.scanning.selectors import scan_lookup
from inventory.services import device_transition
from inventory.states import Status
from logistics.allocations.services import allocation_cancel
from logistics.deliveries import services as deliveries
from logistics.handovers import services as handovers
from logistics.loans import services as loans
from logistics.models import (
    Allocation,
    AllocationStatus,
    DeliveryStage,
    DeviceReport,
    HandOver,
    HandOverItem,
    Loan,
    LoanItem,
    LoanStatus,
    ShipmentItem,
)
from tests.builders import PNG_1PX, allocated, make_organisation, make_user, reload

pytestmark = pytest.mark.django_db


def refused(call, code: str, status: int | None = None) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value
    if status is not None:
        assert caught.value.status == status
    return caught.value


@pytest.fixture
def gifts(coordinator, structure_staff, workshop_org):
    return allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )


@pytest.fixture
def lent(coordinator, structure_staff, workshop_org):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=3,
        mode="loan",
    )
    hand_over = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], received_by_name="Awa Diallo"
    )
    return hand_over.loan, [a.device for a in made]


# Deliveries


def test_a_delivery_takes_the_allocations_waiting_and_only_once(
    coordinator, workshop_staff, structure_org, gifts
):
    delivery = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
    assert delivery.reference.startswith("LIV-") and delivery.sender_id is not None
    assert set(delivery.items.values_list("allocation_id", flat=True)) == {a.pk for a in gifts}
    # Nothing is left to deliver; naming an allocation already on its way is refused.
    refused(
        lambda: deliveries.delivery_create(actor=coordinator, structure=structure_org), "invalid"
    )
    refused(
        lambda: deliveries.delivery_create(actor=coordinator, allocation_ids=[gifts[0].pk]),
        "devices_refused",
    )


def test_a_workshop_delivers_only_what_is_at_its_bench(
    coordinator, other_workshop_staff, structure_org, gifts
):
    # Another workshop's allocations read as missing ones (404): not its to learn.
    refused(
        lambda: deliveries.delivery_create(
            actor=other_workshop_staff, allocation_ids=[a.pk for a in gifts]
        ),
        "not_found",
        404,
    )
    refused(
        lambda: deliveries.delivery_create(actor=other_workshop_staff, structure=structure_org),
        "invalid",
    )


def test_the_stages_follow_the_table(coordinator, workshop_staff, structure_staff, gifts):
    delivery = deliveries.delivery_create(
        actor=coordinator, allocation_ids=[a.pk for a in gifts], via_depot=True
    )
    code = gifts[0].device.label_code_id
    refused(
        lambda: deliveries.delivery_receive(
            actor=structure_staff, delivery_id=delivery.pk, raw=code
        ),
        "delivery_stage",
    )
    refused(
        lambda: deliveries.delivery_receive_at_depot(actor=coordinator, delivery_id=delivery.pk),
        "delivery_stage",
    )
    assert deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk).stage == (
        DeliveryStage.TO_DEPOT
    )
    # A double click changes nothing; cancelling is for a delivery still being prepared.
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    refused(
        lambda: deliveries.delivery_cancel(actor=coordinator, delivery_id=delivery.pk),
        "delivery_stage",
    )
    deliveries.delivery_receive_at_depot(actor=coordinator, delivery_id=delivery.pk)
    # From the depot, only the coordination sends it on.
    refused(
        lambda: deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk),
        "action_forbidden",
        403,
    )
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    first = deliveries.delivery_receive(actor=structure_staff, delivery_id=delivery.pk, raw=code)
    assert first.changed
    item = delivery.items.exclude(pk=first.item.pk).get()
    deliveries.delivery_receive(actor=coordinator, delivery_id=delivery.pk, item_id=item.pk)
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.DELIVERED and delivery.delivered_at is not None
    # Received devices keep their status and custody: the hand-over gives them.
    assert reload(gifts[0].device).status == Status.RESERVED


def test_a_device_of_another_delivery_is_refused_at_arrival(
    coordinator, structure_staff, structure_org, workshop_org, gifts
):
    delivery = deliveries.delivery_create(actor=coordinator, allocation_ids=[gifts[0].pk])
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    refused(
        lambda: deliveries.delivery_receive(
            actor=structure_staff, delivery_id=delivery.pk, raw=gifts[1].device.label_code_id
        ),
        "not_in_shipment",
    )


def test_another_structure_sees_no_delivery_of_ours(coordinator, gifts):
    other = make_user(organisation=make_organisation())
    delivery = deliveries.delivery_create(actor=coordinator, allocation_ids=[gifts[0].pk])
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    refused(
        lambda: deliveries.delivery_receive(
            actor=other, delivery_id=delivery.pk, raw=gifts[0].device.label_code_id
        ),
        "not_found",
        404,
    )


def test_cancelling_an_allocation_takes_it_out_of_a_delivery_being_prepared_only(
    coordinator, gifts
):
    delivery = deliveries.delivery_create(actor=coordinator, allocation_ids=[a.pk for a in gifts])
    allocation_cancel(actor=coordinator, allocation_id=gifts[0].pk, reason="Structure fermée")
    assert list(delivery.items.values_list("allocation_id", flat=True)) == [gifts[1].pk]
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    refused(
        lambda: allocation_cancel(actor=coordinator, allocation_id=gifts[1].pk, reason="Non"),
        "allocation_in_delivery",
    )
    assert Allocation.objects.get(pk=gifts[1].pk).status == AllocationStatus.ACTIVE


def test_a_cancelled_delivery_frees_its_devices_for_another(coordinator, structure_org, gifts):
    delivery = deliveries.delivery_create(actor=coordinator, structure=structure_org)
    deliveries.delivery_cancel(actor=coordinator, delivery_id=delivery.pk, reason="Erreur")
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.CANCELLED and not delivery.items.exists()
    # The deleted rows keep their history, with who and why.
    deleted = ShipmentItem.history.filter(shipment_id=delivery.pk, history_type="-")
    assert deleted.count() == 2 and all(row.history_user == coordinator for row in deleted)
    again = deliveries.delivery_create(actor=coordinator, structure=structure_org)
    assert again.items.count() == 2


def test_deliveries_are_built_one_per_structure(coordinator, structure_staff, workshop_org):
    allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )
    other_staff = make_user(organisation=make_organisation())
    allocated(coordinator=coordinator, structure_actor=other_staff, workshop=workshop_org, count=1)
    built = deliveries.deliveries_build(actor=coordinator)
    assert sorted(d.items.count() for d in built) == [1, 2]
    refused(lambda: deliveries.deliveries_build(actor=coordinator), "invalid")


# Hand-overs


def test_a_gift_hand_over_gives_the_devices_and_freezes_the_receipt(
    coordinator, structure_org, donor_org, gifts
):
    donor_org.is_public_body = True
    donor_org.save()
    hand_over = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in gifts], received_by_name="  Awa  Diallo "
    )
    assert hand_over.received_by_name == "Awa Diallo"
    assert hand_over.reference.startswith("REM-") and len(hand_over.verification_code) == 16
    assert not Loan.objects.filter(hand_over=hand_over).exists()
    for item in HandOverItem.objects.filter(hand_over=hand_over).select_related("device"):
        assert item.mode == "gift"
        assert item.snapshot["label_code"] == item.device.label_code_id
        assert item.snapshot["grade"] == "B"  # as the bench recorded it
        device = reload(item.device)
        assert device.status == Status.GIVEN and device.custodian_id == structure_org.pk
        assert device.history.latest("history_date").history_change_reason == "hand_over_gift"
    stored = HandOver.objects.get(pk=hand_over.pk)
    assert stored.receipt_file and len(stored.receipt_sha256) == 64
    for model in (HandOver, Allocation):
        assert not model.history.filter(history_user__isnull=True).exists()


def test_a_hand_over_is_all_or_nothing(coordinator, structure_staff, workshop_org, gifts):
    other_staff = make_user(organisation=make_organisation())
    theirs = allocated(
        coordinator=coordinator, structure_actor=other_staff, workshop=workshop_org, count=1
    )
    refused(
        lambda: handovers.hand_over_create(
            actor=coordinator,
            allocation_ids=[gifts[0].pk, theirs[0].pk],
            received_by_name="Awa Diallo",
        ),
        "invalid",
    )
    allocation_cancel(actor=coordinator, allocation_id=gifts[1].pk, reason="Erreur")
    error = refused(
        lambda: handovers.hand_over_create(
            actor=coordinator, allocation_ids=[a.pk for a in gifts], received_by_name="Awa"
        ),
        "allocation_not_active",
    )
    assert error.params["devices"] == [gifts[1].device_id]
    assert not HandOver.objects.exists()
    assert reload(gifts[0].device).status == Status.RESERVED


def test_a_second_hand_over_of_the_same_allocation_is_refused(coordinator, gifts):
    handovers.hand_over_create(
        actor=coordinator, allocation_ids=[gifts[0].pk], received_by_name="Awa Diallo"
    )
    refused(
        lambda: handovers.hand_over_create(
            actor=coordinator, allocation_ids=[gifts[0].pk], received_by_name="Awa Diallo"
        ),
        "allocation_not_active",
    )
    assert HandOverItem.objects.count() == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"received_by_name": ""},
        {"received_by_name": "x" * 121},
        {"received_by_name": "Awa\x00"},
        {"allocation_ids": "12"},
        {"allocation_ids": [True]},
        {"allocation_ids": []},
        {"due_on": "2027-01-01"},
        {"note": "n" * 1001},
    ],
)
def test_bad_hand_over_input_is_refused_with_the_field(coordinator, gifts, fields):
    call = {"allocation_ids": [gifts[0].pk], "received_by_name": "Awa Diallo"} | fields
    error = refused(lambda: handovers.hand_over_create(actor=coordinator, **call), "invalid")
    assert error.params["fields"]
    assert not HandOver.objects.exists()


def test_a_loan_s_due_date_is_after_today_and_within_two_years(
    coordinator, structure_staff, workshop_org, gifts
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=1,
        mode="loan",
    )
    today = timezone.localdate()
    for due_on in (today, today + datetime.timedelta(days=800)):
        refused(
            lambda due_on=due_on: handovers.hand_over_create(
                actor=coordinator,
                allocation_ids=[made[0].pk],
                received_by_name="Awa",
                due_on=due_on,
            ),
            "invalid",
        )
    # A gift has no due date: one given by mistake is not held against it.
    handovers.hand_over_create(
        actor=coordinator,
        allocation_ids=[gifts[0].pk],
        received_by_name="Awa",
        due_on=datetime.date(2020, 1, 1),
    )


def test_who_may_hand_over_what(
    coordinator, workshop_staff, other_workshop_staff, structure_staff, fund_reader, gifts
):
    ids = [a.pk for a in gifts]
    refused(
        lambda: handovers.hand_over_create(
            actor=fund_reader, allocation_ids=ids, received_by_name="A"
        ),
        "action_forbidden",
        403,
    )
    refused(
        lambda: handovers.hand_over_create(
            actor=other_workshop_staff, allocation_ids=ids, received_by_name="A"
        ),
        "not_found",
        404,
    )
    # The structure confirms a hand-over itself only of what it received from a delivery.
    refused(
        lambda: handovers.hand_over_create(
            actor=structure_staff, allocation_ids=ids, received_by_name="A"
        ),
        "not_delivered",
    )
    delivery = deliveries.delivery_create(actor=workshop_staff, allocation_ids=ids)
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    for allocation in gifts:
        deliveries.delivery_receive(
            actor=structure_staff, delivery_id=delivery.pk, raw=allocation.device.label_code_id
        )
    hand_over = handovers.hand_over_create(
        actor=structure_staff, allocation_ids=ids, received_by_name="Awa Diallo"
    )
    assert hand_over.delivery_id == delivery.pk


def test_a_loan_hand_over_starts_one_loan_for_the_kit(lent):
    loan, devices = lent
    assert loan.status == LoanStatus.OPEN and loan.units_out == 3 and loan.items.count() == 3
    assert loan.started_on == timezone.localdate()
    assert loan.due_on == loan.started_on + datetime.timedelta(weeks=8)
    assert all(reload(device).status == Status.ON_LOAN for device in devices)


def test_a_receipt_is_signed_once(coordinator, structure_staff, lent):
    loan, _devices = lent
    hand_over = loan.hand_over
    refused(
        lambda: handovers.hand_over_sign(
            actor=coordinator, hand_over_id=hand_over.pk, signer_name="Awa", image=b"GIF89a"
        ),
        "invalid",
    )
    handovers.hand_over_sign(
        actor=structure_staff, hand_over_id=hand_over.pk, signer_name="Awa Diallo", image=PNG_1PX
    )
    refused(
        lambda: handovers.hand_over_attach_paper(
            actor=coordinator,
            hand_over_id=hand_over.pk,
            signer_name="Awa Diallo",
            content=b"%PDF-1.4 scan",
        ),
        "already_signed",
    )
    stored = HandOver.objects.get(pk=hand_over.pk)
    assert stored.signature_kind == "drawn" and stored.signed_at is not None
    assert stored.receipt_file.endswith("-signed.pdf")


def test_a_paper_copy_must_be_a_pdf_or_an_image(coordinator, lent):
    hand_over = lent[0].hand_over
    for content in (b"MZ\x90\x00 not a pdf", b"", b"%PDF" + b"x" * (10 * 1024 * 1024)):
        refused(
            lambda content=content: handovers.hand_over_attach_paper(
                actor=coordinator, hand_over_id=hand_over.pk, signer_name="A", content=content
            ),
            "invalid",
        )
    handovers.hand_over_attach_paper(
        actor=coordinator, hand_over_id=hand_over.pk, signer_name="Awa", content=b"%PDF-1.7 ok"
    )
    assert HandOver.objects.get(pk=hand_over.pk).signature_file.endswith(".pdf")


def test_signature_data_urls_are_checked():
    assert (
        handovers.signature_from_data_url(
            "data:image/png;base64," + __import__("base64").b64encode(PNG_1PX).decode()
        )
        == PNG_1PX
    )
    for bad in ("", "data:image/jpeg;base64,AAAA", "data:image/png;base64,@@@", None, 12):
        refused(lambda bad=bad: handovers.signature_from_data_url(bad), "invalid")


# Loans


def test_an_extension_says_who_when_and_why_and_needs_the_current_version(coordinator, lent):
    loan, _devices = lent
    new_due = loan.due_on + datetime.timedelta(weeks=4)
    refused(
        lambda: loans.loan_extend(
            actor=coordinator,
            loan_id=loan.pk,
            due_on=new_due,
            reason="Ateliers prolongés",
            version=99,
        ),
        "stale",
        412,
    )
    refused(
        lambda: loans.loan_extend(
            actor=coordinator, loan_id=loan.pk, due_on=loan.due_on, reason="x"
        ),
        "invalid",
    )
    extended = loans.loan_extend(
        actor=coordinator,
        loan_id=loan.pk,
        due_on=new_due,
        reason="Ateliers prolongés",
        version=loan.version,
    )
    assert extended.due_on == new_due and extended.version == loan.version + 1
    extension = extended.extensions.get()
    assert extension.previous_due_on == loan.due_on and extension.extended_by == coordinator


def test_only_the_coordination_extends(structure_staff, lent):
    loan, _devices = lent
    refused(
        lambda: loans.loan_extend(
            actor=structure_staff,
            loan_id=loan.pk,
            due_on=loan.due_on + datetime.timedelta(days=7),
            reason="Encore",
        ),
        "action_forbidden",
        403,
    )


def test_a_return_names_only_devices_out_on_this_loan(coordinator, lent, gifts):
    loan, devices = lent
    refused(
        lambda: loans.loan_return(
            actor=coordinator, loan_id=loan.pk, returned=[gifts[0].device_id]
        ),
        "not_on_loan",
    )
    refused(
        lambda: loans.loan_return(
            actor=coordinator, loan_id=loan.pk, returned=[devices[0].pk], lost=[devices[0].pk]
        ),
        "invalid",
    )
    loans.loan_return(actor=coordinator, loan_id=loan.pk, returned=[devices[0].pk])
    refused(
        lambda: loans.loan_return(actor=coordinator, loan_id=loan.pk, returned=[devices[0].pk]),
        "not_on_loan",
    )
    device = reload(devices[0])
    assert (
        device.status == Status.RETURNED
        and device.custodian_id == coordinator.membership.organisation_id
    )


def test_a_workshop_finds_a_lent_device_brought_to_its_bench(
    workshop_staff, other_workshop_staff, structure_staff, fund_reader, lent
):
    loan, devices = lent
    code = devices[0].label_code_id
    assert scan_lookup(other_workshop_staff, code).device.pk == devices[0].pk
    assert scan_lookup(fund_reader, code).device is None
    device_transition(actor=other_workshop_staff, device_id=devices[0].pk, action="return_loan")
    device = reload(devices[0])
    assert device.status == Status.RETURNED
    assert device.custodian_id == other_workshop_staff.membership.organisation_id
    assert LoanItem.objects.get(device=device).outcome == "returned"
    loan.refresh_from_db()
    assert loan.units_out == 2 and loan.status == LoanStatus.OPEN


# What a structure reports


def test_announcing_a_return_twice_keeps_one_report_closed_by_the_return(
    coordinator, structure_staff, lent
):
    loan, devices = lent
    report, created = loans.device_report_create(
        actor=structure_staff, device_id=devices[0].pk, kind="return", note="Fin des ateliers"
    )
    again, created_again = loans.device_report_create(
        actor=structure_staff, device_id=devices[0].pk, kind="return"
    )
    assert created and not created_again and again.pk == report.pk
    refused(
        lambda: loans.device_report_create(
            actor=structure_staff, device_id=devices[0].pk, kind="broken"
        ),
        "report_open",
    )
    loans.loan_return(actor=coordinator, loan_id=loan.pk, returned=[devices[0].pk])
    report.refresh_from_db()
    assert report.closed_at is not None and report.closed_by == coordinator


def test_a_device_reported_lost_is_declared_lost_and_the_kit_stays_on_loan(structure_staff, lent):
    loan, devices = lent
    report, _created = loans.device_report_create(
        actor=structure_staff, device_id=devices[1].pk, kind="lost", note="Volée au marché"
    )
    assert reload(devices[1]).status == Status.LOST
    assert report.closed_at is not None
    assert LoanItem.objects.get(device=devices[1]).outcome == "lost"
    loan.refresh_from_db()
    assert loan.status == LoanStatus.OPEN and loan.units_out == 2


def test_a_gift_at_end_of_life_is_collected_for_weee(coordinator, structure_staff, gifts):
    handovers.hand_over_create(
        actor=coordinator, allocation_ids=[gifts[0].pk], received_by_name="Awa Diallo"
    )
    device = gifts[0].device
    refused(
        lambda: loans.device_report_create(
            actor=structure_staff, device_id=device.pk, kind="return"
        ),
        "report_not_applicable",
    )
    report, _ = loans.device_report_create(
        actor=structure_staff, device_id=device.pk, kind="end_of_life", note="Écran cassé"
    )
    device_transition(actor=coordinator, device_id=device.pk, action="collect_end_of_life")
    device = reload(device)
    assert device.status == Status.RECYCLED and device.awaiting_disposal
    assert DeviceReport.objects.get(pk=report.pk).closed_at is not None


def test_a_structure_reports_only_its_own_devices(coordinator, structure_staff, lent):
    other = make_user(organisation=make_organisation())
    refused(
        lambda: loans.device_report_create(actor=other, device_id=lent[1][0].pk, kind="broken"),
        "not_found",
        404,
    )
    refused(
        lambda: loans.device_report_create(
            actor=coordinator, device_id=lent[1][0].pk, kind="broken"
        ),
        "action_forbidden",
        403,
    )
    refused(
        lambda: loans.device_report_create(
            actor=structure_staff, device_id=lent[1][0].pk, kind="stolen"
        ),
        "invalid",
    )


def test_reminder_stages_follow_the_due_date():
    due = datetime.date(2026, 6, 30)
    assert loans.reminder_stage(due, due - datetime.timedelta(days=8)) is None
    assert loans.reminder_stage(due, due - datetime.timedelta(days=7)) == "soon"
    assert loans.reminder_stage(due, due) == "due"
    assert loans.reminder_stage(due, due + datetime.timedelta(days=10)) == "late"
    assert loans.reminder_stage(due, due + datetime.timedelta(days=45)) == "very_late"


# The device page


def test_the_device_page_tells_the_delivery_the_hand_over_and_the_loan(
    login, coordinator, structure_staff, workshop_staff, fund_reader, lent, gifts
):
    from django.urls import reverse

    loan, devices = lent
    url = reverse("inventory:device_detail", args=[devices[0].pk])
    page = login(coordinator).get(url).text
    assert loan.hand_over.reference in page and loan.reference in page
    assert reverse("logistics:loan_detail", args=[loan.pk]) in page
    assert reverse("logistics:hand_over_detail", args=[loan.hand_over.pk]) in page
    # The structure holding it reads the same lines, with its own links.
    page = login(structure_staff).get(url).text
    assert reverse("logistics:loan_detail", args=[loan.pk]) in page
    delivery = deliveries.delivery_create(actor=coordinator, allocation_ids=[gifts[0].pk])
    page = (
        login(workshop_staff)
        .get(reverse("inventory:device_detail", args=[gifts[0].device_id]))
        .text
    )
    assert delivery.reference in page
    assert reverse("logistics:delivery_detail", args=[delivery.pk]) in page
