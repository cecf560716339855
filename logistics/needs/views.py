"""Web screens of the needs register: a structure's needs and the coordination's register (with
its exports), declaring and changing a need, and one need with the moves open to the user.

Each view turns a request into selector reads and at most one service call.
"""

import uuid
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext_lazy

from inventory.errors import DomainError
from inventory.permissions import may_read_coordination, require_screen
from inventory.selectors import organisations_of_kind, user_scope
from inventory.states import OrgKind
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.needs import selectors, services
from logistics.needs.export import needs_csv_response, needs_xlsx_response
from logistics.needs.forms import (
    LINE_ROWS,
    NeedEntry,
    NeedMoveForm,
    RegisterFilterForm,
    need_initial,
    row_count,
)
from logistics.needs.lifecycle import EDITABLE, MOVES, STATUS_TONES, NeedStatus

PAGE_SIZE = 50
# What a history row reads as: the service's reason for the change, never its code.
HISTORY_LABELS = {
    "need_create": pgettext_lazy("history", "Declared as a draft"),
    "need_submit": pgettext_lazy("history", "Submitted to the coordination"),
    "need_update": pgettext_lazy("history", "Changed"),
    "need_accept": pgettext_lazy("history", "Accepted"),
    "need_decline": pgettext_lazy("history", "Declined"),
    "need_cancel": pgettext_lazy("history", "Cancelled"),
    "need_expire": pgettext_lazy("history", "Expired without an answer"),
    "need_served": pgettext_lazy("history", "Units served updated"),
}
# The history rows that carry the need's reason: the decision or the withdrawal they record.
REASON_ROWS = frozenset({"need_decline", "need_cancel", "need_expire"})


def _need_reader(request):
    scope = user_scope(request.user)
    require_screen(
        permissions.may_read_needs(scope),
        _("Needs are for the structures and the coordination."),
    )
    return scope


def _need_declarer(request):
    scope = _need_reader(request)
    require_screen(
        permissions.may_declare_needs(scope),
        _("Your role is read only: it does not allow declaring or changing needs."),
    )
    return scope


def _visible_need(request, pk: int):
    # Another structure's need is answered exactly like a missing one.
    need = selectors.need_detail(request.user, pk)
    if need is None:
        raise Http404
    return need


def _refused(err: DomainError) -> None:
    if err.status == 404:
        raise Http404 from err
    if err.status == 403:
        raise PermissionDenied(err.message) from err


# Lists and exports


def _filter_query(filters: RegisterFilterForm) -> str:
    """The filters of the query string alone (no page): the exports' selection."""
    if not filters.is_bound:
        return ""
    return urlencode(
        [(name, filters.data[name]) for name in filters.fields if filters.data.get(name)]
    )


@login_required
def need_list(request):
    """A structure's needs; for the coordination, the register with its filters and units."""
    scope = _need_reader(request)
    register = may_read_coordination(scope)
    filters = RegisterFilterForm(request.GET or None) if register else None
    chosen = filters.filters() if filters is not None else selectors.RegisterFilters()
    needs = selectors.need_register(request.user, chosen)
    page = page_of(request, needs, size=PAGE_SIZE)
    for need in page.object_list:
        need.tone = STATUS_TONES.get(need.status, "neutral")
    context = {
        "page": page,
        "register": register,
        "may_declare": permissions.may_declare_needs(scope),
    }
    if register:
        query = _filter_query(filters)
        context |= {
            "filters": filters,
            "filtered": bool(query),
            "export_query": query,
            "units": selectors.register_units(needs, category=chosen.category),
        }
    return render(request, "needs/list.html", context)


def _export_selection(request):
    """The register's needs the query string selects, or None when a filter is wrong."""
    scope = _need_reader(request)
    require_screen(
        may_read_coordination(scope), _("The register's exports are for the coordination.")
    )
    filters = RegisterFilterForm(request.GET or None)
    if filters.is_bound and not filters.is_valid():
        return None
    needs = selectors.need_register(request.user, filters.filters())
    return needs.select_related("structure__commune__territory").iterator(chunk_size=500)


def _back_to_filters(request):
    # The list shows the same filters with their errors.
    return redirect(f"{reverse('logistics:need_list')}?{request.GET.urlencode()}")


@login_required
def need_export_csv(request):
    needs = _export_selection(request)
    return _back_to_filters(request) if needs is None else needs_csv_response(needs)


@login_required
def need_export_xlsx(request):
    needs = _export_selection(request)
    return _back_to_filters(request) if needs is None else needs_xlsx_response(needs)


# Declaring and changing a need


def _form_context(entry: NeedEntry, *, adding: bool, **extra) -> dict:
    return {
        "entry": entry,
        "form": entry.form,
        # "Add a line" only redraws the form: what was typed is no mistake yet.
        "summary": [] if adding else entry.summary(),
        **extra,
    }


@login_required
def need_create(request):
    scope = _need_declarer(request)
    structures = None
    if scope.kind != OrgKind.STRUCTURE:
        # The coordination records a need for a structure (one that phoned it in).
        structures = list(organisations_of_kind(OrgKind.STRUCTURE).values_list("pk", "name"))
    data = request.POST if request.method == "POST" else None
    adding = data is not None and "add_line" in data
    rows = row_count(data, default=LINE_ROWS) + adding
    entry = NeedEntry(
        data,
        rows=rows,
        structures=structures,
        initial={"token": uuid.uuid4().hex},
        new_row=rows - 1 if adding else None,
    )
    if data is not None and not adding and entry.is_valid():
        submit = data.get("intent") == "submit"
        try:
            need, earlier = record_once(
                user=request.user,
                name="need",
                token=entry.form.cleaned_data["token"] or uuid.uuid4().hex,
                create=lambda: services.need_create(
                    actor=request.user, submit=submit, **entry.service_arguments()
                ),
            )
        except DomainError as err:
            _refused(err)
            entry.add_domain_error(err)
        else:
            if earlier:
                messages.info(request, _("This need was already recorded."))
                return redirect("logistics:need_detail", pk=earlier)
            if submit:
                text = _("%(reference)s sent: the coordination will answer on this page.")
            else:
                text = _(
                    "%(reference)s saved as a draft: submit it to the coordination when it is "
                    "complete."
                )
            messages.success(request, text % {"reference": need.reference})
            return redirect("logistics:need_detail", pk=need.pk)
    return render(request, "needs/form.html", _form_context(entry, adding=adding))


@login_required
def need_edit(request, pk: int):
    _need_declarer(request)
    need = _visible_need(request, pk)
    if need.status not in EDITABLE:
        messages.error(
            request,
            _("%(reference)s is “%(status)s”: it can no longer be changed.")
            % {"reference": need.reference, "status": need.get_status_display()},
        )
        return redirect("logistics:need_detail", pk=need.pk)
    initial, lines = need_initial(need)
    data = request.POST if request.method == "POST" else None
    adding = data is not None and "add_line" in data
    rows = row_count(data, default=max(LINE_ROWS, len(lines) + 1)) + adding
    entry = NeedEntry(
        data,
        rows=rows,
        editing=True,
        initial=initial | {"token": uuid.uuid4().hex},
        lines=lines,
        new_row=rows - 1 if adding else None,
    )
    if data is not None and not adding and entry.is_valid():
        try:
            _updated, earlier = record_once(
                user=request.user,
                name=f"need-{need.pk}-edit",
                token=entry.form.cleaned_data["token"] or uuid.uuid4().hex,
                create=lambda: services.need_update(
                    actor=request.user,
                    need_id=need.pk,
                    version=entry.form.cleaned_data.get("version"),
                    **entry.service_arguments(),
                ),
            )
        except DomainError as err:
            _refused(err)
            entry.add_domain_error(err)
        else:
            if earlier:
                messages.info(request, _("These changes were already saved."))
            else:
                messages.success(
                    request, _("%(reference)s changed.") % {"reference": need.reference}
                )
            return redirect("logistics:need_detail", pk=need.pk)
    return render(request, "needs/form.html", _form_context(entry, adding=adding, need=need))


# One need and its moves


def _history(need) -> list[dict]:
    entries = []
    for row in selectors.need_history(need):
        reason = row.history_change_reason or ""
        label = HISTORY_LABELS.get(reason, pgettext_lazy("history", "Changed"))
        if row.history_type == "+" and reason == "need_submit":
            label = pgettext_lazy("history", "Declared and submitted to the coordination")
        user = row.history_user
        entries.append(
            {
                "when": row.history_date,
                "who": (user.get_full_name() or user.get_username()) if user else _("System"),
                "what": label,
                "status": NeedStatus(row.status).label,
                "tone": STATUS_TONES.get(row.status, "neutral"),
                "reason": row.reason if reason in REASON_ROWS else "",
            }
        )
    return entries


def _detail_context(request, need, *, posted=None, errors=None) -> dict:
    """The need's page; after a refused move, what was typed in it and the mistakes."""
    posted = posted or {}
    errors = errors or {}
    quantities = posted.get("quantities") or {}
    for line in need.line_rows:
        line.accept_value = quantities.get(line.pk, line.quantity)
        line.accept_errors = errors.get(f"quantities.{line.pk}", [])
    return {
        "need": need,
        "tone": STATUS_TONES.get(need.status, "neutral"),
        "lines": need.line_rows,
        "units_asked": sum(line.quantity for line in need.line_rows),
        "actions": selectors.need_actions(request.user, need),
        "moves": MOVES,
        "history": _history(need),
        "posted": posted,
        "errors": errors,
    }


def _move(request, need, form: NeedMoveForm):
    """The one service call of a posted move."""
    action = form.cleaned_data["action"]
    common = {"actor": request.user, "need_id": need.pk, "version": form.cleaned_data["version"]}
    reason = form.cleaned_data["reason"]
    if action == "submit":
        return services.need_submit(**common)
    if action == "accept":
        return services.need_accept(quantities=form.quantities(need.line_rows), **common)
    if action == "decline":
        return services.need_decline(reason=reason, **common)
    return services.need_cancel(reason=reason, **common)


def _done_message(need, action: str) -> str:
    values = {"reference": need.reference}
    if action == "submit":
        return _("%(reference)s sent: the coordination will answer on this page.") % values
    if action == "accept":
        units = sum(line.quantity_accepted or 0 for line in need.lines.all())
        return ngettext(
            "%(reference)s accepted: %(units)s unit to serve.",
            "%(reference)s accepted: %(units)s units to serve.",
            units,
        ) % (values | {"units": units})
    if action == "decline":
        return _("%(reference)s declined: the structure reads the reason on its page.") % values
    return _("%(reference)s cancelled.") % values


@login_required
def need_detail(request, pk: int):
    _need_reader(request)
    need = _visible_need(request, pk)
    if request.method != "POST":
        return render(request, "needs/detail.html", _detail_context(request, need))
    form = NeedMoveForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return render(request, "needs/detail.html", _detail_context(request, need))
    action = form.cleaned_data["action"]
    try:
        done = _move(request, need, form)
    except DomainError as err:
        _refused(err)
        fresh = _visible_need(request, pk)
        if err.code in {"need_transition_not_allowed", "stale"} and (
            fresh.status == MOVES[action].target
        ):
            # A second click on the same move, or a colleague's: the need is where it was sent.
            messages.info(
                request,
                _("%(reference)s is already “%(status)s”: nothing changed.")
                % {"reference": fresh.reference, "status": fresh.get_status_display()},
            )
            return redirect("logistics:need_detail", pk=pk)
        fields = err.params.get("fields") or {}
        for key, field_messages in fields.items():
            for message in field_messages:
                messages.error(request, _line_message(need, key, message))
        if not fields:
            messages.error(request, err.message)
        posted = {
            "action": action,
            "reason": form.cleaned_data["reason"],
            "quantities": form.quantities(need.line_rows),
        }
        context = _detail_context(request, fresh, posted=posted, errors=fields)
        return render(request, "needs/detail.html", context)
    messages.success(request, _done_message(done, action))
    return redirect("logistics:need_detail", pk=pk)


def _line_message(need, key: str, message) -> str:
    """A mistake about one line of the acceptance names the line it is about."""
    prefix, _dot, line_id = key.partition(".")
    if prefix == "quantities" and line_id:
        for number, line in enumerate(need.line_rows, start=1):
            if str(line.pk) == line_id:
                return _("Line %(number)s (%(category)s): %(message)s") % {
                    "number": number,
                    "category": line.category.name,
                    "message": message,
                }
    return str(message)
