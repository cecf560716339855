"""Reads of matching runs and allocations, scoped: the coordination reads every run and
allocation; a structure its own allocations; a workshop the allocations of the devices in its
custody (to prepare them); the fund and donors none (the fund reads the network's totals)."""

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inventory.models import Device, Reconditioning
from inventory.selectors import Scope, user_scope
from inventory.states import OrgKind, Status
from inventory.web.device_facts import DeviceFact
from logistics import permissions
from logistics.models import (
    Allocation,
    AllocationStatus,
    MatchingRun,
    RunLine,
    RunStatus,
    RunUnserved,
)


def runs_visible_to(user) -> QuerySet[MatchingRun]:
    """Runs are the coordination's work: others read none."""
    if not user_scope(user).sees_all:
        return MatchingRun.objects.none()
    return MatchingRun.objects.select_related(
        "territory", "category", "created_by", "decided_by"
    ).order_by("-created_at", "-id")


def run_detail(user, pk: int) -> MatchingRun | None:
    """The run with its proposed lines (`line_rows`: device, need line, need, structure) and
    its unserved lines (`unserved_rows`), in a fixed number of queries."""
    lines = RunLine.objects.select_related(
        "device",
        "device__category",
        "device__custodian",
        "need_line",
        "need_line__category",
        "need_line__need",
        "need_line__need__structure",
        "need_line__need__structure__commune",
    ).order_by("need_line__need__structure__name", "need_line_id", "id")
    unserved = RunUnserved.objects.select_related(
        "need_line",
        "need_line__category",
        "need_line__need",
        "need_line__need__structure",
        "need_line__need__structure__commune",
    ).order_by("need_line__need__structure__name", "need_line_id")
    return (
        runs_visible_to(user)
        .prefetch_related(
            Prefetch("lines", queryset=lines, to_attr="line_rows"),
            Prefetch("unserved", queryset=unserved, to_attr="unserved_rows"),
        )
        .filter(pk=pk)
        .first()
    )


def run_allocated_devices(run) -> set[int]:
    """The devices an approved run allocated (an approval may take some of its lines only)."""
    if run.status != RunStatus.APPROVED:
        return set()
    return set(run.allocations.values_list("device_id", flat=True))


def allocations_visible_to(user) -> QuerySet[Allocation]:
    return _allocations_for(user_scope(user))


def _allocations_for(scope: Scope) -> QuerySet[Allocation]:
    allocations = Allocation.objects.all()
    if scope.sees_all:
        return allocations
    if scope.organisation is None:
        return allocations.none()
    if scope.kind == OrgKind.STRUCTURE:
        return allocations.filter(structure=scope.organisation)
    if scope.kind == OrgKind.WORKSHOP:
        # The workshop prepares what is allocated from its bench: the active allocations of
        # the devices it holds.
        return allocations.filter(
            status=AllocationStatus.ACTIVE, device__custodian=scope.organisation
        )
    return allocations.none()


def allocation_list(
    user, *, status: str = "", structure: int | None = None, run: int | None = None
) -> QuerySet[Allocation]:
    """Newest first (an index's order), with what a row shows: device, category, structure,
    need line; three queries for a page whatever its length."""
    allocations = allocations_visible_to(user)
    if status:
        allocations = allocations.filter(status=status)
    if structure is not None:
        allocations = allocations.filter(structure_id=structure)
    if run is not None:
        allocations = allocations.filter(run_id=run)
    return allocations.select_related(
        "device",
        "device__category",
        "device__custodian",
        "structure",
        "structure__commune",
        "need_line",
        "need_line__category",
        "need_line__need",
        # A handed-over allocation links to its hand-over's receipt (a reverse one-to-one:
        # the same query, a LEFT JOIN).
        "hand_over_item__hand_over",
    ).order_by("-created_at", "-id")


def device_allocation(user, device) -> Allocation | None:
    """The device's active allocation, if the user may see it (the device page, the scan card
    and the workshop's preparation read it)."""
    return (
        allocations_visible_to(user)
        .filter(device=device, status=AllocationStatus.ACTIVE)
        .select_related("structure", "need_line__need")
        .first()
    )


def allocation_facts(scope: Scope, device) -> list[DeviceFact]:
    """The device page's line on a reserved device's allocation (inventory.web.device_facts),
    for whoever may see that allocation."""
    if device.status != Status.RESERVED:
        return []
    allocation = (
        _allocations_for(scope)
        .filter(device=device, status=AllocationStatus.ACTIVE)
        .select_related("structure", "need_line__need")
        .first()
    )
    if allocation is None:
        return []
    need = allocation.need_line.need
    text = _("%(structure)s (need %(reference)s)") % {
        "structure": allocation.structure.name,
        "reference": need.reference,
    }
    url = (
        reverse("logistics:need_detail", args=[need.pk])
        if permissions.may_read_needs(scope)
        else ""
    )
    return [DeviceFact(_("Allocated to"), text, url)]


def device_grades(device_ids) -> dict[int, str]:
    """Each device's grade from its last completed reconditioning (what the matching read)."""
    rows = (
        Reconditioning.objects.filter(device_id__in=set(device_ids), completed_at__isnull=False)
        .order_by("device_id", "-completed_at", "-pk")
        .values_list("device_id", "grade")
    )
    grades: dict[int, str] = {}
    for device_id, grade in rows:
        grades.setdefault(device_id, grade)
    return grades


def device_codes(device_ids) -> dict[int, str]:
    """Label codes by device id: what a refusal that names devices shows."""
    return dict(Device.objects.filter(pk__in=set(device_ids)).values_list("pk", "label_code_id"))
