"""Donations and the spreadsheets their devices were imported from."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models.organisations import Organisation
from inventory.states import OrgKind


class Donation(models.Model):
    """A batch of devices one donor hands over, with the donor's release attestation."""

    donor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="donations",
        limit_choices_to={"kind": OrgKind.DONOR},
        verbose_name=_("donor"),
    )
    received_on = models.DateField(_("date of the donation"))
    pickup_address = models.CharField(_("pickup address"), max_length=250, blank=True)
    expected_count = models.PositiveIntegerField(_("devices announced"), null=True, blank=True)
    received_count = models.PositiveIntegerField(
        _("devices counted on arrival"), null=True, blank=True
    )
    # The donor's attestation that the devices are released for reuse.
    released_accounts = models.BooleanField(_("user accounts signed out"), default=False)
    released_management = models.BooleanField(
        _("MDM, Autopilot and Apple Business Manager released"), default=False
    )
    released_firmware = models.BooleanField(_("BIOS/UEFI passwords removed"), default=False)
    attested_by = models.CharField(_("attestation signed by"), max_length=120, blank=True)
    attested_on = models.DateField(_("attestation date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The workshop that collected the devices itself (ECODAIR collects from companies) and
    # recorded the donation; empty when the coordination took it in. It sees its own only.
    collected_by = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="collected_donations",
        limit_choices_to={"kind": OrgKind.WORKSHOP},
        verbose_name=_("collected by (workshop)"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # Whether the coordination's to-do counts this donation now (a certificate to issue, an
    # attestation incomplete, counts that differ). Set by the services that change any of
    # these (inventory.documents.services.donation_todo_refresh), so that the home reads the
    # open donations through a partial index instead of every donation ever received. Derived:
    # no history of its own.
    todo_open = models.BooleanField(_("on the coordination's to-do"), default=True, editable=False)
    # Which of the to-do's lines counts it, kept with `todo_open`: the home counts each line
    # over the open donations' own rows, without reading their devices and media again.
    todo_certificate = models.BooleanField(
        _("erasure certificate to issue"), default=False, editable=False
    )
    todo_attestation = models.BooleanField(
        _("release attestation incomplete"), default=False, editable=False
    )
    todo_counts = models.BooleanField(_("counts differ"), default=False, editable=False)
    history = HistoricalRecords(
        excluded_fields=["todo_open", "todo_certificate", "todo_attestation", "todo_counts"]
    )

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_on", "-id"]
        indexes = [
            models.Index(
                fields=["id"],
                condition=models.Q(todo_open=True),
                name="donation_todo_open_idx",
            ),
            # The first certificates to issue, oldest donation first, on the home.
            models.Index(
                fields=["received_on", "id"],
                condition=models.Q(todo_certificate=True),
                name="donation_todo_certificate_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.donor}"

    @property
    def reference(self) -> str:
        return f"DON-{self.pk:05d}" if self.pk else ""

    @property
    def attestation_complete(self) -> bool:
        return bool(
            self.released_accounts
            and self.released_management
            and self.released_firmware
            and self.attested_by
            and self.attested_on
        )


class DeviceImport(models.Model):
    """A donor's spreadsheet imported into a donation; its digest keeps a file from twice."""

    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="imports", verbose_name=_("donation")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    row_count = models.PositiveIntegerField(_("rows"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name


# Reconditioning: one cycle per pass through a workshop. Its records (locks, erasures, tests,
# repairs, grade) decide whether the device may be called reconditioned and become ready.
