"""Reads of deliveries: who sees which, the list, one delivery with its items, and what a
workshop still has to prepare."""

from django.db.models import Count, Exists, OuterRef, Q

from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.models import (
    Allocation,
    AllocationStatus,
    DeliveryStage,
    Shipment,
    ShipmentItem,
    ShipmentKind,
)


def deliveries_visible_to(actor):
    """The coordination: every delivery; a workshop: those it sends; a structure: those
    addressed to it; anyone else: none."""
    scope = user_scope(actor)
    rows = Shipment.objects.filter(kind=ShipmentKind.DELIVERY)
    if not permissions.may_read_deliveries(scope):
        return rows.none()
    if scope.sees_all:
        return rows
    if scope.kind == OrgKind.WORKSHOP:
        return rows.filter(sender=scope.organisation)
    return rows.filter(structure=scope.organisation)


def delivery_list(actor, *, stage: str = "", structure_id: int | None = None):
    rows = deliveries_visible_to(actor)
    if stage in DeliveryStage.values:
        rows = rows.filter(stage=stage)
    elif stage == "open":
        rows = rows.exclude(stage__in=[DeliveryStage.DELIVERED, DeliveryStage.CANCELLED])
    if structure_id is not None:
        rows = rows.filter(structure_id=structure_id)
    return (
        rows.select_related("structure", "sender")
        .annotate(
            device_count=Count("items"),
            received_count=Count("items", filter=Q(items__received_at__isnull=False)),
        )
        .order_by("-sent_on", "-id")
    )


def delivery_detail(actor, delivery_id):
    return (
        deliveries_visible_to(actor)
        .select_related("structure", "structure__commune", "sender", "sent_by")
        .filter(pk=delivery_id)
        .first()
    )


def delivery_items(delivery: Shipment):
    return (
        ShipmentItem.objects.filter(shipment=delivery)
        .select_related(
            "device",
            "device__category",
            "allocation",
            "allocation__need_line__need",
            "received_by",
        )
        .order_by("id")
    )


def allocations_to_prepare(actor):
    """Active allocations whose device is in no open shipment yet, as the actor may send them:
    the workshop's "allocated, to prepare", the coordination's "to deliver"."""
    scope = user_scope(actor)
    if not permissions.may_prepare_deliveries(scope) and scope.kind not in (
        permissions.SHIPPING_KINDS
    ):
        return Allocation.objects.none()
    open_item = ShipmentItem.objects.filter(
        device_id=OuterRef("device_id"), received_at__isnull=True
    )
    rows = Allocation.objects.filter(status=AllocationStatus.ACTIVE).filter(~Exists(open_item))
    if not scope.sees_all:
        rows = rows.filter(device__custodian=scope.organisation)
    return rows.select_related("device", "device__category", "structure").order_by(
        "structure__name", "structure_id", "id"
    )
