"""Every scan read at a bench, applied or refused."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.compiled import CompiledSaveMixin
from inventory.models.devices import Device
from inventory.models.organisations import Organisation


class ScanResult(models.TextChoices):
    FOUND = "found", _("Device found")
    APPLIED = "applied", _("Move applied")
    ALREADY_DONE = "already_done", _("Already done")
    REFUSED = "refused", _("Refused")
    UNASSIGNED = "unassigned", _("Label not yet assigned")
    INVALID = "invalid", _("Not a valid code")
    UNKNOWN = "unknown", _("Unknown code")


class ScanEvent(CompiledSaveMixin, models.Model):
    """Every scan, refused ones too: who, when, what was read, what came of it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scans"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scanned_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    client_time = models.DateTimeField(_("scanned at (device clock)"), null=True, blank=True)
    # The scanning client's own id for this scan: uploading a batch again replays, never repeats.
    client_id = models.CharField(max_length=64, blank=True)
    # A batch-mode session (one move applied scan after scan); empty for single scans.
    batch = models.CharField(_("batch"), max_length=36, blank=True, db_index=True)
    raw = models.CharField(_("text read"), max_length=300)
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    action = models.CharField(_("move"), max_length=40, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=ScanResult.choices)
    error_code = models.CharField(_("error code"), max_length=60, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-scanned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_id"],
                condition=~Q(client_id=""),
                name="scan_client_id_unique_per_user",
            ),
            models.CheckConstraint(
                condition=Q(result__in=ScanResult.values), name="scan_result_valid"
            ),
        ]
        indexes = [models.Index(fields=["device", "-scanned_at"], name="scan_device_idx")]

    def __str__(self) -> str:
        return f"{self.raw} → {self.result}"
