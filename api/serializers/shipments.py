"""Shapes of shipments on the API: a shipment, its receipt by scanning and a workshop's queue.
Which devices may travel is for logistics.shipments.services to say."""

import datetime

from django.utils import timezone
from rest_framework import serializers

from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationField,
    OrganisationRefSerializer,
    ScannedTextField,
    StrictCharField,
    instant,
)
from api.serializers.picking import DeviceSummarySerializer, device_list_field
from api.serializers.reconditioning import MissingSerializer
from inventory.codes import group_label_code
from inventory.models import Organisation
from inventory.states import Status, status_label
from logistics.shipments import services
from logistics.shipments.selectors import QueueStep, WorkshopQueue

# Devices named in a request: ids and label codes mixed


# Shipments


class ShipmentCreateSerializer(InputSerializer):
    workshop = OrganisationField(
        queryset=Organisation.objects.all(), help_text="Id of an active workshop."
    )
    devices = device_list_field(services.MAX_DEVICES)
    sent_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Today when absent."
    )
    expected_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Not before sent_on."
    )
    carrier = StrictCharField(max_length=120, required=False, allow_blank=True, default="")
    notes = StrictCharField(
        max_length=5000, required=False, allow_blank=True, style=TEXTAREA, default=""
    )


class ShipmentSerializer(serializers.Serializer):
    """A shipment from `shipments_visible_to`, with its counts."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="EXP-00042.")
    workshop = OrganisationRefSerializer()
    sender = OrganisationRefSerializer(allow_null=True, help_text="The sending organisation.")
    sent_by = serializers.CharField(source="sent_by.username")
    sent_on = serializers.DateField()
    expected_on = serializers.DateField(allow_null=True)
    carrier = serializers.CharField()
    notes = serializers.CharField()
    device_count = serializers.IntegerField()
    received_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ShipmentItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device = DeviceSummarySerializer()
    received_at = serializers.DateTimeField(allow_null=True, help_text="Null: not received yet.")
    received_by = serializers.CharField(
        source="received_by.username", allow_null=True, default=None
    )


class ShipmentDetailSerializer(ShipmentSerializer):
    items = ShipmentItemSerializer(
        source="item_rows", many=True, help_text="By label code; each with its receipt."
    )


class ReceiveSerializer(InputSerializer):
    raw = ScannedTextField(
        max_length=1000,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The device's label as scanned or typed: a label URL or a bare code.",
    )


class ReceiptSerializer(serializers.Serializer):
    """A ReceiptResult of logistics.shipments.services."""

    changed = serializers.BooleanField(help_text="False when the device was already received.")
    item = ShipmentItemSerializer()


# A workshop's queue


class QueueDeviceSerializer(DeviceSummarySerializer):
    since = serializers.DateTimeField(help_text="When the device entered this step.")
    shipment = serializers.IntegerField(
        source="open_shipment_id",
        allow_null=True,
        default=None,
        help_text="Sent to the workshop: the shipment to confirm its receipt from, if any.",
    )
    missing = MissingSerializer(
        many=True,
        default=list,
        help_text="In reconditioning: what the move to ready still needs, by code (e.g. "
        "erasure_missing); empty in the other steps.",
    )


class QueueStepSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.SerializerMethodField()
    count = serializers.IntegerField(help_text="Devices in this step (all, not only those listed).")
    oldest_since = serializers.DateTimeField(allow_null=True)
    oldest_age_days = serializers.SerializerMethodField(
        help_text="Days the oldest device has waited in this step; null when the step is empty."
    )
    devices = QueueDeviceSerializer(many=True, help_text="Oldest first, at most 50.")

    def get_status_label(self, step) -> str:
        return str(Status(step.status).label)

    def get_oldest_age_days(self, step) -> float | None:
        age: datetime.timedelta | None = step.oldest_age
        return round(age.total_seconds() / 86400, 2) if age is not None else None


class TurnaroundSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The period looked at, back from today.")
    count = serializers.IntegerField(help_text="Devices made ready in it after a receipt.")
    median_days = serializers.FloatField(allow_null=True, help_text="From receipt to ready.")
    p90_days = serializers.FloatField(allow_null=True)


class WorkshopQueueSerializer(serializers.Serializer):
    workshop = OrganisationRefSerializer()
    total = serializers.IntegerField()
    steps = QueueStepSerializer(many=True, help_text="Sent, received, in reconditioning.")
    turnaround = TurnaroundSerializer()
    read_at = serializers.SerializerMethodField(help_text="The moment the ages are counted to.")

    def get_read_at(self, queue) -> datetime.datetime:
        return timezone.now()


def workshop_queue_data(queue: WorkshopQueue) -> dict:
    """What WorkshopQueueSerializer answers for `queue`, built directly: the same keys in the
    same order and the same values (tests/api/test_queue_data.py compares them on varied
    queues). DRF's field-by-field serialisation of the 150 devices of three full steps took a
    third of the request; the serializers stay as the API schema's description.

    The ages and `read_at` are counted to one moment, read once.
    """
    now = timezone.now()

    # A category's name depends only on the active language: read once per category.
    categories: dict[str, dict] = {}

    def category(device) -> dict:
        shown = categories.get(device.category_id)
        if shown is None:
            shown = categories[device.category_id] = {
                "code": str(device.category.code),
                "name": str(device.category.name),
            }
        return dict(shown)

    def device_data(device) -> dict:
        shipment = getattr(device, "open_shipment_id", None)
        return {
            "id": int(device.pk),
            "label_code": str(device.label_code_id),
            "label_code_display": group_label_code(device.label_code_id),
            "category": category(device),
            "manufacturer": str(device.manufacturer),
            "model_name": str(device.model_name),
            "serial_number": str(device.serial_number),
            "status": str(device.status),
            "since": instant(device.since),
            "shipment": int(shipment) if shipment is not None else None,
            "missing": [
                {"code": str(problem.code), "detail": str(problem.message)}
                for problem in getattr(device, "missing", ())
            ],
        }

    def step_data(step: QueueStep) -> dict:
        oldest = step.oldest_since
        return {
            "status": str(step.status),
            "status_label": status_label(step.status),
            "count": int(step.count),
            "oldest_since": instant(oldest),
            "oldest_age_days": (
                round((now - oldest).total_seconds() / 86400, 2) if oldest is not None else None
            ),
            "devices": [device_data(device) for device in step.devices],
        }

    turnaround = queue.turnaround
    return {
        "workshop": {"id": int(queue.workshop.pk), "name": str(queue.workshop.name)},
        "total": int(queue.total),
        "steps": [step_data(step) for step in queue.steps],
        "turnaround": {
            "days": int(turnaround.days),
            "count": int(turnaround.count),
            "median_days": _float_or_none(turnaround.median_days),
            "p90_days": _float_or_none(turnaround.p90_days),
        },
        # As the serializer's method field: the instant itself, which the renderer writes.
        "read_at": now,
    }


def _float_or_none(value) -> float | None:
    return float(value) if value is not None else None


# WEEE disposals
