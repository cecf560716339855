"""Web screens of deliveries: the list each role reads, preparing deliveries from the allocated
devices, one delivery with its stages and moves (dispatch, the depot, cancellation, receipt at
arrival by scanning or ticking), and its printable delivery note.

Each view turns a request into selector reads and at most one service call; preparing the
deliveries of several structures calls the service once per structure, in one transaction.
"""

import itertools
import uuid
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.permissions import require_screen
from inventory.selectors import user_scope
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.deliveries import selectors, services
from logistics.deliveries.forms import (
    DeliveryActionForm,
    DeliveryFilterForm,
    PrepareAllForm,
    PrepareForm,
)
from logistics.deliveries.stages import RECEIVABLE
from logistics.models import Allocation, AllocationStatus, DeliveryStage

PAGE_SIZE = 50
# The allocations the preparation page lists for ticking: one van's load, and well under the
# request's field limit (DATA_UPLOAD_MAX_NUMBER_FIELDS). "Prepare all" takes the rest.
PREPARE_LIMIT = services.MAX_DEVICES
STAGE_TONES = {
    DeliveryStage.PREPARING: "warning",
    DeliveryStage.TO_DEPOT: "info",
    DeliveryStage.AT_DEPOT: "info",
    DeliveryStage.TO_STRUCTURE: "info",
    DeliveryStage.DELIVERED: "success",
    DeliveryStage.CANCELLED: "muted",
}
STEP_STATES = {
    "done": gettext_lazy("done"),
    "current": gettext_lazy("current stage"),
    "upcoming": gettext_lazy("to come"),
}


def _delivery_reader(request):
    scope = user_scope(request.user)
    require_screen(
        permissions.may_read_deliveries(scope),
        _("Deliveries are for the coordination, the workshops and the structures."),
    )
    return scope


def _visible_delivery(request, pk: int):
    # Another organisation's delivery is answered exactly like a missing one.
    delivery = selectors.delivery_detail(request.user, pk)
    if delivery is None:
        raise Http404
    return delivery


def _forbidden(err: DomainError) -> None:
    if err.status == 403:
        raise PermissionDenied(err.message) from err


def _error_messages(err: DomainError) -> list[str]:
    """What a refusal says: its field messages when it names fields, else its message."""
    fields = err.params.get("fields") or {}
    said = [str(message) for field_messages in fields.values() for message in field_messages]
    return said or [str(err.message)]


# The list


@login_required
def delivery_list(request):
    """The coordination's deliveries, a workshop's (those it sends), a structure's (those
    addressed to it)."""
    scope = _delivery_reader(request)
    coordination = scope.sees_all
    filters = DeliveryFilterForm(request.GET or None, structures=coordination)
    chosen = filters.filters()
    page = page_of(request, selectors.delivery_list(request.user, **chosen), size=PAGE_SIZE)
    may_receive = permissions.may_receive_deliveries(scope)
    for delivery in page.object_list:
        delivery.tone = STAGE_TONES.get(delivery.stage, "neutral")
        delivery.to_receive = (
            may_receive
            and delivery.stage in RECEIVABLE
            and delivery.received_count < delivery.device_count
        )
    may_prepare = permissions.may_prepare_deliveries(scope)
    return render(
        request,
        "deliveries/list.html",
        {
            "page": page,
            "filters": filters,
            "filtered": bool(chosen),
            "coordination": coordination,
            "may_prepare": may_prepare,
            "to_prepare": (
                selectors.allocations_to_prepare(request.user).count() if may_prepare else 0
            ),
        },
    )


# Preparing deliveries


def _prepare_reader(request):
    scope = user_scope(request.user)
    require_screen(
        scope.kind in permissions.SHIPPING_KINDS,
        _("Deliveries are prepared by the coordination and the workshops."),
    )
    return scope


def _form_refusal(form, err: DomainError) -> None:
    """The service's refusal on the fields it names, the rest above the form."""
    fields = err.params.get("fields") or {}
    for field, field_messages in fields.items():
        name = "allocation" if field == "allocations" else field
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)
    if not fields:
        form.add_error(None, err.message)


def _prepare_ticked(request, form: PrepareForm):
    """One delivery per structure of the ticked allocations, all or none; None when refused
    (the form carries why), [] when an earlier submission of the same form prepared them."""
    if not form.is_valid():
        return None
    ids = form.cleaned_data["allocation"]
    structures = dict(Allocation.objects.filter(pk__in=ids).values_list("pk", "structure_id"))
    if len(structures) != len(ids):
        form.add_error(
            "allocation",
            _("Some ticked devices are no longer allocated: here is the list as it is now."),
        )
        return None
    by_structure = defaultdict(list)
    for pk in ids:
        by_structure[structures[pk]].append(pk)
    made = []

    def create():
        # All the structures' deliveries, or none: a refusal for one undoes the others.
        with transaction.atomic():
            deliveries = [
                services.delivery_create(
                    actor=request.user, allocation_ids=group, **form.shared_arguments()
                )
                for _structure, group in sorted(by_structure.items())
            ]
        made.extend(deliveries)
        return deliveries[0]

    try:
        _first, earlier = record_once(
            user=request.user,
            name="delivery-prepare",
            token=form.cleaned_data["token"] or uuid.uuid4().hex,
            create=create,
        )
    except DomainError as err:
        _forbidden(err)
        _form_refusal(form, err)
        return None
    return [] if earlier else made


def _prepare_everything(request, form: PrepareAllForm):
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return None
    made = []

    def create():
        made.extend(
            services.deliveries_build(actor=request.user, via_depot=form.cleaned_data["via_depot"])
        )
        return made[0]

    try:
        _first, earlier = record_once(
            user=request.user,
            name="delivery-prepare-all",
            token=form.cleaned_data["token"] or uuid.uuid4().hex,
            create=create,
        )
    except DomainError as err:
        _forbidden(err)
        for message in _error_messages(err):
            messages.error(request, message)
        return None
    return [] if earlier else made


def _prepared(request, made: list):
    if not made:
        messages.info(request, _("These deliveries were already prepared."))
        return redirect(f"{reverse('logistics:delivery_list')}?stage={DeliveryStage.PREPARING}")
    if len(made) == 1:
        delivery = made[0]
        count = delivery.items.count()
        messages.success(
            request,
            ngettext(
                "%(reference)s prepared: %(count)s device for %(structure)s. Print its "
                "delivery note, then dispatch it.",
                "%(reference)s prepared: %(count)s devices for %(structure)s. Print its "
                "delivery note, then dispatch it.",
                count,
            )
            % {
                "reference": delivery.reference,
                "count": count,
                "structure": delivery.structure.name,
            },
        )
        return redirect("logistics:delivery_detail", pk=delivery.pk)
    messages.success(
        request,
        ngettext(
            "%(count)s delivery prepared, one per structure: %(references)s.",
            "%(count)s deliveries prepared, one per structure: %(references)s.",
            len(made),
        )
        % {"count": len(made), "references": ", ".join(d.reference for d in made)},
    )
    return redirect(f"{reverse('logistics:delivery_list')}?stage={DeliveryStage.PREPARING}")


def _ticked(form: PrepareForm) -> set[str] | None:
    """The ids to show ticked: as posted after a refusal, every one on a first display."""
    if not form.is_bound:
        return None
    return {value.strip() for value in form.data.getlist("allocation")}


@login_required
def delivery_prepare(request):
    """The allocated devices waiting to leave, by structure: tick them, and each structure gets
    its delivery; or prepare them all in one click."""
    scope = _prepare_reader(request)
    may_prepare = permissions.may_prepare_deliveries(scope)
    data = request.POST if request.method == "POST" else None
    if data is not None and not may_prepare:
        raise PermissionDenied(_("Your role is read only: it does not allow preparing deliveries."))
    everything = data is not None and "prepare_all" in data
    form = PrepareForm(None if everything else data, initial={"token": uuid.uuid4().hex})
    all_form = PrepareAllForm(
        data if everything else None, prefix="all", initial={"token": uuid.uuid4().hex}
    )
    if data is not None:
        made = (
            _prepare_everything(request, all_form) if everything else _prepare_ticked(request, form)
        )
        if made is not None:
            return _prepared(request, made)
    rows = list(selectors.allocations_to_prepare(request.user)[: PREPARE_LIMIT + 1])
    ticked = _ticked(form)
    for allocation in rows:
        allocation.device.label_display = group_label_code(allocation.device.label_code_id)
        allocation.ticked = ticked is None or str(allocation.pk) in ticked
    shown = rows[:PREPARE_LIMIT]
    groups = [
        {"structure": structure, "allocations": list(group)}
        for structure, group in itertools.groupby(shown, key=lambda a: a.structure)
    ]
    return render(
        request,
        "deliveries/prepare.html",
        {
            "form": form,
            "all_form": all_form,
            "groups": groups,
            "shown": len(shown),
            "truncated": len(rows) > PREPARE_LIMIT,
            "may_prepare": may_prepare,
        },
    )


# One delivery


def _decorate_items(scope, items) -> None:
    """Display helpers on each item, without a query: a device is linked only where the user
    may open its page (the coordination; a workshop, while the device is in its custody)."""
    for item in items:
        device = item.device
        device.label_display = group_label_code(device.label_code_id)
        device.linkable = scope.sees_all or (
            scope.organisation is not None and device.custodian_id == scope.organisation.pk
        )


def _steps(delivery) -> list[str]:
    if delivery.stage == DeliveryStage.CANCELLED:
        return [DeliveryStage.PREPARING, DeliveryStage.CANCELLED]
    depot = [DeliveryStage.TO_DEPOT, DeliveryStage.AT_DEPOT] if delivery.via_depot else []
    return [
        DeliveryStage.PREPARING,
        *depot,
        DeliveryStage.TO_STRUCTURE,
        DeliveryStage.DELIVERED,
    ]


def _timeline(delivery) -> list[dict]:
    """The delivery's stages in order, each done, current or to come, with when and by whom it
    was reached (its history: one query)."""
    reached = {}
    rows = delivery.history.select_related("history_user").order_by("history_date", "history_id")
    for row in rows:
        reached.setdefault(row.stage, row)
    steps = _steps(delivery)
    current = steps.index(delivery.stage) if delivery.stage in steps else 0
    timeline = []
    for index, stage in enumerate(steps):
        state = "done" if index < current else "current" if index == current else "upcoming"
        if index == current and stage in (DeliveryStage.DELIVERED, DeliveryStage.CANCELLED):
            state = "done"  # an end, not a stage that waits for a move
        row = reached.get(stage) if state != "upcoming" else None
        user = row.history_user if row is not None else None
        timeline.append(
            {
                "label": DeliveryStage(stage).label,
                "state": state,
                "state_label": STEP_STATES[state],
                "current": index == current,
                "when": row.history_date if row is not None else None,
                "who": (user.get_full_name() or user.get_username()) if user else "",
            }
        )
    return timeline


def _actions(scope, delivery, items) -> set[str]:
    """The moves this user may post on this delivery now (the services decide again)."""
    actions = set()
    prepare = permissions.may_prepare_deliveries(scope)
    if prepare and delivery.stage == DeliveryStage.PREPARING:
        actions |= {"cancel", "remove"}
        if items:
            actions.add("dispatch")
    if prepare and scope.sees_all and delivery.stage == DeliveryStage.AT_DEPOT:
        actions.add("dispatch")
    if scope.sees_all and scope.can_write and delivery.stage == DeliveryStage.TO_DEPOT:
        actions.add("receive_at_depot")
    if permissions.may_receive_deliveries(scope) and delivery.stage in RECEIVABLE:
        actions.add("receive")
    return actions


def _hand_over_url(scope, delivery, items) -> str:
    """The hand-over of this delivery's arrived devices, for those who hand over, while one of
    them still waits for it."""
    if not permissions.may_hand_over(scope):
        return ""
    waiting = any(
        item.received_at is not None
        and item.allocation is not None
        and item.allocation.status == AllocationStatus.ACTIVE
        for item in items
    )
    if not waiting:
        return ""
    return f"{reverse('logistics:hand_over_create')}?delivery={delivery.pk}"


def _detail_context(request, scope, delivery, *, outcome=None) -> dict:
    items = list(selectors.delivery_items(delivery))
    _decorate_items(scope, items)
    received = sum(1 for item in items if item.received_at is not None)
    actions = _actions(scope, delivery, items)
    return {
        "delivery": delivery,
        "tone": STAGE_TONES.get(delivery.stage, "neutral"),
        "items": items,
        "device_count": len(items),
        "received_count": received,
        "remaining": len(items) - received,
        "timeline": _timeline(delivery),
        "actions": actions,
        # The moves of the actions panel; receipts and removals are on the devices' rows.
        "moves": actions & {"dispatch", "receive_at_depot", "cancel"},
        "hand_over_url": _hand_over_url(scope, delivery, items),
        "outcome": outcome,
    }


def _move(request, delivery, form: DeliveryActionForm):
    """The one service call of a posted move on the whole delivery, or on one of its devices."""
    action = form.cleaned_data["action"]
    common = {"actor": request.user, "delivery_id": delivery.pk}
    if action == "dispatch":
        return services.delivery_dispatch(**common)
    if action == "receive_at_depot":
        return services.delivery_receive_at_depot(**common)
    if action == "cancel":
        return services.delivery_cancel(reason=form.cleaned_data["reason"], **common)
    item = form.cleaned_data["item"]
    if item is None:
        raise DomainError("not_found", _("Choose the device to take out."), status=404)
    return services.delivery_item_remove(item_id=item, **common)


def _done_message(before, done, action: str, item_code: str) -> tuple[int, str]:
    values = {"reference": done.reference}
    if action != "remove" and before.stage == done.stage:
        # A second click, or a colleague's: the delivery is where this move leads.
        return messages.INFO, _("%(reference)s is already “%(stage)s”: nothing changed.") % (
            values | {"stage": done.get_stage_display()}
        )
    if action == "dispatch" and done.stage == DeliveryStage.TO_DEPOT:
        return messages.SUCCESS, _("%(reference)s left for the depot.") % values
    if action == "dispatch":
        return messages.SUCCESS, _("%(reference)s left for %(structure)s.") % (
            values | {"structure": before.structure.name}
        )
    if action == "receive_at_depot":
        return messages.SUCCESS, _(
            "%(reference)s arrived at the depot: send it on when the structure expects it."
        ) % values
    if action == "cancel":
        return messages.SUCCESS, _(
            "%(reference)s cancelled: its devices wait to be prepared again."
        ) % values
    return messages.SUCCESS, _(
        "%(code)s taken out of %(reference)s: it waits to be prepared again."
    ) % (values | {"code": item_code})


def _receipt(request, scope, delivery, form: DeliveryActionForm):
    """One device arrived, scanned or ticked: the page answers with the outcome (a scanner's
    batch mode, static/js/scan.js, reads it from the page)."""
    item_id = form.cleaned_data["item"]
    raw = form.cleaned_data["raw"]
    if item_id is None and not raw:
        outcome = {
            "result": "refused",
            "code": "empty",
            "message": _("Scan or type the label code of a device."),
        }
    else:
        try:
            result = services.delivery_receive(
                actor=request.user,
                delivery_id=delivery.pk,
                raw=raw if item_id is None else None,
                item_id=item_id,
            )
        except DomainError as err:
            _forbidden(err)
            message = str(err.message)
            if err.code.startswith("code_"):
                message = f"{raw[:40]} — {message}"
            outcome = {"result": "refused", "code": err.code, "message": message}
        else:
            code = group_label_code(result.item.device.label_code_id)
            if result.changed:
                outcome = {
                    "result": "applied",
                    "message": _("%(code)s received.") % {"code": code},
                }
            else:
                outcome = {
                    "result": "already_done",
                    "message": _("%(code)s was already received: nothing changed.")
                    % {"code": code},
                }
    # Read again, so that the stage, the list and the counts include this receipt.
    fresh = _visible_delivery(request, delivery.pk)
    if outcome["result"] == "applied" and fresh.stage == DeliveryStage.DELIVERED:
        outcome["delivered"] = True
    context = _detail_context(request, scope, fresh, outcome=outcome)
    return render(request, "deliveries/detail.html", context)


@login_required
def delivery_detail(request, pk: int):
    scope = _delivery_reader(request)
    delivery = _visible_delivery(request, pk)
    if request.method != "POST":
        return render(request, "deliveries/detail.html", _detail_context(request, scope, delivery))
    form = DeliveryActionForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.values():
            for error in field_errors:
                messages.error(request, error)
        return redirect("logistics:delivery_detail", pk=pk)
    action = form.cleaned_data["action"]
    if action == "receive":
        return _receipt(request, scope, delivery, form)
    item_code = ""
    if action == "remove":
        item = delivery.items.filter(pk=form.cleaned_data["item"]).select_related("device").first()
        item_code = group_label_code(item.device.label_code_id) if item else ""
    try:
        done = _move(request, delivery, form)
    except DomainError as err:
        _forbidden(err)
        for message in _error_messages(err):
            messages.error(request, message)
        return redirect("logistics:delivery_detail", pk=pk)
    level, text = _done_message(delivery, done, action, item_code)
    messages.add_message(request, level, text)
    return redirect("logistics:delivery_detail", pk=pk)


@login_required
def delivery_note(request, pk: int):
    """The delivery note (bon de livraison), printed to travel with the devices and signed at
    arrival."""
    scope = _delivery_reader(request)
    delivery = _visible_delivery(request, pk)
    items = list(selectors.delivery_items(delivery))
    _decorate_items(scope, items)
    return render(
        request,
        "deliveries/note.html",
        {
            "delivery": delivery,
            "items": items,
            "device_count": len(items),
            "note_reference": delivery.reference,
            "back_url": reverse("logistics:delivery_detail", args=[delivery.pk]),
            "back_text": _("Back to the delivery"),
        },
    )
