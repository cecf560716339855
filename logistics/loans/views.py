"""Web screens of loans and device reports: the loans (all, overdue), one loan with its devices,
extensions and reminders, its extension and its return; what a structure reports of a device
it holds, and the coordination's list of open reports with their closing.

Each view turns a request into selector reads and at most one service call.
"""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from inventory.errors import DomainError
from inventory.permissions import require_screen
from inventory.selectors import organisations_of_kind, user_scope
from inventory.states import OrgKind, Status
from inventory.web.paging import page_of
from logistics import permissions
from logistics.loans import selectors, services
from logistics.loans.forms import (
    DeviceReportForm,
    LoanExtendForm,
    LoanFilterForm,
    LoanReturnForm,
    ReportCloseForm,
)
from logistics.models import LoanItemOutcome, LoanStatus, ReportKind

PAGE_SIZE = 50
OUTCOME_TONES = {
    LoanItemOutcome.OUT: "info",
    LoanItemOutcome.RETURNED: "success",
    LoanItemOutcome.LOST: "danger",
}
# The reports a structure may make of a device, by its status, with their buttons: one tap
# each; a loss is confirmed first (it closes the device's loan at once), see
# templates/loans/_report_buttons.html.
REPORT_BUTTONS = {
    ReportKind.RETURN: gettext_lazy("Announce its return"),
    ReportKind.END_OF_LIFE: gettext_lazy("End of life: to collect"),
    ReportKind.BROKEN: gettext_lazy("Report it broken"),
}
REPORTS_FOR = {
    Status.ON_LOAN: (ReportKind.RETURN, ReportKind.BROKEN),
    Status.GIVEN: (ReportKind.END_OF_LIFE, ReportKind.BROKEN),
}


def report_buttons(status: str) -> list[dict]:
    """The one-tap reports a structure may make of a device in this status (pure)."""
    return [
        {"kind": kind.value, "label": REPORT_BUTTONS[kind]} for kind in REPORTS_FOR.get(status, ())
    ]


def overdue_days(loan, today: datetime.date) -> int:
    """Days past the due date of a loan in progress; 0 when it is not late (pure)."""
    if loan.status != LoanStatus.OPEN or loan.due_on >= today:
        return 0
    return (today - loan.due_on).days


def _loan_reader(request):
    scope = user_scope(request.user)
    require_screen(
        permissions.may_read_loans(scope),
        _("Loans are for the coordination, the workshops and the structures."),
    )
    return scope


def _visible_loan(request, pk: int):
    # Another structure's loan is answered exactly like a missing one.
    loan = selectors.loan_detail(request.user, pk)
    if loan is None:
        raise Http404
    return loan


def _refused(err: DomainError) -> None:
    if err.status == 404:
        raise Http404 from err
    if err.status == 403:
        raise PermissionDenied(err.message) from err


# The lists


def _list(request, *, overdue_only: bool):
    scope = _loan_reader(request)
    structures = None
    if scope.sees_all:
        structures = list(organisations_of_kind(OrgKind.STRUCTURE).values_list("pk", "name"))
    filters = LoanFilterForm(request.GET or None, structures=structures)
    chosen = filters.filters()
    if overdue_only:
        chosen["overdue"] = True
    today = timezone.localdate()
    rows = selectors.loan_list(request.user, today=today, **chosen)
    page = page_of(request, rows, size=PAGE_SIZE)
    if page.object_list:
        selectors.counts_for(page.object_list)
    # One path reversed for the page, each row's id put in it: no reverse() per row.
    detail = reverse("logistics:loan_detail", args=[2**31 - 1])
    for loan in page.object_list:
        loan.url = detail.replace(str(2**31 - 1), str(loan.pk))
        loan.overdue_days = overdue_days(loan, today)
    filtered = any(value for key, value in chosen.items() if key != "overdue" or not overdue_only)
    return render(
        request,
        "loans/list.html",
        {
            "page": page,
            "filters": filters,
            "filtered": filtered,
            "overdue_only": overdue_only or chosen["overdue"],
            "overdue_page": overdue_only,
            "by_structure": scope.kind != OrgKind.STRUCTURE,
            "own": scope.kind == OrgKind.STRUCTURE,
            "today": today,
            "reports_url": reverse("logistics:report_list")
            if scope.sees_all or scope.kind == OrgKind.STRUCTURE
            else "",
        },
    )


@login_required
def loan_list(request):
    """The loans the user may read, soonest due first: all for the coordination, its own for a
    structure, those it handed over or delivered for a workshop."""
    return _list(request, overdue_only=False)


@login_required
def loan_overdue(request):
    """The loans in progress past their due date: the coordination's list, or a structure's."""
    return _list(request, overdue_only=True)


# One loan


def _detail_context(request, loan, scope, *, extend_form=None, return_form=None) -> dict:
    today = timezone.localdate()
    items = list(selectors.loan_items(loan))
    out = [item for item in items if item.outcome == LoanItemOutcome.OUT]
    is_open = loan.status == LoanStatus.OPEN
    may_extend = is_open and permissions.may_extend_loans(scope)
    may_return = is_open and bool(out) and permissions.may_record_returns(scope)
    may_report = (
        is_open
        and permissions.may_report_devices(scope)
        and loan.structure_id == scope.organisation.pk
    )
    reports = selectors.open_reports_by_device(i.device_id for i in out) if out else {}
    own = getattr(scope.organisation, "pk", None)
    for item in items:
        item.tone = OUTCOME_TONES.get(item.outcome, "neutral")
        item.report = reports.get(item.device_id)
        item.device.linkable = scope.sees_all or item.device.custodian_id == own
        item.report_buttons = (
            report_buttons(item.device.status)
            if may_report and item.outcome == LoanItemOutcome.OUT
            else []
        )
    if may_extend and extend_form is None:
        extend_form = LoanExtendForm(loan=loan)
    if may_return and return_form is None:
        return_form = LoanReturnForm(items=items, loan=loan)
    return {
        "loan": loan,
        "items": items,
        "out_count": len(out),
        "overdue_days": overdue_days(loan, today),
        "extensions": list(selectors.loan_extensions(loan)),
        "reminders": list(selectors.loan_reminders(loan)),
        "hand_over_url": reverse("logistics:hand_over_detail", args=[loan.hand_over_id]),
        "extend_form": extend_form if may_extend else None,
        "return_form": return_form if may_return else None,
        "may_report": may_report,
        "here": request.path,
    }


@login_required
def loan_detail(request, pk: int):
    scope = _loan_reader(request)
    loan = _visible_loan(request, pk)
    return render(request, "loans/detail.html", _detail_context(request, loan, scope))


def _hidden_field_refused(request, form) -> bool:
    """A form whose hidden version is missing or wrong was not made by this page as it is."""
    if "version" in form.errors:
        messages.error(request, _("This form could not be read. Here is the loan as it is now."))
        return True
    return False


@login_required
@require_POST
def loan_extend(request, pk: int):
    scope = _loan_reader(request)
    require_screen(permissions.may_extend_loans(scope), _("Only the coordination extends loans."))
    loan = _visible_loan(request, pk)
    form = LoanExtendForm(request.POST)
    if not form.is_valid():
        if _hidden_field_refused(request, form):
            return redirect("logistics:loan_detail", pk=pk)
        context = _detail_context(request, loan, scope, extend_form=form)
        return render(request, "loans/detail.html", context, status=400)
    data = form.cleaned_data
    try:
        loan = services.loan_extend(
            actor=request.user,
            loan_id=pk,
            due_on=data["due_on"],
            reason=data["reason"],
            version=data["version"],
        )
    except DomainError as err:
        _refused(err)
        if err.code == "invalid":
            for field, errors in (err.params.get("fields") or {}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
            context = _detail_context(request, loan, scope, extend_form=form)
            return render(request, "loans/detail.html", context, status=400)
        fresh = _visible_loan(request, pk)
        if err.code == "stale" and fresh.due_on == data["due_on"]:
            # A second click on the same extension, or a colleague's: the loan is where it
            # was sent.
            messages.info(
                request,
                _("%(reference)s is already due on %(date)s: nothing changed.")
                % {"reference": fresh.reference, "date": date_format(fresh.due_on)},
            )
        else:
            messages.error(request, err.message)
        return redirect("logistics:loan_detail", pk=pk)
    messages.success(
        request,
        _("%(reference)s extended: now due on %(date)s.")
        % {"reference": loan.reference, "date": date_format(loan.due_on)},
    )
    return redirect("logistics:loan_detail", pk=pk)


@login_required
@require_POST
def loan_return(request, pk: int):
    scope = _loan_reader(request)
    require_screen(
        permissions.may_record_returns(scope),
        _("Only the coordination and the workshops record returns."),
    )
    loan = _visible_loan(request, pk)
    # Every device of the loan is read from the form, those already back included: a second
    # click on the same return is recognised as such below.
    items = list(selectors.loan_items(loan))
    form = LoanReturnForm(request.POST, items=items)
    if not form.is_valid():
        if _hidden_field_refused(request, form):
            return redirect("logistics:loan_detail", pk=pk)
        context = _detail_context(request, loan, scope, return_form=form)
        return render(request, "loans/detail.html", context, status=400)
    returned, lost = form.returned_ids(), form.lost_ids()
    try:
        loan = services.loan_return(
            actor=request.user,
            loan_id=pk,
            returned=returned,
            lost=lost,
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except DomainError as err:
        _refused(err)
        fresh = _visible_loan(request, pk)
        outcomes = {item.device_id: item.outcome for item in selectors.loan_items(fresh)}
        asked = {device: LoanItemOutcome.RETURNED for device in returned} | {
            device: LoanItemOutcome.LOST for device in lost
        }
        if all(outcomes.get(device) == outcome for device, outcome in asked.items()):
            messages.info(request, _("This return was already recorded: nothing changed."))
        else:
            messages.error(request, err.message)
        return redirect("logistics:loan_detail", pk=pk)
    if returned:
        messages.success(
            request,
            ngettext(
                "%(count)s device of %(reference)s returned: it goes through the workshop "
                "again before it is lent or given.",
                "%(count)s devices of %(reference)s returned: they go through the workshop "
                "again before they are lent or given.",
                len(returned),
            )
            % {"count": len(returned), "reference": loan.reference},
        )
    if lost:
        messages.warning(
            request,
            ngettext(
                "%(count)s device of %(reference)s declared lost.",
                "%(count)s devices of %(reference)s declared lost.",
                len(lost),
            )
            % {"count": len(lost), "reference": loan.reference},
        )
    if loan.status == LoanStatus.ENDED:
        messages.info(request, _("Every device is back or accounted for: the loan has ended."))
    return redirect("logistics:loan_detail", pk=pk)


# Device reports


def _back(request, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("home")


@login_required
@require_POST
def report_create(request):
    """A structure reports a device it holds (one tap): a return announced, an end of life, a
    breakage, a loss. The same report twice says it was already made."""
    scope = user_scope(request.user)
    require_screen(
        permissions.may_report_devices(scope), _("Only a structure reports its devices.")
    )
    form = DeviceReportForm(request.POST)
    back = _back(request, request.POST.get("next", ""))
    if not form.is_valid():
        messages.error(request, _("This report could not be read. Try again from the list."))
        return redirect(back)
    data = form.cleaned_data
    try:
        report, changed = services.device_report_create(
            actor=request.user, device_id=data["device"], kind=data["kind"], note=data["note"]
        )
    except DomainError as err:
        _refused(err)
        fields = err.params.get("fields") or {}
        for errors in fields.values():
            for error in errors:
                messages.error(request, error)
        if not fields:
            messages.warning(request, err.message)
        return redirect(back)
    values = {
        "code": report.device.label_display,
        "kind": report.get_kind_display(),
        "date": date_format(timezone.localtime(report.created_at), "SHORT_DATETIME_FORMAT"),
    }
    if not changed:
        messages.info(
            request,
            _("%(code)s was already reported (%(kind)s) on %(date)s: nothing changed.") % values,
        )
    elif report.kind == ReportKind.LOST:
        messages.success(
            request,
            _("%(code)s declared lost or stolen. The coordination is informed.") % values,
        )
    else:
        messages.success(
            request,
            _("%(code)s reported (%(kind)s). The coordination will contact you.") % values,
        )
    return redirect(back)


def _report_reader(request):
    scope = user_scope(request.user)
    require_screen(
        scope.sees_all or scope.kind == OrgKind.STRUCTURE,
        _("Device reports are for the structures and the coordination."),
    )
    return scope


@login_required
def report_list(request):
    """The open reports, newest first (with ?closed=1, the closed ones too): the coordination
    deals with them; a structure reads its own."""
    scope = _report_reader(request)
    show_closed = request.GET.get("closed") == "1"
    rows = selectors.report_list(request.user, open_only=not show_closed).select_related(
        "created_by"
    )
    page = page_of(request, rows, size=PAGE_SIZE)
    detail = reverse("inventory:device_detail", args=[2**62 - 1])
    for report in page.object_list:
        device = report.device
        device.url = ""
        if scope.sees_all or device.custodian_id == getattr(scope.organisation, "pk", None):
            device.url = detail.replace(str(2**62 - 1), str(device.pk))
    return render(
        request,
        "loans/report_list.html",
        {
            "page": page,
            "show_closed": show_closed,
            "may_close": permissions.may_close_reports(scope),
            "own": scope.kind == OrgKind.STRUCTURE,
        },
    )


@login_required
@require_POST
def report_close(request, pk: int):
    scope = user_scope(request.user)
    require_screen(permissions.may_close_reports(scope), _("Only the coordination closes reports."))
    form = ReportCloseForm(request.POST)
    back = reverse("logistics:report_list")
    if request.POST.get("closed") == "1":
        back += "?" + urlencode({"closed": "1"})
    if not form.is_valid():
        for error in form.errors.get("note", []):
            messages.error(request, _("To close the report: %(error)s") % {"error": error})
        return redirect(back)
    try:
        report = services.device_report_close(
            actor=request.user, report_id=pk, note=form.cleaned_data["note"]
        )
    except DomainError as err:
        _refused(err)
        messages.error(request, err.message)
        return redirect(back)
    messages.success(
        request,
        _("The report on %(code)s is closed.") % {"code": report.device.label_display},
    )
    return redirect(back)
