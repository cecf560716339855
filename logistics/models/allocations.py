"""Matching runs and allocations: what the optimiser proposed for the accepted needs, what the
coordination approved, and the allocation that reserves one device for one need line."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from inventory.models import Category, Device, HistoryNote, Organisation, Territory
from logistics.models.needs import Mode, NeedLine


class MatchingPolicy(models.Model):
    """The weights and limits the next matching runs use (matching.Weights as a dict), kept as
    data that the coordination edits; each run stores its own copy. One row."""

    weights = models.JSONField(_("weights and limits"), default=dict)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("updated by"),
    )  # fmt: skip
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(bases=[HistoryNote])

    class Meta:
        verbose_name = _("matching policy")
        verbose_name_plural = _("matching policies")

    def __str__(self) -> str:
        return str(_("Matching policy"))


class RunStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    APPROVED = "approved", _("Approved")
    DISCARDED = "discarded", _("Discarded")


class MatchingRun(models.Model):
    status = models.CharField(
        _("status"), max_length=12, choices=RunStatus.choices, default=RunStatus.PROPOSED
    )
    # The run's scope: one EPT, one category, or the whole register.
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("territory"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    # The weights and limits the run used, as matching.Weights.to_dict(): a run can be read
    # and explained later even after the coordination changed the defaults.
    weights = models.JSONField(_("weights and limits"))
    units_asked = models.PositiveIntegerField(_("units asked"), default=0)
    units_proposed = models.PositiveIntegerField(_("units proposed"), default=0)
    total_cost = models.BigIntegerField(_("total cost"), default=0)
    solve_ms = models.PositiveIntegerField(_("solver time (ms)"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("started by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("decided by"),
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    history = HistoricalRecords(bases=[HistoryNote])

    class Meta:
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="run_created_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RunStatus.values), name="run_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"APP-{self.pk:05d}" if self.pk else ""


class RunLine(models.Model):
    """One device proposed for one need line, with the terms of its cost."""

    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="lines")
    need_line = models.ForeignKey(NeedLine, on_delete=models.PROTECT, related_name="+")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="+")
    cost = models.BigIntegerField(_("cost"))
    terms = models.JSONField(_("terms of the cost"))
    met = models.JSONField(_("constraints met"))
    # The coordination took the line out of the proposal before approving it.
    removed = models.BooleanField(_("removed"), default=False)
    # Swapped in by the coordination: the optimiser proposed another device.
    swapped = models.BooleanField(_("swapped"), default=False)

    class Meta:
        verbose_name = _("proposed line")
        verbose_name_plural = _("proposed lines")
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "device"], name="runline_device_once")
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.device_id} → {self.need_line_id}"


class RunUnserved(models.Model):
    """A need line the run could not serve wholly, with why."""

    run = models.ForeignKey(MatchingRun, on_delete=models.CASCADE, related_name="unserved")
    need_line = models.ForeignKey(NeedLine, on_delete=models.PROTECT, related_name="+")
    units = models.PositiveIntegerField(_("units not served"))
    reason = models.CharField(_("reason"), max_length=30)
    detail = models.JSONField(_("detail"), default=dict)

    class Meta:
        verbose_name = _("unserved line")
        verbose_name_plural = _("unserved lines")
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.need_line_id} × {self.units} ({self.reason})"


class AllocationStatus(models.TextChoices):
    ACTIVE = "active", _("Active (device reserved)")
    # An allocation, feminine in French (une attribution annulée), where a need is masculine.
    CANCELLED = "cancelled", pgettext_lazy("allocation", "Cancelled")
    HANDED_OVER = "handed_over", _("Handed over")


class Allocation(models.Model):
    """One device reserved for one line of a structure's need: made by approving a matching
    run, ended by a cancellation (the device is released) or by the hand-over."""

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="allocations", verbose_name=_("device")
    )
    need_line = models.ForeignKey(
        NeedLine, on_delete=models.PROTECT, related_name="allocations",
        verbose_name=_("need line"),
    )  # fmt: skip
    # The need's structure, kept on the row: lists and scoping read it without two joins.
    structure = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="allocations",
        verbose_name=_("structure"), db_index=False,
    )  # fmt: skip
    run = models.ForeignKey(
        MatchingRun, on_delete=models.PROTECT, null=True, blank=True,
        related_name="allocations", verbose_name=_("matching run"),
    )  # fmt: skip
    mode = models.CharField(_("gift or loan"), max_length=10, choices=Mode.choices)
    # The funding programme the allocation counts in, chosen when it is approved (eligibility
    # checked by logistics.funding.services); none when no programme finances it.
    programme = models.ForeignKey(
        "logistics.FundingProgramme", on_delete=models.PROTECT, null=True, blank=True,
        related_name="allocations", verbose_name=_("funding programme"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=12, choices=AllocationStatus.choices,
        default=AllocationStatus.ACTIVE,
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("approved at"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    history = HistoricalRecords(bases=[HistoryNote], no_db_index=["structure", "device"])

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AllocationStatus.values), name="allocation_status_valid"
            ),
            # At most one active allocation per device: the database's guard behind the
            # services' locks (reliability R4: an ORM write that skips them still fails).
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(status=AllocationStatus.ACTIVE),
                name="allocation_one_active_per_device",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="allocation_created_idx"),
            models.Index(
                fields=["structure", "created_at", "id"], name="allocation_struct_created_idx"
            ),
            models.Index(
                fields=["status", "created_at", "id"], name="allocation_status_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"ALL-{self.pk:06d}" if self.pk else ""
