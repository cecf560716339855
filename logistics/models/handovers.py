"""Hand-overs: allocated devices given or lent to their structure in one step, against a
receipt (bon de remise) that the person receiving signs on screen or on paper."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import Device, HistoryNote, Organisation
from logistics.models.needs import Mode


class SignatureKind(models.TextChoices):
    NONE = "", _("Not signed yet")
    DRAWN = "drawn", _("Signed on screen")
    PAPER = "paper", _("Signed paper copy")


class HandOver(models.Model):
    structure = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="hand_overs",
        verbose_name=_("structure"), db_index=False,
    )  # fmt: skip
    # The delivery that brought the devices, when one did (none when the structure collected).
    delivery = models.ForeignKey(
        "logistics.Shipment", on_delete=models.PROTECT, null=True, blank=True,
        related_name="hand_overs", verbose_name=_("delivery"),
    )  # fmt: skip
    verification_code = models.CharField(_("verification code"), max_length=20, unique=True)
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("handed over by"),
    )  # fmt: skip
    handed_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("handing organisation"),
    )  # fmt: skip
    # The person who receives, as they give their name: it is printed on the receipt.
    received_by_name = models.CharField(_("received by"), max_length=120)
    received_by_role = models.CharField(_("their role"), max_length=120, blank=True)
    handed_at = models.DateTimeField(_("handed over at"), auto_now_add=True)
    # The signature: drawn on the screen (a PNG), or a signed paper copy uploaded later.
    signature_kind = models.CharField(
        _("signature"), max_length=8, choices=SignatureKind.choices, blank=True, default=""
    )
    signature_file = models.CharField(_("signature file"), max_length=200, blank=True)
    signature_sha256 = models.CharField(_("SHA-256 of the signature"), max_length=64, blank=True)
    signer_name = models.CharField(_("signed by"), max_length=120, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signature_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("signature recorded by"),
    )  # fmt: skip
    # The receipt PDF as last issued (at the hand-over, then again once signed), kept with the
    # media files as evidence; its SHA-256 is shown by the public check.
    receipt_file = models.CharField(_("receipt file"), max_length=200, blank=True)
    receipt_sha256 = models.CharField(_("SHA-256 of the receipt"), max_length=64, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    history = HistoricalRecords(bases=[HistoryNote], no_db_index=["structure", "delivery"])

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["-handed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(signature_kind__in=SignatureKind.values),
                name="handover_signature_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(signature_kind="") | Q(signed_at__isnull=False),
                name="handover_signed_has_time",
            ),
        ]
        indexes = [
            models.Index(fields=["structure", "handed_at", "id"], name="handover_struct_idx"),
            models.Index(fields=["handed_at", "id"], name="handover_at_idx"),
            models.Index(
                fields=["structure", "handed_at"],
                condition=Q(signature_kind=""),
                name="handover_unsigned_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"REM-{self.pk:05d}" if self.pk else ""

    @property
    def is_signed(self) -> bool:
        return bool(self.signature_kind)


class HandOverItem(models.Model):
    """One device of a hand-over, with what the receipt says of it as it was that day."""

    hand_over = models.ForeignKey(
        HandOver, on_delete=models.PROTECT, related_name="items", verbose_name=_("hand-over")
    )
    # One hand-over per allocation: the database's guard behind the services' locks.
    allocation = models.OneToOneField(
        "logistics.Allocation", on_delete=models.PROTECT, related_name="hand_over_item",
        verbose_name=_("allocation"),
    )  # fmt: skip
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="hand_over_items",
        verbose_name=_("device"),
    )  # fmt: skip
    mode = models.CharField(_("gift or loan"), max_length=10, choices=Mode.choices)
    # The receipt's row, frozen: label code, category, maker, model, serial, grade, and the
    # donor's being a public body (prix solidaires).
    snapshot = models.JSONField(_("as handed over"), default=dict)

    class Meta:
        verbose_name = _("handed-over device")
        verbose_name_plural = _("handed-over devices")
        ordering = ["hand_over", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="handover_mode_valid")
        ]

    def __str__(self) -> str:
        return f"{self.hand_over_id}: {self.device_id}"
