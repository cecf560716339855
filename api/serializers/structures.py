"""Shapes of the coordination's structures and their people on the API: a structure, its writes
and the list's filters, a person and an invitation, and the import of a data·inclusion file.
Input serializers check types and sizes only: the identifiers, the commune, the type and who
may do what are inventory.organisations.services' to say, with the web screens' messages.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.common import InputSerializer, StrictCharField, ValidationErrorSerializer
from api.serializers.intake import FormBooleanField
from api.serializers.reconditioning import NamedChoiceField
from inventory.models import Organisation, Role
from inventory.models.organisations import StructureType
from inventory.organisations import services as orgs

GIVE_A_VALUE = _("Give a value or leave the parameter out.")


# Writes


class StructureWriteSerializer(InputSerializer):
    """A structure's fields; in a PATCH every field is optional and those left out keep their
    value."""

    name = StrictCharField(max_length=200, help_text="Unique among structures, whatever the case.")
    siret = StrictCharField(
        max_length=30,
        required=False,
        allow_blank=True,
        help_text="14 digits with a valid check digit (spaces are removed). A structure needs "
        "its SIRET or its RNA number.",
    )
    rna = StrictCharField(
        max_length=30,
        required=False,
        allow_blank=True,
        help_text="W followed by 9 digits, for an association without a SIRET.",
    )
    structure_type = NamedChoiceField(StructureType, help_text="Its data·inclusion type.")
    commune = StrictCharField(
        max_length=5, help_text="INSEE code of a commune of the network's territory."
    )
    address = StrictCharField(max_length=250, required=False, allow_blank=True)
    contact_name = StrictCharField(max_length=120, required=False, allow_blank=True)
    contact_email = StrictCharField(max_length=254, required=False, allow_blank=True)
    contact_phone = StrictCharField(
        max_length=30,
        required=False,
        allow_blank=True,
        help_text="Digits, spaces and + ( ) . -",
    )
    soliguide_id = StrictCharField(max_length=64, required=False, allow_blank=True)
    dora_id = StrictCharField(max_length=64, required=False, allow_blank=True)


class StructureQuerySerializer(InputSerializer):
    """The list's filters, all optional."""

    territory = StrictCharField(
        max_length=8, required=False, help_text="EPT code of the structure's territory, e.g. T2."
    )
    structure_type = NamedChoiceField(StructureType, required=False)
    is_active = FormBooleanField(
        required=False, default=None, allow_null=True, help_text="true or false."
    )
    q = StrictCharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Part of the name, or the start of the SIRET or RNA number.",
    )

    def to_internal_value(self, data):
        # In a query string `?structure_type=` is no type, as the schema says: refused, not
        # ignored (a search may be empty).
        errors = {
            name: [GIVE_A_VALUE]
            for name in ("territory", "structure_type", "is_active")
            if name in data and not str(data.get(name)).strip()
        }
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class InviteSerializer(InputSerializer):
    # The address becomes the person's username, which holds 150 characters.
    email = StrictCharField(
        max_length=150,
        help_text="Where the invitation goes; also the person's username (case is ignored).",
    )
    first_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    last_name = StrictCharField(max_length=150, required=False, allow_blank=True)
    role = NamedChoiceField(Role, required=False, default=Role.MEMBER)


class StructureImportUploadSerializer(InputSerializer):
    file = serializers.FileField(
        help_text="A CSV of the data·inclusion structures schema: nom, and siret or rna, are "
        "required; code_insee, adresse, complement_adresse, typologie, courriel, telephone, "
        "id and source are read; other columns are ignored."
    )
    dry_run = FormBooleanField(
        required=False,
        default=False,
        help_text="true: check the file and answer a preview; nothing is written.",
    )


class StructureImportQuerySerializer(InputSerializer):
    dry_run = FormBooleanField(
        required=False,
        default=False,
        help_text="true: a preview, as the form field asks; either one asking is enough, and "
        "nothing is written.",
    )


# Replies


class StructureCommuneSerializer(serializers.Serializer):
    insee_code = serializers.CharField()
    name = serializers.CharField()
    territory = serializers.CharField(source="territory_id", help_text="EPT code.")
    territory_name = serializers.CharField(source="territory.name")


class StructureSerializer(serializers.Serializer):
    """A structure read with inventory.organisations.selectors: its `member_count` and
    `history_count` annotated."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    siret = serializers.CharField(help_text="Empty when the structure has an RNA number only.")
    rna = serializers.CharField(help_text="Empty when the structure has a SIRET only.")
    structure_type = NamedChoiceField(StructureType)
    structure_type_label = serializers.CharField(source="get_structure_type_display")
    commune = StructureCommuneSerializer()
    address = serializers.CharField()
    contact_name = serializers.CharField()
    contact_email = serializers.CharField(help_text="The structure's contact address.")
    contact_phone = serializers.CharField()
    soliguide_id = serializers.CharField()
    dora_id = serializers.CharField()
    is_active = serializers.BooleanField(
        help_text="False: the structure is deactivated and its people cannot sign in."
    )
    member_count = serializers.IntegerField(help_text="Its people, active or not.")
    created_at = serializers.DateTimeField()
    version = serializers.SerializerMethodField(
        help_text="The ETag of this state of the structure, without its quotes: send it in "
        "If-Match to change the structure."
    )

    def get_version(self, structure: Organisation) -> str:
        count = getattr(structure, "history_count", None)
        return str(count) if count is not None else orgs.structure_version(structure)


class MemberSerializer(serializers.Serializer):
    """A person of a structure: a Membership with its user."""

    id = serializers.IntegerField(source="user_id", help_text="The person's user id.")
    structure = serializers.IntegerField(source="organisation_id")
    email = serializers.CharField(source="user.email")
    username = serializers.CharField(source="user.username")
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    role = NamedChoiceField(Role)
    is_active = serializers.BooleanField(
        source="user.is_active", help_text="False: the person can no longer sign in."
    )
    invitation_pending = serializers.SerializerMethodField(
        help_text="True until the person chooses a password from the invitation's link."
    )

    def get_invitation_pending(self, membership) -> bool:
        return not membership.user.has_usable_password()


class StructureImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        source="number", help_text="Row number as the file shows it (1 is the header)."
    )
    action = NamedChoiceField(
        [("create", "create"), ("update", "update")],
        enum_name="StructureImportActionEnum",
        help_text="update: a structure with this SIRET (or else RNA number) is recorded.",
    )
    name = serializers.CharField(source="values.name")
    siret = serializers.CharField(source="values.siret")
    rna = serializers.CharField(source="values.rna")
    commune = serializers.CharField(source="values.commune", help_text="INSEE code.")
    structure_type = NamedChoiceField(StructureType, source="values.structure_type")


class StructureImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Row number as the file shows it; null for the whole file."
    )
    column = serializers.CharField(help_text="The column as the file names it; empty if none.")
    detail = serializers.CharField(help_text="Translated message for people.")

    def to_representation(self, error):
        row, column, message = error
        return {"row": row, "column": column, "detail": str(message)}


class StructureImportSerializer(serializers.Serializer):
    """A StructureImport: the preview of a dry run, or what a real run wrote."""

    dry_run = serializers.BooleanField()
    ok = serializers.SerializerMethodField(help_text="True when the file is (or was) imported.")
    created = serializers.IntegerField(help_text="Structures added (or to add).")
    updated = serializers.IntegerField(help_text="Structures updated (or to update).")
    ignored_columns = serializers.ListField(
        child=serializers.CharField(), help_text="Headers of the columns left unread."
    )
    rows = StructureImportRowSerializer(many=True, help_text="The rows without errors.")
    errors = StructureImportErrorSerializer(many=True, help_text="Every problem; empty when ok.")

    def get_ok(self, result) -> bool:
        return not result.errors


class StructureImportRefusalSerializer(ValidationErrorSerializer):
    errors = StructureImportErrorSerializer(
        many=True, required=False, help_text="With import_invalid: every problem."
    )
