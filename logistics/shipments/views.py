"""Web screens of shipments to workshops and of a workshop's queue.

Each view turns a request into selector reads and at most one service call.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.permissions import require_screen
from inventory.selectors import user_scope
from inventory.states import STATUS_TONE, OrgKind, Status
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.deliveries.selectors import allocations_to_prepare
from logistics.models import Shipment
from logistics.shipments import selectors, services
from logistics.shipments.forms import CandidateFilterForm, ShipmentForm, WorkshopChoiceForm
from logistics.web.picking import picking_context

PAGE_SIZE = 50
# The queue lists this many allocated devices to prepare; the preparation screen lists all.
QUEUE_TO_PREPARE = 10
# How long a second submission of the same form waits for the first one to finish.
REFUSALS_KEPT = 10
QUEUE_HEADINGS = {
    Status.SENT_TO_WORKSHOP: gettext_lazy("Sent to the workshop, to receive"),
    Status.AT_WORKSHOP: gettext_lazy("Received, to recondition"),
    Status.IN_RECONDITIONING: gettext_lazy("In reconditioning"),
}


def _shipment_reader(request):
    scope = user_scope(request.user)
    require_screen(
        permissions.may_read_shipments(scope),
        _("Shipments are for the coordination and the workshops."),
    )
    return scope


def _visible_shipment(request, pk: int):
    # Another workshop's shipment is answered exactly like a missing one.
    shipment = selectors.shipment_detail(request.user, pk)
    if shipment is None:
        raise Http404
    return shipment


def _decorate_items(scope, items):
    """Display helpers on each item, without a query: a device is linked only where the user
    may open its page (coordination: all; a workshop: those still in its custody)."""
    for item in items:
        device = item.device
        device.label_display = group_label_code(device.label_code_id)
        device.tone = STATUS_TONE.get(device.status, "neutral")
        device.linkable = scope.sees_all or (
            scope.organisation is not None and device.custodian_id == scope.organisation.pk
        )
    return items


@login_required
def shipment_list(request):
    scope = _shipment_reader(request)
    shipments = selectors.shipments_visible_to(request.user)
    page = page_of(request, shipments, size=PAGE_SIZE)
    return render(
        request,
        "shipments/list.html",
        {
            "page": page,
            "may_send": permissions.may_send(scope),
            "may_receive": permissions.may_receive(scope),
        },
    )


@login_required
def shipment_create(request):
    scope = _shipment_reader(request)
    if not permissions.may_send(scope):
        raise PermissionDenied(_("Only the coordination sends shipments."))
    data = request.POST if request.method == "POST" else None
    sending = data is not None and "send" in data
    form = ShipmentForm(data, initial={"token": uuid.uuid4().hex}, check=sending)
    filters = CandidateFilterForm(data or request.GET or None)
    if sending and form.is_valid():
        try:
            shipment, earlier = record_once(
                user=request.user,
                name="shipment",
                token=form.cleaned_data["token"],
                create=lambda: services.shipment_create(
                    actor=request.user, **form.service_arguments()
                ),
            )
        except DomainError as err:
            if err.status == 403:
                raise PermissionDenied(err.message) from err
            form.add_domain_error(err)
        else:
            if earlier:
                messages.info(request, _("This shipment was already recorded."))
                return redirect("logistics:shipment_detail", pk=earlier)
            count = shipment.items.count()
            messages.success(
                request,
                ngettext(
                    "%(reference)s recorded: %(count)s device on its way to %(workshop)s.",
                    "%(reference)s recorded: %(count)s devices on their way to %(workshop)s.",
                    count,
                )
                % {
                    "reference": shipment.reference,
                    "count": count,
                    "workshop": shipment.workshop.name,
                },
            )
            return redirect("logistics:shipment_detail", pk=shipment.pk)
    candidates = selectors.sendable_devices(request.user, **filters.filters())
    return render(
        request,
        "shipments/form.html",
        {
            "form": form,
            "filters": filters,
            **picking_context(request, form, candidates, data or request.GET),
        },
    )


def _detail_context(request, scope, shipment) -> dict:
    items = _decorate_items(scope, shipment.item_rows)
    return {
        "shipment": shipment,
        "items": items,
        "remaining": shipment.device_count - shipment.received_count,
        "may_receive": permissions.may_receive(scope),
    }


@login_required
def shipment_detail(request, pk: int):
    scope = _shipment_reader(request)
    shipment = _visible_shipment(request, pk)
    return render(request, "shipments/detail.html", _detail_context(request, scope, shipment))


@login_required
def shipment_delivery_note(request, pk: int):
    scope = _shipment_reader(request)
    shipment = _visible_shipment(request, pk)
    return render(
        request,
        "shipments/delivery_note.html",
        _detail_context(request, scope, shipment)
        | {
            "note_reference": shipment.reference,
            "back_url": reverse("logistics:shipment_detail", args=[shipment.pk]),
            "back_text": _("Back to the shipment"),
        },
    )


def _refusals_key(shipment) -> str:
    return f"shipment-refusals:{shipment.pk}"


def _refusal_note(request, shipment, message: str) -> None:
    """Refused scans stay listed on the screen (in the session): with a scanner firing code
    after code, the latest result alone would hide a device to put aside."""
    key = _refusals_key(shipment)
    entry = {"time": timezone.localtime().strftime("%H:%M"), "message": message}
    request.session[key] = [entry, *request.session.get(key, [])][:REFUSALS_KEPT]


@login_required
def shipment_receive(request, pk: int):
    """Scan device after device of the shipment as it is unpacked; each scan is one receipt."""
    scope = _shipment_reader(request)
    shipment = _visible_shipment(request, pk)
    if not permissions.may_receive(scope):
        raise PermissionDenied(_("Your role does not allow receiving devices."))
    outcome = None
    if request.method == "POST":
        raw = request.POST.get("raw", "")[:300]
        try:
            result = services.shipment_receive(actor=request.user, shipment=shipment, raw=raw)
        except DomainError as err:
            if err.status == 403:
                raise PermissionDenied(err.message) from err
            message = str(err.message)
            if err.code.startswith("code_"):
                message = f"{raw.strip()[:40]} — {message}"
            outcome = {"result": "refused", "code": err.code, "message": message}
            _refusal_note(request, shipment, message)
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
        # Read again, so that the list and the counts include this scan.
        shipment = _visible_shipment(request, pk)
    context = _detail_context(request, scope, shipment)
    received = [item for item in context["items"] if item.received_at is not None]
    context |= {
        "outcome": outcome,
        "refusals": request.session.get(_refusals_key(shipment), []),
        "received": sorted(received, key=lambda item: item.received_at, reverse=True),
        "waiting": [item for item in context["items"] if item.received_at is None],
    }
    return render(request, "shipments/receive.html", context)


def _queue_workshop(request, scope):
    """The workshop whose queue is shown: a workshop's own; the one a coordinator picked."""
    if scope.kind == OrgKind.WORKSHOP:
        asked = request.GET.get("workshop", "")
        if asked and asked != str(scope.organisation.pk):
            raise Http404
        return scope.organisation, None
    choice = WorkshopChoiceForm(
        request.GET or None, workshops=selectors.workshops_for(request.user)
    )
    if request.GET.get("workshop") and choice.is_valid():
        return choice.cleaned_data["workshop"], choice
    if request.GET.get("workshop"):
        raise Http404
    return None, choice


def _queue_rows(queue, *, may_receive: bool) -> None:
    """What each row of the queue page shows, worked out once per device (up to 150) rather
    than by template tags in each row: its label, its links, its shipment."""
    shipments: dict[int, Shipment] = {}
    for step in queue.steps:
        step.heading = QUEUE_HEADINGS[step.status]
        for device in step.devices:
            device.label_display = group_label_code(device.label_code_id)
            device.detail_url = reverse("inventory:device_detail", args=[device.pk])
            # Set on every device, None included: a name the template looks up on an object
            # that lacks it costs a dir() of the device.
            device.shipment = None
            shipment_id = getattr(device, "open_shipment_id", None)
            if shipment_id:
                if shipment_id not in shipments:
                    shipment = shipments[shipment_id] = Shipment(pk=shipment_id)
                    # Receiving it, for those who may; otherwise its page.
                    view = "shipment_receive" if may_receive else "shipment_detail"
                    shipment.link = reverse(f"logistics:{view}", args=[shipment_id])
                device.shipment = shipments[shipment_id]


@login_required
def workshop_queue(request):
    scope = user_scope(request.user)
    require_screen(
        permissions.may_read_shipments(scope),
        _("The queue is for the workshops and the coordination."),
    )
    workshop, choice = _queue_workshop(request, scope)
    queue = selectors.workshop_queue(request.user, workshop) if workshop else None
    may_receive = permissions.may_receive(scope)
    to_prepare = None
    if queue is not None:
        _queue_rows(queue, may_receive=may_receive)
        # Allocated devices at this bench that no delivery holds yet, with their structure.
        rows = allocations_to_prepare(request.user).filter(device__custodian=workshop)
        to_prepare = {"count": rows.count(), "rows": list(rows[:QUEUE_TO_PREPARE])}
    return render(
        request,
        "shipments/workshop_queue.html",
        {
            "queue": queue,
            "choice": choice,
            "workshop": workshop,
            "may_receive": may_receive,
            "to_prepare": to_prepare,
            "may_prepare": permissions.may_prepare_deliveries(scope),
        },
    )
