"""Admin for reference data, with history; devices are read-mostly.

A device's status and custody change only through the lifecycle service, and a device is
created only by registration (which issues its label code), so the admin cannot do either.
Nothing with history is deleted from here: retire an organisation instead (active = no).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .codes import group_label_code
from .models import Category, Commune, Device, LabelCode, Membership, Organisation, Territory


class NoDeleteMixin:
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Territory)
class TerritoryAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Commune)
class CommuneAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "insee_code", "postal_code", "departement", "territory"]
    list_filter = ["territory", "departement"]
    search_fields = ["name", "insee_code", "postal_code"]
    list_select_related = ["territory"]


@admin.register(Category)
class CategoryAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["code", "name_fr", "name_en", "has_imei", "sort_order"]
    list_editable = ["sort_order"]
    search_fields = ["code", "name_fr", "name_en"]

    def get_readonly_fields(self, request, obj=None):
        # The code is a primary key that devices point to.
        return ["code"] if obj is not None else []


@admin.register(Organisation)
class OrganisationAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = ["name", "kind", "structure_type", "commune", "identifier", "is_active"]
    list_filter = ["kind", "is_active", "structure_type", "commune__territory"]
    search_fields = ["name", "siret", "rna", "commune__name", "contact_name"]
    list_select_related = ["commune"]
    autocomplete_fields = ["commune"]
    readonly_fields = ["created_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "is_active", "created_at"]}),
        (_("Structure"), {"fields": ["siret", "rna", "structure_type", "commune", "address"]}),
        (_("Contact"), {"fields": ["contact_name", "contact_email", "contact_phone"]}),
    ]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role", "organisation__kind"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    list_select_related = ["user", "organisation"]
    autocomplete_fields = ["organisation"]
    raw_id_fields = ["user"]


@admin.register(LabelCode)
class LabelCodeAdmin(admin.ModelAdmin):
    list_display = ["grouped", "issued_at", "preprint_run", "issued_by"]
    list_filter = ["preprint_run"]
    search_fields = ["code"]
    list_select_related = ["issued_by"]
    readonly_fields = ["code", "issued_at", "preprint_run", "issued_by"]

    @admin.display(description=_("label code"), ordering="code")
    def grouped(self, obj):
        return group_label_code(obj.code)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Device)
class DeviceAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    list_display = [
        "label",
        "category",
        "manufacturer",
        "model_name",
        "serial_number",
        "status",
        "custodian",
    ]
    list_filter = ["status", "category", "custodian__kind"]
    search_fields = ["label_code__code", "serial_number", "imei1", "imei2", "model_name"]
    list_select_related = ["category", "custodian"]
    show_full_result_count = False
    # Identity and lifecycle fields go through the services (normalisation, uniqueness,
    # the transition table); the admin may only correct descriptive specs and notes.
    readonly_fields = [
        "label_code",
        "category",
        "manufacturer",
        "serial_number",
        "imei1",
        "imei2",
        "donor",
        "custodian",
        "status",
        "created_at",
        "updated_at",
    ]
    fields = [
        "label_code",
        "category",
        "manufacturer",
        "model_name",
        "serial_number",
        "imei1",
        "imei2",
        "asset_tag",
        "cpu",
        "ram_gb",
        "storage_gb",
        "storage_type",
        "screen_inches",
        "operating_system",
        "donor",
        "custodian",
        "status",
        "notes",
        "created_at",
        "updated_at",
    ]

    @admin.display(description=_("label code"), ordering="label_code")
    def label(self, obj):
        return group_label_code(obj.label_code_id)

    def has_add_permission(self, request):
        return False

    # Reverting to a historical version would write its old status and custody back,
    # around the lifecycle service: history is for reading here.
    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)
