"""The queue's reply is built by hand (api.serializers.shipments.workshop_queue_data) for speed;
WorkshopQueueSerializer still describes it in the schema. Both must say exactly the same thing:
the same keys in the same order and the same values, for every shape a queue can take."""

import pytest
from django.utils import timezone, translation
from rest_framework.renderers import JSONRenderer

from api.serializers.shipments import WorkshopQueueSerializer, workshop_queue_data
from inventory.services import device_transition
from logistics.shipments.selectors import workshop_queue
from tests.builders import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def frozen_now(monkeypatch):
    # The serializer reads the clock for each step's age and for read_at, the fast path once:
    # one instant for both, so that the ages compare exactly.
    instant = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: instant)
    return instant


def assert_same_reply(user, workshop) -> dict:
    queue = workshop_queue(user, workshop)
    fast = workshop_queue_data(queue)
    expected = WorkshopQueueSerializer(queue).data
    assert fast == expected
    # Rendered as the API sends them: byte for byte, hence keys in the same order too.
    assert JSONRenderer().render(fast) == JSONRenderer().render(expected)
    return fast


def test_an_empty_queue_answers_as_the_serializer(workshop_staff, workshop_org, frozen_now):
    reply = assert_same_reply(workshop_staff, workshop_org)
    assert reply["total"] == 0
    assert [step["oldest_since"] for step in reply["steps"]] == [None, None, None]
    assert [step["oldest_age_days"] for step in reply["steps"]] == [None, None, None]
    assert reply["turnaround"]["median_days"] is None
    assert reply["read_at"] == frozen_now


@pytest.mark.parametrize("language", ["fr", "en"])
def test_each_step_answers_as_the_serializer(
    coordinator, workshop_staff, workshop_org, queue_devices, frozen_now, language
):
    # Sent without a shipment (no receipt to confirm), with blank model and serial.
    loose = make_device(actor=coordinator, category="smartphone", model_name="", serial_number="")
    device_transition(
        actor=coordinator, device_id=loose.pk, action="send_to_workshop", target=workshop_org
    )
    with translation.override(language):
        reply = assert_same_reply(workshop_staff, workshop_org)
    sent, received, reconditioning = reply["steps"]
    assert {device["shipment"] for device in sent["devices"]} == {
        queue_devices["shipment"].pk,
        None,
    }
    assert received["devices"] and all(not d["missing"] for d in received["devices"])
    missing = {device["id"]: device["missing"] for device in reconditioning["devices"]}
    assert missing[queue_devices["complete"].pk] == []
    assert missing[queue_devices["partial"].pk]
    assert reply["turnaround"]["count"] == 1
    assert isinstance(reply["turnaround"]["median_days"], float)
