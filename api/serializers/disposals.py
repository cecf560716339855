"""Shapes of WEEE disposals on the API: a batch, its devices and the register's period."""

import datetime
import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationRefSerializer,
    StrictCharField,
)
from api.serializers.picking import DeviceSummarySerializer, device_list_field
from api.serializers.reconditioning import StrictDecimalField
from logistics.disposals import services as disposals


class DisposalCreateSerializer(InputSerializer):
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
    notes = StrictCharField(
        max_length=5000, required=False, allow_blank=True, style=TEXTAREA, default=""
    )


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


class RegisterQuerySerializer(InputSerializer):
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
