"""The whole journey through the services: need → match → approve → deliver → receive → hand
over → loan → return → back at the workshop."""

import datetime

import pytest
from django.utils import timezone

from inventory.errors import DomainError
from inventory.services import device_transition
from inventory.states import Status
from logistics.deliveries import services as deliveries
from logistics.handovers import services as handovers
from logistics.loans import services as loans
from logistics.models import (
    AllocationStatus,
    DeliveryStage,
    HandOver,
    LoanItemOutcome,
    LoanStatus,
)
from tests.builders import PNG_1PX, allocated, reload

pytestmark = pytest.mark.django_db


def test_a_kit_goes_from_approval_to_return(
    coordinator, workshop_staff, workshop_org, structure_staff, structure_org
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=3,
        mode="loan",
    )
    delivery = deliveries.delivery_create(
        actor=workshop_staff, structure=structure_org, via_depot=True
    )
    assert delivery.stage == DeliveryStage.PREPARING and delivery.items.count() == 3
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    deliveries.delivery_receive_at_depot(actor=coordinator, delivery_id=delivery.pk)
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    for allocation in made[:2]:
        got = deliveries.delivery_receive(
            actor=structure_staff,
            delivery_id=delivery.pk,
            raw=allocation.device.label_code_id,
        )
        assert got.changed
    again = deliveries.delivery_receive(
        actor=structure_staff, delivery_id=delivery.pk, raw=made[0].device.label_code_id
    )
    assert not again.changed
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.TO_STRUCTURE
    with pytest.raises(DomainError) as caught:
        handovers.hand_over_create(
            actor=structure_staff,
            allocation_ids=[a.pk for a in made],
            received_by_name="Awa Diallo",
        )
    assert caught.value.code == "not_delivered"
    hand_over = handovers.hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in made],
        received_by_name="Awa Diallo",
        received_by_role="Médiatrice",
    )
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.DELIVERED
    assert hand_over.delivery_id == delivery.pk
    loan = hand_over.loan
    assert loan.units_out == 3
    assert loan.due_on == timezone.localdate() + datetime.timedelta(weeks=8)
    for allocation in made:
        allocation.refresh_from_db()
        assert allocation.status == AllocationStatus.HANDED_OVER
        device = reload(allocation.device)
        assert device.status == Status.ON_LOAN and device.custodian_id == structure_org.pk
    handovers.hand_over_sign(
        actor=structure_staff, hand_over_id=hand_over.pk, signer_name="Awa Diallo", image=PNG_1PX
    )
    hand_over = HandOver.objects.get(pk=hand_over.pk)
    assert hand_over.is_signed and hand_over.receipt_file.endswith("-signed.pdf")
    # A partial return: one device back at the bench, one lost; the third still out.
    loans.loan_return(
        actor=workshop_staff,
        loan_id=loan.pk,
        returned=[made[0].device_id],
        lost=[made[1].device_id],
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.OPEN and loan.units_out == 1
    outcomes = dict(loan.items.values_list("device_id", "outcome"))
    assert outcomes[made[0].device_id] == LoanItemOutcome.RETURNED
    assert outcomes[made[1].device_id] == LoanItemOutcome.LOST
    # The last one comes back through the generic door (a scan at the workshop).
    device_transition(actor=workshop_staff, device_id=made[2].device_id, action="return_loan")
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ENDED and loan.ended_at is not None
    device_transition(
        actor=workshop_staff, device_id=made[2].device_id, action="receive_at_workshop"
    )
    device_transition(
        actor=workshop_staff, device_id=made[2].device_id, action="start_reconditioning"
    )
    assert reload(made[2].device).status == Status.IN_RECONDITIONING


def test_the_journey_through_the_screens(
    login, coordinator, workshop_staff, workshop_org, structure_staff, structure_org
):
    """Approved allocations (services), then every step on the web screens as its user would:
    prepare and dispatch, receive by scanning at arrival, hand over, sign on the screen,
    return the loan at the bench, and scan the device back into reconditioning."""
    import base64

    from django.urls import reverse

    from logistics.models import Shipment, ShipmentKind
    from tests.builders import PNG_1PX

    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )
    bench = login(workshop_staff)
    response = bench.post(
        reverse("logistics:delivery_prepare"),
        {"token": "web-1", "allocation": [a.pk for a in made]},
    )
    assert response.status_code == 302
    delivery = Shipment.objects.get(kind=ShipmentKind.DELIVERY)
    detail = reverse("logistics:delivery_detail", args=[delivery.pk])
    assert bench.post(detail, {"action": "dispatch"}).status_code == 302
    structure = login(structure_staff)
    for allocation in made:
        label = allocation.device.label_code_id
        assert structure.post(detail, {"action": "receive", "raw": label}).status_code == 200
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.DELIVERED
    # The structure confirms the hand-over of what it received, then signs on its phone.
    response = structure.post(
        reverse("logistics:hand_over_create"),
        {
            "token": "web-2",
            "allocations": [a.pk for a in made],
            "received_by_name": "Awa Diallo",
        },
    )
    assert response.status_code == 302
    hand_over = HandOver.objects.get()
    assert response["Location"] == reverse("logistics:hand_over_sign", args=[hand_over.pk])
    signed = structure.post(
        response["Location"],
        {
            "method": "drawn",
            "drawn-signer_name": "Awa Diallo",
            "drawn-signature": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode(),
        },
    )
    assert signed.status_code == 302
    hand_over.refresh_from_db()
    assert hand_over.is_signed
    pdf = structure.get(reverse("logistics:hand_over_receipt_pdf", args=[hand_over.pk]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    loan = hand_over.loan
    assert structure.get(reverse("logistics:loan_detail", args=[loan.pk])).status_code == 200
    # Back at the bench: one device returned with the loan's form, the other scanned back.
    first, second = [a.device for a in made]
    response = bench.post(
        reverse("logistics:loan_return", args=[loan.pk]),
        {f"device-{first.pk}": "returned", "version": str(loan.version), "note": ""},
    )
    assert response.status_code == 302
    response = bench.post(
        reverse("inventory:device_transition", args=[second.pk]),
        {"action": "return_loan"},
    )
    loan.refresh_from_db()
    assert loan.status == LoanStatus.ENDED, response.status_code
    for device in (first, second):
        assert reload(device).status == Status.RETURNED
        device_transition(actor=workshop_staff, device_id=device.pk, action="receive_at_workshop")
        device_transition(actor=workshop_staff, device_id=device.pk, action="start_reconditioning")
        assert reload(device).status == Status.IN_RECONDITIONING


def test_the_journey_through_the_api(
    coordinator, workshop_staff, workshop_org, structure_staff, structure_org
):
    """The same steps on the REST API, each with its user's token."""
    from tests.builders import token_client

    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )
    bench, structure, coordination = (
        token_client(workshop_staff),
        token_client(structure_staff),
        token_client(coordinator),
    )
    response = bench.post(
        "/api/deliveries/",
        {"allocations": [a.pk for a in made], "via_depot": True},
        format="json",
        HTTP_IDEMPOTENCY_KEY="journey-1",
    )
    assert response.status_code == 201, response.content
    delivery = response.json()["id"]
    assert bench.post(f"/api/deliveries/{delivery}/dispatch/").status_code == 200
    depot = coordination.post(f"/api/deliveries/{delivery}/receive-at-depot/")
    assert depot.status_code == 200
    assert coordination.post(f"/api/deliveries/{delivery}/dispatch/").status_code == 200
    for allocation in made:
        got = structure.post(
            f"/api/deliveries/{delivery}/receive/",
            {"code": allocation.device.label_code_id},
            format="json",
        )
        assert got.status_code == 200 and got.json()["changed"] is True
    response = coordination.post(
        "/api/hand-overs/",
        {"allocations": [a.pk for a in made], "received_by_name": "Awa Diallo"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="journey-2",
    )
    assert response.status_code == 201, response.content
    hand_over = response.json()
    receipt = structure.get(f"/api/hand-overs/{hand_over['id']}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    loan_id = HandOver.objects.get(pk=hand_over["id"]).loan.pk
    loan = coordination.get(f"/api/loans/{loan_id}/")
    etag = loan["ETag"]
    extended = coordination.post(
        f"/api/loans/{loan_id}/extend/",
        {
            "due_on": (timezone.localdate() + datetime.timedelta(weeks=20)).isoformat(),
            "reason": "Ateliers prolongés",
        },
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert extended.status_code == 200, extended.content
    returned = bench.post(
        f"/api/loans/{loan_id}/return/",
        {"returned": [made[0].device_id], "lost": [made[1].device_id]},
        format="json",
    )
    assert returned.status_code == 200, returned.content
    assert returned.json()["status"] == LoanStatus.ENDED
    assert reload(made[0].device).status == Status.RETURNED
    assert reload(made[1].device).status == Status.LOST
