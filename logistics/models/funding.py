"""Funding programmes and the fund's frozen reports.

A funder (an organisation of kind "fund": CAF92, the Département, the Banque des Territoires…)
runs programmes; an allocation is attributed to at most one programme when it is approved, and
a device counts in one programme only. A report issued for a period keeps its figures and its
files as they were: later corrections change the live figures, never an issued report."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import HistoryNote, Organisation


class FundingProgramme(models.Model):
    funder = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programmes",
        verbose_name=_("funder"),
    )  # fmt: skip
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    # Targets: a number of devices, a budget in euros, or both (the fund's own accounting
    # follows the budget; Réemploi reports the devices against it).
    target_devices = models.PositiveIntegerField(_("target (devices)"), null=True, blank=True)
    target_budget = models.DecimalField(
        _("target (budget, €)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Eligibility, each an empty list for "any": EPT codes, structure types, publics, purposes.
    territories = models.JSONField(_("eligible territories (EPT)"), default=list, blank=True)
    structure_types = models.JSONField(_("eligible structure types"), default=list, blank=True)
    publics = models.JSONField(_("eligible publics"), default=list, blank=True)
    purposes = models.JSONField(_("eligible purposes"), default=list, blank=True)
    is_active = models.BooleanField(_("open to new allocations"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords(excluded_fields=["version"], bases=[HistoryNote])

    class Meta:
        verbose_name = _("funding programme")
        verbose_name_plural = _("funding programmes")
        ordering = ["-starts_on", "name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="programme_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def reference(self) -> str:
        return f"PRG-{self.pk:04d}" if self.pk else ""


class FundReport(models.Model):
    """A report issued for a period and a scope: its figures and files, frozen."""

    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    # None: the whole network. A programme's report is visible to its funder's readers.
    programme = models.ForeignKey(
        FundingProgramme, on_delete=models.PROTECT, null=True, blank=True,
        related_name="reports", verbose_name=_("programme"),
    )  # fmt: skip
    figures = models.JSONField(_("figures"))
    figures_sha256 = models.CharField(_("SHA-256 of the figures"), max_length=64)
    pdf_file = models.CharField(_("PDF file"), max_length=200)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64)
    csv_file = models.CharField(_("CSV file"), max_length=200)
    csv_sha256 = models.CharField(_("SHA-256 of the CSV"), max_length=64)
    xlsx_file = models.CharField(_("XLSX file"), max_length=200)
    xlsx_sha256 = models.CharField(_("SHA-256 of the XLSX"), max_length=64)
    verification_code = models.CharField(_("verification code"), max_length=20, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("issued by"),
    )  # fmt: skip
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fund report")
        verbose_name_plural = _("fund reports")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["issued_at", "id"], name="fundreport_issued_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="fundreport_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"RAP-{self.pk:05d}" if self.pk else ""
