"""Shapes of hand-overs on the API: a hand-over with its devices as the receipt lists them, its
making from allocations, and its signature (drawn on a screen, or a signed paper copy). Which
allocations may be handed over is for logistics.handovers.services to say."""

from django.conf import settings
from django.utils.translation import get_language
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
from api.serializers.reconditioning import NamedChoiceField
from inventory.codes import group_label_code
from logistics.handovers import services
from logistics.models import Mode, SignatureKind

# A data URL holds the PNG in base64: 4 characters for 3 bytes, and its prefix.
DATA_URL_MAX_LENGTH = services.MAX_SIGNATURE_BYTES * 4 // 3 + 64


class HandOverQuerySerializer(ListQuerySerializer):
    unsigned = QueryBooleanField(
        required=False, help_text="true: only the receipts not signed yet."
    )
    structure = structure_filter()

    INTEGERS = ("structure",)


# Writes


class HandOverCreateSerializer(InputSerializer):
    allocations = serializers.ListField(
        child=StrictIntegerField(min_value=1, max_value=ID_MAX),
        allow_empty=False,
        max_length=services.MAX_DEVICES,
        help_text=f"Ids of active allocations of one structure, up to {services.MAX_DEVICES}: "
        "gifts and loans alike; all of them are handed over, or none.",
    )
    received_by_name = StrictCharField(
        max_length=services.MAX_NAME, help_text="The person who receives, printed on the receipt."
    )
    received_by_role = StrictCharField(
        max_length=services.MAX_NAME,
        required=False,
        allow_blank=True,
        default="",
        help_text="Their role in the structure.",
    )
    due_on = serializers.DateField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The loan's due date (after today, within two years); absent: the longest "
        "loan the structure asked for. Ignored when every device is a gift.",
    )
    note = StrictCharField(
        max_length=services.MAX_NOTE,
        required=False,
        allow_blank=True,
        default="",
        style=TEXTAREA,
    )


class HandOverSignSerializer(InputSerializer):
    """The signature drawn on the screen, as a signature pad gives it."""

    signer_name = StrictCharField(max_length=services.MAX_NAME, help_text="Who signs.")
    image = StrictCharField(
        max_length=DATA_URL_MAX_LENGTH,
        trim_whitespace=False,
        help_text="The drawing as a data URL: `data:image/png;base64,…`, a PNG up to "
        f"{services.MAX_SIGNATURE_BYTES // 1024} KB and {services.MAX_SIGNATURE_SIDE} pixels "
        "a side.",
    )


class HandOverPaperSerializer(InputSerializer):
    """A signed paper copy of the receipt, scanned or photographed."""

    signer_name = serializers.CharField(max_length=services.MAX_NAME, help_text="Who signed.")
    file = serializers.FileField(
        help_text=f"A PDF, PNG or JPEG file, up to {services.MAX_PAPER_BYTES // 1024 // 1024} MB."
    )


# Replies


class HandOverSerializer(serializers.Serializer):
    """A hand-over of `hand_over_list`, with its counts."""

    id = serializers.IntegerField()
    reference = serializers.CharField(help_text="REM-00042.")
    verification_code = serializers.CharField(
        help_text="Printed on the receipt: anyone may check the receipt with it."
    )
    structure = OrganisationRefSerializer()
    delivery = serializers.IntegerField(
        source="delivery_id", allow_null=True, help_text="The delivery that brought the devices."
    )
    handed_by_organisation = OrganisationRefSerializer(allow_null=True)
    received_by_name = serializers.CharField()
    received_by_role = serializers.CharField()
    handed_at = serializers.DateTimeField()
    signed = serializers.BooleanField(source="is_signed")
    signature_kind = NamedChoiceField(
        SignatureKind, enum_name="SignatureKindEnum", help_text="Empty: not signed yet."
    )
    signer_name = serializers.CharField()
    signed_at = serializers.DateTimeField(allow_null=True)
    receipt_sha256 = serializers.CharField(
        help_text="SHA-256 of the receipt PDF as last issued (at the hand-over, then signed)."
    )
    note = serializers.CharField()
    device_count = serializers.IntegerField()
    loan_count = serializers.IntegerField(help_text="Devices lent; the others are gifts.")


class HandOverDeviceSerializer(serializers.Serializer):
    """A device as the receipt lists it: the item's snapshot of the day."""

    label_code = serializers.CharField(default="")
    label_code_display = serializers.SerializerMethodField()
    category = serializers.CharField(default="", help_text="Category code.")
    category_name = serializers.SerializerMethodField()
    manufacturer = serializers.CharField(default="")
    model_name = serializers.CharField(source="model", default="")
    serial_number = serializers.CharField(source="serial", default="")
    grade = serializers.CharField(default="", help_text="From its last reconditioning.")
    public_donor = serializers.BooleanField(
        default=False, help_text="Given by a public body: the prix solidaires apply."
    )

    def get_label_code_display(self, snapshot) -> str:
        return group_label_code(snapshot.get("label_code") or "")

    def get_category_name(self, snapshot) -> str:
        english = (get_language() or settings.LANGUAGE_CODE).startswith("en")
        return snapshot.get("category_en" if english else "category_fr") or ""


class HandOverItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    allocation = serializers.IntegerField(source="allocation_id")
    device_id = serializers.IntegerField()
    mode = NamedChoiceField(Mode)
    as_handed_over = HandOverDeviceSerializer(source="snapshot")


class HandOverDetailSerializer(HandOverSerializer):
    handed_by = serializers.SerializerMethodField(help_text="Who handed the devices over.")
    loan = serializers.IntegerField(
        source="loan_id", allow_null=True, help_text="The loan of the devices lent, if any."
    )
    items = HandOverItemSerializer(source="item_rows", many=True)

    def get_handed_by(self, hand_over) -> str:
        return person(hand_over.handed_by)
