"""Guards: conditions a lifecycle move must meet beyond the transition table.

A small registry keyed by action name or by target status; later work adds its own guards
(e.g. "ready needs a passed erasure") with the `guard` decorator. A guard returns a
DomainError describing what is missing, or None.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .errors import DomainError
from .models import Device, Organisation
from .states import Move, Status


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
