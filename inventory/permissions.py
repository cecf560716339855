"""Who may do what in the inventory app: every may_ and require_ of the app, in one module.

A `may_` answers yes or no for a scope (inventory.selectors.user_scope), so that a screen shows
an action exactly when the service would accept it. A `require` refuses: services with a
DomainError ("action_forbidden", 403 on the API), screens with PermissionDenied (the 403 page).
Seeing a given object is a matter of scoped reads (selectors), not of this module.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError
from inventory.selectors import Scope, user_scope
from inventory.states import OrgKind

# Who registers devices and prints their labels.
REGISTERING_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP})
# Who reads and writes the reconditioning record at the bench.
BENCH_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP})


def may_register(scope: Scope) -> bool:
    return scope.can_write and scope.kind in REGISTERING_KINDS


def may_read_devices(scope: Scope) -> bool:
    """The device list and the scan pages; the fund reads aggregates instead."""
    return scope.sees_devices


def may_read_bench(scope: Scope) -> bool:
    return scope.kind in BENCH_KINDS


def may_record_bench(scope: Scope) -> bool:
    return scope.can_write and scope.kind in BENCH_KINDS


def may_read_donations(scope: Scope) -> bool:
    """The donation screens: the coordination sees every donation, a workshop the donations it
    collected itself (inventory.documents.selectors.donations_visible_to)."""
    return scope.kind in REGISTERING_KINDS


def may_record_donations(scope: Scope) -> bool:
    """Donors, donations and their devices: the coordination, and a workshop that collects
    devices itself (ECODAIR collects from companies), for its own donations."""
    return scope.can_write and scope.kind in REGISTERING_KINDS


def may_coordinate(scope: Scope) -> bool:
    """Writes kept to the coordination: checklists, certificates."""
    return scope.can_write and scope.kind == OrgKind.COORDINATOR


def may_read_coordination(scope: Scope) -> bool:
    """Screens kept to the coordination (donations, checklists), its readers included."""
    return scope.kind == OrgKind.COORDINATOR


def may_issue_certificates(user) -> bool:
    return may_coordinate(user_scope(user))


# Refusals


def require(allowed: bool, message) -> None:
    """The refusal of a service: nothing is written, the API answers 403."""
    if not allowed:
        raise DomainError("action_forbidden", message, status=403)


def require_screen(allowed: bool, message) -> None:
    """The refusal of a screen: the 403 page with the message."""
    if not allowed:
        raise PermissionDenied(message)


def require_device_reader(scope: Scope) -> None:
    require_screen(
        may_read_devices(scope),
        _(
            "Your organisation reads the network's figures, not the list of devices. "
            "The figures are on the home page."
        ),
    )


def require_scanner(scope: Scope) -> None:
    require_screen(
        may_read_devices(scope), _("Scanning is for the coordination, workshops and structures.")
    )
