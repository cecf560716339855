"""Loans: devices lent to a structure with a due date, extended, returned device by device
(an itinerant kit is one loan of several devices), reminded by e-mail; and what a structure
reports of a device it holds (a return announced, an end of life, a breakage, a loss)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from inventory.models import Device, HistoryNote, Organisation


class LoanStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("loan", "In progress")
    ENDED = "ended", pgettext_lazy("loan", "Ended")


class Loan(models.Model):
    structure = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="loans",
        verbose_name=_("structure"), db_index=False,
    )  # fmt: skip
    hand_over = models.OneToOneField(
        "logistics.HandOver", on_delete=models.PROTECT, related_name="loan",
        verbose_name=_("hand-over"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=8, choices=LoanStatus.choices, default=LoanStatus.OPEN
    )
    started_on = models.DateField(_("start"))
    due_on = models.DateField(_("due date"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    # Units still out (not returned, not lost): the lists read it without counting items.
    units_out = models.PositiveSmallIntegerField(_("devices still out"), default=0)
    # The loan's version for the API's ETag/If-Match: bumped by every change.
    version = models.PositiveIntegerField(_("version"), default=1)
    history = HistoricalRecords(bases=[HistoryNote], no_db_index=["structure", "hand_over"])

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LoanStatus.values), name="loan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(due_on__gte=models.F("started_on")), name="loan_due_after_start"
            ),
        ]
        indexes = [
            # The overdue lists: open loans by due date, network-wide and per structure.
            models.Index(
                fields=["due_on", "id"], condition=Q(status="open"), name="loan_open_due_idx"
            ),
            models.Index(
                fields=["structure", "due_on", "id"],
                condition=Q(status="open"),
                name="loan_struct_open_due_idx",
            ),
            models.Index(fields=["structure", "started_on", "id"], name="loan_struct_idx"),
            models.Index(fields=["started_on", "id"], name="loan_started_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"PRE-{self.pk:05d}" if self.pk else ""


class LoanItemOutcome(models.TextChoices):
    OUT = "", pgettext_lazy("loan item", "Out")
    RETURNED = "returned", pgettext_lazy("loan item", "Returned")
    LOST = "lost", pgettext_lazy("loan item", "Declared lost")


class LoanItem(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="items")
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="loan_items", verbose_name=_("device")
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=LoanItemOutcome.choices, blank=True, default=""
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("recorded by"),
    )  # fmt: skip
    history = HistoricalRecords(no_db_index=["device"])

    class Meta:
        verbose_name = _("lent device")
        verbose_name_plural = _("lent devices")
        ordering = ["loan", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome__in=LoanItemOutcome.values), name="loanitem_outcome_valid"
            ),
            # At most one loan under way per device (reliability: the database's guard).
            models.UniqueConstraint(
                fields=["device"], condition=Q(outcome=""), name="loan_one_open_per_device"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.device_id}"


class LoanExtension(models.Model):
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="extensions")
    previous_due_on = models.DateField(_("previous due date"))
    due_on = models.DateField(_("new due date"))
    reason = models.TextField(_("reason"), max_length=1000)
    extended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("extended by"),
    )  # fmt: skip
    extended_at = models.DateTimeField(_("extended at"), auto_now_add=True)

    class Meta:
        verbose_name = _("loan extension")
        verbose_name_plural = _("loan extensions")
        ordering = ["loan", "extended_at", "id"]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.previous_due_on} → {self.due_on}"


class ReminderStage(models.TextChoices):
    SOON = "soon", _("Due in a week")
    DUE = "due", _("Due today")
    LATE = "late", _("A week late")
    VERY_LATE = "very_late", _("A month late")


class LoanReminder(models.Model):
    """One e-mail reminder per loan, stage and due date: the daily command claims the row
    before sending, so that a second run (or a concurrent one) sends nothing new. An extension
    moves the due date, and the stages start again for the new date."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="reminders")
    stage = models.CharField(_("stage"), max_length=10, choices=ReminderStage.choices)
    due_on = models.DateField(_("due date reminded"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    recipients = models.PositiveSmallIntegerField(_("recipients"), default=0)

    class Meta:
        verbose_name = _("loan reminder")
        verbose_name_plural = _("loan reminders")
        ordering = ["loan", "sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "stage", "due_on"], name="loan_reminder_once_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.stage}"


class ReportKind(models.TextChoices):
    RETURN = "return", _("Return of a loan announced")
    END_OF_LIFE = "end_of_life", _("End of life (for WEEE collection)")
    BROKEN = "broken", _("Broken")
    LOST = "lost", _("Lost or stolen")


class DeviceReport(models.Model):
    """What a structure says of a device it holds; the coordination closes it once dealt with
    (the device came back, was collected, or was declared lost)."""

    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="structure_reports",
        verbose_name=_("device"),
    )  # fmt: skip
    structure = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="device_reports",
        verbose_name=_("structure"), db_index=False,
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=12, choices=ReportKind.choices)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("reported by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("closed by"),
    )  # fmt: skip
    closing_note = models.TextField(_("how it was closed"), max_length=1000, blank=True)
    history = HistoricalRecords(bases=[HistoryNote], no_db_index=["structure", "device"])

    class Meta:
        verbose_name = _("device report")
        verbose_name_plural = _("device reports")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ReportKind.values), name="device_report_kind_valid"
            ),
            # One open report per device: a second tap on "announce a return" changes nothing.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(closed_at__isnull=True),
                name="device_report_one_open",
            ),
        ]
        indexes = [
            models.Index(
                fields=["created_at", "id"],
                condition=Q(closed_at__isnull=True),
                name="device_report_open_idx",
            ),
            models.Index(fields=["structure", "created_at", "id"], name="device_report_struct_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.device_id}: {self.kind}"
