"""Shapes of logistics on the API: shipments to workshops and their receipt, a workshop's queue,
WEEE disposals. Input serializers check types and sizes only; which devices may travel or leave
is for logistics.services and logistics.disposals to say.
"""

import datetime
import re

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.devices import (
    CategorySerializer,
    ErrorSerializer,
    OrganisationField,
    OrganisationRefSerializer,
    StrictCharField,
)
from api.serializers.reconditioning import MissingSerializer, StrictDecimalField
from inventory.codes import group_label_code
from inventory.models import Organisation
from inventory.states import Status
from logistics.disposals import services as disposals
from logistics.shipments import services

CODE_MAX_LENGTH = 300  # a label URL as a scanner types it, with room to spare


# Devices named in a request: ids and label codes mixed


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            {"type": "string", "minLength": 1, "maxLength": CODE_MAX_LENGTH},
        ],
        "description": "A device id, or its label code as printed, typed or scanned (any "
        "case, with or without separators, or the label's URL).",
    }
)
class DeviceChoiceField(serializers.Field):
    default_error_messages = {
        "invalid": _("A device id or a label code."),
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) and 1 <= data <= ID_MAX:
            return data
        if isinstance(data, str) and 1 <= len(data) <= CODE_MAX_LENGTH:
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


def device_list_field(max_devices: int) -> serializers.ListField:
    return serializers.ListField(
        child=DeviceChoiceField(),
        allow_empty=False,
        max_length=max_devices,
        help_text="Device ids and/or label codes; all of them are accepted, or none.",
    )


class DeviceProblemSerializer(serializers.Serializer):
    device = serializers.CharField(
        help_text="The device's label code (grouped), its id, or the text sent when it is no code."
    )
    code = serializers.CharField(help_text="Stable English code, e.g. not_found, not_sendable.")
    detail = serializers.CharField(source="message", help_text="Translated message for people.")


class DevicesRefusedSerializer(ErrorSerializer):
    problems = DeviceProblemSerializer(
        many=True, help_text="Each device that cannot go, and why. Nothing was recorded."
    )


class DeviceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField(source="label_code_id")
    label_code_display = serializers.SerializerMethodField()
    category = CategorySerializer()
    manufacturer = serializers.CharField()
    model_name = serializers.CharField()
    serial_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)

    def get_label_code_display(self, device) -> str:
        return group_label_code(device.label_code_id)


# Shipments


class ShipmentCreateSerializer(serializers.Serializer):
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
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")


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


class ReceiveSerializer(serializers.Serializer):
    raw = StrictCharField(
        max_length=1000,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The device's label as scanned or typed: a label URL or a bare code.",
    )


class ReceiptSerializer(serializers.Serializer):
    """A ReceiptResult of logistics.services."""

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


# WEEE disposals


class DisposalCreateSerializer(serializers.Serializer):
    eco_organisation = StrictCharField(max_length=120, help_text="e.g. ecosystem, Ecologic.")
    collector = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="The company that took the devices away, or the drop-off site.",
    )
    left_on = serializers.DateField(help_text="The date the devices left; not in the future.")
    weight_kg = StrictDecimalField(
        max_digits=9,
        decimal_places=2,
        min_value=0,
        help_text='Kilograms, as a string: "42.50"; more than zero.',
    )
    document_reference = StrictCharField(
        max_length=120, help_text="The pick-up note or waste tracking slip (BSD) number."
    )
    devices = device_list_field(disposals.MAX_DEVICES)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, default="")


class DisposalSerializer(serializers.Serializer):
    """A batch from `disposals_visible_to`, with its device count."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="DEEE-00042.")
    eco_organisation = serializers.CharField()
    collector = serializers.CharField()
    left_on = serializers.DateField()
    weight_kg = serializers.DecimalField(max_digits=9, decimal_places=2)
    document_reference = serializers.CharField()
    organisation = OrganisationRefSerializer(allow_null=True, help_text="Who handed it over.")
    created_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    notes = serializers.CharField()
    device_count = serializers.IntegerField()


class DisposalDetailSerializer(DisposalSerializer):
    devices = serializers.SerializerMethodField(help_text="By label code.")

    @extend_schema_field(DeviceSummarySerializer(many=True))
    def get_devices(self, batch) -> list[dict]:
        return DeviceSummarySerializer([item.device for item in batch.item_rows], many=True).data


class RegisterQuerySerializer(serializers.Serializer):
    """The register's period: a year, or dates, or both (the days they share); validated into
    its first and last day, None where it is open."""

    year = serializers.IntegerField(
        min_value=2000, max_value=2100, required=False, help_text="A calendar year."
    )
    start = serializers.DateField(required=False, help_text="First day, included.")
    end = serializers.DateField(required=False, help_text="Last day, included.")

    def to_internal_value(self, data):
        # In a query string `?start=` is no date, as the schema says: refused, not ignored; and
        # a year is digits ("2025.0" is no integer).
        errors = {
            name: [_("Give a value or leave the parameter out.")]
            for name in self.fields
            if name in data and not str(data.get(name)).strip()
        }
        year = data.get("year")
        if year and "year" not in errors and not re.fullmatch(r"[0-9]{1,9}", str(year)):
            errors["year"] = [self.fields["year"].error_messages["invalid"]]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def validate(self, data: dict) -> dict:
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            raise serializers.ValidationError(
                {"end": [_("The end of the period cannot be before its start.")]}
            )
        year = data.get("year")
        if year is not None:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            start = max(start, first) if start else first
            end = min(end, last) if end else last
            if end < start:
                raise serializers.ValidationError(
                    {"year": [_("This year and these dates share no day.")]}
                )
        return {"start": start, "end": end}
