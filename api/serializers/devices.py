"""Shapes of the API's bodies. Input serializers only check types and sizes and look up the
objects named by id or code; the rules live in inventory.services. No serializer saves.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from inventory.codes import group_label_code
from inventory.models import Category, Device, Organisation, ScanResult, StorageType
from inventory.selectors import moves_for
from inventory.states import MOVES, OrgKind, Status
from labels import stock
from labels.formats import LabelFormat, format_names, get_format

# The moves by action name, labelled: one enum in the schema for requests and replies.
ACTIONS = [(move.action, move.label) for move in MOVES.values()]

# Upper bound that keeps one request to a few seconds of work; labels have theirs in
# labels.stock.
MAX_BATCH_SCANS = 500
OUTPUTS = [("pdf", "PDF"), ("zpl", "ZPL (Zebra formats)")]


# Errors


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable English code, e.g. not_found, duplicate.")
    detail = serializers.CharField(help_text="Translated message for people.")


class ValidationErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Field name → list of messages (nested objects for nested fields).",
    )


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


# Input fields


class StrictCharField(serializers.CharField):
    """A JSON string: numbers and booleans are refused, not turned into text.

    Its length is checked as sent, before whitespace is trimmed, so that the schema's maxLength
    holds for what the client sends.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: "5", 5.0 and true are refused, as the schema says."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class OrganisationField(serializers.PrimaryKeyRelatedField):
    """An organisation id; floats and booleans are refused rather than truncated to an id."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


# Devices


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CustodianSerializer(OrganisationRefSerializer):
    kind = serializers.ChoiceField(choices=OrgKind.choices)


class AllowedMoveSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    label = serializers.CharField()


class SpecsSerializer(serializers.Serializer):
    cpu = StrictCharField(max_length=120, required=False, allow_blank=True)
    ram_gb = StrictIntegerField(min_value=0, max_value=32767, required=False, allow_null=True)
    storage_gb = StrictIntegerField(
        min_value=0, max_value=2147483647, required=False, allow_null=True
    )
    storage_type = serializers.ChoiceField(
        choices=StorageType.choices, required=False, allow_blank=True
    )
    screen_inches = serializers.DecimalField(
        max_digits=4, decimal_places=1, min_value=0, required=False, allow_null=True
    )
    operating_system = StrictCharField(max_length=120, required=False, allow_blank=True)


class DeviceSerializer(serializers.ModelSerializer):
    label_code = serializers.CharField(source="label_code_id", read_only=True)
    label_code_display = serializers.SerializerMethodField()
    category = CategorySerializer(read_only=True)
    specs = SpecsSerializer(source="*", read_only=True)
    donor = OrganisationRefSerializer(read_only=True, allow_null=True)
    custodian = CustodianSerializer(read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    allowed_moves = serializers.SerializerMethodField(
        help_text="The moves the requesting user may make on this device now."
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "label_code",
            "label_code_display",
            "category",
            "manufacturer",
            "model_name",
            "serial_number",
            "imei1",
            "imei2",
            "asset_tag",
            "specs",
            "notes",
            "donor",
            "custodian",
            "status",
            "status_label",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_label_code_display(self, device: Device) -> str:
        return group_label_code(device.label_code_id)

    @extend_schema_field(AllowedMoveSerializer(many=True))
    def get_allowed_moves(self, device: Device) -> list[dict]:
        # From the row's status and the user's cached scope: no query per row.
        user = self.context["request"].user
        return [{"action": m.action, "label": str(m.label)} for m in moves_for(user, device)]


class DeviceCreateSerializer(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=Category.objects.all(), help_text="Category code, e.g. laptop."
    )
    manufacturer = StrictCharField(max_length=80)
    model_name = StrictCharField(max_length=120, required=False, allow_blank=True)
    serial_number = StrictCharField(max_length=80, required=False, allow_blank=True)
    imei1 = StrictCharField(
        max_length=30, required=False, allow_blank=True, help_text="15 digits, Luhn-checked."
    )
    imei2 = StrictCharField(max_length=30, required=False, allow_blank=True)
    asset_tag = StrictCharField(max_length=80, required=False, allow_blank=True)
    specs = SpecsSerializer(source="*", required=False)
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True)
    donor = OrganisationField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of an organisation of kind donor.",
    )
    custodian = OrganisationField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the organisation that has the device; defaults to yours "
        "(workshop staff always register into their own custody).",
    )
    label_code = StrictCharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="A pre-printed label code to bind; a new code is issued when absent.",
    )


# Lifecycle


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    target = OrganisationField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the organisation that receives the device, for moves that need one.",
    )
    note = StrictCharField(max_length=1000, required=False, allow_blank=True)


class TransitionResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False when the device was already there.")
    device = DeviceSerializer()


class HistoryEntrySerializer(serializers.Serializer):
    date = serializers.DateTimeField(source="history_date")
    user = serializers.CharField(source="history_user.username", allow_null=True, default=None)
    action = serializers.CharField(
        source="history_change_reason",
        allow_null=True,
        help_text="The move's action, or register / save.",
    )
    note = serializers.CharField(source="history_note")
    status = serializers.ChoiceField(choices=Status.choices)
    status_label = serializers.SerializerMethodField()
    custodian = OrganisationRefSerializer(allow_null=True)

    def get_status_label(self, row) -> str:
        return str(Status(row.status).label) if row.status in Status.values else row.status


# Organisations


class OrganisationSerializer(serializers.ModelSerializer):
    commune = serializers.CharField(
        source="commune_id", allow_null=True, read_only=True, help_text="INSEE code."
    )
    territory = serializers.CharField(
        source="commune.territory_id",
        allow_null=True,
        default=None,
        read_only=True,
        help_text="EPT code.",
    )

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "commune", "territory"]
        read_only_fields = fields


# Scanning


class ScanSerializer(serializers.Serializer):
    raw = StrictCharField(
        max_length=1000,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The text as scanned or typed: a label URL or a bare code, any case.",
    )
    client_id = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        help_text="Your own id for this scan, unique for your user: sent again, the first "
        "record is replayed instead of a second scan being recorded.",
    )
    scanned_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the scan happened, by your clock."
    )


class ScanReplySerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=ScanResult.choices)
    code = serializers.CharField(
        allow_null=True,
        help_text="Why the text gave no device (e.g. code_check, code_unknown); null if found.",
    )
    detail = serializers.CharField(help_text="Translated message for people.")
    replayed = serializers.BooleanField(help_text="True when client_id was seen before.")
    device = DeviceSerializer(
        allow_null=True,
        help_text="The device as you may see it now, with the moves you may make; null when "
        "the text gave no device in your scope.",
    )


class BatchScanItemSerializer(serializers.Serializer):
    client_id = StrictCharField(
        max_length=64,
        help_text="Your own id for this scan, unique for your user across every upload.",
    )
    raw = StrictCharField(max_length=1000, allow_blank=True, trim_whitespace=False)
    scanned_at = serializers.DateTimeField(required=False, allow_null=True)


class BatchScanSerializer(serializers.Serializer):
    batch = StrictCharField(
        max_length=36,
        required=False,
        allow_blank=True,
        help_text="Your id for this batch-mode session; one is generated when absent. "
        "Send the same one when uploading again.",
    )
    action = serializers.ChoiceField(choices=ACTIONS)
    target = OrganisationField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the organisation that receives the devices, for moves that need one.",
    )
    note = StrictCharField(max_length=1000, required=False, allow_blank=True)
    scans = BatchScanItemSerializer(many=True, allow_empty=False, max_length=MAX_BATCH_SCANS)

    def validate_scans(self, scans: list[dict]) -> list[dict]:
        # By position, in the shape DRF gives item errors: {"3": {"client_id": [...]}}.
        seen: set[str] = set()
        errors: dict[str, dict] = {}
        for index, scan in enumerate(scans):
            if scan["client_id"] in seen:
                errors[str(index)] = {"client_id": [_("Used twice in this upload.")]}
            seen.add(scan["client_id"])
        if errors:
            raise serializers.ValidationError(errors)
        return scans


class BatchScanResultSerializer(serializers.Serializer):
    client_id = serializers.CharField()
    result = serializers.ChoiceField(
        choices=ScanResult.choices,
        help_text="applied, already_done, refused, invalid, unknown or unassigned; a replayed "
        "client id first used by a single scan reports that scan's result (found).",
    )
    code = serializers.CharField(allow_null=True, help_text="Why it was refused; null if not.")
    detail = serializers.CharField()
    device_id = serializers.IntegerField(allow_null=True)
    replayed = serializers.BooleanField(
        help_text="True when this client id was recorded before: its first result is reported "
        "and nothing is applied again."
    )


class BatchSummarySerializer(serializers.Serializer):
    applied = serializers.IntegerField()
    already_done = serializers.IntegerField()
    refused = serializers.IntegerField()
    invalid = serializers.IntegerField()
    unknown = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    found = serializers.IntegerField()


class BatchScanReplySerializer(serializers.Serializer):
    batch = serializers.CharField()
    results = BatchScanResultSerializer(many=True)
    summary = BatchSummarySerializer(help_text="How many items of this upload had each result.")


# Labels


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


class LabelQuerySerializer(serializers.Serializer):
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


class PreprintSerializer(serializers.Serializer):
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
