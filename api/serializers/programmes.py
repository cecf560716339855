"""Shapes of funding programmes on the API. The write serializer checks types and sizes only:
the funder, the territories, the period and who may do what are logistics.funding.services'
to say, with the web screens' messages.
"""

from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import (
    InputSerializer,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
)
from api.serializers.fund_reports import day_errors
from api.serializers.intake import StrictBooleanField
from api.serializers.reconditioning import NamedChoiceField, StrictDecimalField
from inventory.models.organisations import StructureType
from logistics.funding.services import MAX_TARGET_DEVICES, NAME_MAX
from logistics.models import Public, Purpose

ANY = " Empty: any."
MAX_CHOICES = 50


class ProgrammeDateField(serializers.DateField):
    """A date of a programme's period, within the figures' bounds (2000 to 2099)."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if problem := day_errors(day):
            raise serializers.ValidationError(problem, code="invalid")
        return day


def _choices(child, help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=child, max_length=MAX_CHOICES, required=False, help_text=help_text + ANY
    )


class ProgrammeWriteSerializer(InputSerializer):
    """A programme's fields; in a PATCH every field is optional and those left out keep their
    value."""

    funder = StrictIntegerField(
        min_value=1, max_value=ID_MAX, help_text="Id of the funder: an organisation of kind fund."
    )
    name = StrictCharField(max_length=NAME_MAX)
    starts_on = ProgrammeDateField(help_text="First day of the programme.")
    ends_on = ProgrammeDateField(
        help_text="Last day of the programme; an allocation approved after it cannot count in it."
    )
    target_devices = StrictIntegerField(
        min_value=1,
        max_value=MAX_TARGET_DEVICES,
        required=False,
        allow_null=True,
        help_text="Devices to hand over; null: no such target.",
    )
    target_budget = StrictDecimalField(
        max_digits=12,
        decimal_places=2,
        required=False,
        allow_null=True,
        help_text='Euros, as a string: "25000.00"; more than zero. null: no such target.',
    )
    territories = _choices(
        StrictCharField(max_length=8), "EPT codes (T2, T3…) of the eligible structures."
    )
    structure_types = _choices(NamedChoiceField(StructureType), "Eligible structure types.")
    publics = _choices(NamedChoiceField(Public), "Eligible publics served.")
    purposes = _choices(NamedChoiceField(Purpose), "Eligible purposes.")
    is_active = StrictBooleanField(
        required=False, help_text="Open to new allocations (true when created)."
    )


class ProgrammeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="PRG-0042.")
    name = serializers.CharField()
    funder = OrganisationRefSerializer()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target_devices = serializers.IntegerField(allow_null=True)
    target_budget = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text='Euros, as a string: "25000.00".',
    )
    territories = serializers.ListField(
        child=serializers.CharField(), help_text="EPT codes; empty: any."
    )
    structure_types = serializers.ListField(
        child=NamedChoiceField(StructureType), help_text="Empty: any."
    )
    publics = serializers.ListField(child=NamedChoiceField(Public), help_text="Empty: any.")
    purposes = serializers.ListField(child=NamedChoiceField(Purpose), help_text="Empty: any.")
    is_active = serializers.BooleanField(help_text="Open to new allocations.")
    handed_over = serializers.IntegerField(
        help_text="Devices handed over under the programme so far."
    )
    created_at = serializers.DateTimeField()
    version = serializers.IntegerField(help_text="Its ETag: send it in If-Match to change it.")
