"""Shapes shared by the batch requests of logistics: devices named by id or label code, and the
refusal that lists each device with its reason."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.filters import ID_MAX
from api.serializers.common import CategorySerializer, ErrorSerializer
from inventory.codes import group_label_code
from inventory.states import Status

CODE_MAX_LENGTH = 300  # a label URL as a scanner types it, with room to spare


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": ID_MAX},
            {"type": "string", "minLength": 1, "maxLength": CODE_MAX_LENGTH},
        ],
        "description": "A device id, or its label code as printed, typed or scanned (any "
        "case, with or without separators, or the label's URL).",
    }
)
class DeviceChoiceField(serializers.Field):
    default_error_messages = {
        "invalid": _("A device id or a label code."),
    }

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int) and 1 <= data <= ID_MAX:
            return data
        if isinstance(data, str) and 1 <= len(data) <= CODE_MAX_LENGTH:
            return data
        self.fail("invalid")

    def to_representation(self, value):
        return value


def device_list_field(max_devices: int) -> serializers.ListField:
    return serializers.ListField(
        child=DeviceChoiceField(),
        allow_empty=False,
        max_length=max_devices,
        help_text="Device ids and/or label codes; all of them are accepted, or none.",
    )


class DeviceProblemSerializer(serializers.Serializer):
    device = serializers.CharField(
        help_text="The device's label code (grouped), its id, or the text sent when it is no code."
    )
    code = serializers.CharField(help_text="Stable English code, e.g. not_found, not_sendable.")
    detail = serializers.CharField(source="message", help_text="Translated message for people.")


class DevicesRefusedSerializer(ErrorSerializer):
    problems = DeviceProblemSerializer(
        many=True, help_text="Each device that cannot go, and why. Nothing was recorded."
    )


class DeviceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_code = serializers.CharField(source="label_code_id")
    label_code_display = serializers.SerializerMethodField()
    category = CategorySerializer()
    manufacturer = serializers.CharField()
    model_name = serializers.CharField()
    serial_number = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)

    def get_label_code_display(self, device) -> str:
        return group_label_code(device.label_code_id)
