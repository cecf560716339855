"""Web screens of matching runs and allocations: the coordination's runs and a new run, one run's
proposal with its explanations and moves (remove, put back, swap, approve, discard), the
matching policy, and the allocations as each role reads them (with the coordination's
cancellation).

Each view turns a request into selector reads and at most one service call.
"""

import itertools
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.permissions import may_read_coordination, require_screen
from inventory.selectors import user_scope
from inventory.states import OrgKind, Status
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.allocations import explain, selectors, services
from logistics.allocations.forms import (
    SCALAR_WEIGHTS,
    AllocationFilterForm,
    CancelForm,
    PolicyForm,
    RunActionForm,
    RunCreateForm,
)
from logistics.funding.selectors import programmes_open_on
from logistics.models import AllocationStatus, RunStatus

PAGE_SIZE = 50
RUN_TONES = {
    RunStatus.PROPOSED: "info",
    RunStatus.APPROVED: "success",
    RunStatus.DISCARDED: "muted",
}
# The moves on one line of a run, answered on the line itself.
LINE_MOVES = frozenset({"remove", "restore", "swap"})
ALLOCATION_TONES = {
    AllocationStatus.ACTIVE: "info",
    AllocationStatus.HANDED_OVER: "success",
    AllocationStatus.CANCELLED: "muted",
}


def _coordination_reader(request):
    scope = user_scope(request.user)
    require_screen(may_read_coordination(scope), _("Matching runs are the coordination's work."))
    return scope


def _refused(err: DomainError) -> None:
    if err.status == 404:
        raise Http404 from err
    if err.status == 403:
        raise PermissionDenied(err.message) from err


# Runs


def _scope_label(run) -> str:
    territory = run.territory.name if run.territory_id else _("All territories")
    category = run.category.name if run.category_id else _("All categories")
    return f"{territory} · {category}"


@login_required
def run_list(request):
    """The coordination's runs, newest first, and the form of a new run."""
    scope = _coordination_reader(request)
    may_run = permissions.may_decide_needs(scope)
    form = None
    if may_run:
        data = request.POST if request.method == "POST" else None
        form = RunCreateForm(data, initial={"token": uuid.uuid4().hex})
        if data is not None and form.is_valid():
            try:
                run, earlier = record_once(
                    user=request.user,
                    name="matching-run",
                    token=form.cleaned_data["token"] or uuid.uuid4().hex,
                    create=lambda: services.matching_run_create(
                        actor=request.user,
                        territory=form.cleaned_data["territory"],
                        category=form.cleaned_data["category"],
                    ),
                )
            except DomainError as err:
                _refused(err)
                for field, field_messages in (err.params.get("fields") or {}).items():
                    for message in field_messages:
                        form.add_error(field if field in form.fields else None, message)
                if not err.params.get("fields"):
                    form.add_error(None, err.message)
            else:
                if earlier:
                    messages.info(request, _("This run was already started."))
                    return redirect("logistics:run_detail", pk=earlier)
                messages.success(
                    request,
                    ngettext(
                        "%(reference)s proposes %(count)s device: review it, then approve it.",
                        "%(reference)s proposes %(count)s devices: review it, then approve it.",
                        run.units_proposed,
                    )
                    % {"reference": run.reference, "count": run.units_proposed},
                )
                return redirect("logistics:run_detail", pk=run.pk)
    elif request.method == "POST":
        raise PermissionDenied(_("Your role is read only: it does not allow running the matching."))
    page = page_of(request, selectors.runs_visible_to(request.user), size=PAGE_SIZE)
    for run in page.object_list:
        run.tone = RUN_TONES.get(run.status, "neutral")
        run.scope_label = _scope_label(run)
    return render(
        request,
        "allocations/run_list.html",
        {"page": page, "form": form, "may_run": may_run},
    )


def _decorate_line(run, line, taken, allocated) -> None:
    line.device.label_display = group_label_code(line.device.label_code_id)
    # Named by a refused approval, or seen taken since (reserved, moved): approving would fail.
    line.taken = line.device_id in taken or (
        run.status == RunStatus.PROPOSED and line.device.status != Status.READY
    )
    line.allocated = line.device_id in allocated


def _run_context(request, run, *, posted=None, errors=None, taken=()) -> dict:
    """The run's page; after a refused move, what was typed and the mistakes, by line."""
    posted = posted or {}
    errors = errors or {}
    lines = run.line_rows
    explain.explain_run(run, selectors.device_grades(line.device_id for line in lines))
    allocated = selectors.run_allocated_devices(run)
    for line in lines:
        _decorate_line(run, line, set(taken), allocated)
        if posted.get("line") == line.pk:
            line.swap_value = posted.get("device", "")
            line.swap_errors = errors.get("device", [])
    # By structure (the selector's order), then by need within it.
    groups = []
    for structure, group in itertools.groupby(
        lines, key=lambda line: line.need_line.need.structure
    ):
        needs: dict[int, dict] = {}
        for line in group:
            need = line.need_line.need
            entry = needs.setdefault(
                need.pk, {"need": need, "waited_days": line.waited_days, "lines": []}
            )
            entry["lines"].append(line)
        groups.append({"structure": structure, "needs": list(needs.values())})
    # Lines the run's scope left out are listed apart (folded): they were not its to serve.
    unserved = [row for row in run.unserved_rows if row.reason != "out_of_scope"]
    outside = [row for row in run.unserved_rows if row.reason == "out_of_scope"]
    if run.status == RunStatus.APPROVED:
        kept = [line for line in lines if line.allocated]
    else:
        kept = [line for line in lines if not line.removed]
    weights = run.weights
    may_decide = run.status == RunStatus.PROPOSED and permissions.may_decide_needs(
        user_scope(request.user)
    )
    return {
        "run": run,
        # The programmes an approval may count in, today; and the one an approved run's
        # allocations count in.
        "programmes": list(programmes_open_on(timezone.localdate())) if may_decide else [],
        "programme": _run_programme(run),
        "tone": RUN_TONES.get(run.status, "neutral"),
        "scope_label": _scope_label(run),
        "groups": groups,
        "unserved": unserved,
        "outside": outside,
        "units_unserved": sum(row.units for row in unserved),
        "kept": len(kept),
        "taken_count": sum(1 for line in lines if line.taken and not line.removed),
        "allocated": len(allocated),
        "structures_served": len({line.need_line.need.structure_id for line in kept}),
        "weights": [
            {"label": explain.WEIGHT_LABELS[name], "value": weights.get(name)}
            for name in ("structure_fairness", *SCALAR_WEIGHTS)
            if name in weights
        ],
        "bonuses": [
            {
                "label": explain.WEIGHT_LABELS[table],
                "values": sorted((weights.get(table) or {}).items()),
            }
            for table in ("public_bonus", "structure_type_bonus", "purpose_bonus")
        ],
        "may_decide": may_decide,
        "posted": posted,
        "errors": errors,
    }


def _run_programme(run):
    if run.status != RunStatus.APPROVED:
        return None
    allocation = (
        run.allocations.filter(programme__isnull=False).select_related("programme__funder").first()
    )
    return allocation.programme if allocation is not None else None


def _visible_run(request, pk: int):
    run = selectors.run_detail(request.user, pk)
    if run is None:
        raise Http404
    return run


def _run_move(request, run, form: RunActionForm):
    """The one service call of a posted move."""
    action = form.cleaned_data["action"]
    common = {"actor": request.user, "run_id": run.pk}
    line = form.cleaned_data["line"]
    if action in {"remove", "restore", "swap"} and line is None:
        raise DomainError("not_found", _("No such line in this run."), status=404)
    if action == "remove":
        return services.run_line_remove(line_id=line, **common)
    if action == "restore":
        return services.run_line_restore(line_id=line, **common)
    if action == "swap":
        return services.run_line_swap(line_id=line, device=form.cleaned_data["device"], **common)
    if action == "approve":
        return services.matching_run_approve(programme=form.cleaned_data["programme"], **common)
    return services.matching_run_discard(reason=form.cleaned_data["reason"], **common)


def _done_message(run, action: str, done) -> str:
    values = {"reference": run.reference}
    if action == "approve":
        return ngettext(
            "%(reference)s approved: %(count)s device reserved for its structure.",
            "%(reference)s approved: %(count)s devices reserved for their structures.",
            len(done),
        ) % (values | {"count": len(done)})
    return _("%(reference)s discarded: nothing was reserved.") % values


@login_required
def run_detail(request, pk: int):
    _coordination_reader(request)
    run = _visible_run(request, pk)
    if request.method != "POST":
        return render(request, "allocations/run_detail.html", _run_context(request, run))
    form = RunActionForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return render(request, "allocations/run_detail.html", _run_context(request, run))
    action = form.cleaned_data["action"]
    try:
        done = _run_move(request, run, form)
    except DomainError as err:
        _refused(err)
        fresh = _visible_run(request, pk)
        if err.code == "run_decided":
            # A second click on the same button, or a colleague's decision: say where it is.
            messages.info(
                request,
                _("%(reference)s is already “%(status)s”: nothing changed.")
                % {"reference": fresh.reference, "status": fresh.get_status_display()},
            )
            return redirect("logistics:run_detail", pk=pk)
        fields = err.params.get("fields") or {}
        if action != "swap":  # a swap's refusal is shown on its field, where the page lands
            messages.error(request, err.message)
            for field_messages in fields.values():
                for message in field_messages:
                    messages.error(request, message)
        posted = {
            "action": action,
            "line": form.cleaned_data["line"],
            "device": form.cleaned_data["device"],
            "reason": form.cleaned_data["reason"],
            "programme": form.cleaned_data["programme"],
        }
        errors = {"device": [err.message]} if action == "swap" else fields
        context = _run_context(
            request, fresh, posted=posted, errors=errors, taken=err.params.get("devices") or ()
        )
        return render(request, "allocations/run_detail.html", context)
    if action in LINE_MOVES:
        # Back to the line, which shows what changed (taken out, put back, swapped): a message
        # at the top would take the page away from it.
        return redirect(f"{reverse('logistics:run_detail', args=[pk])}#line-{done.pk}")
    messages.success(request, _done_message(run, action, done))
    if action == "approve" and done and done[0].programme is not None:
        messages.info(
            request,
            _("They count in the programme “%(name)s”.") % {"name": done[0].programme.name},
        )
    if action == "approve":
        return redirect(f"{reverse('logistics:allocation_list')}?run={run.pk}")
    return redirect("logistics:run_detail", pk=pk)


# The policy


@login_required
def policy(request):
    """The weights and limits of the next runs: the coordination edits them, its readers read
    them."""
    scope = _coordination_reader(request)
    may_edit = permissions.may_decide_needs(scope)
    current = services.policy_weights()
    if request.method == "POST" and not may_edit:
        raise PermissionDenied(_("Your role is read only: it does not allow changing the policy."))
    form = PolicyForm(request.POST if request.method == "POST" else None, weights=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(actor=request.user, weights=form.weights())
        except DomainError as err:
            _refused(err)
            form.add_error(None, err.message)
            for field_messages in (err.params.get("fields") or {}).values():
                for message in field_messages:
                    form.add_error(None, message)
        else:
            messages.success(request, _("The matching policy was saved: the next runs use it."))
            return redirect("logistics:matching_policy")
    values = current.to_dict()
    return render(
        request,
        "allocations/policy.html",
        {
            "form": form,
            "may_edit": may_edit,
            "summary": _form_summary(form) if form.is_bound else [],
            "values": [
                {"label": explain.WEIGHT_LABELS[name], "value": values[name]}
                for name in ("structure_fairness", *SCALAR_WEIGHTS)
            ],
            "tables": [
                {
                    "label": table["label"],
                    "values": [(field.label, field.initial) for field in table["fields"]],
                }
                for table in form.tables()
            ],
        },
    )


def _form_summary(form) -> list[dict]:
    entries = [{"anchor": "", "message": error} for error in form.non_field_errors()]
    for field in form:
        entries += [
            {"anchor": field.id_for_label, "label": field.label, "message": error}
            for error in field.errors
        ]
    return entries


# Allocations


def _allocation_reader(request):
    scope = user_scope(request.user)
    require_screen(
        scope.kind in {OrgKind.COORDINATOR, OrgKind.STRUCTURE, OrgKind.WORKSHOP},
        _("Allocations are for the coordination, the structures and the workshops."),
    )
    return scope


@login_required
def allocation_list(request):
    """The coordination's allocations (filtered), a structure's own, a workshop's devices to
    prepare; the coordination cancels an active one from its row."""
    scope = _allocation_reader(request)
    coordination = scope.kind == OrgKind.COORDINATOR
    may_cancel = coordination and permissions.may_decide_needs(scope)
    filters = AllocationFilterForm(request.GET or None) if coordination else None
    chosen = filters.filters() if filters is not None else {}
    cancel = {"allocation": None, "reason": "", "errors": []}
    if request.method == "POST":
        if not may_cancel:
            raise PermissionDenied(_("Only the coordination cancels allocations."))
        form = CancelForm(request.POST)
        if form.is_valid():
            allocation_id = form.cleaned_data["allocation"]
            try:
                done = services.allocation_cancel(
                    actor=request.user,
                    allocation_id=allocation_id,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as err:
                _refused(err)
                fields = err.params.get("fields") or {}
                cancel = {
                    "allocation": allocation_id,
                    "reason": form.cleaned_data["reason"],
                    "errors": fields.get("reason") or [err.message],
                }
            else:
                messages.success(
                    request,
                    _("%(reference)s cancelled: its device is ready for another need.")
                    % {"reference": done.reference},
                )
                return redirect(request.get_full_path())
        else:
            for field_errors in form.errors.values():
                for error in field_errors:
                    messages.error(request, error)
    # The programme an allocation counts in is shown on its row (the same query, a join).
    allocations = selectors.allocation_list(request.user, **chosen).select_related("programme")
    page = page_of(request, allocations, size=PAGE_SIZE)
    for allocation in page.object_list:
        allocation.tone = ALLOCATION_TONES.get(allocation.status, "neutral")
        allocation.device.label_display = group_label_code(allocation.device.label_code_id)
        allocation.cancellable = may_cancel and allocation.status == AllocationStatus.ACTIVE
        if cancel["allocation"] == allocation.pk:
            allocation.cancel_reason = cancel["reason"]
            allocation.cancel_errors = cancel["errors"]
    filtered = bool(chosen)
    return render(
        request,
        "allocations/allocation_list.html",
        {
            "page": page,
            "filters": filters,
            "filtered": filtered,
            "coordination": coordination,
            "workshop": scope.kind == OrgKind.WORKSHOP,
            "structure_view": scope.kind == OrgKind.STRUCTURE,
            # A device's page opens to those who may see it: the coordination, and the workshop
            # that holds it (every device of its list).
            "link_devices": scope.kind in {OrgKind.COORDINATOR, OrgKind.WORKSHOP},
            "link_needs": permissions.may_read_needs(scope),
            "may_cancel": may_cancel,
        },
    )
