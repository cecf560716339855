"""Shapes of loans on the API: a loan with its devices and extensions, its extension and its
return; and what a structure reports of a device it holds. When a loan may be extended or a
device reported is for logistics.loans.services to say."""

from django.utils import timezone
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
)
from api.serializers.deliveries import (
    ListQuerySerializer,
    QueryBooleanField,
    person,
    structure_filter,
)
from api.serializers.picking import DeviceSummarySerializer
from api.serializers.reconditioning import NamedChoiceField
from logistics.loans import services
from logistics.models import LoanItemOutcome, LoanStatus, ReportKind


class LoanQuerySerializer(ListQuerySerializer):
    status = NamedChoiceField(LoanStatus, enum_name="LoanStatusEnum", required=False)
    overdue = QueryBooleanField(
        required=False,
        help_text="true: only the loans under way past their due date (`status` is then ignored).",
    )
    structure = structure_filter()

    INTEGERS = ("structure",)


class DeviceReportQuerySerializer(ListQuerySerializer):
    all = QueryBooleanField(
        required=False, help_text="true: the closed reports too; by default the open ones only."
    )


# Writes


def _device_ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        required=False,
        default=list,
        max_length=services.MAX_DEVICES,
        help_text=help_text,
    )


class LoanExtendSerializer(InputSerializer):
    due_on = serializers.DateField(
        help_text="The new due date: after the current one, within two years from today."
    )
    reason = StrictCharField(
        max_length=services.MAX_TEXT,
        allow_blank=True,
        style=TEXTAREA,
        help_text="Why the loan is extended; not empty.",
    )


class LoanReturnSerializer(InputSerializer):
    returned = _device_ids("Ids of the loan's devices back in your hands.")
    lost = _device_ids("Ids of the loan's devices declared lost; the rest of a kit stays out.")
    note = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
    )


class DeviceReportCreateSerializer(InputSerializer):
    device = StrictIntegerField(
        min_value=1, max_value=ID_MAX, help_text="Id of a device your structure holds."
    )
    kind = NamedChoiceField(
        ReportKind,
        enum_name="DeviceReportKindEnum",
        help_text="`return` of a device on loan, `end_of_life` of a gift (WEEE collection), "
        "`broken`, or `lost` (declared lost at once).",
    )
    note = StrictCharField(
        max_length=services.MAX_TEXT,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
    )


class DeviceReportCloseSerializer(InputSerializer):
    note = StrictCharField(
        max_length=services.MAX_TEXT,
        allow_blank=True,
        style=TEXTAREA,
        help_text="How it was dealt with; not empty.",
    )


# Replies


class HandOverRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="REM-00042.")


class LoanSerializer(serializers.Serializer):
    """A loan of `loan_list`."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="PRE-00042.")
    structure = OrganisationRefSerializer()
    hand_over = HandOverRefSerializer()
    status = NamedChoiceField(LoanStatus, enum_name="LoanStatusEnum")
    status_label = serializers.SerializerMethodField()
    started_on = serializers.DateField()
    due_on = serializers.DateField()
    overdue = serializers.SerializerMethodField(help_text="Under way and past its due date.")
    ended_at = serializers.DateTimeField(allow_null=True)
    units_out = serializers.IntegerField(help_text="Devices not returned nor declared lost.")
    version = serializers.IntegerField(
        help_text="This state of the loan, the ETag without its quotes: send it in If-Match "
        "to extend it (every change bumps it, a device returned included)."
    )

    def get_status_label(self, loan) -> str:
        return str(LoanStatus(loan.status).label)

    def get_overdue(self, loan) -> bool:
        return loan.status == LoanStatus.OPEN and loan.due_on < timezone.localdate()


class LoanItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device = DeviceSummarySerializer()
    outcome = NamedChoiceField(
        LoanItemOutcome, enum_name="LoanItemOutcomeEnum", help_text="Empty: still out."
    )
    outcome_label = serializers.SerializerMethodField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_by = serializers.SerializerMethodField()

    def get_outcome_label(self, item) -> str:
        return str(LoanItemOutcome(item.outcome).label)

    def get_closed_by(self, item) -> str | None:
        return person(item.closed_by)


class LoanExtensionSerializer(serializers.Serializer):
    previous_due_on = serializers.DateField()
    due_on = serializers.DateField()
    reason = serializers.CharField()
    extended_by = serializers.SerializerMethodField()
    extended_at = serializers.DateTimeField()

    def get_extended_by(self, extension) -> str:
        return person(extension.extended_by)


class LoanDetailSerializer(LoanSerializer):
    items = LoanItemSerializer(source="item_rows", many=True)
    extensions = LoanExtensionSerializer(source="extension_rows", many=True)


class DeviceReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    device = DeviceSummarySerializer()
    structure = OrganisationRefSerializer()
    kind = NamedChoiceField(ReportKind, enum_name="DeviceReportKindEnum")
    kind_label = serializers.SerializerMethodField()
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    open = serializers.SerializerMethodField(help_text="Not dealt with yet.")
    closed_at = serializers.DateTimeField(allow_null=True)
    closing_note = serializers.CharField(help_text="How it was dealt with.")

    def get_kind_label(self, report) -> str:
        return str(ReportKind(report.kind).label)

    def get_open(self, report) -> bool:
        return report.closed_at is None
