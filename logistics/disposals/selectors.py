"""Reads of WEEE disposals, scoped to what the user may see: batches, the devices waiting for
one, the register, and what the device page says of a recycled device."""

import datetime

from django.db.models import Count, Prefetch, QuerySet
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from inventory.models import Device
from inventory.selectors import devices_visible_to, user_scope
from inventory.states import OrgKind, Status
from inventory.web.device_facts import DeviceFact
from logistics import permissions
from logistics.models import DisposalBatch, DisposalItem


def _scoped(user) -> QuerySet[DisposalBatch]:
    scope = user_scope(user)
    batches = DisposalBatch.objects.all()
    if scope.sees_all:
        return batches
    if scope.kind == OrgKind.WORKSHOP:
        return batches.filter(organisation=scope.organisation)
    return batches.none()


def disposals_visible_to(user) -> QuerySet[DisposalBatch]:
    """Coordination: every batch; a workshop: the batches it handed over; others: none.

    Each row carries its device count (one query for a whole page).
    """
    return (
        _scoped(user)
        .select_related("organisation", "created_by")
        .annotate(device_count=Count("items"))
    )


def disposal_detail(user, pk: int) -> DisposalBatch | None:
    """The batch with its devices (and their category) in `item_rows`: two queries."""
    items = DisposalItem.objects.select_related("device", "device__category").order_by(
        "device__label_code_id"
    )
    return (
        disposals_visible_to(user)
        .prefetch_related(Prefetch("items", queryset=items, to_attr="item_rows"))
        .filter(pk=pk)
        .first()
    )


def devices_awaiting_disposal(user, *, category: str = "") -> QuerySet[Device]:
    """Recycled devices the user may see that have not left in a batch yet, oldest first.

    Read by the flag the services keep (Device.awaiting_disposal): a page and its count come
    from its partial indexes (the coordination's, a workshop's custody), which hold only the
    waiting devices, however many left before them."""
    devices = (
        devices_visible_to(user)
        .filter(awaiting_disposal=True)
        .select_related("category", "custodian")
        .order_by("updated_at", "id")
    )
    if category:
        devices = devices.filter(category_id=category)
    return devices


def disposal_register(
    user, *, start: datetime.date | None = None, end: datetime.date | None = None
) -> QuerySet[DisposalBatch]:
    """The register's lines in the order they happened, between two dates included."""
    batches = disposals_visible_to(user).order_by("left_on", "id")
    if start is not None:
        batches = batches.filter(left_on__gte=start)
    if end is not None:
        batches = batches.filter(left_on__lte=end)
    return batches


def disposal_years(user) -> list[int]:
    """The years that have at least one batch, latest first: the register's natural periods."""
    return [day.year for day in _scoped(user).dates("left_on", "year", order="DESC")]


def disposal_facts(scope, device) -> list[DeviceFact]:
    """The device page's line on a recycled device's WEEE batch (inventory.web.device_facts)."""
    if device.status != Status.RECYCLED:
        return []
    item = DisposalItem.objects.select_related("batch").filter(device=device).first()
    if item is None:
        return [DeviceFact(_("WEEE disposal"), _("Not yet handed to an éco-organisme"))]
    batch = item.batch
    text = " · ".join(
        (batch.reference, date_format(batch.left_on, "SHORT_DATE_FORMAT"), batch.eco_organisation)
    )
    url = (
        reverse("logistics:disposal_detail", args=[batch.pk])
        if permissions.may_read_disposals(scope)
        else ""
    )
    return [DeviceFact(_("WEEE disposal"), text, url)]
