"""Admin for shipments, deliveries, hand-overs and loans: read only. Each is created and moved
through its services (the devices move with it, the receipts are stored as evidence), so the
admin can neither add, edit nor delete one."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from logistics.models import (
    HandOver,
    HandOverItem,
    Loan,
    LoanExtension,
    LoanItem,
    Shipment,
    ShipmentItem,
)


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShipmentItemInline(ReadOnlyMixin, admin.TabularInline):
    model = ShipmentItem
    fields = ["device", "allocation", "received_at", "received_by"]
    readonly_fields = fields
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = [
        "reference", "kind", "workshop", "structure", "stage", "sent_on", "sent_by", "carrier",
    ]  # fmt: skip
    list_filter = ["kind", "stage", "workshop", "sent_on"]
    search_fields = ["id", "workshop__name", "structure__name", "carrier", "notes"]
    list_select_related = ["workshop", "structure", "sent_by"]
    date_hierarchy = "sent_on"
    inlines = [ShipmentItemInline]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj):
        return obj.reference


class HandOverItemInline(ReadOnlyMixin, admin.TabularInline):
    model = HandOverItem
    fields = ["device", "allocation", "mode", "snapshot"]
    readonly_fields = fields
    extra = 0


@admin.register(HandOver)
class HandOverAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["reference", "structure", "handed_at", "handed_by", "signature_kind"]
    list_filter = ["signature_kind", "handed_at"]
    search_fields = ["id", "structure__name", "verification_code"]
    list_select_related = ["structure", "handed_by"]
    date_hierarchy = "handed_at"
    inlines = [HandOverItemInline]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj):
        return obj.reference


class LoanItemInline(ReadOnlyMixin, admin.TabularInline):
    model = LoanItem
    fields = ["device", "outcome", "closed_at", "closed_by"]
    readonly_fields = fields
    extra = 0


class LoanExtensionInline(ReadOnlyMixin, admin.TabularInline):
    model = LoanExtension
    fields = ["previous_due_on", "due_on", "reason", "extended_by", "extended_at"]
    readonly_fields = fields
    extra = 0


@admin.register(Loan)
class LoanAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["reference", "structure", "status", "started_on", "due_on", "units_out"]
    list_filter = ["status", "due_on"]
    search_fields = ["id", "structure__name"]
    list_select_related = ["structure"]
    date_hierarchy = "due_on"
    inlines = [LoanItemInline, LoanExtensionInline]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj):
        return obj.reference
