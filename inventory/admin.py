"""Admin for reference data, with history; devices are read-mostly.

A device's status and custody change only through the lifecycle service, and a device is
created only by registration (which issues its label code), so the admin cannot do either.
Nothing with history is deleted from here: retire an organisation instead (active = no).
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from inventory.codes import group_label_code
from inventory.models import (
    Category,
    Commune,
    Device,
    Donation,
    ErasureCertificate,
    ErasureRecord,
    LabelCode,
    LockCheck,
    Membership,
    Organisation,
    Reconditioning,
    Repair,
    StorageMedium,
    Territory,
    TestItem,
    TestResult,
)


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
    list_display = [
        "code",
        "name_fr",
        "name_en",
        "has_imei",
        "holds_data",
        "required_locks",
        "sort_order",
    ]
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
        (_("Donor"), {"fields": ["is_public_body"]}),
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
        "donation",
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
        "donation",
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


@admin.register(TestItem)
class TestItemAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    # Checklist lines are reference data: results point to them, so retire ("in use" = no)
    # instead of deleting.
    list_display = ["category", "code", "label_fr", "label_en", "sort_order", "is_active"]
    list_filter = ["category", "is_active"]
    list_editable = ["sort_order", "is_active"]
    search_fields = ["code", "label_fr", "label_en"]

    def get_readonly_fields(self, request, obj=None):
        return ["category", "code"] if obj is not None else []


class ReadOnlyAdmin(NoDeleteMixin, SimpleHistoryAdmin):
    """Records written by the services (bench, intake): the admin reads them, never edits."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def revert_disabled(self, request, obj=None):
        return True


@admin.register(Donation)
class DonationAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "received_on", "expected_count", "received_count"]
    list_filter = ["received_on"]
    search_fields = ["donor__name"]
    list_select_related = ["donor"]


@admin.register(Reconditioning)
class ReconditioningAdmin(ReadOnlyAdmin):
    list_display = ["device", "workshop", "started_at", "completed_at", "outcome", "grade"]
    list_filter = ["outcome", "grade", "workshop"]
    search_fields = ["device__label_code__code", "device__serial_number"]
    list_select_related = ["device", "workshop"]


@admin.register(LockCheck)
class LockCheckAdmin(ReadOnlyAdmin):
    list_display = ["reconditioning", "kind", "outcome", "checked_by", "checked_at"]
    list_filter = ["kind", "outcome"]


@admin.register(StorageMedium)
class StorageMediumAdmin(ReadOnlyAdmin):
    list_display = ["device", "kind", "interface", "serial_number", "capacity_gb", "state"]
    list_filter = ["kind", "interface", "state"]
    search_fields = ["serial_number", "device__label_code__code"]


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdmin):
    list_display = ["medium", "level", "method", "result", "ended_at", "operator"]
    list_filter = ["level", "method", "result", "verification"]


@admin.register(TestResult)
class TestResultAdmin(ReadOnlyAdmin):
    list_display = ["reconditioning", "item", "outcome", "tested_by", "tested_at"]
    list_filter = ["outcome"]


@admin.register(Repair)
class RepairAdmin(ReadOnlyAdmin):
    list_display = ["reconditioning", "part", "cost", "minutes", "performed_at"]


@admin.register(ErasureCertificate)
class ErasureCertificateAdmin(admin.ModelAdmin):
    list_display = ["verification_code", "donation", "issued_at", "issued_by", "media_count"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
