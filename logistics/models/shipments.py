"""Shipments: batches of devices sent to a workshop, received there by scanning."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import Device, Organisation
from inventory.states import OrgKind


class Shipment(models.Model):
    """A batch of devices sent to a workshop; the workshop confirms receipt by scanning."""

    workshop = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="shipments_received",
        limit_choices_to={"kind": OrgKind.WORKSHOP},
        verbose_name=_("workshop"),
    )
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

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"EXP-{self.pk:05d}" if self.pk else ""


class ShipmentItem(models.Model):
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="items")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="shipment_items")
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
