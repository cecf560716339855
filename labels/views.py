"""Label screens: print a device's label, a selection's, a reprint, or sheets of fresh codes."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from inventory import permissions, selectors
from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.forms import DeviceFilterForm
from labels.documents import label_document
from labels.forms import LabelStockForm, PreprintForm
from labels.render import LabelItem, LayoutError, item_from_device
from labels.services import preprint_issue
from labels.stock import MAX_LABELS


def label_response(items, form, filename: str) -> HttpResponse:
    """The document chosen in the form, as a download; LayoutError goes back to the form."""
    data = form.cleaned_data
    document = label_document(items, data["fmt"], start=data["start"], output=data["output"])
    response = HttpResponse(document.body, content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{document.extension}"'
    return response


def _printer(request):
    if not permissions.may_register(selectors.user_scope(request.user)):
        raise PermissionDenied(_("Only the coordination and the workshops' staff print labels."))


@login_required
def print_labels(request):
    """Labels of the devices given as ?device=<id> (one, a selection, or a reprint)."""
    _printer(request)
    source = request.POST if request.method == "POST" else request.GET
    scope = selectors.user_scope(request.user)
    if source.get("all") == "1":
        # Every device a list search found, e.g. an intake batch (donor + day of registration).
        filters = DeviceFilterForm(source, show_custody=scope.sees_all).filters()
        chosen = selectors.device_list(request.user, **filters)
    else:
        ids = [int(value) for value in source.getlist("device") if value.isdigit()]
        # Devices outside the user's scope are simply not there: never print what one can't see.
        chosen = selectors.devices_visible_to(request.user).filter(pk__in=ids[:MAX_LABELS])
    devices = list(chosen.select_related("category").order_by("pk")[:MAX_LABELS])
    form = LabelStockForm(request.POST or None)
    if request.method == "POST" and devices and form.is_valid():
        try:
            single = f"label-{group_label_code(devices[0].label_code_id)}"
            name = "labels" if len(devices) > 1 else single
            return label_response([item_from_device(d) for d in devices], form, name)
        except LayoutError as exc:
            form.add_error("label_format", str(exc))
    context = {"form": form, "devices": devices, "max_labels": MAX_LABELS}
    return render(request, "labels/print.html", context)


@login_required
def preprint(request):
    """Sheets of fresh codes, printed ahead and bound to devices when they are registered."""
    _printer(request)
    form = PreprintForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = preprint_issue(actor=request.user, count=form.count())
            items = [LabelItem(code=label.code) for label in codes]
            return label_response(items, form, f"preprinted-{codes[0].preprint_run}")
        except (DomainError, LayoutError) as exc:
            form.add_error(None, str(exc))
    return render(request, "labels/preprint.html", {"form": form})
