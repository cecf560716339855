"""Web screens of the inventory: home per role, device list and page, registration, moves.

Views translate a request into one selector or one service call; rules live in services.
"""

from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from inventory import pagination, permissions, selectors, services
from inventory.codes import group_label_code, label_code_for_display
from inventory.documents.selectors import coordination_todo
from inventory.errors import DomainError
from inventory.forms import DeviceFilterForm, DeviceRegistrationForm, TransitionForm
from inventory.login import ThrottledAuthenticationForm
from inventory.models import Organisation
from inventory.reconditioning import ready
from inventory.reconditioning import selectors as bench_reads
from inventory.states import (
    AT_WORKSHOPS,
    EXITS,
    IN_STOCK,
    INTAKE,
    MOVES,
    NEXT_STEPS,
    STATUS_TONE,
    OrgKind,
    Status,
    needs_target,
    status_label,
)
from inventory.timeline import device_timeline
from inventory.web import device_facts, home_pages
from inventory.web.paging import page_of

PAGE_SIZE = 50
PREVIEW_SIZE = 5

login_view = LoginView.as_view(
    template_name="registration/login.html",
    authentication_form=ThrottledAuthenticationForm,
    redirect_authenticated_user=True,
)

STATUS_GROUPS = (
    (gettext_lazy("At intake"), INTAKE),
    (gettext_lazy("At workshops"), AT_WORKSHOPS),
    (gettext_lazy("In stock"), IN_STOCK),
    (gettext_lazy("With structures"), frozenset({Status.ON_LOAN, Status.GIVEN})),
    (gettext_lazy("Exits"), EXITS),
)

# What waits for each kind of organisation: (status, heading) pairs, in the order of the work.
# A workshop's home is its queue: the devices at its bench, by the next step to take.
WAITING = {
    OrgKind.COORDINATOR: (
        (Status.REGISTERED, gettext_lazy("Registered devices to send to a workshop")),
        (Status.RETURNED, gettext_lazy("Returned loans to send back to a workshop")),
        (Status.ON_LOAN, gettext_lazy("Loans out, to receive back when they return")),
    ),
    OrgKind.WORKSHOP: (
        (Status.REGISTERED, gettext_lazy("Devices you collected, to take in at the bench")),
        (Status.SENT_TO_WORKSHOP, gettext_lazy("Devices sent to you, to receive")),
        (Status.AT_WORKSHOP, gettext_lazy("Received devices, reconditioning to start")),
        (Status.IN_RECONDITIONING, gettext_lazy("In reconditioning: what each still needs")),
    ),
    OrgKind.STRUCTURE: (
        (Status.ON_LOAN, gettext_lazy("Devices on loan to you")),
        (Status.GIVEN, gettext_lazy("Devices given to you")),
    ),
}
CERTIFICATES_LISTED = 5


# No device has this id: it stands for each row's id in the one path reversed for a page.
_ANY_ID = 2**62 - 1


def _decorate(devices):
    """Display helpers on each device of a page, without any query; what is the same for many
    rows is worked out once (the page's path, one translated label per status): reversing a
    path and translating a status for each of 50 rows cost more than the rest of a row."""
    detail = reverse("inventory:device_detail", args=[_ANY_ID])
    for device in devices:
        device.label_display = group_label_code(device.label_code_id)
        device.tone = STATUS_TONE.get(device.status, "neutral")
        device.url = detail.replace(str(_ANY_ID), str(device.pk))
        device.status_label = status_label(device.status)
    return devices


def _waiting(request, scope, counts) -> list[dict]:
    """Each step's count and its oldest devices: one query per step that has any, and for
    the devices in reconditioning what "ready" still misses, in a fixed number more. The
    coordination gets counts and links only: its to-do list stays short on a phone."""
    waiting = []
    previews = scope.kind != OrgKind.COORDINATOR
    for status, heading in WAITING.get(scope.kind, ()):
        devices = []
        if counts[status.value] and previews:
            devices = _decorate(
                list(
                    selectors.device_list(request.user, status=status.value).order_by(
                        "updated_at", "id"
                    )[:PREVIEW_SIZE]
                )
            )
            if status == Status.IN_RECONDITIONING:
                ready.missing_for_each(request.user, devices)
        waiting.append(
            {
                "status": status.value,
                "heading": heading,
                "count": counts[status.value],
                "devices": devices,
                "url": f"{reverse('inventory:device_list')}?{urlencode({'status': status.value})}",
            }
        )
    return waiting


def _coordination_todo() -> dict:
    """The donations that wait for the coordination, each count with the list it links to."""
    todo = coordination_todo(CERTIFICATES_LISTED)
    donations = reverse("inventory:donation_list")
    return {
        "certificates": {
            "count": todo.certificates_to_issue,
            "donations": todo.first_to_issue,
            "url": f"{donations}?{urlencode({'todo': 'certificate'})}",
        },
        "attestations": {
            "count": todo.attestations_incomplete,
            "url": f"{donations}?{urlencode({'todo': 'attestation'})}",
        },
        "counts": {
            "count": todo.counts_differ,
            "url": f"{donations}?{urlencode({'todo': 'counts'})}",
        },
    }


@login_required
def home(request):
    scope = selectors.user_scope(request.user)
    context = {"scope": scope}
    if scope.kind is None:
        return render(request, "inventory/home_no_organisation.html", context)
    # Another app's page for this kind of organisation (logistics: the structure's space).
    if (view := home_pages.view_for(scope.kind)) is not None:
        return view(request)
    counts = selectors.status_counts(request.user)
    context["total"] = sum(counts.values())
    context["groups"] = [
        {
            "title": title,
            "statuses": [
                {
                    "value": status.value,
                    "label": status.label,
                    "tone": STATUS_TONE[status],
                    "count": counts[status.value],
                }
                for status in Status
                if status in members
            ],
        }
        for title, members in STATUS_GROUPS
    ]
    context["waiting"] = _waiting(request, scope, counts)
    if scope.kind == OrgKind.COORDINATOR:
        context["todo"] = _coordination_todo()
    context["may_register"] = permissions.may_register(scope)
    context["may_record_donations"] = permissions.may_record_donations(scope)
    return render(request, "inventory/home.html", context)


@login_required
def device_list(request):
    scope = selectors.user_scope(request.user)
    permissions.require_device_reader(scope)
    form = DeviceFilterForm(request.GET or None, show_custody=scope.sees_all)
    filters = form.filters() if request.GET else {}
    devices = selectors.device_list(request.user, **filters)
    # A search is counted to SEARCH_CAP only (inventory.pagination).
    cap = pagination.SEARCH_CAP if filters.get("q") else None
    total = selectors.device_list_total(request.user, **filters)
    page = page_of(request, devices, size=PAGE_SIZE, cap=cap, total=total)
    _decorate(page.object_list)
    return render(
        request,
        "inventory/device_list.html",
        {
            "form": form,
            "page": page,
            "filtered": any(filters.values()),
            # The folded filters say how many are set, and open when one is set or refused
            # (the search box and the donation, hidden, are not among them).
            "filters_set": sum(
                1 for key, value in filters.items() if key not in ("q", "donation") and value
            ),
            "filters_refused": bool(form.errors),
            "may_register": permissions.may_register(scope),
        },
    )


def _visible_device(request, pk: int):
    # Another organisation's device is answered exactly like a missing one.
    return get_object_or_404(
        selectors.devices_visible_to(request.user).select_related(
            "category", "custodian", "donor", "donation"
        ),
        pk=pk,
    )


def move_choices(request, device, missing=None):
    """The moves this user may make now, each with the organisations it may send to.

    The primary one is the device's next step (states.NEXT_STEPS) when the user may make it;
    "ready" is no primary while the bench record still misses something (`missing`, what
    ready.missing_before_ready says; read here when the caller has not).
    """
    scope = selectors.user_scope(request.user)
    candidates: dict[str, list[Organisation]] = {}
    choices = []
    moves = selectors.moves_for(request.user, device)
    offered = {move.action for move in moves}
    primary = next((a for a in NEXT_STEPS.get(device.status, ()) if a in offered), None)
    if primary == "mark_ready":
        if missing is None:
            missing = ready.missing_before_ready(request.user, device)
        if missing:
            primary = None
    for move in moves:
        targets = None
        kind = None
        if needs_target(move, scope.kind):
            kind = move.target_kind or OrgKind.WORKSHOP
            if kind not in candidates:
                candidates[kind] = list(selectors.organisations_of_kind(kind))
            targets = candidates[kind]
        choices.append(
            {
                "move": move,
                "targets": targets,
                "target_kind": kind,
                # Already with an organisation of the right kind: preselect it.
                "current_target": device.custodian_id
                if move.target_kind and device.custodian.kind == move.target_kind
                else None,
                "target_label": capfirst(OrgKind(kind).label) if targets is not None else "",
                "is_exit": move.target in EXITS and targets is None,
                "primary": move.action == primary,
                "missing": len(missing) if move.action == "mark_ready" and missing else 0,
            }
        )
    return choices


def move_panel(choices) -> dict:
    """The moves as the screens lay them out: one form per destination kind, so that moves
    sending to the same kind of organisation share one list of organisations (never two
    identical selects on a page), the primary move's form first; the exits apart, behind one
    "leave the channel" choice with one confirmation."""
    forms: list[dict] = []
    by_kind: dict[str, dict] = {}
    for choice in choices:
        if choice["is_exit"]:
            continue
        kind = choice["target_kind"]
        form = by_kind.get(kind) if kind else None
        if form is None:
            form = {
                "key": choice["move"].action,
                "targets": choice["targets"],
                "target_label": choice["target_label"],
                "current_target": choice["current_target"],
                "choices": [],
                "primary": False,
            }
            forms.append(form)
            if kind:
                by_kind[kind] = form
        form["choices"].append(choice)
        form["current_target"] = form["current_target"] or choice["current_target"]
        if choice["primary"]:
            form["primary"] = True
            form["choices"].sort(key=lambda c: not c["primary"])
    forms.sort(key=lambda form: not form["primary"])
    return {"forms": forms, "exits": [choice for choice in choices if choice["is_exit"]]}


@login_required
def device_detail(request, pk: int):
    device = _visible_device(request, pk)
    device.label_display = group_label_code(device.label_code_id)
    device.tone = STATUS_TONE.get(device.status, "neutral")
    scope = selectors.user_scope(request.user)
    # Read once for the whole page: the checklist lines (timeline, bench record, "ready"
    # guards); the guards read the media and the open cycle from the bench record.
    items = bench_reads.checklist_items(device)
    context = {
        "device": device,
        "timeline": device_timeline(device, items=items),
        "may_print": permissions.may_register(scope),
        # Lines other apps add (logistics: a recycled device's WEEE batch).
        "facts": device_facts.device_facts(scope, device),
    }
    missing = None
    if permissions.may_read_bench(scope):
        record = bench_reads.bench_record(device, items=items)
        ready.guards_prepare_from_record(device, record)
        missing = ready.missing_before_ready(request.user, device)
        context |= {
            "reconditioning": record,
            "tests_done": sum(1 for _item, result in record.checklist if result is not None),
            "may_bench": True,
            "missing": missing,
        }
    context["moves"] = move_choices(request, device, missing)
    context["move_panel"] = move_panel(context["moves"])
    return render(request, "inventory/device_detail.html", context)


@login_required
@require_POST
def device_transition(request, pk: int):
    form = TransitionForm(request.POST)
    if not form.is_valid():
        _visible_device(request, pk)  # another organisation's device answers 404 first
        for error in (
            form.non_field_errors()
            or form.errors.get("action")
            or [_("This move could not be read. Choose it again.")]
        ):
            messages.error(request, error)
        return redirect("inventory:device_detail", pk=pk)
    action = form.cleaned_data["action"]
    try:
        # The service's locked read is the only read of the device: it answers "not_found"
        # for a device this user may not see, exactly like a missing one.
        result = services.device_transition(
            actor=request.user,
            device_id=pk,
            action=action,
            target=form.cleaned_data["target"],
            note=form.cleaned_data["note"],
        )
    except DomainError as err:
        if err.status == 404:
            raise Http404 from err
        if err.status == 403:
            raise PermissionDenied(err.message) from err
        messages.error(request, err.message)
        return redirect("inventory:device_detail", pk=pk)
    device = result.device
    code = group_label_code(device.label_code_id)
    if not result.changed:
        messages.info(
            request,
            _("“%(move)s” was already done for %(code)s: nothing changed.")
            % {"move": MOVES[action].label, "code": code},
        )
    else:
        messages.success(
            request, _("%(code)s: “%(move)s” done.") % {"move": MOVES[action].label, "code": code}
        )
    if not selectors.device_visible(request.user, device):
        messages.info(
            request,
            _("%(code)s has left your organisation's custody.") % {"code": code},
        )
        return redirect("inventory:device_list")
    return redirect("inventory:device_detail", pk=device.pk)


def csrf_failure(request, reason: str = ""):
    """A form refused for its security token: the session expired or cookies are blocked.
    Nothing was recorded; the page says so and leads back (to the page the form was on when
    it is this site's, else home) or to signing in again."""
    referer = request.META.get("HTTP_REFERER", "")
    back = ""
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        back = parts.path + (f"?{parts.query}" if parts.query else "")
    login_url = reverse("login")
    after_login = back or request.path
    if not after_login.startswith(login_url):
        login_url += "?" + urlencode({"next": after_login})
    return render(
        request,
        "403_csrf.html",
        {
            "back_url": back or reverse("home"),
            "back_is_page": bool(back),
            "login_url": login_url,
        },
        status=403,
    )


@login_required
def device_register(request):
    scope = selectors.user_scope(request.user)
    if not permissions.may_register(scope):
        raise PermissionDenied(
            _("Only the coordination and the workshops' staff register devices.")
        )
    choose_custody = scope.kind == OrgKind.COORDINATOR
    form = DeviceRegistrationForm(
        request.POST or None,
        choose_custody=choose_custody,
        # A pre-printed label scanned before registration arrives as ?label_code=.
        initial={"label_code": label_code_for_display(request.GET.get("label_code", "")[:20])},
    )
    if request.method == "POST" and form.is_valid():
        try:
            device = services.device_register(actor=request.user, **form.service_arguments())
        except DomainError as err:
            if err.status == 403:
                raise PermissionDenied(err.message) from err
            form.add_domain_error(err)
        else:
            messages.success(
                request,
                _("Device registered with the label code %(code)s.")
                % {"code": group_label_code(device.label_code_id)},
            )
            return redirect(reverse("inventory:device_detail", args=[device.pk]))
    return render(request, "inventory/device_form.html", {"form": form})
