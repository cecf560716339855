"""Shapes of scans on the API: one scan, a batch and their replies."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationField,
    ScannedTextField,
    StrictCharField,
)
from api.serializers.devices import ACTIONS, DeviceSerializer
from inventory.models import Organisation, ScanResult

# Upper bound that keeps one request to a few seconds of work; labels have theirs in
# labels.stock.
MAX_BATCH_SCANS = 500


class ScanSerializer(InputSerializer):
    raw = ScannedTextField(
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
    raw = ScannedTextField(max_length=1000, allow_blank=True, trim_whitespace=False)
    scanned_at = serializers.DateTimeField(required=False, allow_null=True)


class BatchScanSerializer(InputSerializer):
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
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, style=TEXTAREA)
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
