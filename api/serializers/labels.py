"""Shapes of label requests on the API; their limits come from labels.stock."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.common import (
    ErrorSerializer,
    InputSerializer,
    StrictCharField,
    StrictIntegerField,
    ValidationErrorSerializer,
)
from labels import stock
from labels.formats import LabelFormat, format_names, get_format

OUTPUTS = [("pdf", "PDF"), ("zpl", "ZPL (Zebra formats)")]


class InvalidLabelCodeSerializer(ErrorSerializer):
    reason = serializers.ChoiceField(
        choices=["length", "alphabet", "check"],
        help_text="Why the code cannot be a label code.",
    )


class LabelErrorSerializer(ValidationErrorSerializer):
    reason = serializers.ChoiceField(
        choices=["length", "alphabet", "check"],
        required=False,
        help_text="With invalid_label_code: why the first bad code cannot be a label code.",
    )


class LabelFormatField(serializers.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Label stock, as in the format list.")
        super().__init__(choices=format_names(), **kwargs)


START_HELP = (
    "Sheets: first free position on the first sheet, 1 = top left, counted across then down "
    "(to use up a half-used sheet)."
)


def _start_errors(fmt: LabelFormat, start: int) -> list[str]:
    if stock.start_allowed(fmt, start):
        return []
    return [_("Between 1 and %(count)d for this format.") % {"count": stock.start_max(fmt)}]


class LabelQuerySerializer(InputSerializer):
    format = LabelFormatField()
    start = serializers.IntegerField(
        min_value=stock.START_MIN, required=False, default=stock.START_MIN, help_text=START_HELP
    )
    output = serializers.ChoiceField(
        choices=OUTPUTS,
        required=False,
        default="pdf",
        help_text="zpl: ZPL text for Zebra formats (the printer draws the QR).",
    )

    def validate(self, data: dict) -> dict:
        fmt = get_format(data["format"])
        errors = {}
        if start := _start_errors(fmt, data["start"]):
            errors["start"] = start
        if data["output"] == "zpl" and not fmt.supports_zpl:
            errors["output"] = [_("Only Zebra formats can be downloaded as ZPL.")]
        if errors:
            raise serializers.ValidationError(errors)
        data["fmt"] = get_format(data.pop("format"))
        return data


class LabelsSerializer(LabelQuerySerializer):
    start = StrictIntegerField(
        min_value=stock.START_MIN, required=False, default=stock.START_MIN, help_text=START_HELP
    )
    codes = serializers.ListField(
        child=StrictCharField(max_length=40),
        allow_empty=False,
        max_length=stock.MAX_LABELS,
        help_text="Label codes of devices in your scope, any case, with or without separators; "
        "the labels come out in this order (a code given twice prints twice).",
    )


class PreprintSerializer(InputSerializer):
    format = LabelFormatField()
    sheets = StrictIntegerField(
        min_value=1,
        max_value=stock.MAX_PREPRINT_SHEETS,
        required=False,
        help_text="Whole sheets (or roll labels) of fresh codes; give this or count.",
    )
    count = StrictIntegerField(
        min_value=1,
        max_value=stock.MAX_PREPRINT_COUNT,
        required=False,
        help_text="Number of fresh codes; give this or sheets.",
    )
    start = StrictIntegerField(
        min_value=stock.START_MIN, required=False, default=stock.START_MIN, help_text=START_HELP
    )

    def validate(self, data: dict) -> dict:
        fmt = get_format(data["format"])
        if ("sheets" in data) == ("count" in data):
            raise serializers.ValidationError(
                {"sheets": [_("Give either sheets or count.")]}, code="invalid"
            )
        if start := _start_errors(fmt, data["start"]):
            raise serializers.ValidationError({"start": start})
        count = data.get("count") or stock.codes_for_sheets(
            fmt, sheets=data["sheets"], start=data["start"]
        )
        return {"fmt": fmt, "count": count, "start": data["start"]}
