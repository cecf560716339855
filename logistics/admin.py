"""Admin for shipments: read only. A shipment is created and received through the services
(the devices move with it), so the admin can neither add, edit nor delete one."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from logistics.models import Shipment, ShipmentItem


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ShipmentItemInline(ReadOnlyMixin, admin.TabularInline):
    model = ShipmentItem
    fields = ["device", "received_at", "received_by"]
    readonly_fields = fields
    extra = 0


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyMixin, SimpleHistoryAdmin):
    list_display = ["reference", "workshop", "sent_on", "expected_on", "sent_by", "carrier"]
    list_filter = ["workshop", "sent_on"]
    search_fields = ["id", "workshop__name", "carrier", "notes"]
    list_select_related = ["workshop", "sent_by"]
    date_hierarchy = "sent_on"
    inlines = [ShipmentItemInline]

    @admin.display(description=_("reference"), ordering="id")
    def reference(self, obj):
        return obj.reference
