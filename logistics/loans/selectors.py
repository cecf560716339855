"""Reads of loans: who sees which, the lists (all, overdue, per structure), one loan with its
devices and extensions, and the structures' reports."""

import datetime

from django.db.models import Q
from django.utils import timezone

from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.models import DeviceReport, Loan, LoanExtension, LoanItem, LoanStatus


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
