"""What every API body shares: the error shapes, strict scalar fields and references to
organisations and categories. Input serializers only check types and sizes; no serializer saves."""

import copy
from collections.abc import Mapping

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from inventory.compiled import CompiledLookup
from inventory.models import Category, Organisation
from inventory.text import shown, text_problem

# DRF's format of an instant (ISO 8601 in the current time zone, "Z" for UTC), for the replies
# written out by hand: one field object for every row, it holds no state of a request.
instant = serializers.DateTimeField().to_representation

# DRF's mark of a multi-line text field (what a form shows as a textarea): tab and line
# breaks are allowed there, not in one-line fields.
TEXTAREA = {"base_template": "textarea.html"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable English code, e.g. not_found, duplicate.")
    detail = serializers.CharField(help_text="Translated message for people.")


class ValidationErrorSerializer(ErrorSerializer):
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Field name → list of messages (nested objects for nested fields).",
    )


def control_character_errors(field, data):
    """What `field` refuses in `data` for holding control characters, in the shape of DRF's
    errors ({"specs": {"cpu": [...]}}, {"scans": {"3": {"client_id": [...]}}}), or None.

    It walks the fields as declared, nested serializers, lists and dicts included, and reads
    the data before any field does: a slug, a choice or an id is never looked up with a NUL.
    A field with `keeps_control_characters` (scanned text) is left to its service.
    """
    if data is empty or getattr(field, "keeps_control_characters", False):
        return None
    if isinstance(field, serializers.ListSerializer | serializers.ListField):
        if not isinstance(data, list | tuple):
            return None  # the field refuses it itself
        errors = {}
        for index, item in enumerate(data):
            if item_errors := control_character_errors(field.child, item):
                errors[str(index)] = item_errors
        return errors or None
    if isinstance(field, serializers.DictField):
        if not isinstance(data, Mapping):
            return None
        errors = {}
        for key, value in data.items():
            if item_errors := text_errors(field, key) or control_character_errors(
                field.child, value
            ):
                errors[shown(str(key))] = item_errors
        return errors or None
    if isinstance(field, serializers.BaseSerializer):
        if not isinstance(data, Mapping):
            return None  # "expected a dictionary": DRF says it, in its own shape
        errors = {}
        for child in field.fields.values():
            if child.read_only:
                continue
            if child_errors := control_character_errors(child, child.get_value(data)):
                errors[child.field_name] = child_errors
        return errors or None
    return text_errors(field, data)


def text_errors(field, data) -> list | None:
    multiline = field.style.get("base_template") == TEXTAREA["base_template"]
    problem = text_problem(data, multiline=multiline)
    return [problem] if problem else None


class InputSerializer(serializers.Serializer):
    """The base of every serializer that reads a request (body or query string): text holding
    control characters or lone surrogates is a field error before any field reads it, where
    PostgreSQL would have refused it with a 500."""

    def to_internal_value(self, data):
        if errors := control_character_errors(self, data):
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def get_fields(self):
        """The declared fields, each a copy for this body.

        DRF deep-copies them, which runs every field's __init__ again: a registration's 25
        fields cost more than its duplicate check. The declared fields are never bound nor
        used themselves (every serializer reads copies), so a plain field is copied shallowly
        and bound to this body as DRF binds its copies; a field holding other fields (a
        nested body, a list, a dict, a many-relation) is deep-copied as before, so that its
        children are bound to it and not to the declared one."""
        return {
            name: copy.deepcopy(field) if _holds_fields(field) else copy.copy(field)
            for name, field in self._declared_fields.items()
        }


def _holds_fields(field) -> bool:
    """A nested body, a list or dict of fields, a many-relation: fields bound to this one."""
    return (
        isinstance(field, serializers.BaseSerializer)
        or hasattr(field, "child")
        or hasattr(field, "child_relation")
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


class ScannedTextField(StrictCharField):
    """Text as a scanner typed it: kept whatever it holds, because the scan is recorded (its
    control characters shown as U+FFFD) and answered with a per-scan result, not a 400."""

    keeps_control_characters = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # DRF's own refusal of NUL and surrogates would turn a whole batch into a 400.
        self.validators = [
            validator
            for validator in self.validators
            if not isinstance(
                validator, ProhibitNullCharactersValidator | ProhibitSurrogateCharactersValidator
            )
        ]


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer: "5", 5.0 and true are refused, as the schema says."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


# An organisation by id, compiled once per process (inventory.compiled): a move's target and a
# registration's donor and custodian are read with it.
_ORGANISATION = CompiledLookup(lambda pk: Organisation.objects.filter(pk=pk).order_by()[:1])


def _whole_table(queryset, model) -> bool:
    """Whether a relation field reads every row of `model` (its compiled lookup answers it)."""
    return queryset is not None and queryset.model is model and not queryset.query.where


class OrganisationField(serializers.PrimaryKeyRelatedField):
    """An organisation id; floats and booleans are refused rather than truncated to an id."""

    def to_internal_value(self, data):
        if isinstance(data, bool | float):
            self.fail("incorrect_type", data_type=type(data).__name__)
        whole = _whole_table(self.queryset, Organisation)
        if type(data) is int and self.pk_field is None and whole:
            # Every organisation, as DRF's queryset.get(pk=…) would read it.
            organisation = _ORGANISATION.first(data)
            if organisation is None:
                self.fail("does_not_exist", pk_value=data)
            return organisation
        return super().to_internal_value(data)


# A category by code, compiled once per process: every registration reads it.
_CATEGORY = CompiledLookup(lambda code: Category.objects.filter(code=code).order_by()[:1])


class CategoryField(serializers.SlugRelatedField):
    """A category by its code."""

    def to_internal_value(self, data):
        whole = _whole_table(self.queryset, Category)
        if type(data) is str and self.slug_field == "code" and whole:
            # Every category, as DRF's queryset.get(code=…) would read it.
            category = _CATEGORY.first(data)
            if category is None:
                self.fail("does_not_exist", slug_name=self.slug_field, value=data)
            return category
        return super().to_internal_value(data)


class CategorySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class OrganisationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
