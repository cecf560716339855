"""Web screens of WEEE disposals: the batches, a new batch, one batch, the register as CSV.

Each view turns a request into selector reads and at most one service call.
"""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.codes import group_label_code
from inventory.errors import DomainError
from inventory.selectors import user_scope
from inventory.web.form_replay import record_once
from inventory.web.paging import page_of
from logistics import permissions
from logistics.disposals import selectors as disposal_selectors
from logistics.disposals import services as disposals
from logistics.disposals.export import weee_register_response
from logistics.disposals.forms import (
    ECO_ORGANISATIONS,
    CandidateFilterForm,
    DisposalForm,
    RegisterFilterForm,
)
from logistics.web.picking import picking_context

PAGE_SIZE = 50
# How long a second submission of the same form waits for the first one to finish.


def _disposal_reader(request):
    if not permissions.may_read_disposals(user_scope(request.user)):
        raise PermissionDenied(_("WEEE disposals are for the coordination and the workshops."))
    return user_scope(request.user)


def _register_filters(request) -> RegisterFilterForm:
    return RegisterFilterForm(
        request.GET or None, years=disposal_selectors.disposal_years(request.user)
    )


@login_required
def disposal_list(request):
    _disposal_reader(request)
    filters = _register_filters(request)
    start, end = filters.period()
    batches = disposal_selectors.disposal_register(request.user, start=start, end=end).order_by(
        "-left_on", "-id"
    )
    page = page_of(request, batches, size=PAGE_SIZE)
    return render(
        request,
        "disposals/list.html",
        {
            "filters": filters,
            "page": page,
            "may_dispose": permissions.may_dispose(user_scope(request.user)),
            "export_query": request.GET.urlencode() if filters.filtered else "",
        },
    )


@login_required
def disposal_create(request):
    _disposal_reader(request)
    if not permissions.may_dispose(user_scope(request.user)):
        raise PermissionDenied(_("Your role does not allow recording WEEE disposals."))
    data = request.POST if request.method == "POST" else None
    form = DisposalForm(data, initial={"token": uuid.uuid4().hex})
    filters = CandidateFilterForm(data or request.GET or None)
    if data is not None and "record" in data and form.is_valid():
        try:
            batch, earlier = record_once(
                user=request.user,
                name="disposal",
                token=form.cleaned_data["token"],
                create=lambda: disposals.disposal_create(
                    actor=request.user, **form.service_arguments()
                ),
            )
        except DomainError as err:
            if err.status == 403:
                raise PermissionDenied(err.message) from err
            form.add_domain_error(err)
        else:
            if earlier:
                messages.info(request, _("This disposal was already recorded."))
                return redirect("logistics:disposal_detail", pk=earlier)
            count = batch.items.count()
            messages.success(
                request,
                ngettext(
                    "%(reference)s recorded: %(count)s device left with %(eco)s.",
                    "%(reference)s recorded: %(count)s devices left with %(eco)s.",
                    count,
                )
                % {"reference": batch.reference, "count": count, "eco": batch.eco_organisation},
            )
            return redirect("logistics:disposal_detail", pk=batch.pk)
    candidates = disposal_selectors.devices_awaiting_disposal(request.user, **filters.filters())
    return render(
        request,
        "disposals/form.html",
        {
            "form": form,
            "filters": filters,
            **picking_context(request, form, candidates, data or request.GET),
            "eco_organisations": ECO_ORGANISATIONS,
        },
    )


@login_required
def disposal_detail(request, pk: int):
    scope = _disposal_reader(request)
    # Another workshop's batch is answered exactly like a missing one.
    batch = disposal_selectors.disposal_detail(request.user, pk)
    if batch is None:
        raise Http404
    for item in batch.item_rows:
        device = item.device
        device.label_display = group_label_code(device.label_code_id)
        device.linkable = scope.sees_all or (
            scope.organisation is not None and device.custodian_id == scope.organisation.pk
        )
    return render(request, "disposals/detail.html", {"batch": batch})


@login_required
def disposal_register_csv(request):
    """The WEEE register, one line per batch, for the period asked (all by default)."""
    _disposal_reader(request)
    filters = _register_filters(request)
    if filters.is_bound and not filters.is_valid():
        # The list shows the same filters with their errors.
        return redirect(f"{reverse('logistics:disposal_list')}?{request.GET.urlencode()}")
    start, end = filters.period()
    batches = disposal_selectors.disposal_register(request.user, start=start, end=end)
    return weee_register_response(batches, start=start, end=end)
