"""Web screens of intake: donors, donations, their devices and spreadsheet imports.

Donations are the coordination's business, and a workshop's for the devices it collects
itself (it sees only the donations it recorded): other organisations get 403 on the lists and
forms, and 404 on a donation outside their share. Views translate a request into
one service call; the rules live in inventory.intake.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from inventory import permissions, selectors
from inventory.codes import group_label_code, label_code_for_display
from inventory.documents.selectors import TODO_LINES, donations_visible_to
from inventory.errors import DomainError
from inventory.intake import selectors as intake_selectors
from inventory.intake import services as intake
from inventory.intake import spreadsheets as imports
from inventory.intake.forms import (
    DonationDeviceForm,
    DonationFilterForm,
    DonationForm,
    DonorForm,
    ImportConfirmForm,
    ImportUploadForm,
)
from inventory.models import Category, Donation
from inventory.states import STATUS_TONE
from inventory.web.paging import page_of
from inventory.web.uploads import (
    CappedUpload,
    pending_drop,
    pending_load,
    pending_store,
    upload_content,
)

PAGE_SIZE = 50


def _donation(request, pk: int) -> Donation:
    # Outside one's share a donation is answered exactly like a missing one.
    if not permissions.may_read_donations(selectors.user_scope(request.user)):
        raise Http404
    donations = donations_visible_to(request.user).select_related("created_by", "collected_by")
    return get_object_or_404(donations, pk=pk)


TODO_LABELS = {
    "certificate": gettext_lazy("Erasure certificates to issue"),
    "attestation": gettext_lazy("Release attestation incomplete"),
    "counts": gettext_lazy("Counted devices differ from those announced or registered"),
}

NOT_YOURS = gettext_lazy(
    "Donations are handled by the coordination and the workshops that collect."
)


def _refuse_forbidden(err: DomainError) -> None:
    if err.status == 403:
        raise PermissionDenied(err.message) from err


@login_required
def donation_list(request):
    scope = selectors.user_scope(request.user)
    permissions.require_screen(permissions.may_read_donations(scope), NOT_YOURS)
    form = DonationFilterForm(request.GET or None)
    filters = form.filters() if request.GET else {"donor": None}
    visible = donations_visible_to(request.user)
    todo = request.GET.get("todo", "")
    if todo in TODO_LINES:
        # What the coordination's home counts: the same flag on the donation's row.
        visible = visible.filter(**{TODO_LINES[todo]: True})
    else:
        todo = ""
    donations = intake_selectors.donation_list(visible, donor=filters["donor"])
    page = page_of(request, donations, size=PAGE_SIZE)
    return render(
        request,
        "intake/donation_list.html",
        {
            "form": form,
            "page": page,
            "filtered": bool(filters["donor"] or todo),
            "todo": todo,
            "todo_label": TODO_LABELS.get(todo, ""),
            "may_write": scope.can_write,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def donor_create(request):
    permissions.require_screen(
        permissions.may_read_donations(selectors.user_scope(request.user)), NOT_YOURS
    )
    form = DonorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            donor = intake.donor_create(actor=request.user, **form.cleaned_data)
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_domain_error(err)
        else:
            messages.success(request, _("Donor “%(name)s” recorded.") % {"name": donor.name})
            return redirect(f"{reverse('inventory:donation_create')}?donor={donor.pk}")
    return render(request, "intake/donor_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def donation_create(request):
    permissions.require_screen(
        permissions.may_read_donations(selectors.user_scope(request.user)), NOT_YOURS
    )
    initial = {"donor": request.GET.get("donor", "")[:12]}
    form = DonationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            donation = intake.donation_create(actor=request.user, **form.service_arguments())
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_domain_error(err)
        else:
            messages.success(
                request, _("Donation %(reference)s recorded.") % {"reference": donation.reference}
            )
            return redirect("inventory:donation_detail", pk=donation.pk)
    return render(request, "intake/donation_form.html", {"form": form, "donation": None})


@login_required
@require_http_methods(["GET", "POST"])
def donation_edit(request, pk: int):
    donation = _donation(request, pk)
    initial = {name: getattr(donation, name) for name in intake.DONATION_FIELDS}
    initial["version"] = intake_selectors.donation_version(donation)
    form = DonationForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            intake.donation_update(
                actor=request.user,
                donation_id=donation.pk,
                version=form.cleaned_data["version"] or None,
                **form.service_arguments(),
            )
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_domain_error(err)
            status = err.status if err.code == "stale" else 200
        else:
            messages.success(
                request, _("Donation %(reference)s saved.") % {"reference": donation.reference}
            )
            return redirect("inventory:donation_detail", pk=donation.pk)
    return render(
        request,
        "intake/donation_form.html",
        {"form": form, "donation": donation},
        status=status,
    )


def _label_links(donation: Donation, count: int) -> list[dict]:
    """One link to the label printer for all the donation's devices (a list filter)."""
    if not count:
        return []
    query = urlencode({"all": "1", "donation": donation.pk})
    return [{"url": f"{reverse('labels:print')}?{query}", "first": 1, "last": count}]


@login_required
def donation_detail(request, pk: int):
    donation = _donation(request, pk)
    scope = selectors.user_scope(request.user)
    devices = donation.devices.select_related("category", "custodian").order_by("-pk")
    page = page_of(request, devices, size=PAGE_SIZE)
    for device in page.object_list:
        device.label_display = group_label_code(device.label_code_id)
        device.tone = STATUS_TONE.get(device.status, "neutral")
    return render(
        request,
        "intake/donation_detail.html",
        {
            "donation": donation,
            "page": page,
            "registered_count": page.count,
            "imports": donation.imports.select_related("imported_by").order_by("-imported_at"),
            "label_links": _label_links(donation, page.count) if scope.can_write else [],
            "may_write": scope.can_write,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def donation_device_register(request, pk: int):
    donation = _donation(request, pk)
    form = DonationDeviceForm(
        request.POST or None,
        # A workshop registers into its own custody; the coordination chooses.
        choose_custody=selectors.user_scope(request.user).sees_all,
        initial={"label_code": label_code_for_display(request.GET.get("label_code", "")[:20])},
    )
    if request.method == "POST" and form.is_valid():
        try:
            device = intake.donation_device_register(
                actor=request.user, donation=donation, **form.service_arguments()
            )
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_domain_error(err)
        else:
            messages.success(
                request,
                _("Device registered into %(reference)s with the label code %(code)s.")
                % {"reference": donation.reference, "code": group_label_code(device.label_code_id)},
            )
            return redirect("inventory:donation_detail", pk=donation.pk)
    return render(
        request,
        "intake/donation_device_form.html",
        {"form": form, "donation": donation},
    )


# Spreadsheet import: upload → preview (a dry run) → confirm (the real run, checked again).
# Between the two steps the bytes wait on disk (inventory.web.uploads.pending_store).


# Rows in error shown in the preview besides its first rows (every error stays in the list).
PREVIEW_ERROR_ROWS = 100
SHOWN_CHARS = 80


def _shown(value) -> str:
    text = str(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _preview_context(result: intake.ImportResult) -> dict:
    """The errors with the cell each one is about, and the rows to show with their faults.

    Each error is attached to its cell (row, column) so the preview can mark the cell itself
    and quote what the file holds there; the rows shown are the first ones and those in error.
    """
    names = {category.code: category.name for category in Category.objects.all()}
    field_of = dict(result.columns)
    fields = [name for _title, name in result.columns]
    by_row = {row.row: row for row in result.rows}
    problems: dict[tuple[int, str], list] = {}
    errors = []
    for error in result.errors:
        name = field_of.get(error.column)
        parsed = by_row.get(error.row)
        value = parsed.raw.get(name, "") if parsed is not None and name else ""
        reason = str(error.reason)
        errors.append(
            {
                "row": error.row,
                "column": error.column,
                "reason": reason,
                # Quoted beside the message unless the message quotes it already.
                "value": _shown(value) if value and value[:SHOWN_CHARS] not in reason else "",
                "anchor": f"row-{error.row}" if parsed is not None else "",
            }
        )
        if parsed is not None and name:
            problems.setdefault((error.row, name), []).append(reason)
    faulty = sorted({row for row, _name in problems})[:PREVIEW_ERROR_ROWS]
    shown = sorted({row.row for row in result.preview} | set(faulty))
    rows = []
    for number in shown:
        row = by_row[number]
        cells = []
        for name in fields:
            value = row[name]
            if name == "category":
                value = names.get(value, value)
            # A value that could not be read is shown as the file has it.
            text = row.raw.get(name, "") if value in (None, "") else value
            cells.append(
                {
                    "label": imports.COLUMN_LABELS[name],
                    "value": _shown(text),
                    "problems": problems.get((number, name), []),
                }
            )
        rows.append(
            {
                "number": number,
                "cells": cells,
                "error_count": sum(len(cell["problems"]) for cell in cells),
            }
        )
    return {
        "result": result,
        "mapped": [(title, imports.COLUMN_LABELS[name]) for title, name in result.columns],
        "errors": errors,
        "preview_rows": rows,
        "faulty_rows_shown": bool(faulty),
        "confirm_form": ImportConfirmForm(
            initial={"sha256": result.sha256, "file_name": result.file_name}
        ),
    }


@login_required
@csrf_exempt  # CSRF is checked by the inner view, once the upload handler is in place.
@require_http_methods(["GET", "POST"])
def donation_import(request, pk: int):
    # Before anything reads the body: the CSRF check would otherwise receive the whole file.
    request.upload_handlers.insert(0, CappedUpload(request, intake.import_max_bytes()))
    return _donation_import(request, pk)


@csrf_protect
def _donation_import(request, pk: int):
    donation = _donation(request, pk)
    scope = selectors.user_scope(request.user)
    if not scope.can_write:
        raise PermissionDenied(_("Only the coordination imports spreadsheets."))
    context = {"donation": donation, "max_rows": intake.import_max_rows()}
    max_bytes = intake.import_max_bytes()
    context["max_megabytes"] = f"{max_bytes / 1024 / 1024:g}"
    template = "intake/donation_import.html"

    if request.method == "POST" and "confirm" in request.POST:
        confirm = ImportConfirmForm(request.POST)
        content = pending_load(confirm.cleaned_data["sha256"]) if confirm.is_valid() else None
        if content is None:
            messages.error(request, _("This import could not be found: upload the file again."))
            return redirect("inventory:donation_import", pk=donation.pk)
        try:
            result = intake.devices_import(
                actor=request.user,
                donation=donation,
                file_name=confirm.cleaned_data["file_name"],
                content=content,
            )
        except DomainError as err:
            _refuse_forbidden(err)
            if err.code == "already_imported":
                pending_drop(confirm.cleaned_data["sha256"])
            result = err.params.get("result")
            context |= {"upload_form": ImportUploadForm(), "error": err.message}
            if result is not None:
                context |= _preview_context(result)
            return render(request, template, context, status=err.status)
        pending_drop(result.sha256)
        messages.success(
            request,
            ngettext(
                "%(count)s device imported into %(reference)s from “%(file)s”.",
                "%(count)s devices imported into %(reference)s from “%(file)s”.",
                result.row_count,
            )
            % {
                "count": result.row_count,
                "reference": donation.reference,
                "file": result.file_name,
            },
        )
        return redirect("inventory:donation_detail", pk=donation.pk)

    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else None
    form = form or ImportUploadForm()
    context["upload_form"] = form
    too_large = getattr(request, "upload_too_large", False)
    if request.method == "POST" and (too_large or form.is_valid()):
        uploaded = upload_content(
            request, form, max_bytes=max_bytes, megabytes=context["max_megabytes"]
        )
        if uploaded is None:
            return render(request, template, context, status=413)
        content, upload_name = uploaded
        try:
            result = intake.devices_import(
                actor=request.user,
                donation=donation,
                file_name=upload_name,
                content=content,
                dry_run=True,
            )
        except DomainError as err:
            _refuse_forbidden(err)
            form.add_error("file", err.message)
            return render(request, template, context, status=err.status)
        if result.ok:
            pending_store(result.sha256, content)
        context |= _preview_context(result)
        return render(request, template, context, status=200 if result.ok else 400)
    return render(request, template, context, status=400 if form.errors else 200)
