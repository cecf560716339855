"""Shapes of devices and organisations on the API. Input serializers only check types and sizes
and look up the objects named by id or code; the rules live in inventory.services."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.common import (
    TEXTAREA,
    CategoryField,
    CategorySerializer,
    InputSerializer,
    OrganisationField,
    OrganisationRefSerializer,
    StrictCharField,
    StrictIntegerField,
    instant,
)
from inventory.codes import group_label_code
from inventory.models import Category, Device, Organisation, StorageType
from inventory.selectors import moves_for
from inventory.states import MOVES, OrgKind, Status, move_label, status_label

# The moves by action name, labelled: one enum in the schema for requests and replies.
ACTIONS = [(move.action, move.label) for move in MOVES.values()]


# Errors


# Input fields


# Devices


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

    def to_representation(self, device: Device) -> dict:
        """The fields above, written out: what DRF's field-by-field path gives, at a fraction of
        its cost (a list page of 50 spent 18 ms building, copying and calling the fields of
        every row; a move's reply 2.5 ms). The fields stay declared for the schema, the input
        side and `drf_representation`, which tests/api/test_device_representation.py compares
        with this one on devices of every kind, status and empty field."""
        category, donor, custodian = device.category, device.donor, device.custodian
        screen = device.screen_inches
        return {
            "id": device.pk,
            "label_code": str(device.label_code_id),
            "label_code_display": group_label_code(device.label_code_id),
            "category": {"code": str(category.code), "name": str(category.name)},
            "manufacturer": device.manufacturer,
            "model_name": device.model_name,
            "serial_number": device.serial_number,
            "imei1": device.imei1,
            "imei2": device.imei2,
            "asset_tag": device.asset_tag,
            "specs": {
                "cpu": device.cpu,
                "ram_gb": device.ram_gb,
                "storage_gb": device.storage_gb,
                "storage_type": str(device.storage_type),
                "screen_inches": None if screen is None else _SCREEN.to_representation(screen),
                "operating_system": device.operating_system,
            },
            "notes": device.notes,
            "donor": None if donor is None else {"id": donor.pk, "name": str(donor.name)},
            "custodian": {
                "id": custodian.pk,
                "name": str(custodian.name),
                "kind": str(custodian.kind),
            },
            "status": str(device.status),
            "status_label": status_label(device.status),
            "allowed_moves": self.get_allowed_moves(device),
            "created_at": instant(device.created_at),
            "updated_at": instant(device.updated_at),
        }

    def drf_representation(self, device: Device) -> dict:
        """DRF's own field-by-field representation of the declared fields (the reference)."""
        return super().to_representation(device)

    @extend_schema_field(AllowedMoveSerializer(many=True))
    def get_allowed_moves(self, device: Device) -> list[dict]:
        # From the row's status and the user's cached scope: no query per row.
        user = self.context["request"].user
        return [
            {"action": m.action, "label": move_label(m.action)} for m in moves_for(user, device)
        ]


# The format of the screen's size, shared by every row (it holds no state of a request).
_SCREEN = SpecsSerializer().fields["screen_inches"]


class DeviceCreateSerializer(InputSerializer):
    category = CategoryField(
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
    notes = StrictCharField(max_length=5000, required=False, allow_blank=True, style=TEXTAREA)
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


class TransitionSerializer(InputSerializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    target = OrganisationField(
        queryset=Organisation.objects.all(),
        required=False,
        allow_null=True,
        help_text="Id of the organisation that receives the device, for moves that need one.",
    )
    note = StrictCharField(max_length=1000, required=False, allow_blank=True, style=TEXTAREA)


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


# Labels
