"""What an API body may send the delivery services instead of an id or a scan: refused with a
domain error, never a 500."""

import pytest

from inventory.errors import DomainError
from logistics.deliveries import services as deliveries
from tests.builders import allocated

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(coordinator, workshop_staff, structure_staff, workshop_org, structure_org):
    allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=1
    )
    return deliveries.delivery_create(actor=workshop_staff, structure=structure_org)


@pytest.mark.parametrize("item_id", ["abc", [1], {"id": 1}, True, 1.5, 2**70])
def test_an_item_that_is_no_id_is_not_found_when_taken_out(workshop_staff, delivery, item_id):
    with pytest.raises(DomainError) as caught:
        deliveries.delivery_item_remove(
            actor=workshop_staff, delivery_id=delivery.pk, item_id=item_id
        )
    assert caught.value.code == "not_found"
    assert delivery.items.count() == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"item_id": "abc"}, "not_found"),
        ({"item_id": [1]}, "not_found"),
        ({"item_id": 2**70}, "not_in_shipment"),
        ({"raw": 12}, "code_empty"),
        ({"raw": None}, "code_empty"),
    ],
)
def test_a_receipt_of_what_is_no_id_nor_code_is_refused(
    workshop_staff, structure_staff, delivery, fields, code
):
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    with pytest.raises(DomainError) as caught:
        deliveries.delivery_receive(actor=structure_staff, delivery_id=delivery.pk, **fields)
    assert caught.value.code == code
    assert not delivery.items.filter(received_at__isnull=False).exists()
