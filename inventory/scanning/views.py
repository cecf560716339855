"""Scanning screens: the label URL /d/<code>, the bench scan page and batch mode.

Each request is one selector or one service call; every scan is recorded by the services.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from inventory import permissions, selectors, services
from inventory.codes import InvalidCode, code_from_scan, group_label_code
from inventory.errors import DomainError
from inventory.forms import TransitionForm
from inventory.models import LabelCode, Organisation, ScanResult
from inventory.reconditioning.ready import missing_before_ready
from inventory.reconditioning.services import RECORDABLE
from inventory.scanning import selectors as scan_selectors
from inventory.scanning import services as scan_services
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.states import EXITS, MOVES, STATUS_TONE, OrgKind, actor_may, needs_target
from inventory.text import text_problem
from inventory.timeline import device_timeline
from inventory.views import move_choices, move_panel

RECENT_EVENTS = 3


def device_by_label(request, code: str):
    """What a phone camera opens: the device page for those who may see it, else a notice."""
    try:
        normalized = code_from_scan(code, settings.SITE_URL)
    except InvalidCode as exc:
        message = SCAN_MESSAGES.get(f"code_{exc.reason}", _("This code is not valid."))
        return render(
            request, "scanning/label_invalid.html", {"message": message, "raw": code}, status=400
        )
    if request.user.is_authenticated:
        outcome = scan_services.device_scan(actor=request.user, raw=normalized)
        if outcome.device is not None:
            return redirect("inventory:device_detail", pk=outcome.device.pk)
    label = LabelCode.objects.filter(code=normalized).first()
    if label is None:
        # A valid code that was never issued: say so plainly, with the 404 status it deserves.
        return render(
            request,
            "scanning/label_invalid.html",
            {
                "message": SCAN_MESSAGES["code_unknown"],
                "code": group_label_code(normalized),
            },
            status=404,
        )
    assigned = hasattr(label, "device")
    may_register = request.user.is_authenticated and permissions.may_register(
        selectors.user_scope(request.user)
    )
    return render(
        request,
        "scanning/public_device.html",
        {
            "code": group_label_code(normalized),
            "assigned": assigned,
            "bind_url": (
                f"{reverse('inventory:device_register')}?label_code={normalized}"
                if may_register and not assigned
                else ""
            ),
            "network_name": settings.NETWORK_NAME,
            "network_contact": settings.NETWORK_CONTACT,
        },
    )


def _card(request, device, *, raw: str, batch: str = ""):
    device.label_display = group_label_code(device.label_code_id)
    device.tone = STATUS_TONE.get(device.status, "neutral")
    scope = selectors.user_scope(request.user)
    at_bench = permissions.may_read_bench(scope) and device.status in RECORDABLE
    # What "ready" still waits for, so the bench sees it on the card after each scan.
    missing = missing_before_ready(request.user, device) if at_bench and not batch else None
    moves = move_choices(request, device, missing)
    return {
        "device": device,
        "moves": moves,
        "move_panel": move_panel(moves),
        "events": device_timeline(device)[:RECENT_EVENTS],
        "scan_raw": raw,
        "batch": batch,
        "at_bench": at_bench,
        "missing": missing or [],
    }


def _with_move_labels(events):
    # The page shows the move's name in the user's language, never its identifier.
    events = list(events)
    for event in events:
        move = MOVES.get(event.action)
        event.move_label = move.label if move is not None else ""
    return events


@login_required
def scan(request):
    """Scan one device (camera or handheld scanner), see its card, apply a move in one tap."""
    scope = selectors.user_scope(request.user)
    permissions.require_scanner(scope)
    context = {}
    if request.method == "POST":
        raw = request.POST.get("raw", "")[:300]
        if request.POST.get("action"):
            context |= _apply_from_card(request, raw)
        else:
            outcome = scan_services.device_scan(actor=request.user, raw=raw)
            context["outcome"] = outcome
            if outcome.device is not None:
                context |= _card(request, outcome.device, raw=outcome.device.label_code_id)
        context |= _scanned_code(request, raw, context.get("outcome"))
    # Read after the scan, so that the list includes it.
    context["recent"] = _with_move_labels(scan_selectors.recent_scans(request.user, limit=5))
    return render(request, "scanning/scan.html", context)


def _scanned_code(request, raw: str, outcome) -> dict:
    """The code as the page and its title show it; for a pre-printed label not yet on a
    device, the registration that binds it, as /d/<code> offers."""
    try:
        code = code_from_scan(raw, settings.SITE_URL)
    except InvalidCode:
        return {"scan_code": ""}
    context = {"scan_code": group_label_code(code)}
    if (
        outcome is not None
        and outcome.result == ScanResult.UNASSIGNED
        and permissions.may_register(selectors.user_scope(request.user))
    ):
        context["bind_url"] = f"{reverse('inventory:device_register')}?label_code={code}"
    return context


def _apply_from_card(request, raw: str) -> dict:
    form = TransitionForm(request.POST)
    if not form.is_valid():
        lookup = scan_selectors.scan_lookup(request.user, raw)
        context = {
            "form_errors": form.non_field_errors()
            or form.errors.get("action")
            or [_("Choose the move again.")]
        }
        if lookup.device is not None:
            context |= _card(request, lookup.device, raw=lookup.code)
        return context
    outcome = scan_services.scan_apply(
        actor=request.user,
        raw=raw,
        action=form.cleaned_data["action"],
        target=form.cleaned_data["target"],
        note=form.cleaned_data["note"],
    )
    context = {"outcome": outcome}
    # The card shows the device as the move left it: the service's row, read with its
    # relations, unless the move took it out of the user's sight.
    device = outcome.device
    if outcome.replayed:
        device = scan_selectors.scan_lookup(request.user, raw).device
    elif device is not None and not selectors.device_visible(request.user, device):
        device = None
    if device is not None:
        context |= _card(request, device, raw=device.label_code_id)
    return context


@login_required
def batch_start(request):
    """Pick one move (and where it sends devices), then scan device after device."""
    scope = selectors.user_scope(request.user)
    permissions.require_scanner(scope)
    moves = [
        move for move in MOVES.values() if scope.can_write and actor_may(scope.kind, move.action)
    ]
    if request.method == "POST":
        action = request.POST.get("action", "")
        move = MOVES.get(action)
        if move is None or move not in moves:
            messages.error(request, _("Choose a move from the list."))
        else:
            raw_target = request.POST.get(f"target-{move.target_kind}", "")
            target = (
                Organisation.objects.filter(pk=raw_target).first() if raw_target.isdigit() else None
            )
            try:
                # The batch-wide rules (role, destination) are the service's, checked once here.
                services.scan_move_check(actor=request.user, action=action, target=target)
            except DomainError as err:
                messages.error(request, err.message)
            else:
                if move.target in EXITS and not request.POST.get("confirm"):
                    messages.error(request, _("Tick the confirmation box: an exit is final."))
                else:
                    query = f"?action={action}" + (f"&target={target.pk}" if target else "")
                    query += "&confirm=1" if move.target in EXITS else ""
                    url = reverse("inventory:scan_batch", args=[uuid.uuid4().hex])
                    return redirect(url + query)
    # A destination for the moves that send devices somewhere; optional for a receipt that a
    # coordinator confirms on a workshop's behalf (devices already there stay there).
    kinds = {
        move.target_kind for move in moves if move.target_kind and needs_target(move, scope.kind)
    }
    targets = [
        (kind, OrgKind(kind).label, list(selectors.organisations_of_kind(kind)))
        for kind in sorted(kinds)
    ]
    return render(request, "scanning/batch_start.html", {"moves": moves, "targets": targets})


@login_required
def scan_batch(request, batch: str):
    permissions.require_scanner(selectors.user_scope(request.user))
    if text_problem(batch):
        raise Http404  # no batch has such a name; PostgreSQL would refuse to look it up
    action = request.GET.get("action", "")
    move = MOVES.get(action)
    if move is None or (move.target in EXITS and request.GET.get("confirm") != "1"):
        return redirect("inventory:scan_batch_start")
    target_id = request.GET.get("target", "")
    target = (
        Organisation.objects.filter(pk=target_id, is_active=True).first()
        if target_id.isdigit()
        else None
    )
    outcome = None
    scanned = {}
    if request.method == "POST":
        raw = request.POST.get("raw", "")[:300]
        client_id = request.POST.get("client_id", "")[:64]
        outcome = scan_services.scan_apply(
            actor=request.user,
            raw=raw,
            action=action,
            target=target,
            batch=batch,
            # The page's own id for the scan; one holding control characters is no id at all.
            client_id=client_id if not text_problem(client_id) else "",
        )
        scanned = _scanned_code(request, raw, outcome)
        scanned.pop("bind_url", None)  # a batch goes on scanning; /scan/ offers the binding
    events, summary = scan_selectors.batch_scans(request.user, batch)
    return render(
        request,
        "scanning/batch.html",
        {
            "move": move,
            "target": target,
            "batch": batch,
            "outcome": outcome,
            "events": list(reversed(events)),
            "summary": [
                (ScanResult(result).label, count) for result, count in sorted(summary.items())
            ],
            "finished": request.GET.get("finished") == "1",
            "total": len(events),
            **scanned,
        },
    )
