"""WEEE disposals: batches of devices handed to an éco-organisme, one batch per device."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import Device, Organisation


class DisposalBatch(models.Model):
    """Recycled devices handed to an éco-organisme: one line of the WEEE register."""

    eco_organisation = models.CharField(_("éco-organisme"), max_length=120)
    collector = models.CharField(_("collector or site"), max_length=200, blank=True)
    left_on = models.DateField(_("date of removal"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=9, decimal_places=2)
    document_reference = models.CharField(_("document reference"), max_length=120)
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disposals",
        verbose_name=_("handed over by"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("WEEE disposal")
        verbose_name_plural = _("WEEE disposals")
        ordering = ["-left_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight_kg__gt=0), name="disposal_weight_positive")
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"DEEE-{self.pk:05d}" if self.pk else ""


class DisposalItem(models.Model):
    batch = models.ForeignKey(DisposalBatch, on_delete=models.PROTECT, related_name="items")
    # A recycled device leaves once: the one-to-one makes a second disposal impossible.
    device = models.OneToOneField(Device, on_delete=models.PROTECT, related_name="disposal_item")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("disposed device")
        verbose_name_plural = _("disposed devices")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.device_id}"
