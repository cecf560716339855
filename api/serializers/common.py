"""What every API body shares: the error shapes, strict scalar fields and references to
organisations and categories. Input serializers only check types and sizes; no serializer saves."""

from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable English code, e.g. not_found, duplicate.")
    detail = serializers.CharField(help_text="Translated message for people.")


class ValidationErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Field name → list of messages (nested objects for nested fields).",
    )


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


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
