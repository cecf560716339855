"""The structure's space: its home page (inventory's `home` serves it to structure staff, see
logistics/apps.py). What waits for the structure, block by block: receipts to sign,
deliveries on their way, loans to return, the devices it holds with their one-tap reports,
and its needs. Each block reads at most BLOCK_ROWS rows (one more tells whether to link to the
whole list) in one query: the page costs the same whatever the structure holds."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory.permissions import require_screen
from inventory.selectors import user_scope
from inventory.states import OrgKind, Status
from logistics import permissions
from logistics.deliveries.selectors import delivery_list
from logistics.deliveries.stages import RECEIVABLE
from logistics.handovers.selectors import hand_over_list
from logistics.loans import selectors as loans
from logistics.loans.views import overdue_days, report_buttons
from logistics.models import LoanStatus, ReportKind
from logistics.needs.lifecycle import OPEN, STATUS_TONES
from logistics.needs.selectors import need_register

BLOCK_ROWS = 10


def _block(rows) -> tuple[list, bool]:
    """The block's rows, and whether there are more than it shows."""
    rows = list(rows[: BLOCK_ROWS + 1])
    return rows[:BLOCK_ROWS], len(rows) > BLOCK_ROWS


@login_required
def structure_space(request):
    scope = user_scope(request.user)
    require_screen(scope.kind == OrgKind.STRUCTURE, _("This page is a structure's space."))
    user = request.user
    today = timezone.localdate()
    here = reverse("home")

    receipts, more_receipts = _block(hand_over_list(user, unsigned=True))
    for hand_over in receipts:
        hand_over.url = reverse("logistics:hand_over_detail", args=[hand_over.pk])

    deliveries, more_deliveries = _block(delivery_list(user, stage="open"))
    for delivery in deliveries:
        delivery.url = reverse("logistics:delivery_detail", args=[delivery.pk])
        delivery.receivable = delivery.stage in RECEIVABLE

    open_loans, more_loans = _block(
        loans.with_counts(loans.loan_list(user, status=LoanStatus.OPEN, today=today))
    )
    for loan in open_loans:
        loan.overdue_days = overdue_days(loan, today)

    may_report = permissions.may_report_devices(scope)
    devices, more_devices = _block(loans.devices_held(user))
    for device in devices:
        device.overdue = bool(device.open_loan_due_on and device.open_loan_due_on < today)
        device.report_label = ReportKind(device.report_kind).label if device.report_kind else ""
        device.report_buttons = report_buttons(device.status) if may_report else []

    needs, more_needs = _block(need_register(user).filter(status__in=OPEN))
    for need in needs:
        need.tone = STATUS_TONES.get(need.status, "neutral")

    devices_url = reverse("inventory:device_list")
    return render(
        request,
        "structure_space/home.html",
        {
            "receipts": receipts,
            "more_receipts": more_receipts,
            "receipts_url": reverse("logistics:hand_over_list"),
            "deliveries": deliveries,
            "more_deliveries": more_deliveries,
            "deliveries_url": reverse("logistics:delivery_list"),
            "loans": open_loans,
            "more_loans": more_loans,
            "loans_url": f"{reverse('logistics:loan_list')}?{urlencode({'status': 'open'})}",
            "overdue_url": reverse("logistics:loan_overdue"),
            "devices": devices,
            "more_devices": more_devices,
            "on_loan_url": f"{devices_url}?{urlencode({'status': Status.ON_LOAN})}",
            "given_url": f"{devices_url}?{urlencode({'status': Status.GIVEN})}",
            "needs": needs,
            "more_needs": more_needs,
            "may_declare": permissions.may_declare_needs(scope),
            "may_report": may_report,
            "here": here,
        },
    )
