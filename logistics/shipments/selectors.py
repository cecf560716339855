"""Named reads of shipments and of a workshop's queue, each scoped to what the user may see."""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.utils import timezone

from inventory.models import Device, DeviceCount, Organisation
from inventory.reconditioning import ready
from inventory.selectors import devices_visible_to, user_scope
from inventory.states import INTAKE, OrgKind, Status
from logistics.models import Shipment, ShipmentItem, ShipmentKind

# The steps of a workshop's queue, in the order of the work, with the move that enters each.
QUEUE_STEPS = (
    (Status.SENT_TO_WORKSHOP, "send_to_workshop"),
    (Status.AT_WORKSHOP, "receive_at_workshop"),
    (Status.IN_RECONDITIONING, "start_reconditioning"),
)
QUEUE_PAGE = 50
TURNAROUND_DAYS = 90


def shipments_visible_to(user) -> QuerySet[Shipment]:
    """Coordination: every shipment; a workshop: those addressed to it; others: none.

    Each row carries its device count and received count (one query for a whole page).
    """
    scope = user_scope(user)
    # Deliveries to structures share the table; they have their own screens (logistics.deliveries).
    shipments = Shipment.objects.filter(kind=ShipmentKind.TO_WORKSHOP)
    shipments = shipments.select_related("workshop", "sender", "sent_by").annotate(
        device_count=Count("items"),
        received_count=Count("items", filter=Q(items__received_at__isnull=False)),
    )
    # Explicit: an aggregating query does not apply the model's default ordering.
    shipments = shipments.order_by("-sent_on", "-id")
    if scope.sees_all:
        return shipments
    if scope.kind == OrgKind.WORKSHOP:
        return shipments.filter(workshop=scope.organisation)
    return shipments.none()


def shipment_detail(user, pk: int) -> Shipment | None:
    """The shipment with its items (device, category, receiver) in `item_rows`: two queries."""
    items = ShipmentItem.objects.select_related(
        "device", "device__category", "received_by"
    ).order_by("device__label_code_id")
    return (
        shipments_visible_to(user)
        .prefetch_related(Prefetch("items", queryset=items, to_attr="item_rows"))
        .filter(pk=pk)
        .first()
    )


def sendable_devices(user, *, donor=None, category: str = "") -> QuerySet[Device]:
    """Devices a shipment may take: registered or returned, oldest first."""
    devices = (
        devices_visible_to(user)
        .filter(status__in=INTAKE)
        .select_related("category", "donor")
        .order_by("created_at", "id")
    )
    if donor:
        devices = devices.filter(donor_id=donor)
    if category:
        devices = devices.filter(category_id=category)
    return devices


def workshops_for(user) -> QuerySet[Organisation]:
    """The workshops whose queue this user may read: coordination all, a workshop its own."""
    scope = user_scope(user)
    workshops = Organisation.objects.filter(kind=OrgKind.WORKSHOP).order_by("name", "id")
    if scope.sees_all:
        return workshops.filter(is_active=True)
    if scope.kind == OrgKind.WORKSHOP:
        return workshops.filter(pk=scope.organisation.pk)
    return workshops.none()


def queue_workshop_for(user, pk: int) -> Organisation | None:
    """The workshop `pk` if `user` may read its queue (one of `workshops_for`), else None. A
    workshop's own is its scope's organisation, read with the membership: no query."""
    scope = user_scope(user)
    if scope.kind == OrgKind.WORKSHOP:
        return scope.organisation if scope.organisation.pk == pk else None
    return workshops_for(user).filter(pk=pk).first()


# Pure figures, tested without a database.


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks (the usual spreadsheet PERCENTILE)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Turnaround:
    count: int
    median_days: float | None
    p90_days: float | None
    days: int = TURNAROUND_DAYS


def turnaround_of(durations: list[timedelta], *, days: int = TURNAROUND_DAYS) -> Turnaround:
    values = [duration.total_seconds() / 86400 for duration in durations]
    return Turnaround(
        count=len(values),
        median_days=statistics.median(values) if values else None,
        p90_days=percentile(values, 0.9),
        days=days,
    )


def pair_receipts(
    ready: list[tuple[int, datetime]], receipts: list[tuple[int, datetime]]
) -> list[timedelta]:
    """For each (device, ready at), the time since that device's last receipt before it.

    A device can pass through the workshop twice (a loan returned, sent back): each "ready"
    counts from the receipt that preceded it. A "ready" with no receipt before it (a device the
    workshop registered itself) has no turnaround and is left out.
    """
    by_device: dict[int, list[datetime]] = defaultdict(list)
    for device_id, received_at in receipts:
        by_device[device_id].append(received_at)
    durations = []
    for device_id, ready_at in ready:
        before = [when for when in by_device.get(device_id, ()) if when <= ready_at]
        if before:
            durations.append(ready_at - max(before))
    return durations


def workshop_turnaround(workshop: Organisation, *, days: int = TURNAROUND_DAYS) -> Turnaround:
    """Days from receipt to "ready" for the devices this workshop made ready lately.

    Two queries on the device history, each reading only the rows it returns, whatever the
    size of the history: the "mark_ready" rows of the period (custody stays with the workshop
    on that move, so the row names it; histdevice_reason_custody_idx, inventory 0019), then
    the receipts at that workshop of those devices only, by device (the history's device id
    index), instead of every receipt the workshop ever had.
    """
    history = Device.history.model.objects
    since = timezone.now() - timedelta(days=days)
    ready = list(
        history.filter(
            history_change_reason="mark_ready", custodian_id=workshop.pk, history_date__gte=since
        ).values_list("id", "history_date")
    )
    if not ready:
        return turnaround_of([], days=days)
    receipts = list(
        history.filter(
            history_change_reason="receive_at_workshop",
            custodian_id=workshop.pk,
            id__in=sorted({device_id for device_id, _ in ready}),
        ).values_list("id", "history_date")
    )
    return turnaround_of(pair_receipts(ready, receipts), days=days)


@dataclass
class QueueStep:
    status: Status
    count: int = 0
    oldest_since: datetime | None = None
    devices: list[Device] = field(default_factory=list)

    @property
    def oldest_age(self) -> timedelta | None:
        return timezone.now() - self.oldest_since if self.oldest_since else None


@dataclass
class WorkshopQueue:
    workshop: Organisation
    steps: list[QueueStep]
    turnaround: Turnaround

    @property
    def total(self) -> int:
        return sum(step.count for step in self.steps)


def queue_devices(workshop: Organisation, status: Status) -> QuerySet[Device]:
    """The workshop's devices in custody at one step of its queue, each with its `since`: when
    the lifecycle service moved it into the step. One status only, compared with `=`: then
    device_custody_queue_idx (custodian, status, status_changed_at, id) yields them in the
    step's order and a page stops after its last row; with `status IN (...)` besides,
    PostgreSQL 15 read and sorted the whole step."""
    return Device.objects.filter(custodian=workshop, status=status).annotate(
        since=F("status_changed_at")
    )


def queue_figures(workshop: Organisation) -> QuerySet:
    """Per step of the queue: its status and count, from the counters the lifecycle services
    keep (inventory.counts): three rows at most, whatever the number of devices."""
    return (
        DeviceCount.objects.filter(
            custodian=workshop, status__in=[status for status, _action in QUEUE_STEPS]
        )
        .order_by()
        .values("status", "count")
    )


# What the queue shows of a device (the API's QueueDeviceSerializer, the page's rows); the
# devices in reconditioning are read whole, as the "ready" guards may read any field.
QUEUE_DEVICE_FIELDS = (
    "id",
    "label_code",
    "category",
    "manufacturer",
    "model_name",
    "serial_number",
    "status",
    "status_changed_at",
)


def queue_step_devices(workshop: Organisation, status: Status) -> QuerySet[Device]:
    """One step's devices, oldest first (the caller takes a page). Their categories are the
    caller's to attach (`workshop_queue` reads them once for all the steps)."""
    rows = queue_devices(workshop, status)
    if status != Status.IN_RECONDITIONING:
        rows = rows.only(*QUEUE_DEVICE_FIELDS)
    if status == Status.SENT_TO_WORKSHOP:
        # The shipment to confirm the device's receipt from, if it travelled in one.
        rows = rows.annotate(
            open_shipment_id=Subquery(
                ShipmentItem.objects.filter(device=OuterRef("pk"), received_at__isnull=True)
                .order_by()
                .values("shipment_id")[:1]
            )
        )
    return rows.order_by("since", "id")


def workshop_queue(user, workshop: Organisation, *, page: int = QUEUE_PAGE) -> WorkshopQueue:
    """The workshop's devices in custody by step, oldest first, and what each still needs.

    The callers have checked that `user` may read this workshop's queue (`workshops_for`).
    Counts: one query of the counters; devices: one query per step (at most `page` each);
    turnaround: at most two queries. For devices in reconditioning, the "ready" guards
    themselves say what is missing (exactly what the lifecycle service will ask for), on
    records read for the whole page at once (inventory.reconditioning.ready).
    """
    figures = {row["status"]: row["count"] for row in queue_figures(workshop)}
    steps = []
    for status, _action in QUEUE_STEPS:
        step = QueueStep(status, count=figures.get(status, 0))
        if step.count:
            step.devices = list(queue_step_devices(workshop, status)[:page])
            # The page is ordered oldest first: its first device is the step's oldest.
            step.oldest_since = step.devices[0].since if step.devices else None
        steps.append(step)
    # The categories of all the pages in one query, one object per category: joined to each
    # device row instead, they were as many objects as devices.
    prefetch_related_objects([device for step in steps for device in step.devices], "category")
    [reconditioning] = [step for step in steps if step.status == Status.IN_RECONDITIONING]
    ready.missing_for_each(user, reconditioning.devices)
    return WorkshopQueue(workshop, steps, workshop_turnaround(workshop))
