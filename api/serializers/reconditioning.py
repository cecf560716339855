"""Shapes of the bench records on the API: lock checks, storage media and their erasure, the
test checklist, repairs and the assessment. Input serializers check types and sizes only; the
rules (which outcome, which erasure, in which state) live in inventory.reconditioning.
"""

import re
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_description_list
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils import html

from api.serializers.common import (
    InputSerializer,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
)
from inventory.errors import DomainError
from inventory.models import (
    Device,
    ErasureLevel,
    ErasureMethod,
    ErasureResult,
    Grade,
    HiddenAreas,
    LockKind,
    LockOutcome,
    MediumInterface,
    MediumKind,
    MediumState,
    TestOutcome,
    Verification,
)
from inventory.reconditioning.selectors import BenchRecord
from inventory.reconditioning.services import RECORDABLE
from inventory.states import Status

ITEM_ID = re.compile(r"[1-9][0-9]{0,8}")
ITEM_CODE = re.compile(r"[-a-zA-Z0-9_]{1,40}")

# What bench_record says of a medium in the current cycle.
ERASURE_STATUSES = [
    ("passed", "A passed erasure is recorded in this cycle."),
    ("destroyed", "Destroyed in this cycle."),
    ("destruction_required", "An erasure failed or was not verified: only destruction remains."),
    ("new", "A factory-new medium: nothing to erase."),
    ("missing", "No erasure recorded in this cycle yet."),
    ("earlier", "Destroyed in an earlier cycle."),
]


class NamedChoiceField(serializers.ChoiceField):
    """A choice field whose values are one named enum of the schema (e.g. `LockKindEnum`).

    Several bench fields share a name with other enums of the API (`kind`, `status`,
    `result`, `outcome`): named after their choices, each set gets one stable component instead
    of drf-spectacular's collision warnings and names made up from a hash.
    """

    def __init__(self, choices, *, enum_name: str | None = None, **kwargs):
        self.enum_name = enum_name or f"{choices.__name__}Enum"
        choices = choices.choices if hasattr(choices, "choices") else choices
        super().__init__(choices=choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        values = list(field.choices)
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            schema={
                "type": "string",
                "enum": values,
                "description": build_choice_description_list(field.choices.items()),
            },
            object=field.enum_name,
        )
        auto_schema.registry.register_on_missing(component)
        if field.allow_blank and "" not in values:
            blank = ResolvedComponent(
                name="BlankEnum",
                type=ResolvedComponent.SCHEMA,
                schema={"enum": [""]},
                object="BlankEnum",
            )
            auto_schema.registry.register_on_missing(blank)
            return {"oneOf": [component.ref, blank.ref]}
        return component.ref


class FormIntegerField(StrictIntegerField):
    """A JSON integer; in a multipart form, where every value is text, its digits too."""

    def to_internal_value(self, data):
        if (
            isinstance(data, str)
            and html.is_html_input(self.root.initial_data)
            and re.fullmatch(r"[0-9]{1,9}", data)
        ):
            data = int(data)
        return super().to_internal_value(data)


class StrictDecimalField(serializers.DecimalField):
    """A decimal written as a JSON string ("12.50"), as the schema says; numbers are refused
    rather than read through a binary float."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Replies


class MissingSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable English code, e.g. erasure_missing.")
    detail = serializers.CharField(source="message", help_text="Translated message for people.")


class CycleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    workshop = OrganisationRefSerializer(allow_null=True)
    started_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField(help_text="How the cycle ended; empty while it is open.")
    grade = NamedChoiceField(Grade, allow_blank=True, help_text="Cosmetic grade; empty if none.")
    battery_health = serializers.IntegerField(allow_null=True, help_text="Percent.")
    os_installed = serializers.CharField()
    in_france = serializers.SerializerMethodField(
        help_text="True when every organisation that recorded in this cycle is in France; null "
        "while nothing is recorded."
    )

    def get_in_france(self, cycle) -> bool | None:
        return self.context.get("in_france")


class LockLineSerializer(serializers.Serializer):
    kind = NamedChoiceField(LockKind)
    label = serializers.CharField()
    outcome = NamedChoiceField(
        LockOutcome, source="check.outcome", allow_null=True, help_text="Null: not checked yet."
    )
    checked_by = serializers.CharField(source="check.checked_by.username", allow_null=True)
    organisation = OrganisationRefSerializer(source="check.organisation", allow_null=True)
    checked_at = serializers.DateTimeField(source="check.checked_at", allow_null=True)
    note = serializers.CharField(source="check.note", allow_null=True)

    def to_representation(self, line):
        kind, label, check = line
        return super().to_representation({"kind": kind, "label": str(label), "check": check})


class ErasureSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    medium = serializers.IntegerField(source="medium_id", help_text="Id of the storage medium.")
    level = NamedChoiceField(ErasureLevel)
    method = NamedChoiceField(ErasureMethod)
    tool = serializers.CharField()
    tool_version = serializers.CharField()
    verification = NamedChoiceField(Verification)
    verification_percent = serializers.IntegerField(allow_null=True)
    result = NamedChoiceField(ErasureResult)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    operator = serializers.CharField(source="operator.username")
    organisation = OrganisationRefSerializer(allow_null=True)
    report_sha256 = serializers.CharField(help_text="SHA-256 of the tool report; empty if none.")
    report_url = serializers.SerializerMethodField(
        help_text="Where to download the tool report (same credentials); null if none."
    )
    recorded_at = serializers.DateTimeField()

    def get_report_url(self, erasure) -> str | None:
        if not erasure.report:
            return None
        url = reverse("api:erasure-report", args=[erasure.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


class MediumSerializer(serializers.Serializer):
    """A MediumView of inventory.reconditioning: the medium and its erasures in this cycle."""

    id = serializers.IntegerField(source="medium.pk")
    kind = NamedChoiceField(MediumKind, source="medium.kind")
    interface = NamedChoiceField(MediumInterface, source="medium.interface")
    manufacturer = serializers.CharField(source="medium.manufacturer")
    model_name = serializers.CharField(source="medium.model_name")
    serial_number = serializers.CharField(source="medium.serial_number")
    capacity_gb = serializers.IntegerField(source="medium.capacity_gb", allow_null=True)
    hidden_areas = NamedChoiceField(HiddenAreas, source="medium.hidden_areas")
    state = NamedChoiceField(MediumState, source="medium.state")
    is_new = serializers.BooleanField(
        source="medium.is_new", help_text="Factory-new: no erasure needed."
    )
    erasure_status = NamedChoiceField(
        ERASURE_STATUSES, enum_name="ErasureStatusEnum", source="status"
    )
    erasures = ErasureSerializer(many=True, help_text="Its erasures in the current cycle.")


class ChecklistLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk", help_text="The key to use in test-results.")
    code = serializers.CharField(source="item.code")
    label = serializers.CharField(source="item.label")
    outcome = NamedChoiceField(
        TestOutcome, source="result.outcome", allow_null=True, help_text="Null: not tested yet."
    )
    tested_by = serializers.CharField(source="result.tested_by.username", allow_null=True)
    tested_at = serializers.DateTimeField(source="result.tested_at", allow_null=True)
    note = serializers.CharField(source="result.note", allow_null=True)

    def to_representation(self, line):
        item, result = line
        return super().to_representation({"item": item, "result": result})


class RepairSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    part = serializers.CharField()
    cost = serializers.DecimalField(
        max_digits=8, decimal_places=2, allow_null=True, help_text="Euros."
    )
    minutes = serializers.IntegerField(allow_null=True)
    performed_by = serializers.CharField(source="performed_by.username")
    organisation = OrganisationRefSerializer(allow_null=True)
    performed_at = serializers.DateTimeField()


@dataclass
class BenchReply:
    device: Device
    record: BenchRecord
    missing: list[DomainError]


class BenchRecordSerializer(serializers.Serializer):
    """A BenchReply: the device's current cycle as the bench page shows it."""

    device_id = serializers.IntegerField(source="device.pk")
    status = serializers.ChoiceField(choices=Status.choices, source="device.status")
    recordable = serializers.SerializerMethodField(
        help_text="Whether records may be written now (at intake or at a workshop)."
    )
    cycle = serializers.SerializerMethodField(
        help_text="The open cycle, else the last one; null before the first record."
    )
    locks = LockLineSerializer(source="record.locks", many=True, help_text="Every lock kind.")
    media = MediumSerializer(source="record.media", many=True)
    checklist = ChecklistLineSerializer(
        source="record.checklist", many=True, help_text="The device category's active tests."
    )
    repairs = RepairSerializer(source="record.repairs", many=True)
    missing = MissingSerializer(
        many=True,
        help_text="What the move to ready still needs; empty when nothing is missing "
        "or the device is not at a workshop.",
    )

    def get_recordable(self, reply: BenchReply) -> bool:
        return reply.device.status in RECORDABLE

    @extend_schema_field(CycleSerializer(allow_null=True))
    def get_cycle(self, reply: BenchReply) -> dict | None:
        if reply.record.cycle is None:
            return None
        context = {"in_france": reply.record.in_france}
        return CycleSerializer(reply.record.cycle, context=context).data


# Requests


LOCK_KINDS = ", ".join(LockKind.values)


class LockChecksSerializer(InputSerializer):
    outcomes = serializers.DictField(
        child=NamedChoiceField(LockOutcome),
        help_text=f"Lock kind → outcome; kinds left out keep their answer. Kinds: {LOCK_KINDS}.",
    )
    note = StrictCharField(max_length=300, required=False, allow_blank=True, default="")

    def validate_outcomes(self, outcomes: dict) -> dict:
        unknown = {kind: [_("Unknown lock.")] for kind in outcomes if kind not in LockKind.values}
        if unknown:
            raise serializers.ValidationError(unknown)
        if not outcomes:
            raise serializers.ValidationError(_("Give at least one lock check."))
        return outcomes


class TestResultsSerializer(InputSerializer):
    outcomes = serializers.DictField(
        child=NamedChoiceField(TestOutcome),
        help_text="Checklist item → outcome, the item named by its id or its code (both as in "
        'the record\'s checklist, e.g. `"42"` or `"keyboard"`); items left out keep their '
        "result.",
    )

    def validate_outcomes(self, outcomes: dict) -> dict[int | str, str]:
        not_keys = {
            key: [_("This test is not on this device's checklist.")]
            for key in outcomes
            if not (ITEM_ID.fullmatch(key) or ITEM_CODE.fullmatch(key))
        }
        if not_keys:
            raise serializers.ValidationError(not_keys)
        if not outcomes:
            raise serializers.ValidationError(_("Give at least one test result."))
        # Digits are an id; anything else a code (codes are slugs that never are all digits).
        return {
            (int(key) if ITEM_ID.fullmatch(key) else key): outcome
            for key, outcome in outcomes.items()
        }


class FactoryResetSerializer(InputSerializer):
    tool = StrictCharField(
        max_length=80,
        required=False,
        allow_blank=True,
        default="",
        help_text="What reset the device, e.g. the set-up screen or a vendor tool.",
    )
    tool_version = StrictCharField(max_length=40, required=False, allow_blank=True, default="")


class MediumCreateSerializer(InputSerializer):
    kind = NamedChoiceField(MediumKind)
    interface = NamedChoiceField(MediumInterface)
    manufacturer = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    model_name = StrictCharField(max_length=120, required=False, allow_blank=True, default="")
    serial_number = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    capacity_gb = StrictIntegerField(
        min_value=1, max_value=1_000_000, required=False, allow_null=True, default=None
    )
    hidden_areas = NamedChoiceField(
        HiddenAreas, required=False, default="", help_text="Empty: not checked."
    )
    is_new = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A factory-new medium fitted at the workshop: it held no one's data and "
        "needs no erasure.",
    )


class ErasureCreateSerializer(InputSerializer):
    level = NamedChoiceField(ErasureLevel, help_text="NIST SP 800-88 / IEEE 2883 level.")
    method = NamedChoiceField(ErasureMethod)
    tool = StrictCharField(max_length=80, required=False, allow_blank=True, default="")
    tool_version = StrictCharField(max_length=40, required=False, allow_blank=True, default="")
    verification = NamedChoiceField(Verification)
    verification_percent = FormIntegerField(
        min_value=1,
        max_value=99,
        required=False,
        allow_null=True,
        default=None,
        help_text="Share verified, for a sample verification only.",
    )
    result = NamedChoiceField(ErasureResult)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()


class ErasureUploadSerializer(ErasureCreateSerializer):
    report = serializers.FileField(
        required=False, help_text="The erasure tool's report: a PDF or XML file, up to 10 MB."
    )


class RepairCreateSerializer(InputSerializer):
    part = StrictCharField(max_length=200, help_text="The part replaced or the work done.")
    cost = StrictDecimalField(
        max_digits=8,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        help_text='Euros, as a string: "12.50".',
    )
    minutes = StrictIntegerField(
        min_value=0, max_value=100_000, required=False, allow_null=True, default=None
    )


class AssessmentSerializer(InputSerializer):
    grade = NamedChoiceField(
        Grade, required=False, allow_blank=True, help_text="Cosmetic grade; empty clears it."
    )
    battery_health = StrictIntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, help_text="Percent."
    )
    os_installed = StrictCharField(max_length=120, required=False, allow_blank=True)

    def validate(self, data: dict) -> dict:
        if not data:
            raise serializers.ValidationError(
                _("Give at least one of grade, battery_health, os_installed.")
            )
        return data
