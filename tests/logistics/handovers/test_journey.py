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
