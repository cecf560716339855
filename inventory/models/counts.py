"""How many devices each organisation holds in each status, kept by the lifecycle services in
the same transaction as the device rows they change: the home pages and the workshop queue
read a few counter rows instead of counting every device (inventory.counts writes them)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.models.organisations import Organisation
from inventory.states import Status


class DeviceCount(models.Model):
    # Cascade: an organisation is deleted only when no device points to it (PROTECT), and then
    # its counters can only be zeros.
    custodian = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("custody"),
        db_index=False,  # the unique (custodian, status) index serves it
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    count = models.BigIntegerField(_("devices"), default=0)

    class Meta:
        verbose_name = _("device count")
        verbose_name_plural = _("device counts")
        constraints = [
            # The upsert of inventory.counts conflicts on it; it also serves every read.
            models.UniqueConstraint(
                fields=["custodian", "status"], name="devicecount_custodian_status_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.custodian_id} {self.status}: {self.count}"
