"""Shapes of deliveries on the API: a delivery with its devices, its making from allocations, a
device received at arrival; and the query strings of the outbound lists (deliveries, hand-overs,
loans, reports). Which allocations may leave and who moves a delivery is for
logistics.deliveries.services to say."""

import re

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import empty

from api.filters import ID_MAX
from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationRefSerializer,
    ScannedTextField,
    StrictCharField,
    StrictIntegerField,
)
from api.serializers.intake import StrictBooleanField
from api.serializers.needs import GIVE_A_VALUE
from api.serializers.picking import DeviceSummarySerializer
from api.serializers.reconditioning import NamedChoiceField
from logistics.deliveries import services
from logistics.models import DeliveryStage


def person(user) -> str | None:
    """A user as the replies name them: full name, else username."""
    return (user.get_full_name() or user.get_username()) if user is not None else None


# Query strings


class QueryBooleanField(serializers.BooleanField):
    """A yes/no of a query string: `true`, `false`, `1` or `0`; anything else is refused."""

    TRUE_VALUES = {"true", "1"}
    FALSE_VALUES = {"false", "0"}
    NULL_VALUES: set = set()
    # Left out of the query string, it is absent (DRF's BooleanField reads an HTML form's
    # missing box as false).
    default_empty_html = empty


class ListQuerySerializer(InputSerializer):
    """A list's filters: `?x=` is no value, refused rather than ignored; an id is digits
    ("3.0" is none)."""

    INTEGERS: tuple[str, ...] = ()

    def to_internal_value(self, data):
        errors = {
            name: [GIVE_A_VALUE]
            for name in self.fields
            if name in data and not str(data.get(name)).strip()
        }
        for name in self.INTEGERS:
            value = data.get(name)
            if value and name not in errors and not re.fullmatch(r"[0-9]{1,19}", str(value)):
                errors[name] = [self.fields[name].error_messages["invalid"]]
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


def structure_filter() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Id of the structure."
    )


DELIVERY_STAGE_FILTERS = [
    *DeliveryStage.choices,
    ("open", _("Not delivered yet, nor cancelled")),
]


class DeliveryQuerySerializer(ListQuerySerializer):
    stage = NamedChoiceField(
        DELIVERY_STAGE_FILTERS,
        enum_name="DeliveryStageFilterEnum",
        required=False,
        help_text="A stage, or `open`: every delivery neither delivered nor cancelled.",
    )
    structure = structure_filter()

    INTEGERS = ("structure",)


# Writes


class DeliveryCreateSerializer(InputSerializer):
    structure = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="Id of the active structure: without `allocations`, all its allocations not "
        "yet on their way that you may send; with them, the structure they all go to.",
    )
    allocations = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        allow_empty=False,
        max_length=services.MAX_DEVICES,
        help_text=f"Ids of active allocations of one structure, up to {services.MAX_DEVICES}: "
        "all of them go, or none.",
    )
    via_depot = StrictBooleanField(
        required=False, default=False, help_text="true: through the coordination's depot."
    )
    expected_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Not before today."
    )
    carrier = StrictCharField(
        max_length=120, required=False, allow_blank=True, default="", help_text="Or vehicle."
    )
    notes = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
    )


class DeliveriesBuildSerializer(InputSerializer):
    via_depot = StrictBooleanField(
        required=False, default=False, help_text="true: every delivery through the depot."
    )


class DeliveryCancelSerializer(InputSerializer):
    reason = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
        help_text="Why the delivery is cancelled; optional.",
    )


class DeliveryReceiveSerializer(InputSerializer):
    """One device arrived: scanned (`code`) or ticked (`item`), one of the two."""

    code = ScannedTextField(
        max_length=1000,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The device's label as scanned or typed: a label URL or a bare code.",
    )
    item = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        help_text="Or the id of the delivery's item, ticked on a list.",
    )

    def validate(self, attrs):
        if ("code" in attrs) == ("item" in attrs):
            raise serializers.ValidationError(
                {"code": [_("Scan the device's label, or tick its item: one of the two.")]}
            )
        return attrs


# Replies


class DeliverySerializer(serializers.Serializer):
    """A delivery of `delivery_list`, with its counts."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="LIV-00042.")
    stage = NamedChoiceField(DeliveryStage, enum_name="DeliveryStageEnum")
    stage_label = serializers.SerializerMethodField()
    structure = OrganisationRefSerializer()
    sender = OrganisationRefSerializer(allow_null=True, help_text="The sending organisation.")
    via_depot = serializers.BooleanField()
    sent_on = serializers.DateField()
    expected_on = serializers.DateField(allow_null=True)
    dispatched_at = serializers.DateTimeField(allow_null=True, help_text="When it left.")
    depot_received_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(
        allow_null=True, help_text="When its last device was received."
    )
    carrier = serializers.CharField()
    notes = serializers.CharField()
    device_count = serializers.IntegerField()
    received_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_stage_label(self, delivery) -> str:
        return str(DeliveryStage(delivery.stage).label)


class DeliveryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device = DeviceSummarySerializer()
    allocation = serializers.IntegerField(source="allocation_id", allow_null=True)
    need_reference = serializers.CharField(
        source="allocation.need_line.need.reference",
        allow_null=True,
        default=None,
        help_text="BES-00042: the need the device serves.",
    )
    received_at = serializers.DateTimeField(allow_null=True, help_text="Null: not received yet.")
    received_by = serializers.SerializerMethodField()

    def get_received_by(self, item) -> str | None:
        return person(item.received_by)


class DeliveryDetailSerializer(DeliverySerializer):
    sent_by = serializers.SerializerMethodField(help_text="Who prepared it.")
    items = DeliveryItemSerializer(source="item_rows", many=True)

    def get_sent_by(self, delivery) -> str:
        return person(delivery.sent_by)


class DeliveryReceiptSerializer(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False when the device was already received.")
    item = DeliveryItemSerializer()
    delivery = DeliverySerializer(help_text="The delivery now: delivered with its last device.")
