"""Guards: conditions a lifecycle move must meet beyond the transition table.

A small registry keyed by action name or by target status; later work adds its own guards
(e.g. "ready needs a passed erasure") with the `guard` decorator. A guard returns a
DomainError describing what is missing, or None.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError
from inventory.models import (
    Device,
    ErasureResult,
    Grade,
    LockKind,
    LockOutcome,
    MediumState,
    Organisation,
    Reconditioning,
    TestItem,
    TestOutcome,
)
from inventory.states import Move, Status


@dataclass(frozen=True)
class GuardContext:
    device: Device
    move: Move
    actor: object
    target: Organisation | None


Guard = Callable[[GuardContext], DomainError | None]
_REGISTRY: dict[str, list[Guard]] = defaultdict(list)


def guard(*keys: str) -> Callable[[Guard], Guard]:
    """Register a guard for actions or target statuses, e.g. @guard(Status.READY)."""

    def register(fn: Guard) -> Guard:
        for key in keys:
            if fn not in _REGISTRY[str(key)]:
                _REGISTRY[str(key)].append(fn)
        return fn

    return register


def guard_problems(context: GuardContext) -> list[DomainError]:
    guards = _REGISTRY[context.move.action] + _REGISTRY[str(context.move.target)]
    return [problem for fn in guards if (problem := fn(context)) is not None]


def check_guards(context: GuardContext) -> None:
    problems = guard_problems(context)
    if problems:
        raise problems[0]


@guard("return_to_donor")
def device_has_donor(context: GuardContext) -> DomainError | None:
    if context.device.donor_id is None:
        return DomainError("no_donor", _("This device has no donor recorded to return it to."))
    return None


@guard(Status.READY)
def phone_has_imei(context: GuardContext) -> DomainError | None:
    # A phone leaves without its IMEI only if nobody could check it against the stolen list.
    if context.device.category.has_imei and not context.device.imei1:
        return DomainError(
            "imei_missing", _("A phone or cellular tablet needs its IMEI before it is ready.")
        )
    return None


# "Reconditionné" (décret 2022-190): every function tested and all previous data erased before
# the device changes hands. Each guard names one missing piece with its own code; they guard the
# end of a reconditioning, not a reservation released back to stock.


def _open_cycle(context: GuardContext):
    # Memoised on the device object: the guards of one move read the same cycle once. A list
    # of devices can be prepared in a few queries (reconditioning.guards_prepare); the guards
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


@guard("mark_ready")
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


@guard("mark_ready")
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


@guard("mark_ready")
def data_erased(context: GuardContext) -> DomainError | None:
    device = context.device
    cycle = _open_cycle(context)
    media = list(device.media.all())
    if not media:
        if device.category.holds_data:
            return DomainError(
                "media_missing",
                _("No storage medium is recorded: add the device's storage and its erasure."),
            )
        return None
    results: dict[int, set] = {}
    if cycle is not None:
        for erasure in cycle.erasures.all():
            results.setdefault(erasure.medium_id, set()).add(erasure.result)
    for medium in media:
        if medium.state != MediumState.IN_DEVICE:
            continue
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
        if ErasureResult.PASSED not in seen:
            return DomainError(
                "erasure_missing",
                _("%(medium)s has no passed erasure in this reconditioning.") % {"medium": medium},
            )
    return None


@guard("mark_ready")
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
