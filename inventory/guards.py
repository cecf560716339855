"""Guards: conditions a lifecycle move must meet beyond the transition table.

A small registry keyed by action name or by target status. A guard returns a DomainError
describing what is missing, or None. Guards are registered explicitly from
InventoryConfig.ready() (this module's LIFECYCLE_GUARDS, inventory.reconditioning.ready's
READY_GUARDS), never as a side effect of some import: a guard cannot silently vanish, and
tests/inventory/test_guards.py asserts the registry holds each of them.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError
from inventory.models import (
    Device,
    Organisation,
)
from inventory.states import Move


@dataclass(frozen=True)
class GuardContext:
    device: Device
    move: Move
    actor: object
    target: Organisation | None


Guard = Callable[[GuardContext], DomainError | None]
_REGISTRY: dict[str, list[Guard]] = defaultdict(list)


def register(key: str, *functions: Guard) -> None:
    """Register guards for an action or a target status; registering twice is harmless."""
    for fn in functions:
        if fn not in _REGISTRY[str(key)]:
            _REGISTRY[str(key)].append(fn)


def unregister(key: str, fn: Guard) -> None:
    if fn in _REGISTRY.get(str(key), ()):
        _REGISTRY[str(key)].remove(fn)


def registered(key: str) -> tuple[Guard, ...]:
    return tuple(_REGISTRY.get(str(key), ()))


def guard_problems(context: GuardContext) -> list[DomainError]:
    guards = registered(context.move.action) + registered(context.move.target)
    return [problem for fn in guards if (problem := fn(context)) is not None]


def check_guards(context: GuardContext) -> None:
    problems = guard_problems(context)
    if problems:
        raise problems[0]


def device_has_donor(context: GuardContext) -> DomainError | None:
    if context.device.donor_id is None:
        return DomainError("no_donor", _("This device has no donor recorded to return it to."))
    return None


# "Reconditionné" (décret 2022-190): every function tested and all previous data erased before
# the device changes hands. Each guard names one missing piece with its own code; they guard the
# end of a reconditioning, not a reservation released back to stock.


LIFECYCLE_GUARDS = {"return_to_donor": (device_has_donor,)}


def register_lifecycle_guards() -> None:
    for key, functions in LIFECYCLE_GUARDS.items():
        register(key, *functions)
