"""Shapes of the needs register on the API: a need with its lines, its writes and the register's
filters. Input serializers check types and sizes only: the choices, ranges and who may do what
are logistics.needs.services' to say, with the same messages as on the web screens.
"""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import (
    TEXTAREA,
    CategorySerializer,
    InputSerializer,
    StrictCharField,
    StrictIntegerField,
)
from api.serializers.intake import StrictBooleanField
from api.serializers.reconditioning import NamedChoiceField
from inventory.models import Grade, StructureType
from logistics.models import MAX_QUANTITY, Mode, Need, OsFamily, Public, Purpose, Urgency
from logistics.models.needs import MAX_RAM_GB, MAX_STORAGE_GB
from logistics.needs import services
from logistics.needs.lifecycle import MOVES, NeedStatus, Side
from logistics.needs.selectors import need_actions

# The lowest acceptable grade of a line: D is never asked for.
LINE_GRADES = [(grade.value, grade.label) for grade in Grade if grade != Grade.D]
# What need_actions offers: the moves of the structure and of the coordination, and "edit".
NEED_ACTIONS = [
    *((move.name, move.label) for move in MOVES.values() if move.side != Side.SYSTEM),
    ("edit", _("Edit")),
]
LINE_ID = re.compile(r"[1-9][0-9]{0,18}")
MAX_OLDER_THAN_DAYS = 3650  # ten years: further back, a date before the channel existed
GIVE_A_VALUE = _("Give a value or leave the parameter out.")


class PassedChoiceField(NamedChoiceField):
    """A choice sent as text and passed on as it is: the schema lists the choices, the service
    refuses a value outside them, with the message the web form shows."""

    default_error_messages = {"invalid": serializers.CharField.default_error_messages["invalid"]}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return data


# Writes


class NeedLineWriteSerializer(serializers.Serializer):
    category = StrictCharField(max_length=30, help_text="Category code, e.g. laptop.")
    quantity = StrictIntegerField(help_text=f"Units asked, from 1 to {MAX_QUANTITY}.")
    min_ram_gb = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text=f"Minimum RAM in whole gigabytes, from 1 to {MAX_RAM_GB}; null: any.",
    )
    min_storage_gb = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text=f"Minimum storage in whole gigabytes, from 1 to {MAX_STORAGE_GB}; null: any.",
    )
    min_screen_inches = StrictCharField(
        max_length=10,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text='Minimum screen size in inches, as a string: "15.6", from 1 to 99.9; null: any.',
    )
    os_family = PassedChoiceField(
        OsFamily, required=False, allow_blank=True, help_text="Empty: any operating system."
    )
    min_grade = PassedChoiceField(
        LINE_GRADES,
        enum_name="NeedGradeEnum",
        required=False,
        allow_blank=True,
        help_text="The lowest acceptable cosmetic grade; empty: any.",
    )


class NeedWriteSerializer(InputSerializer):
    """A need's editable fields; in a PATCH every field is optional and those left out keep
    their value, `lines` included (given, they replace every line)."""

    purpose = PassedChoiceField(Purpose, help_text="What the devices are for.")
    public = PassedChoiceField(Public, help_text="The public the structure serves with them.")
    mode = PassedChoiceField(Mode, help_text="Given, or lent for `loan_weeks`.")
    loan_weeks = StrictIntegerField(
        required=False,
        allow_null=True,
        help_text=f"A loan's length, from 1 to {services.MAX_LOAN_WEEKS} weeks; dropped for a "
        "gift.",
    )
    urgency = PassedChoiceField(
        Urgency, required=False, default=Urgency.NORMAL.value, help_text="Normal when absent."
    )
    justification = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        style=TEXTAREA,
        help_text="What the devices will change for the structure's public.",
    )
    lines = serializers.ListField(
        child=NeedLineWriteSerializer(),
        allow_empty=False,
        max_length=services.MAX_LINES,
        help_text=f"From 1 to {services.MAX_LINES} lines: a category, a quantity and, if the "
        "devices must meet them, minimum specifications. An error names its line by position: "
        '`{"lines": {"0": {"quantity": [...]}}}`.',
    )


class NeedCreateSerializer(NeedWriteSerializer):
    """A new need: its fields and lines, for which structure, and whether it goes to the
    coordination at once."""

    submit = StrictBooleanField(
        required=False,
        default=False,
        help_text="true: submitted to the coordination at once; false: kept as a draft.",
    )
    structure = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        help_text="Id of the active structure the need is for: the coordination names it; a "
        "structure's staff always declare for their own structure, and this is ignored.",
    )


class NeedAcceptSerializer(InputSerializer):
    """The coordination's yes, with the units it gives where fewer than asked."""

    quantities = serializers.DictField(
        child=StrictIntegerField(),
        required=False,
        help_text='Line id → units accepted, from 0 to the units asked: `{"42": 3}`. A line '
        "left out is accepted as asked; at least one unit must remain.",
    )

    def validate_quantities(self, quantities: dict) -> dict:
        not_ids = {
            key: [_("This need has no such line.")]
            for key in quantities
            if not LINE_ID.fullmatch(key)
        }
        if not_ids:
            raise serializers.ValidationError(not_ids)
        return quantities


class NeedDeclineSerializer(InputSerializer):
    """The coordination's no, and why."""

    reason = StrictCharField(
        max_length=services.MAX_TEXT,
        allow_blank=True,
        style=TEXTAREA,
        help_text="Why the need is declined, for the structure; not empty.",
    )


class NeedCancelSerializer(InputSerializer):
    """The structure withdraws its need."""

    reason = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
        help_text="Why the need is withdrawn; optional.",
    )


# The register's filters


class NeedRegisterQuerySerializer(InputSerializer):
    """The register's filters, all optional; validated into logistics' RegisterFilters."""

    status = NamedChoiceField(NeedStatus, enum_name="NeedStatusEnum", required=False)
    territory = serializers.CharField(
        max_length=8, required=False, help_text="EPT code of the structure's territory, e.g. T2."
    )
    commune = serializers.CharField(
        max_length=5, required=False, help_text="INSEE code of the structure's commune."
    )
    structure_type = NamedChoiceField(StructureType, required=False)
    structure = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Id of the structure."
    )
    category = serializers.CharField(
        max_length=30,
        required=False,
        help_text="Category code: the needs with a line of it (and, in the units, its lines only).",
    )
    public = NamedChoiceField(Public, required=False)
    purpose = NamedChoiceField(Purpose, required=False)
    older_than_days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_OLDER_THAN_DAYS,
        required=False,
        help_text="Declared more than this many days ago.",
    )

    INTEGERS = ("structure", "older_than_days")

    def to_internal_value(self, data):
        # In a query string `?status=` is no status, as the schema says: refused, not ignored;
        # and a number is digits ("3.0" is no id).
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


# Replies


class CommuneRefSerializer(serializers.Serializer):
    insee_code = serializers.CharField()
    name = serializers.CharField()


class NeedStructureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    structure_type = serializers.CharField(help_text="Its data·inclusion type code; may be empty.")
    commune = CommuneRefSerializer(allow_null=True)
    territory = serializers.CharField(
        source="commune.territory_id",
        allow_null=True,
        default=None,
        help_text="EPT code of its commune's territory; null without a commune.",
    )


class NeedLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategorySerializer()
    quantity = serializers.IntegerField(help_text="Units asked.")
    quantity_accepted = serializers.IntegerField(
        allow_null=True, help_text="Units the coordination accepted; null until it decides."
    )
    quantity_served = serializers.IntegerField(help_text="Units allocated so far.")
    min_ram_gb = serializers.IntegerField(allow_null=True)
    min_storage_gb = serializers.IntegerField(allow_null=True)
    min_screen_inches = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text='As a string: "15.6".'
    )
    os_family = NamedChoiceField(OsFamily, allow_blank=True, help_text="Empty: any.")
    min_grade = NamedChoiceField(
        LINE_GRADES, enum_name="NeedGradeEnum", allow_blank=True, help_text="Empty: any."
    )


class NeedSerializer(serializers.Serializer):
    """A need read from logistics.needs.selectors (need_register, need_detail), its lines in
    `line_rows`. The context's `user` decides its `actions`."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="BES-00042.")
    structure = NeedStructureSerializer()
    status = NamedChoiceField(NeedStatus, enum_name="NeedStatusEnum")
    status_label = serializers.SerializerMethodField()
    purpose = NamedChoiceField(Purpose)
    public = NamedChoiceField(Public)
    mode = NamedChoiceField(Mode)
    loan_weeks = serializers.IntegerField(allow_null=True, help_text="Null for a gift.")
    urgency = NamedChoiceField(Urgency)
    justification = serializers.CharField()
    reason = serializers.CharField(
        help_text="Why the coordination declined, the structure cancelled or the need expired; "
        "empty otherwise."
    )
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.SerializerMethodField(help_text="Who declared it: name or username.")
    version = serializers.IntegerField(
        help_text="This state of the need, the ETag without its quotes: send it in If-Match to "
        "change the need."
    )
    lines = NeedLineSerializer(source="line_rows", many=True)
    actions = serializers.SerializerMethodField(
        help_text="What you may do with the need now, in its lifecycle's order: each move is "
        "its own operation (`/submit/`, `/accept/`…), `edit` is a PATCH."
    )

    def get_status_label(self, need: Need) -> str:
        return str(NeedStatus(need.status).label)

    def get_created_by(self, need: Need) -> str:
        user = need.created_by
        return user.get_full_name() or user.get_username()

    @extend_schema_field(
        serializers.ListField(child=NamedChoiceField(NEED_ACTIONS, enum_name="NeedActionEnum"))
    )
    def get_actions(self, need: Need) -> list[str]:
        return need_actions(self.context["user"], need)


class NeedUnitsSerializer(serializers.Serializer):
    """A Units of logistics.needs.selectors.register_units."""

    asked = serializers.IntegerField()
    accepted = serializers.IntegerField()
    served = serializers.IntegerField()
