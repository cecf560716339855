"""Shapes of matching runs, the matching policy and allocations on the API. Input serializers
check types and sizes only: the scope, the weights' rules and who may do what are
logistics.allocations.services' to say, with the messages of the web screens.
"""

import re

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import (
    TEXTAREA,
    CategorySerializer,
    ErrorSerializer,
    InputSerializer,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
)
from api.serializers.intake import StrictBooleanField
from api.serializers.needs import GIVE_A_VALUE
from api.serializers.picking import DeviceChoiceField
from api.serializers.reconditioning import NamedChoiceField
from inventory.codes import group_label_code
from inventory.models import StructureType
from logistics.allocations import services
from logistics.matching import MAX_WEIGHT, REASONS
from logistics.models import AllocationStatus, Mode, Public, Purpose, RunStatus

# What a proposed device meets: the line's constraints and where it is stocked.
MET_CODES = [
    ("category", "The need line's category"),
    ("ram", "Its minimum RAM"),
    ("storage", "Its minimum storage"),
    ("screen", "Its minimum screen"),
    ("os", "Its operating system"),
    ("grade", "Its lowest acceptable grade"),
    ("same_territory", "Stocked in the structure's territory (EPT)"),
    ("same_side", "Stocked on the same side of the département"),
]
COST_TERMS = [
    ("distance", "Distance"),
    ("slack", "Spec slack"),
    ("waiting", "Waiting"),
    ("priority", "Priority"),
]
REASON_CHOICES = [(reason, reason) for reason in REASONS]
BONUS_TABLES = {
    "public_bonus": Public,
    "structure_type_bonus": StructureType,
    "purpose_bonus": Purpose,
}
_NUMBER = {"min_value": 0, "max_value": MAX_WEIGHT}


# The weights and limits (logistics.matching.Weights)


class BonusTableField(serializers.DictField):
    """A bonus per choice of a table (`{"seniors": 30}`): points taken off the cost of the
    needs concerned, from -MAX_WEIGHT to MAX_WEIGHT; a choice left out has none."""

    def __init__(self, choices, **kwargs):
        self.allowed = choices
        super().__init__(
            child=StrictIntegerField(min_value=-MAX_WEIGHT, max_value=MAX_WEIGHT), **kwargs
        )

    def to_internal_value(self, data):
        table = super().to_internal_value(data)
        unknown = {
            key: [
                _("Not one of the choices: %(choices)s.")
                % {"choices": ", ".join(self.allowed.values)}
            ]
            for key in table
            if key not in self.allowed.values
        }
        if unknown:
            raise serializers.ValidationError(unknown)
        return table


def _weight(help_text: str, **kwargs) -> StrictIntegerField:
    return StrictIntegerField(help_text=help_text, **_NUMBER, **kwargs)


class _WeightsFields(serializers.Serializer):
    ram_per_gb = _weight("Spec slack: points per GB of RAM beyond the line's need.")
    storage_per_32gb = _weight("Spec slack: points per whole 32 GB of storage beyond it.")
    screen_per_inch = _weight("Spec slack: points per whole inch of screen beyond it.")
    grade_per_step = _weight("Spec slack: points per grade better than the line's need.")
    distance_same_territory = _weight("Distance: device stocked in the structure's EPT.")
    distance_same_side = _weight("Distance: on the same side (North: T4, T5; South: T2, T3).")
    distance_other_side = _weight("Distance: on the other side of the département.")
    distance_unknown = _weight("Distance: either territory unknown.")
    waiting_per_day = _weight("Waiting: points per day the line has not waited, up to the cap.")
    waiting_cap_days = _weight("Waiting: the days after which waiting counts no more.")
    public_bonus = BonusTableField(Public, help_text="Bonus per public served (Public).")
    structure_type_bonus = BonusTableField(
        StructureType, help_text="Bonus per structure type (data·inclusion code)."
    )
    purpose_bonus = BonusTableField(Purpose, help_text="Bonus per purpose of the need.")
    structure_fairness = StrictBooleanField(
        help_text="No structure receives more than its share while another of the category "
        "gets nothing, as long as it costs no unit."
    )
    territory_tolerance_percent = _weight(
        "How far above its share of the stock (in %) an EPT may go."
    )


class MatchingWeightsSerializer(InputSerializer, _WeightsFields):
    """The weights and limits of the matching, as a run stores them and as the policy is set:
    every one of them."""


class MatchingWeightsPartialSerializer(MatchingWeightsSerializer):
    """Weights and limits, each optional: one left out keeps the policy's value."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


# Runs: writes


class RunCreateSerializer(InputSerializer):
    territory = StrictCharField(
        max_length=8,
        required=False,
        allow_blank=True,
        default="",
        help_text="EPT code (T2, T3, T4, T5): the needs of its structures only; empty: all.",
    )
    category = StrictCharField(
        max_length=30,
        required=False,
        allow_blank=True,
        default="",
        help_text="Category code (laptop…): its need lines and devices only; empty: all.",
    )
    weights = MatchingWeightsPartialSerializer(
        required=False,
        help_text="Weights for this run only, in place of the policy's: a field left out "
        "keeps the policy's value.",
    )


class RunApproveSerializer(InputSerializer):
    lines = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        allow_empty=False,
        max_length=services.MAX_APPROVAL,
        help_text="Ids of the run's lines to approve; left out: every line not taken out.",
    )
    programme = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the funding programme every allocation made counts in, once each is "
        "checked eligible (the programme open and running today, the structure's territory "
        "and type, the need's public and purpose, no device counted in another programme); "
        "null or left out: none. An unknown programme answers 400.",
    )


class RunDiscardSerializer(InputSerializer):
    reason = StrictCharField(
        max_length=services.MAX_REASON,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
        help_text="Why the run is discarded; optional.",
    )


class RunLineSwapSerializer(InputSerializer):
    device = DeviceChoiceField(
        help_text="The ready device to propose instead: its id or its label code."
    )


# Runs: replies


class NeedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="BES-00042.")
    purpose = NamedChoiceField(Purpose)
    public = NamedChoiceField(Public)
    structure = OrganisationRefSerializer()


class NeedLineRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategorySerializer()
    need = NeedRefSerializer()


class ProposedDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField(source="label_code_id")
    label_code_display = serializers.SerializerMethodField()
    category = CategorySerializer()
    manufacturer = serializers.CharField()
    model_name = serializers.CharField()
    ram_gb = serializers.IntegerField(allow_null=True)
    storage_gb = serializers.IntegerField(allow_null=True)
    screen_inches = serializers.DecimalField(
        max_digits=4, decimal_places=1, allow_null=True, help_text='As a string: "15.6".'
    )
    operating_system = serializers.CharField()
    grade = serializers.CharField(help_text="From its last reconditioning: A, B or C.")

    def get_label_code_display(self, device) -> str:
        return group_label_code(device.label_code_id)


class CostTermSerializer(serializers.Serializer):
    term = NamedChoiceField(COST_TERMS, enum_name="CostTermEnum")
    label = serializers.CharField()
    points = serializers.IntegerField()
    text = serializers.CharField(help_text="The term in words.")


class RunLineSerializer(serializers.Serializer):
    """One device proposed for one need line, with why."""

    id = serializers.IntegerField()
    need_line = NeedLineRefSerializer()
    device = ProposedDeviceSerializer()
    cost = serializers.IntegerField(help_text="The sum of its terms; lower is proposed first.")
    terms = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="The optimiser's terms: slack_ram, slack_storage, slack_screen, slack_grade, "
        "distance, waiting, priority.",
    )
    met = serializers.ListField(
        child=NamedChoiceField(MET_CODES, enum_name="MetConstraintEnum"),
        help_text="What the device meets.",
    )
    met_text = serializers.ListField(
        source="met_texts", child=serializers.CharField(), help_text="The same, in words."
    )
    cost_terms = serializers.ListField(
        source="costs", child=CostTermSerializer(), help_text="The cost in words, term by term."
    )
    waited_days = serializers.IntegerField(help_text="Days the need had waited at the run.")
    removed = serializers.BooleanField(help_text="Taken out of the proposal by the coordination.")
    swapped = serializers.BooleanField(help_text="Its device chosen by the coordination.")


class RunUnservedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    need_line = NeedLineRefSerializer()
    units = serializers.IntegerField(help_text="Units the run could not serve.")
    reason = NamedChoiceField(REASON_CHOICES, enum_name="UnservedReasonEnum")
    reason_label = serializers.CharField()
    reason_text = serializers.CharField(help_text="Why, in words, with the run's figures.")
    detail = serializers.DictField(help_text="The optimiser's figures behind the reason.")
    waited_days = serializers.IntegerField()


class RunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="APP-00042.")
    status = NamedChoiceField(RunStatus, enum_name="RunStatusEnum")
    status_label = serializers.SerializerMethodField()
    territory = serializers.CharField(
        source="territory_id", allow_null=True, help_text="The EPT of its scope; null: all."
    )
    category = serializers.CharField(
        source="category_id", allow_null=True, help_text="The category of its scope; null: all."
    )
    units_asked = serializers.IntegerField(help_text="Units the accepted lines in scope ask.")
    units_proposed = serializers.IntegerField(help_text="Lines proposed and not taken out.")
    total_cost = serializers.IntegerField()
    solve_ms = serializers.IntegerField(help_text="The optimiser's time, in milliseconds.")
    weights = MatchingWeightsSerializer(help_text="The weights and limits the run used.")
    created_by = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def get_status_label(self, run) -> str:
        return str(RunStatus(run.status).label)

    def get_created_by(self, run) -> str:
        return run.created_by.get_full_name() or run.created_by.get_username()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_decided_by(self, run) -> str | None:
        user = run.decided_by
        return (user.get_full_name() or user.get_username()) if user else None


class RunDetailSerializer(RunSerializer):
    lines = RunLineSerializer(
        source="line_rows", many=True, help_text="By structure, then need line."
    )
    unserved = RunUnservedSerializer(
        source="unserved_rows", many=True, help_text="The lines in scope not wholly served."
    )


class RunLineReplySerializer(RunLineSerializer):
    """A line after a change, with the run's units proposed now."""

    run_units_proposed = serializers.IntegerField()


class TakenDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField()
    label_code_display = serializers.CharField()


class DevicesTakenSerializer(ErrorSerializer):
    devices = TakenDeviceSerializer(
        many=True,
        required=False,
        help_text="With `devices_taken`: the devices taken since the proposal.",
    )
    reasons = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="With `programme_not_eligible`: why, in words, by need reference (BES-00042) "
        "or by device label code.",
    )


# Allocations


class AllocationQuerySerializer(InputSerializer):
    status = NamedChoiceField(AllocationStatus, enum_name="AllocationStatusEnum", required=False)
    structure = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Id of the structure."
    )
    run = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, help_text="Id of the matching run."
    )

    INTEGERS = ("structure", "run")

    def to_internal_value(self, data):
        # `?status=` is no status: refused, not ignored; an id is digits ("3.0" is none).
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


class AllocationDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField(source="label_code_id")
    label_code_display = serializers.SerializerMethodField()
    category = CategorySerializer()
    manufacturer = serializers.CharField()
    model_name = serializers.CharField()

    def get_label_code_display(self, device) -> str:
        return group_label_code(device.label_code_id)


class AllocationNeedLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    category = CategorySerializer()
    need_id = serializers.IntegerField()
    need_reference = serializers.CharField(source="need.reference", help_text="BES-00042.")


class AllocationSerializer(serializers.Serializer):
    """One device reserved for one line of a structure's need."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="ALL-000042.")
    status = NamedChoiceField(AllocationStatus, enum_name="AllocationStatusEnum")
    status_label = serializers.SerializerMethodField()
    mode = NamedChoiceField(Mode)
    device = AllocationDeviceSerializer()
    structure = OrganisationRefSerializer()
    need_line = AllocationNeedLineSerializer()
    run = serializers.IntegerField(
        source="run_id", allow_null=True, help_text="The matching run that made it."
    )
    programme = serializers.IntegerField(
        source="programme_id",
        allow_null=True,
        help_text="Id of the funding programme it counts in; null: none.",
    )
    created_at = serializers.DateTimeField(help_text="When it was approved.")
    ended_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(help_text="Why it was cancelled; empty otherwise.")

    def get_status_label(self, allocation) -> str:
        return str(AllocationStatus(allocation.status).label)


class AllocationCancelSerializer(InputSerializer):
    reason = StrictCharField(
        max_length=services.MAX_REASON,
        allow_blank=True,
        style=TEXTAREA,
        help_text="Why the allocation is cancelled; not empty.",
    )
