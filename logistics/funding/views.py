"""Web screens of the funding programmes: their list, one programme with its progress against
its target, and the coordination's form to record or change one.

The coordination reads and records every programme; a fund reads its own (another funder's
programme answers 404); the other roles get the 403 page. Each view turns a request into
selector reads and at most one service call.
"""

import datetime as dt
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from inventory.errors import DomainError
from inventory.models import Territory
from inventory.models.organisations import StructureType
from inventory.permissions import require_screen
from inventory.selectors import Scope, user_scope
from inventory.web.paging import page_of
from logistics import permissions
from logistics.fund_reports.forms import MAX_YEARS, years_later
from logistics.fund_reports.selectors import programmes_visible_to
from logistics.fund_reports.views import display
from logistics.funding import selectors, services
from logistics.funding.forms import ProgrammeForm
from logistics.models import FundingProgramme, Public, Purpose

PAGE_SIZE = 50
NOT_YOURS = gettext_lazy("Funding programmes are for the coordination and the funds.")
ONLY_COORDINATION = gettext_lazy("Only the coordination records funding programmes.")
STATE_TONES = {"open": "success", "upcoming": "info", "ended": "muted", "closed": "warning"}


def programme_state(programme: FundingProgramme, today: dt.date) -> tuple[str, str]:
    """(state, label): open to new allocations today, not started, ended, or closed (pure)."""
    if not programme.is_active:
        return "closed", pgettext("programme", "Closed to new allocations")
    if today < programme.starts_on:
        return "upcoming", pgettext("programme", "Not started")
    if today > programme.ends_on:
        return "ended", pgettext("programme", "Ended")
    return "open", pgettext("programme", "Open")


def _reader(request) -> Scope:
    scope = user_scope(request.user)
    require_screen(permissions.may_read_fund_reports(scope), NOT_YOURS)
    return scope


def _manager(request) -> Scope:
    scope = _reader(request)
    require_screen(permissions.may_manage_programmes(scope), ONLY_COORDINATION)
    return scope


def _visible(request, pk: int) -> FundingProgramme:
    # Another funder's programme is answered exactly like a missing one.
    programme = programmes_visible_to(request.user).filter(pk=pk).first()
    if programme is None:
        raise Http404
    return programme


@login_required
def programme_list(request):
    """The programmes the user may read, the latest first: all for the coordination, with its
    button to record one; a fund's own, read only."""
    scope = _reader(request)
    today = timezone.localdate()
    page = page_of(request, programmes_visible_to(request.user), size=PAGE_SIZE)
    detail = reverse("logistics:programme_detail", args=[2**31 - 1])
    for programme in page.object_list:
        programme.url = detail.replace(str(2**31 - 1), str(programme.pk))
        programme.state, programme.state_label = programme_state(programme, today)
        programme.tone = STATE_TONES[programme.state]
    return render(
        request,
        "funding/list.html",
        {
            "page": page,
            "may_manage": permissions.may_manage_programmes(scope),
            "coordination": scope.sees_all,
        },
    )


def _labels(values: list[str], choices: dict) -> list[str]:
    return [str(choices.get(value, value)) for value in values]


def _figures_url(programme: FundingProgramme, today: dt.date) -> str:
    """The dashboard on the programme's period so far (its whole period if it has not begun),
    within the dashboard's longest period."""
    end = min(programme.ends_on, today) if programme.starts_on <= today else programme.ends_on
    start = programme.starts_on
    while end >= years_later(start, MAX_YEARS):
        start = years_later(start, 1)
    query = urlencode(
        {"start": start.isoformat(), "end": end.isoformat(), "programme": programme.pk}
    )
    return f"{reverse('logistics:fund_dashboard')}?{query}"


@login_required
def programme_detail(request, pk: int):
    scope = _reader(request)
    programme = _visible(request, pk)
    today = timezone.localdate()
    state, state_label = programme_state(programme, today)
    progress = selectors.programme_progress(programme)
    territories = dict(
        Territory.objects.filter(code__in=programme.territories).values_list("code", "name")
    )
    return render(
        request,
        "funding/detail.html",
        {
            "programme": programme,
            "state_label": state_label,
            "tone": STATE_TONES[state],
            "progress": progress,
            "handed_over": display(progress["handed_over"], "count"),
            "share": display(progress["progress"], "rate"),
            "meter": min(100, round((progress["progress"] or 0) * 100)),
            "eligibility": [
                (
                    _("Territories (EPT)"),
                    [f"{territories.get(c, c)} ({c})" for c in programme.territories],
                ),
                (
                    _("Structure types"),
                    _labels(programme.structure_types, dict(StructureType.choices)),
                ),
                (_("Publics"), _labels(programme.publics, dict(Public.choices))),
                (_("Purposes"), _labels(programme.purposes, dict(Purpose.choices))),
            ],
            "may_manage": permissions.may_manage_programmes(scope),
            "coordination": scope.sees_all,
            "figures_url": _figures_url(programme, today),
        },
    )


def _refusal_to_form(form: ProgrammeForm, err: DomainError) -> None:
    fields = err.params.get("fields") or {}
    for field, field_errors in fields.items():
        for error in field_errors:
            form.add_error(field if field in form.fields else None, error)
    if not fields:
        form.add_error(None, err.message)


def _form_page(request, form, *, programme=None, status=200):
    return render(
        request,
        "funding/form.html",
        {"form": form, "programme": programme, "summary": form.summary() if form.errors else []},
        status=status,
    )


@login_required
def programme_create(request):
    _manager(request)
    if request.method != "POST":
        return _form_page(request, ProgrammeForm())
    form = ProgrammeForm(request.POST)
    if not form.is_valid():
        return _form_page(request, form, status=400)
    try:
        programme = services.programme_create(actor=request.user, **form.arguments())
    except DomainError as err:
        if err.status == 403:
            raise PermissionDenied(err.message) from err
        _refusal_to_form(form, err)
        return _form_page(request, form, status=400)
    messages.success(
        request,
        _("%(reference)s “%(name)s” recorded.")
        % {"reference": programme.reference, "name": programme.name},
    )
    return redirect("logistics:programme_detail", pk=programme.pk)


@login_required
def programme_edit(request, pk: int):
    _manager(request)
    programme = _visible(request, pk)
    if request.method != "POST":
        return _form_page(request, ProgrammeForm(programme=programme), programme=programme)
    form = ProgrammeForm(request.POST, programme=programme)
    if not form.is_valid():
        return _form_page(request, form, programme=programme, status=400)
    try:
        updated = services.programme_update(
            actor=request.user,
            programme_id=programme.pk,
            version=form.cleaned_data.get("version"),
            **form.arguments(),
        )
    except DomainError as err:
        if err.status == 404:
            raise Http404 from err
        if err.status == 403:
            raise PermissionDenied(err.message) from err
        _refusal_to_form(form, err)
        return _form_page(
            request, form, programme=programme, status=412 if err.code == "stale" else 400
        )
    if updated.version == programme.version:
        messages.info(request, _("Nothing was changed."))
    else:
        messages.success(request, _("%(reference)s saved.") % {"reference": updated.reference})
    return redirect("logistics:programme_detail", pk=updated.pk)
