"""Shapes of the fund's figures and its frozen reports on the API: the period and scope asked
(query string or body), and the figures as logistics.fund_reports builds them. The replies are
that module's JSON documents as they are (a frozen report's figures are served byte for byte as
stored); the serializers below describe them for the schema.
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import InputSerializer, StrictIntegerField
from api.serializers.deliveries import ListQuerySerializer
from api.serializers.reconditioning import NamedChoiceField
from inventory.impact import MEASURES
from logistics.fund_reports.figures import DIMENSIONS, METRICS, WORKSHOP_METRICS
from logistics.fund_reports.forms import EARLIEST, LATEST, MAX_YEARS, years_later

ALL_DIMENSIONS = "all"
FILE_KINDS = ("pdf", "csv", "xlsx")

NOT_APPLICABLE = (
    "A figure is null where it does not apply (devices received by public served: a device is "
    "nobody's until it is handed over; a median over no hand-over), 0 where it applies and "
    "nothing happened."
)


def day_errors(day: dt.date) -> list | None:
    if EARLIEST <= day <= LATEST:
        return None
    # The web form's message, word for word.
    return [
        _("Give a date between %(first)s and %(last)s.")
        % {"first": EARLIEST.year, "last": LATEST.year}
    ]


def period_errors(start: dt.date, end: dt.date) -> dict:
    """What is wrong with a period, field by field, as the dashboard's form says it (its
    bounds, at most MAX_YEARS, the end on or after the start)."""
    errors = {
        name: problem
        for name, day in (("start", start), ("end", end))
        if (problem := day_errors(day))
    }
    if errors:
        return errors
    if end < start:
        errors["end"] = [_("The period cannot end before it starts.")]
    elif end >= years_later(start, MAX_YEARS):
        errors["end"] = [
            ngettext_lazy(
                "A period spans at most %(years)s year: choose a shorter one.",
                "A period spans at most %(years)s years: choose a shorter one.",
                MAX_YEARS,
            )
            % {"years": MAX_YEARS}
        ]
    return errors


# Reading the request


def _programme_filter() -> serializers.IntegerField:
    return serializers.IntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        help_text="Id of a funding programme: its figures only (the devices handed over under "
        "it, the needs its criteria cover). Left out: the whole network. A programme you may "
        "not read answers 404.",
    )


class PeriodQuerySerializer(ListQuerySerializer):
    """The period and scope of the figures, validated into `start`, `end` (dates) and
    `programme` (an id or None)."""

    start = serializers.DateField(
        required=False,
        help_text="First day, included (YYYY-MM-DD, from 2000 to 2099). Default: 1 January of "
        "the end's year.",
    )
    end = serializers.DateField(
        required=False,
        help_text="Last day, included (YYYY-MM-DD, from 2000 to 2099). Default: today. At most "
        "five years after the start.",
    )
    programme = _programme_filter()

    INTEGERS = ("programme",)

    def validate(self, data: dict) -> dict:
        end = data.get("end") or timezone.localdate()
        start = data.get("start") or dt.date(end.year, 1, 1)
        if errors := period_errors(start, end):
            raise serializers.ValidationError(errors)
        return data | {"start": start, "end": end, "programme": data.get("programme")}


BREAKDOWN_CHOICES = [*DIMENSIONS.items(), (ALL_DIMENSIONS, _("Every dimension"))]


class FiguresQuerySerializer(PeriodQuerySerializer):
    breakdown = NamedChoiceField(
        BREAKDOWN_CHOICES,
        enum_name="FundBreakdownEnum",
        required=False,
        help_text="A dimension whose rows to add under `breakdowns`, or `all` for every one. "
        "Left out: none (totals and months only).",
    )


class ReportIssueSerializer(InputSerializer):
    start = serializers.DateField(help_text="First day, included (YYYY-MM-DD, from 2000 to 2099).")
    end = serializers.DateField(help_text="Last day, included; at most five years after the start.")
    programme = StrictIntegerField(
        min_value=1,
        max_value=ID_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of a funding programme: its report; null or left out: the network's.",
    )

    def validate(self, data: dict) -> dict:
        if errors := period_errors(data["start"], data["end"]):
            raise serializers.ValidationError(errors)
        return data


# The documents, for the schema


def _metric_field(label, kind: str) -> serializers.Field:
    help_text = format_lazy("{}; null where it does not apply.", label)
    if kind == "count":
        return serializers.IntegerField(allow_null=True, help_text=help_text)
    return serializers.FloatField(allow_null=True, help_text=help_text)


def _shape(name: str, base: type, fields: dict, doc: str) -> type:
    # A class built from the metric tables, so that a new metric is in the schema at once (and
    # `yield`, a Python keyword, can be a field name).
    return type(base)(name, (base,), {**fields, "__doc__": doc})


FundMetricValuesSerializer = _shape(
    "FundMetricValuesSerializer",
    serializers.Serializer,
    {key: _metric_field(label, kind) for key, (label, kind) in METRICS.items()},
    "Every metric of the fund's figures, by its key. " + NOT_APPLICABLE,
)
FundFigureRowSerializer = _shape(
    "FundFigureRowSerializer",
    FundMetricValuesSerializer,
    {
        "key": serializers.CharField(
            help_text="The value of the dimension: an EPT or category code, an INSEE code, a "
            "month (YYYY-MM), a programme id; `other` (other funders' programmes, merged), "
            "`none` (no programme) or empty (not recorded)."
        ),
        "label": serializers.CharField(help_text="The value in words."),
    },
    "One row of a breakdown (or a month): the value of the dimension and its metrics.",
)
FundWorkshopRowSerializer = _shape(
    "FundWorkshopRowSerializer",
    serializers.Serializer,
    {
        "key": serializers.CharField(help_text="The workshop's organisation id."),
        "label": serializers.CharField(allow_null=True, help_text="The workshop's name."),
        **{key: _metric_field(label, kind) for key, (label, kind) in WORKSHOP_METRICS.items()},
    },
    "One workshop's bench figures over the period (network scope only).",
)


class FundMetricSerializer(serializers.Serializer):
    label = serializers.CharField()
    kind = NamedChoiceField(
        [
            ("count", "A number of devices, units or structures"),
            ("rate", "A rate from 0 to 1"),
            ("days", "Days"),
            ("kg", "Kilograms"),
        ],
        enum_name="FundMetricKindEnum",
    )


class FundPeriodSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day, included.")
    end = serializers.DateField(help_text="Last day, included.")


class FundScopeSerializer(serializers.Serializer):
    programme = serializers.IntegerField(
        allow_null=True, help_text="The programme's id; null: the whole network."
    )
    programme_name = serializers.CharField(allow_null=True)
    funder = serializers.CharField(allow_null=True, help_text="The programme's funder.")


def _rows_by_dimension(help_text: str) -> serializers.DictField:
    return serializers.DictField(
        child=serializers.ListField(child=FundFigureRowSerializer()), help_text=help_text
    )


class FundFiguresSerializer(serializers.Serializer):
    period = FundPeriodSerializer()
    scope = FundScopeSerializer()
    metrics = serializers.DictField(
        child=FundMetricSerializer(), help_text="Each metric's label and kind, by key."
    )
    dimensions = serializers.DictField(
        child=serializers.CharField(), help_text="Each dimension's label, by key."
    )
    totals = FundMetricValuesSerializer(help_text="The period's totals.")
    months = FundFigureRowSerializer(many=True, help_text="One row per month of the period.")
    breakdowns = _rows_by_dimension(
        "The rows of the dimensions asked in `breakdown`, by dimension; for the programme "
        "dimension a fund's reader sees its own programmes by name and the others as one row, "
        "`other`."
    )
    workshop_metrics = serializers.DictField(child=FundMetricSerializer())
    workshops = FundWorkshopRowSerializer(
        many=True, help_text="Per workshop, by name; empty for a programme's figures."
    )
    definitions = serializers.ListField(
        child=serializers.CharField(), help_text="What each figure counts, in words."
    )


def _measures(help_text: str, *, allow_null: bool) -> dict:
    return {
        measure: serializers.FloatField(allow_null=allow_null, help_text=help_text)
        for measure, _column in MEASURES
    }


FundImpactLineSerializer = _shape(
    "FundImpactLineSerializer",
    serializers.Serializer,
    {
        "category": serializers.CharField(),
        "label": serializers.CharField(),
        "devices": serializers.IntegerField(),
        "estimated": serializers.BooleanField(),
        "extra_years": serializers.FloatField(allow_null=True),
        **_measures("Kilograms avoided; null where not estimated.", allow_null=True),
    },
    "The impact of one category's devices handed over.",
)
FundImpactTotalsSerializer = _shape(
    "FundImpactTotalsSerializer",
    serializers.Serializer,
    _measures("Kilograms avoided.", allow_null=False),
    "The impact's totals.",
)
FundImpactFactorSerializer = _shape(
    "FundImpactFactorSerializer",
    serializers.Serializer,
    {
        "device_type": serializers.CharField(),
        **_measures(
            "Kilograms avoided per year of use; null where not published.", allow_null=True
        ),
        "status": serializers.CharField(help_text="published or to_confirm."),
        "source": serializers.CharField(),
        "published_on": serializers.CharField(),
    },
    "An ADEME factor, with its source.",
)


class FundImpactAssumptionSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    device_type = serializers.CharField()
    extra_years = serializers.FloatField()
    basis = serializers.CharField()


class FundImpactSerializer(serializers.Serializer):
    lines = FundImpactLineSerializer(many=True)
    totals = FundImpactTotalsSerializer()
    devices_estimated = serializers.IntegerField()
    devices_not_estimated = serializers.IntegerField()
    factors = FundImpactFactorSerializer(many=True)
    assumptions = FundImpactAssumptionSerializer(many=True)


class FundProgrammeProgressSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="PRG-0042.")
    name = serializers.CharField()
    funder = serializers.CharField(help_text="The funder's name.")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target_devices = serializers.IntegerField(allow_null=True)
    target_budget = serializers.CharField(allow_null=True, help_text='Euros: "25000.00".')
    handed_over_in_period = serializers.IntegerField()
    handed_over_to_date = serializers.IntegerField(help_text="Up to the period's end.")
    progress = serializers.FloatField(
        allow_null=True, help_text="Handed over to date ÷ target devices; null without a target."
    )


class FundReportDocumentSerializer(FundFiguresSerializer):
    """Every figure of a period and scope (logistics.fund_reports.selectors.report_build)."""

    version = serializers.IntegerField(help_text="The document's format version.")
    generated_at = serializers.DateTimeField()
    breakdowns = _rows_by_dimension("The rows of every dimension, by dimension.")
    impact = FundImpactSerializer()
    programmes = FundProgrammeProgressSerializer(
        many=True, help_text="The programmes of the scope that overlap the period."
    )


# Frozen reports


class FundProgrammeRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="PRG-0042.")
    name = serializers.CharField()
    funder = serializers.CharField(source="funder.name", help_text="The funder's name.")


class FundReportFilesSerializer(serializers.Serializer):
    pdf = serializers.CharField(help_text="Address of the stored PDF.")
    csv = serializers.CharField(help_text="Address of the stored CSV.")
    xlsx = serializers.CharField(help_text="Address of the stored XLSX.")


class FundReportSerializer(serializers.Serializer):
    """An issued report: what it covers, its fingerprints and where its files are. Issued by
    the coordination; no person is named."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="RAP-00042.")
    start = serializers.DateField(source="period_start")
    end = serializers.DateField(source="period_end")
    programme = FundProgrammeRefSerializer(
        allow_null=True, help_text="Its programme; null: the network's report."
    )
    issued_at = serializers.DateTimeField()
    verification_code = serializers.CharField(
        help_text="Printed on the report: it identifies this issue."
    )
    figures_sha256 = serializers.CharField(
        help_text="SHA-256 (hex) of the figures as canonical JSON: sorted keys, no spaces, UTF-8."
    )
    pdf_sha256 = serializers.CharField(help_text="SHA-256 (hex) of the stored PDF.")
    csv_sha256 = serializers.CharField(help_text="SHA-256 (hex) of the stored CSV.")
    xlsx_sha256 = serializers.CharField(help_text="SHA-256 (hex) of the stored XLSX.")
    files = serializers.SerializerMethodField()

    @extend_schema_field(FundReportFilesSerializer)
    def get_files(self, report) -> dict:
        return {
            kind: reverse(f"api:fund-report-{kind}", kwargs={"pk": report.pk})
            for kind in FILE_KINDS
        }


class FundReportDetailSerializer(FundReportSerializer):
    figures = serializers.SerializerMethodField(
        help_text="The figures as frozen when it was issued, never recomputed."
    )

    @extend_schema_field(FundReportDocumentSerializer)
    def get_figures(self, report) -> dict:
        # As stored, not through the fields above: a float field would write 0 as 0.0, and the
        # figures would no longer be those their SHA-256 was taken over.
        return report.figures


class FundReportChangeSerializer(serializers.Serializer):
    section = serializers.CharField(
        help_text="totals, months, workshops, or the dimension of a breakdown."
    )
    key = serializers.CharField(help_text="The row's key; empty for the totals.")
    label = serializers.CharField(allow_null=True, help_text="The row in words.")
    metric = serializers.CharField()
    metric_label = serializers.CharField()
    frozen = serializers.FloatField(allow_null=True, help_text="The figure in the report.")
    now = serializers.FloatField(allow_null=True, help_text="The figure computed today.")


class FundReportChangesSerializer(serializers.Serializer):
    report = serializers.IntegerField(help_text="The report's id.")
    reference = serializers.CharField()
    count = serializers.IntegerField(help_text="How many figures changed.")
    changes = FundReportChangeSerializer(
        many=True, help_text="Each figure that differs, frozen and now; empty: none changed."
    )
