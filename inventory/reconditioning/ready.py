"""The "ready" rule in one place: what a device must have before it leaves the workshop as
reconditioned, as guards of the lifecycle door, and what the scan card, the bench page, the
device page and the workshop's queue say is still missing (the same guards, never a copy).

"Reconditionné" (décret 2022-190): every function tested and all previous data erased before
the device changes hands. Each guard names one missing piece with its own code; they guard the
end of a reconditioning, not a reservation released back to stock. They are registered from
InventoryConfig.ready() (`register`), and tests/inventory/test_guards.py checks the registry.
"""

from django.utils.translation import gettext_lazy as _

from inventory import guards
from inventory.errors import DomainError
from inventory.guards import GuardContext, guard_problems
from inventory.models import (
    Device,
    ErasureResult,
    Grade,
    LockKind,
    LockOutcome,
    MediumState,
    Reconditioning,
    StorageMedium,
    TestItem,
    TestOutcome,
)
from inventory.states import MOVES, Status


def phone_has_imei(context: GuardContext) -> DomainError | None:
    # A phone leaves without its IMEI only if nobody could check it against the stolen list.
    if context.device.category.has_imei and not context.device.imei1:
        return DomainError(
            "imei_missing", _("A phone or cellular tablet needs its IMEI before it is ready.")
        )
    return None


def _open_cycle(context: GuardContext):
    # Memoised on the device object: the guards of one move read the same cycle once. A list
    # of devices can be prepared in a few queries (guards_prepare); the guards
    # then read the records with .all(), which uses what was prefetched.
    device = context.device
    if not hasattr(device, "_guard_cycle"):
        device._guard_cycle = Reconditioning.objects.filter(
            device=device, completed_at__isnull=True
        ).first()
    return device._guard_cycle


def _checklist(context: GuardContext) -> list[TestItem]:
    device = context.device
    if not hasattr(device, "_guard_items"):
        device._guard_items = list(
            TestItem.objects.filter(category_id=device.category_id, is_active=True)
        )
    return device._guard_items


def _media(context: GuardContext) -> list[StorageMedium]:
    device = context.device
    if not hasattr(device, "_guard_media"):
        device._guard_media = list(device.media.all())
    return device._guard_media


def no_lock_blocked(context: GuardContext) -> DomainError | None:
    cycle = _open_cycle(context)
    if cycle is None:
        return None
    blocked = [
        LockKind(check.kind).label
        for check in cycle.lock_checks.all()
        if check.outcome == LockOutcome.BLOCKED
    ]
    if blocked:
        return DomainError(
            "lock_blocked",
            _(
                "A lock is blocked (%(locks)s): the device can only go back to the donor, "
                "to parts or to recycling."
            )
            % {"locks": ", ".join(str(label) for label in blocked)},
        )
    return None


# Read once: LockKind.values builds the enum's choices, labels included, at each call, and the
# queue asks for each lock of each device it lists.
_LOCK_KINDS = frozenset(LockKind.values)


def locks_checked(context: GuardContext) -> DomainError | None:
    # Each lock the category calls for must be answered in this cycle, cleared or not
    # applicable: a lock nobody looked at is not a lock cleared.
    required = context.device.category.required_lock_kinds
    if not required:
        return None
    cycle = _open_cycle(context)
    answered = (
        {check.kind for check in cycle.lock_checks.all() if check.outcome != LockOutcome.BLOCKED}
        if cycle is not None
        else set()
    )
    unchecked = [
        LockKind(kind).label for kind in required if kind in _LOCK_KINDS and kind not in answered
    ]
    # A blocked lock has its own refusal (no_lock_blocked).
    blocked = cycle is not None and any(
        check.outcome == LockOutcome.BLOCKED for check in cycle.lock_checks.all()
    )
    if unchecked and not blocked:
        return DomainError(
            "locks_unchecked",
            _("Lock checks still to do: %(locks)s.")
            % {"locks": ", ".join(str(label) for label in unchecked)},
        )
    return None


def checklist_complete(context: GuardContext) -> DomainError | None:
    cycle = _open_cycle(context)
    items = _checklist(context)
    outcomes = (
        {result.item_id: result.outcome for result in cycle.test_results.all()}
        if cycle is not None
        else {}
    )
    failed = [item.label for item in items if outcomes.get(item.pk) == TestOutcome.FAILED]
    if failed:
        return DomainError(
            "tests_failed",
            _("Failed tests: %(items)s. Repair and test again, or send the device to an exit.")
            % {"items": ", ".join(failed)},
        )
    missing = [item.label for item in items if item.pk not in outcomes]
    if missing:
        return DomainError(
            "tests_incomplete",
            _("Tests still to do: %(items)s.") % {"items": ", ".join(missing)},
        )
    return None


def data_erased(context: GuardContext) -> DomainError | None:
    """Every medium still in the device erased in this cycle (or factory-new), and, for a
    category that holds data, at least one such working medium: a laptop whose only disk was
    destroyed has nothing to run on and is not ready."""
    device = context.device
    cycle = _open_cycle(context)
    media = [medium for medium in _media(context) if medium.state == MediumState.IN_DEVICE]
    results: dict[int, set] = {}
    if cycle is not None:
        for erasure in cycle.erasures.all():
            results.setdefault(erasure.medium_id, set()).add(erasure.result)
    for medium in media:
        seen = results.get(medium.pk, set())
        if seen & {ErasureResult.FAILED, ErasureResult.UNVERIFIABLE}:
            return DomainError(
                "destruction_required",
                _(
                    "The erasure of %(medium)s failed or could not be verified: record its "
                    "destruction."
                )
                % {"medium": medium},
            )
        if ErasureResult.PASSED not in seen and not medium.is_new:
            return DomainError(
                "erasure_missing",
                _("%(medium)s has no passed erasure in this reconditioning.") % {"medium": medium},
            )
    if device.category.holds_data and not media:
        if _media(context):
            return DomainError(
                "working_medium_missing",
                _(
                    "No working storage medium is left in the device (destroyed or removed): "
                    "fit a new one, or an erased one, and record it."
                ),
            )
        return DomainError(
            "media_missing",
            _("No storage medium is recorded: add the device's storage and its erasure."),
        )
    return None


def grade_set(context: GuardContext) -> DomainError | None:
    cycle = _open_cycle(context)
    if cycle is None or not cycle.grade:
        return DomainError("grade_missing", _("Give the device its cosmetic grade."))
    if cycle.grade == Grade.D:
        return DomainError(
            "grade_not_reusable",
            _("Grade D means not reusable: send the device to parts or recycling."),
        )
    return None


def missing_before_ready(user, device: Device) -> list[DomainError]:
    """What still keeps the device from "ready", as the guards of that move say it."""
    if device.status not in (Status.AT_WORKSHOP, Status.IN_RECONDITIONING):
        return []
    context = GuardContext(device=device, move=MOVES["mark_ready"], actor=user, target=None)
    return guard_problems(context)


def guards_prepare(devices: list[Device]) -> None:
    """Read what the "ready" guards need for a list of devices in six queries in all,
    whatever its length (a workshop's queue), instead of a few per device."""
    if not devices:
        return
    cycles = {
        cycle.device_id: cycle
        for cycle in Reconditioning.objects.filter(
            device_id__in=[device.pk for device in devices], completed_at__isnull=True
        ).prefetch_related("lock_checks", "test_results", "erasures")
    }
    items: dict[str, list[TestItem]] = {}
    # Each category's checklist in its own order (sort_order, code), as the model's ordering
    # gives it within a category, without its join to the categories to order them.
    for item in TestItem.objects.filter(
        category_id__in={device.category_id for device in devices}, is_active=True
    ).order_by("category_id", "sort_order", "code"):
        items.setdefault(item.category_id, []).append(item)
    # Grouped here rather than by prefetch_related_objects, which builds a queryset for each
    # device to hold its media; same order as device.media.all() (the model's).
    media: dict[int, list[StorageMedium]] = {}
    for medium in StorageMedium.objects.filter(device_id__in=[device.pk for device in devices]):
        media.setdefault(medium.device_id, []).append(medium)
    for device in devices:
        device._guard_cycle = cycles.get(device.pk)
        device._guard_items = items.get(device.category_id, [])
        device._guard_media = media.get(device.pk, [])


def guards_prepare_from_record(device: Device, record) -> None:
    """Let the guards read what a bench record just read for this device holds (the device
    page: bench_record, then missing_before_ready): the open cycle, with its checks, results
    and erasures prefetched, the active checklist and the media. Only for a record read after
    the last write of the request: the guards would judge on what it holds."""
    cycle = record.cycle
    # The record shows the open cycle when there is one (at most one per device): when its
    # cycle is closed, no cycle is open.
    device._guard_cycle = cycle if cycle is not None and cycle.completed_at is None else None
    device._guard_items = [item for item, _result in record.checklist]
    device._guard_media = [view.medium for view in record.media]


def missing_for_each(user, devices: list[Device]) -> None:
    """`missing_before_ready` for a whole list (a workshop's queue), set on each device as
    `missing`, on records read in a fixed number of queries."""
    guards_prepare(devices)
    for device in devices:
        device.missing = missing_before_ready(user, device)


# The guards of the "ready" move, by action or target status.
READY_GUARDS = {
    "mark_ready": (
        no_lock_blocked,
        locks_checked,
        checklist_complete,
        data_erased,
        grade_set,
    ),
    Status.READY: (phone_has_imei,),
}


def register() -> None:
    for key, functions in READY_GUARDS.items():
        guards.register(key, *functions)
