"""Who may do what in logistics: every may_ of the app, in one module, over the acting user's
scope (inventory.selectors.user_scope); refusals go through inventory.permissions' require
(services) and require_screen (screens)."""

from inventory.selectors import Scope
from inventory.states import OrgKind, actor_may

# Who reads shipments and a workshop's queue.
SHIPPING_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP})
# Who hands devices to an éco-organisme, and reads the WEEE register.
DISPOSING_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP})

SEND_ACTION = "send_to_workshop"
RECEIVE_ACTION = "receive_at_workshop"


def may_read_shipments(scope: Scope) -> bool:
    return scope.kind in SHIPPING_KINDS


def may_send(scope: Scope) -> bool:
    return scope.can_write and actor_may(scope.kind, SEND_ACTION)


def may_receive(scope: Scope) -> bool:
    return scope.can_write and actor_may(scope.kind, RECEIVE_ACTION)


def may_read_disposals(scope: Scope) -> bool:
    return scope.kind in DISPOSING_KINDS


def may_dispose(scope: Scope) -> bool:
    return scope.can_write and scope.kind in DISPOSING_KINDS


# Needs: a structure declares its own, the coordination reads the register and decides (and may
# record a need for a structure that phoned it in). Workshops and the fund read no need.
NEED_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.STRUCTURE})


def may_read_needs(scope: Scope) -> bool:
    return scope.kind in NEED_KINDS


def may_declare_needs(scope: Scope) -> bool:
    return scope.can_write and scope.kind in NEED_KINDS


def may_decide_needs(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.COORDINATOR


# Deliveries: the coordination and the workshops prepare and dispatch them (a workshop, from its
# own bench); the coordination receives them at its depot; the structure (or the coordination)
# receives them at arrival. Each reads the deliveries it takes part in.
DELIVERY_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE})


def may_read_deliveries(scope: Scope) -> bool:
    return scope.kind in DELIVERY_KINDS


def may_prepare_deliveries(scope: Scope) -> bool:
    return scope.can_write and scope.kind in SHIPPING_KINDS


def may_receive_deliveries(scope: Scope) -> bool:
    return scope.can_write and scope.kind in {OrgKind.COORDINATOR, OrgKind.STRUCTURE}


# Hand-overs and loans: the coordination and the workshops hand devices over; a structure
# receives them (and may confirm a delivered device's hand-over itself), signs, and reports.
HANDOVER_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE})


def may_read_hand_overs(scope: Scope) -> bool:
    return scope.kind in HANDOVER_KINDS


def may_hand_over(scope: Scope) -> bool:
    return scope.can_write and scope.kind in HANDOVER_KINDS


def may_read_loans(scope: Scope) -> bool:
    return scope.kind in HANDOVER_KINDS


def may_extend_loans(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.COORDINATOR


def may_record_returns(scope: Scope) -> bool:
    return scope.can_write and actor_may(scope.kind, "return_loan")


def may_report_devices(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.STRUCTURE


def may_close_reports(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.COORDINATOR


# The fund's reports: the coordination reads and issues them and runs the programmes; a fund's
# readers read the network's figures and their own programmes'. Nobody else reads them.
FUND_REPORT_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.FUND})


def may_read_fund_reports(scope: Scope) -> bool:
    return scope.kind in FUND_REPORT_KINDS


def may_issue_fund_reports(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.COORDINATOR


def may_manage_programmes(scope: Scope) -> bool:
    return scope.can_write and scope.kind == OrgKind.COORDINATOR
