"""Shipments: batches of devices sent to a workshop and received there by scanning; and
deliveries, the same machinery outbound: allocated devices from a workshop to a structure,
directly or through the coordination's depot, received at arrival by scanning or ticking."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from inventory.models import Device, Organisation
from inventory.states import OrgKind


class ShipmentKind(models.TextChoices):
    TO_WORKSHOP = "to_workshop", _("To a workshop")
    DELIVERY = "delivery", _("Delivery to a structure")


class DeliveryStage(models.TextChoices):
    """Where a delivery stands (logistics.deliveries.stages holds the moves between them)."""

    PREPARING = "preparing", _("Being prepared")
    TO_DEPOT = "to_depot", _("On its way to the depot")
    AT_DEPOT = "at_depot", _("At the depot")
    TO_STRUCTURE = "to_structure", _("On its way to the structure")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", pgettext_lazy("delivery", "Cancelled")


class Shipment(models.Model):
    """A batch of devices on the move. To a workshop: the workshop confirms receipt by
    scanning. A delivery: allocated devices to their structure, item by item at arrival."""

    kind = models.CharField(
        _("kind"), max_length=12, choices=ShipmentKind.choices, default=ShipmentKind.TO_WORKSHOP
    )
    workshop = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments_received",
        limit_choices_to={"kind": OrgKind.WORKSHOP},
        verbose_name=_("workshop"),
    )
    # A delivery's destination, and whether it stops at the coordination's depot first.
    structure = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliveries",
        limit_choices_to={"kind": OrgKind.STRUCTURE},
        verbose_name=_("structure"),
    )
    via_depot = models.BooleanField(_("through the depot"), default=False)
    stage = models.CharField(
        _("stage"), max_length=12, choices=DeliveryStage.choices, blank=True, default=""
    )
    dispatched_at = models.DateTimeField(_("left at"), null=True, blank=True)
    depot_received_at = models.DateTimeField(_("arrived at the depot at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sender = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shipments_sent",
        verbose_name=_("sending organisation"),
    )
    sent_on = models.DateField(_("date sent"))
    expected_on = models.DateField(_("expected arrival"), null=True, blank=True)
    carrier = models.CharField(_("carrier or vehicle"), max_length=120, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shipment")
        verbose_name_plural = _("shipments")
        ordering = ["-sent_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=ShipmentKind.TO_WORKSHOP)
                    & Q(workshop__isnull=False)
                    & Q(structure__isnull=True)
                    & Q(stage="")
                )
                | (
                    Q(kind=ShipmentKind.DELIVERY)
                    & Q(structure__isnull=False)
                    & Q(stage__in=DeliveryStage.values)
                ),
                name="shipment_kind_destination",
            ),
        ]
        indexes = [
            models.Index(
                fields=["structure", "sent_on", "id"],
                condition=Q(kind="delivery"),
                name="delivery_structure_idx",
            ),
            models.Index(
                fields=["stage", "sent_on", "id"],
                condition=Q(kind="delivery"),
                name="delivery_stage_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_delivery(self) -> bool:
        return self.kind == ShipmentKind.DELIVERY

    @property
    def reference(self) -> str:
        if not self.pk:
            return ""
        return f"LIV-{self.pk:05d}" if self.is_delivery else f"EXP-{self.pk:05d}"


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="items")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="shipment_items")
    # A delivery's item: the allocation that sends the device to the structure.
    allocation = models.ForeignKey(
        "logistics.Allocation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="delivery_items",
        verbose_name=_("allocation"),
    )
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shipped device")
        verbose_name_plural = _("shipped devices")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "device"], name="shipment_device_once"),
            # A device travels in one shipment at a time.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(received_at__isnull=True),
                name="shipment_one_open_per_device",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.shipment_id}: {self.device_id}"
