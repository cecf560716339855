"""Reads of loans: who sees which, the lists (all, overdue, per structure), one loan with its
devices and extensions, and the structures' reports."""

import datetime

from django.db.models import Count, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.selectors import devices_visible_to, user_scope
from inventory.states import WITH_STRUCTURES, OrgKind
from logistics import permissions
from logistics.models import (
    DeviceReport,
    Loan,
    LoanExtension,
    LoanItem,
    LoanItemOutcome,
    LoanReminder,
    LoanStatus,
)


def loans_visible_to(actor):
    """The coordination: every loan; a structure: its own; a workshop: those whose devices it
    handed over or delivered (a kit comes back to its bench); the fund and donors: none.
    Any bench may still receive a returned device by scanning it (`return_loan`)."""
    scope = user_scope(actor)
    if not permissions.may_read_loans(scope):
        return Loan.objects.none()
    if scope.sees_all:
        return Loan.objects.all()
    if scope.kind == OrgKind.WORKSHOP:
        return Loan.objects.filter(
            Q(hand_over__handed_by_organisation=scope.organisation)
            | Q(hand_over__delivery__sender=scope.organisation)
        )
    return Loan.objects.filter(structure=scope.organisation)


def loan_list(
    actor,
    *,
    status: str = "",
    overdue: bool = False,
    structure_id: int | None = None,
    today: datetime.date | None = None,
):
    """Loans by due date (the soonest first); `overdue`: open loans past their due date."""
    rows = loans_visible_to(actor)
    if overdue:
        rows = rows.filter(status=LoanStatus.OPEN, due_on__lt=today or timezone.localdate())
    elif status in LoanStatus.values:
        rows = rows.filter(status=status)
    if structure_id is not None:
        rows = rows.filter(structure_id=structure_id)
    return rows.select_related("structure", "hand_over").order_by("due_on", "id")


def _count_of(model, **outer) -> Coalesce:
    rows = (
        model.objects.filter(**{key: OuterRef(value) for key, value in outer.items()})
        .order_by()
        .values(*outer)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_counts(rows):
    """Each loan with its devices in all (`device_count`) and its extensions
    (`extension_count`): two correlated counts per row read, so a slice costs one query
    whatever its length, and no join multiplies its rows (units_out is on the loan itself).
    For a list's pages, counts_for(page) instead: the page's total is counted without them."""
    return rows.annotate(
        device_count=_count_of(LoanItem, loan="pk"),
        extension_count=_count_of(LoanExtension, loan="pk"),
    )


def counts_for(loans: list[Loan]) -> list[Loan]:
    """The loans of a page given their `device_count` and `extension_count`, in one query."""
    counts = {
        pk: (devices, extensions)
        for pk, devices, extensions in with_counts(
            Loan.objects.filter(pk__in=[loan.pk for loan in loans])
        ).values_list("pk", "device_count", "extension_count")
    }
    for loan in loans:
        loan.device_count, loan.extension_count = counts.get(loan.pk, (0, 0))
    return loans


def loan_detail(actor, loan_id):
    try:
        pk = int(loan_id)
    except (TypeError, ValueError):
        return None
    return (
        loans_visible_to(actor)
        .select_related("structure", "hand_over", "hand_over__handed_by_organisation")
        .filter(pk=pk)
        .first()
    )


def loan_items(loan: Loan):
    return (
        LoanItem.objects.filter(loan=loan)
        .select_related("device", "device__category", "closed_by")
        .order_by("id")
    )


def loan_extensions(loan: Loan):
    return (
        LoanExtension.objects.filter(loan=loan)
        .select_related("extended_by")
        .order_by("extended_at", "id")
    )


def loan_reminders(loan: Loan):
    return LoanReminder.objects.filter(loan=loan).order_by("sent_at", "id")


def reports_visible_to(actor):
    scope = user_scope(actor)
    if scope.sees_all:
        return DeviceReport.objects.all()
    if scope.kind == OrgKind.STRUCTURE:
        return DeviceReport.objects.filter(structure=scope.organisation)
    return DeviceReport.objects.none()


def report_list(actor, *, open_only: bool = True):
    rows = reports_visible_to(actor)
    if open_only:
        rows = rows.filter(closed_at__isnull=True)
    return rows.select_related("device", "device__category", "structure").order_by(
        "-created_at", "-id"
    )


def open_reports_by_device(device_ids) -> dict[int, DeviceReport]:
    """The open report of each of these devices (one at most: a constraint), by device id."""
    rows = DeviceReport.objects.filter(device_id__in=list(device_ids), closed_at__isnull=True)
    return {report.device_id: report for report in rows}


def devices_held(actor):
    """The devices given or lent to the actor's structure, each with its loan under way
    (`open_loan_id`, `open_loan_due_on`, none for a gift) and its open report (`report_kind`,
    `report_at`): the soonest due first, then the gifts, the latest received first. One query
    for a page: the loan and the report are correlated subqueries on indexed columns."""
    open_item = LoanItem.objects.filter(device=OuterRef("pk"), outcome=LoanItemOutcome.OUT)
    open_report = DeviceReport.objects.filter(device=OuterRef("pk"), closed_at__isnull=True)
    return (
        devices_visible_to(actor)
        .filter(status__in=WITH_STRUCTURES)
        .select_related("category")
        .annotate(
            open_loan_id=Subquery(open_item.values("loan_id")[:1]),
            open_loan_due_on=Subquery(open_item.values("loan__due_on")[:1]),
            report_kind=Subquery(open_report.values("kind")[:1]),
            report_at=Subquery(open_report.values("created_at")[:1]),
        )
        .order_by(F("open_loan_due_on").asc(nulls_last=True), F("status_changed_at").desc(), "id")
    )
