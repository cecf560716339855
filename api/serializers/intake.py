"""Shapes of intake on the API: donors, donations, and the spreadsheet import of a donation's
devices. Input serializers check types and sizes only; the rules (who may, which donor, which
rows) live in inventory.intake.
"""

from rest_framework import serializers

from api.serializers.common import (
    TEXTAREA,
    InputSerializer,
    OrganisationField,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
    ValidationErrorSerializer,
)
from inventory.codes import group_label_code
from inventory.intake import selectors as intake_selectors
from inventory.intake import services as intake
from inventory.intake import spreadsheets as imports
from inventory.models import Donation, Organisation, StorageType

# Fields

COUNT_MAX = intake.MAX_COUNT


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false: "yes", 1 and "true" are refused, as the schema says."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class FormBooleanField(serializers.BooleanField):
    """In a multipart form, where every value is text: "true" or "false" only."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and data.lower() in {"true", "false"}:
            return data.lower() == "true"
        self.fail("invalid", input=data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


# Donors


class DonorCreateSerializer(InputSerializer):
    name = StrictCharField(max_length=200, help_text="Unique among donors, whatever the case.")
    contact_name = StrictCharField(max_length=120, required=False, allow_blank=True)
    contact_email = StrictEmailField(max_length=254, required=False, allow_blank=True)
    contact_phone = StrictCharField(max_length=30, required=False, allow_blank=True)
    address = StrictCharField(max_length=250, required=False, allow_blank=True)
    is_public_body = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A public body (loi 3DS): its devices' hand-over receipts state the "
        '"prix solidaires" resale ceilings.',
    )


class DonorSerializer(serializers.Serializer):
    """A donor as the coordination recorded it (its contact is for the coordination only)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField()
    contact_phone = serializers.CharField()
    address = serializers.CharField()
    is_public_body = serializers.BooleanField()


# Donations


class DonationWriteSerializer(InputSerializer):
    """A donation's editable fields; in a PATCH every field is optional and those left out keep
    their value."""

    donor = OrganisationField(
        queryset=Organisation.objects.all(), help_text="Id of an active organisation of kind donor."
    )
    received_on = serializers.DateField(help_text="Date of the donation.")
    pickup_address = StrictCharField(max_length=250, required=False, allow_blank=True)
    expected_count = StrictIntegerField(
        min_value=0,
        max_value=COUNT_MAX,
        required=False,
        allow_null=True,
        help_text="Devices the donor announced.",
    )
    received_count = StrictIntegerField(
        min_value=0,
        max_value=COUNT_MAX,
        required=False,
        allow_null=True,
        help_text="Devices counted on arrival.",
    )
    released_accounts = StrictBooleanField(
        required=False, help_text="User accounts signed out (Apple ID, Google, Microsoft)."
    )
    released_management = StrictBooleanField(
        required=False, help_text="MDM, Autopilot and Apple Business Manager released."
    )
    released_firmware = StrictBooleanField(required=False, help_text="BIOS/UEFI passwords removed.")
    attested_by = StrictCharField(
        max_length=120,
        required=False,
        allow_blank=True,
        help_text="Name and position of the donor's signatory of the release attestation.",
    )
    attested_on = serializers.DateField(
        required=False, allow_null=True, help_text="Date of the attestation; not in the future."
    )
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, style=TEXTAREA)


class DonationCountsSerializer(serializers.Serializer):
    announced = serializers.IntegerField(
        source="expected_count", allow_null=True, help_text="As the donor announced them."
    )
    counted = serializers.IntegerField(
        source="received_count", allow_null=True, help_text="Counted on arrival."
    )
    registered = serializers.IntegerField(
        source="registered_count", help_text="Devices registered into the donation so far."
    )


class DonationSerializer(serializers.Serializer):
    """A donation read from `donations_visible_to`, annotated with `registered_count`."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="DON-00042.")
    donor = OrganisationRefSerializer()
    received_on = serializers.DateField()
    pickup_address = serializers.CharField()
    counts = DonationCountsSerializer(source="*")
    released_accounts = serializers.BooleanField()
    released_management = serializers.BooleanField()
    released_firmware = serializers.BooleanField()
    attested_by = serializers.CharField()
    attested_on = serializers.DateField(allow_null=True)
    attestation_complete = serializers.BooleanField(
        help_text="Every release ticked, signed and dated."
    )
    collected_by = OrganisationRefSerializer(
        allow_null=True,
        help_text="The workshop that collected the devices and recorded the donation; null "
        "when the coordination took it in.",
    )
    notes = serializers.SerializerMethodField(
        help_text="The notes of who recorded the donation; null for a donor's people."
    )
    created_at = serializers.DateTimeField()
    version = serializers.SerializerMethodField(
        help_text="The ETag of this state of the donation, without its quotes: send it in "
        "If-Match to change the donation."
    )

    def get_notes(self, donation: Donation) -> str | None:
        return donation.notes if self.context.get("recorder") else None

    def get_version(self, donation: Donation) -> str:
        return intake_selectors.donation_version(donation)


# Spreadsheet import


class ImportUploadSerializer(InputSerializer):
    file = serializers.FileField(
        help_text="The donor's spreadsheet: CSV (comma or semicolon, any usual encoding) or "
        "Excel (.xlsx), one device per row under a header row."
    )
    dry_run = FormBooleanField(
        required=False,
        default=False,
        help_text="true: check the file and answer a preview; nothing is written.",
    )


class ImportQuerySerializer(InputSerializer):
    dry_run = FormBooleanField(
        required=False,
        default=False,
        help_text="true: a preview, as the form field asks; either one asking is enough, and "
        "nothing is written.",
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text="Row number as the spreadsheet shows it (1 is the header); null for the file.",
    )
    column = serializers.CharField(help_text="The column as the file names it; empty if none.")
    code = serializers.CharField(help_text="Stable English code, e.g. category_unknown.")
    detail = serializers.CharField(source="reason", help_text="Translated message for people.")


class ImportErrorSerializer(ValidationErrorSerializer):
    errors = RowErrorSerializer(
        many=True, required=False, help_text="With import_invalid and duplicate: every problem."
    )


class ImportColumnSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The header as the file has it.")
    field = serializers.CharField(help_text="The device field it fills, e.g. serial_number.")
    label = serializers.CharField(help_text="That field's name for people.")

    def to_representation(self, pair):
        title, name = pair
        return {"column": title, "field": name, "label": str(imports.COLUMN_LABELS[name])}


class ImportValuesSerializer(serializers.Serializer):
    """A row's values as they would be registered; a cell that could not be read is empty."""

    category = serializers.CharField(help_text="Category code; empty if not recognised.")
    manufacturer = serializers.CharField()
    model_name = serializers.CharField()
    serial_number = serializers.CharField()
    imei1 = serializers.CharField()
    imei2 = serializers.CharField()
    asset_tag = serializers.CharField()
    cpu = serializers.CharField()
    ram_gb = serializers.IntegerField(allow_null=True)
    storage_gb = serializers.IntegerField(allow_null=True)
    storage_type = serializers.ChoiceField(
        choices=StorageType.choices, allow_blank=True, help_text="Empty if none given."
    )
    screen_inches = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    operating_system = serializers.CharField()
    notes = serializers.CharField()


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row number as the spreadsheet shows it.")
    values = ImportValuesSerializer()
    cells = serializers.DictField(
        source="raw",
        child=serializers.CharField(allow_blank=True),
        help_text="Field → the cell's text as the file has it.",
    )


class ImportPreviewSerializer(serializers.Serializer):
    """An ImportResult of a dry run."""

    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    file_format = serializers.ChoiceField(choices=["csv", "xlsx", "xls"])
    ok = serializers.BooleanField(help_text="True when the file would be imported as it is.")
    columns = ImportColumnSerializer(many=True, help_text="The columns read, in file order.")
    ignored_columns = serializers.ListField(
        child=serializers.CharField(), help_text="Headers of the columns left unread."
    )
    row_count = serializers.IntegerField(help_text="Device rows found.")
    preview = ImportRowSerializer(
        many=True, help_text=f"The first {imports.PREVIEW_ROWS} rows as they would be registered."
    )
    errors = RowErrorSerializer(many=True, help_text="Every problem; empty when ok.")


class ImportedDeviceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField(source="label_code_id")
    label_code_display = serializers.SerializerMethodField()

    def get_label_code_display(self, device) -> str:
        return group_label_code(device.label_code_id)


class ImportReplySerializer(serializers.Serializer):
    """An ImportResult of a real run."""

    import_id = serializers.IntegerField(source="record.pk", help_text="Id of the import record.")
    donation = serializers.IntegerField(source="donation.pk")
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    count = serializers.IntegerField(source="row_count", help_text="Devices registered.")
    devices = ImportedDeviceSerializer(many=True, help_text="In the file's row order.")
