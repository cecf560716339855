"""The bench record of one device: lock checks, storage and erasure, tests, grade, repairs.

One page, reached from the scan card, with one small form per section; each form calls one
reconditioning service. An invalid form re-renders the page with what was typed. Also the
checklists of functional tests per category, kept by the coordination.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from inventory import permissions, selectors
from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.models import Category, ErasureRecord, MediumState, TestItem
from inventory.reconditioning import ready
from inventory.reconditioning import selectors as bench_reads
from inventory.reconditioning import services as bench
from inventory.reconditioning.forms import (
    AssessmentForm,
    ChecklistForm,
    ChecklistItemForm,
    ErasureForm,
    LockChecksForm,
    MediumForm,
    RepairForm,
)
from inventory.states import STATUS_TONE, Status


def _device(request, pk: int):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(
        permissions.may_read_bench(scope),
        _("The bench record is for workshop and coordination staff."),
    )
    device = get_object_or_404(
        selectors.devices_visible_to(request.user).select_related("category", "custodian"),
        pk=pk,
    )
    device.label_display = group_label_code(device.label_code_id)
    device.tone = STATUS_TONE.get(device.status, "neutral")
    return device


def _render(request, device, forms: dict | None = None, status: int = 200):
    record = bench_reads.bench_record(device)
    in_device = [view.medium for view in record.media if view.medium.state == MediumState.IN_DEVICE]
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    forms = forms or {}
    context = {
        "device": device,
        "record": record,
        "recordable": device.status in bench.RECORDABLE,
        "may_write": selectors.user_scope(request.user).can_write,
        "missing": ready.missing_before_ready(request.user, device),
        "may_mark_ready": device.status == Status.IN_RECONDITIONING,
        "is_phone_like": bench.erased_by_factory_reset(device.category),
        "lock_form": forms.get("locks")
        or LockChecksForm(checks={kind: check for kind, _l, check in record.locks}),
        "medium_form": forms.get("medium") or MediumForm(),
        "erasure_form": forms.get("erasure")
        or ErasureForm(media=in_device, initial={"started_at": now, "ended_at": now}),
        "checklist_form": forms.get("tests") or ChecklistForm(checklist=record.checklist),
        "assessment_form": forms.get("assessment")
        or AssessmentForm(
            initial={
                "grade": record.cycle.grade if record.cycle else "",
                "battery_health": record.cycle.battery_health if record.cycle else None,
                "os_installed": record.cycle.os_installed if record.cycle else "",
            }
            if record.cycle and record.cycle.completed_at is None
            else None
        ),
        "repair_form": forms.get("repair") or RepairForm(),
    }
    return render(request, "reconditioning/record.html", context, status=status)


@login_required
def bench_record(request, pk: int):
    return _render(request, _device(request, pk))


def _done(request, device, message: str):
    # Back to the top of the record, where the message and what "ready" still misses are
    # shown (and focused, static/js/page.js): the page lands on what happened.
    messages.success(request, message)
    return redirect("inventory:bench_record", pk=device.pk)


def _refused(request, device, err: DomainError, forms: dict, form_key: str):
    if err.status == 403:
        raise PermissionDenied(err.message) from err
    if err.status == 404:
        raise Http404(err.message) from err
    form = forms[form_key]
    for name, errors in (err.params.get("fields") or {}).items():
        target = name if name in form.fields else None
        for error in errors:
            form.add_error(target, error)
    if not err.params.get("fields"):
        form.add_error(None, err.message)
    return _render(request, device, forms, status=400)


@login_required
@require_POST
def bench_locks(request, pk: int):
    device = _device(request, pk)
    form = LockChecksForm(request.POST)
    if not form.is_valid():
        return _render(request, device, {"locks": form}, status=400)
    try:
        bench.lock_checks_record(
            actor=request.user,
            device_id=device.pk,
            outcomes=form.outcomes(),
            note=form.cleaned_data["note"],
        )
    except DomainError as err:
        return _refused(request, device, err, {"locks": form}, "locks")
    return _done(request, device, _("Lock checks saved."))


@login_required
@require_POST
def bench_medium(request, pk: int):
    device = _device(request, pk)
    form = MediumForm(request.POST)
    if not form.is_valid():
        return _render(request, device, {"medium": form}, status=400)
    try:
        bench.medium_add(actor=request.user, device_id=device.pk, **form.cleaned_data)
    except DomainError as err:
        return _refused(request, device, err, {"medium": form}, "medium")
    return _done(request, device, _("Storage medium added."))


def _file_dropped(form, request):
    # A browser never fills a file input again: say so, rather than lose the report silently.
    if request.FILES.get("report") and not form.has_error("report"):
        form.add_error(
            "report",
            _("Choose the report file again: a page shown again cannot keep a chosen file."),
        )
    return form


@login_required
@require_POST
def bench_erasure(request, pk: int):
    device = _device(request, pk)
    media = device.media.filter(state=MediumState.IN_DEVICE)
    form = ErasureForm(request.POST, request.FILES, media=media)
    if not form.is_valid():
        return _render(request, device, {"erasure": _file_dropped(form, request)}, status=400)
    data = form.cleaned_data
    try:
        bench.erasure_record(
            actor=request.user,
            medium_id=data["medium"],
            level=data["level"],
            method=data["method"],
            tool=data["tool"],
            tool_version=data["tool_version"],
            verification=data["verification"],
            verification_percent=data["verification_percent"],
            result=data["result"],
            started_at=data["started_at"],
            ended_at=data["ended_at"],
            report=data["report"],
        )
    except DomainError as err:
        return _refused(request, device, err, {"erasure": _file_dropped(form, request)}, "erasure")
    return _done(request, device, _("Erasure recorded."))


@login_required
@require_POST
def bench_factory_reset(request, pk: int):
    device = _device(request, pk)
    try:
        bench.factory_reset_record(actor=request.user, device_id=device.pk)
    except DomainError as err:
        if err.status == 403:
            raise PermissionDenied(err.message) from err
        if err.status == 404:
            raise Http404(err.message) from err
        messages.error(request, err.message)
        return redirect("inventory:bench_record", pk=device.pk)
    return _done(request, device, _("Encrypted factory reset recorded."))


@login_required
@require_POST
def bench_tests(request, pk: int):
    device = _device(request, pk)
    record = bench_reads.bench_record(device)
    form = ChecklistForm(request.POST, checklist=record.checklist)
    if not form.is_valid():
        return _render(request, device, {"tests": form}, status=400)
    try:
        bench.test_results_record(actor=request.user, device_id=device.pk, outcomes=form.outcomes())
    except DomainError as err:
        return _refused(request, device, err, {"tests": form}, "tests")
    return _done(request, device, _("Test results saved."))


@login_required
@require_POST
def bench_assessment(request, pk: int):
    device = _device(request, pk)
    form = AssessmentForm(request.POST)
    if not form.is_valid():
        return _render(request, device, {"assessment": form}, status=400)
    try:
        bench.assessment_record(actor=request.user, device_id=device.pk, **form.cleaned_data)
    except DomainError as err:
        return _refused(request, device, err, {"assessment": form}, "assessment")
    return _done(request, device, _("Grade and condition saved."))


@login_required
@require_POST
def bench_repair(request, pk: int):
    device = _device(request, pk)
    form = RepairForm(request.POST)
    if not form.is_valid():
        return _render(request, device, {"repair": form}, status=400)
    try:
        bench.repair_record(actor=request.user, device_id=device.pk, **form.cleaned_data)
    except DomainError as err:
        return _refused(request, device, err, {"repair": form}, "repair")
    return _done(request, device, _("Repair recorded."))


@login_required
def erasure_report(request, pk: int, erasure_pk: int):
    """The tool report attached to an erasure, for those who may see the device."""
    device = _device(request, pk)
    erasure = get_object_or_404(ErasureRecord.objects.filter(medium__device=device), pk=erasure_pk)
    report = bench_reads.erasure_report_open(erasure)
    if report is None:
        raise Http404
    name = erasure.report.name.rsplit("/", 1)[-1]
    return FileResponse(report, as_attachment=True, filename=name)


# The functional-test checklists, per category: the coordination keeps them as data.


@login_required
def checklist_index(request):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(
        permissions.may_read_coordination(scope), _("The checklists are kept by the coordination.")
    )
    categories = Category.objects.annotate(
        items=Count("test_items", filter=Q(test_items__is_active=True))
    )
    return render(
        request,
        "reconditioning/checklists/index.html",
        {"categories": categories, "may_edit": scope.can_write},
    )


@login_required
def checklist_category(request, code: str):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(
        permissions.may_read_coordination(scope), _("The checklists are kept by the coordination.")
    )
    category = get_object_or_404(Category, pk=code)
    add_form = ChecklistItemForm(prefix="new")
    bound_item = None
    if request.method == "POST":
        if not scope.can_write:
            raise PermissionDenied(_("Your role is read only."))
        item_id = request.POST.get("item", "")
        prefix = f"item-{item_id}" if item_id.isdigit() else "new"
        form = ChecklistItemForm(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                item = bench.checklist_item_save(
                    actor=request.user,
                    category_id=category.pk,
                    item_id=int(item_id) if item_id.isdigit() else None,
                    **form.cleaned_data,
                )
            except DomainError as err:
                if err.status == 404:
                    raise Http404(err.message) from err
                for name, errors in (err.params.get("fields") or {}).items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(
                    request, _("Checklist line saved: %(label)s.") % {"label": item.label}
                )
                return redirect("inventory:checklist_category", code=category.pk)
        if prefix == "new":
            add_form = form
        else:
            bound_item = (int(item_id), form)
    items = []
    for item in TestItem.objects.filter(category=category).order_by("sort_order", "code"):
        if bound_item and bound_item[0] == item.pk:
            form = bound_item[1]
        else:
            form = ChecklistItemForm(
                prefix=f"item-{item.pk}",
                initial={
                    "label_fr": item.label_fr,
                    "label_en": item.label_en,
                    "sort_order": item.sort_order,
                    "is_active": item.is_active,
                },
            )
        items.append((item, form))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "reconditioning/checklists/category.html",
        {"category": category, "items": items, "add_form": add_form, "may_edit": scope.can_write},
        status=status,
    )
