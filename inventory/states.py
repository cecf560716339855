"""A device's lifecycle: statuses, the actions that move between them, and who may act.

Pure Python, no ORM: the transition table is data that the lifecycle service reads and the
tests check without a database.
"""

import functools
from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    COORDINATOR = "coordinator", _("Coordinator")
    WORKSHOP = "workshop", _("Reconditioning workshop")
    STRUCTURE = "structure", _("Structure")
    FUND = "fund", _("Fund")
    DONOR = "donor", _("Donor")


class Status(models.TextChoices):
    REGISTERED = "registered", _("Registered at intake")
    SENT_TO_WORKSHOP = "sent_to_workshop", _("Sent to a workshop")
    AT_WORKSHOP = "at_workshop", _("At the workshop")
    IN_RECONDITIONING = "in_reconditioning", _("In reconditioning")
    READY = "ready", _("Ready (in stock)")
    RESERVED = "reserved", _("Reserved for a need")
    GIVEN = "given", _("Given to a structure")
    ON_LOAN = "on_loan", _("On loan")
    RETURNED = "returned", _("Returned from loan")
    RECYCLED = "recycled", _("Recycled (WEEE)")
    DISMANTLED = "dismantled", _("Dismantled for parts")
    RETURNED_TO_DONOR = "returned_to_donor", _("Returned to the donor")
    LOST = "lost", _("Lost or stolen")


# Named groups, as the home page, the stock and the reports read them.
INTAKE = frozenset({Status.REGISTERED, Status.RETURNED})
AT_WORKSHOPS = frozenset({Status.SENT_TO_WORKSHOP, Status.AT_WORKSHOP, Status.IN_RECONDITIONING})
IN_STOCK = frozenset({Status.READY, Status.RESERVED})
WITH_STRUCTURES = frozenset({Status.GIVEN, Status.ON_LOAN})
# A gift stays the channel's concern until its end of life: collected for WEEE, or lost.
TERMINAL = frozenset({Status.RECYCLED, Status.DISMANTLED, Status.RETURNED_TO_DONOR, Status.LOST})
EXITS = frozenset({Status.RECYCLED, Status.DISMANTLED, Status.RETURNED_TO_DONOR, Status.LOST})

STATUS_TONE = {
    Status.REGISTERED: "neutral",
    Status.SENT_TO_WORKSHOP: "info",
    Status.AT_WORKSHOP: "info",
    Status.IN_RECONDITIONING: "info",
    Status.READY: "success",
    Status.RESERVED: "warning",
    Status.GIVEN: "success",
    Status.ON_LOAN: "warning",
    Status.RETURNED: "neutral",
    Status.RECYCLED: "muted",
    Status.DISMANTLED: "muted",
    Status.RETURNED_TO_DONOR: "muted",
    Status.LOST: "danger",
}


class Custody(StrEnum):
    """Where custody goes when a move happens."""

    KEEP = "keep"
    TARGET = "target"  # an organisation named with the move, of the kind the move requires
    ACTOR_OR_TARGET = "actor_or_target"  # the acting workshop, or a named one
    DONOR = "donor"  # back to the device's donor


@dataclass(frozen=True)
class Move:
    action: str
    label: str
    sources: frozenset[Status]
    target: Status
    custody: Custody = Custody.KEEP
    target_kind: OrgKind | None = None
    actors: frozenset[OrgKind] = frozenset({OrgKind.COORDINATOR})
    # Owned by a workflow of logistics (allocations, hand-overs): the generic door (device
    # page, scans, the API's transition) refuses it; only that workflow's service applies it,
    # with the record that explains it (an allocation for a reservation…).
    workflow: bool = False


_ALL_LIVE = frozenset(set(Status) - TERMINAL)
_BENCH = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP})
# Who takes part in a hand-over (logistics.handovers: the coordination or the workshop hands
# over; the structure may confirm a delivered device's hand-over itself).
_HANDING = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE})

MOVES: dict[str, Move] = {
    move.action: move
    for move in (
        Move(
            "send_to_workshop",
            _("Send to a workshop"),
            frozenset({Status.REGISTERED, Status.RETURNED}),
            Status.SENT_TO_WORKSHOP,
            Custody.TARGET,
            OrgKind.WORKSHOP,
        ),
        Move(
            "receive_at_workshop",
            _("Received at the workshop"),
            frozenset({Status.REGISTERED, Status.SENT_TO_WORKSHOP, Status.RETURNED}),
            Status.AT_WORKSHOP,
            Custody.ACTOR_OR_TARGET,
            OrgKind.WORKSHOP,
            _BENCH,
        ),
        Move(
            "start_reconditioning",
            _("Start reconditioning"),
            frozenset({Status.AT_WORKSHOP}),
            Status.IN_RECONDITIONING,
            actors=_BENCH,
        ),
        Move(
            "mark_ready",
            _("Ready for reuse"),
            frozenset({Status.IN_RECONDITIONING}),
            Status.READY,
            actors=_BENCH,
        ),
        Move(
            "reserve",
            _("Reserve for a need"),
            frozenset({Status.READY}),
            Status.RESERVED,
            workflow=True,
        ),
        Move(
            "release_reservation",
            _("Release the reservation"),
            frozenset({Status.RESERVED}),
            Status.READY,
            workflow=True,
        ),
        Move(
            "hand_over_gift",
            _("Hand over as a gift"),
            frozenset({Status.RESERVED}),
            Status.GIVEN,
            Custody.TARGET,
            OrgKind.STRUCTURE,
            _HANDING,
            workflow=True,
        ),
        Move(
            "lend",
            _("Lend"),
            frozenset({Status.RESERVED}),
            Status.ON_LOAN,
            Custody.TARGET,
            OrgKind.STRUCTURE,
            _HANDING,
            workflow=True,
        ),
        Move(
            "return_loan",
            _("Loan returned"),
            frozenset({Status.ON_LOAN}),
            Status.RETURNED,
            Custody.ACTOR_OR_TARGET,
            None,
            _BENCH,
        ),
        Move(
            "collect_end_of_life",
            _("Collected at end of life (WEEE)"),
            frozenset({Status.GIVEN}),
            Status.RECYCLED,
            Custody.ACTOR_OR_TARGET,
            None,
            _BENCH,
        ),
        Move(
            "recycle",
            _("Recycle (WEEE)"),
            frozenset(
                {Status.REGISTERED, Status.AT_WORKSHOP, Status.IN_RECONDITIONING, Status.RETURNED}
            ),
            Status.RECYCLED,
            actors=_BENCH,
        ),
        Move(
            "dismantle",
            _("Dismantle for parts"),
            frozenset({Status.AT_WORKSHOP, Status.IN_RECONDITIONING}),
            Status.DISMANTLED,
            actors=_BENCH,
        ),
        Move(
            "return_to_donor",
            _("Return to the donor"),
            frozenset(
                {Status.REGISTERED, Status.AT_WORKSHOP, Status.IN_RECONDITIONING, Status.RETURNED}
            ),
            Status.RETURNED_TO_DONOR,
            Custody.DONOR,
            actors=_BENCH,
        ),
        # Not a reserved device: its allocation would stay active for a device that is gone.
        # The coordination cancels the allocation first (the need line reopens), then the
        # device is declared lost.
        Move(
            "declare_lost",
            _("Declare lost or stolen"),
            _ALL_LIVE - {Status.RESERVED},
            Status.LOST,
            actors=frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE}),
        ),
    )
}


def moves_from(status: Status | str) -> list[Move]:
    return [move for move in MOVES.values() if status in move.sources]


def can_transition(status: Status | str, action: str) -> bool:
    move = MOVES.get(action)
    return move is not None and status in move.sources


def actor_may(kind: OrgKind | str | None, action: str, *, workflow: bool = False) -> bool:
    """Whether this kind of organisation may make the move: through the generic door, or,
    with `workflow`, through the workflow that owns it."""
    move = MOVES.get(action)
    return move is not None and kind in move.actors and (workflow or not move.workflow)


WORKFLOW_MOVES = frozenset(move.action for move in MOVES.values() if move.workflow)


def needs_target(move: Move, actor_kind: OrgKind | str | None) -> bool:
    """Whether the move must name the organisation that receives the device.

    Always for a move to a named organisation; for a move into the actor's own custody, only
    when the actor has no organisation or is not of the kind the device goes to (a coordinator
    confirming a workshop's receipt names the workshop). The device page, the scan pages and
    the lifecycle service all ask this one function.
    """
    if move.custody == Custody.TARGET:
        return True
    if move.custody == Custody.ACTOR_OR_TARGET:
        return actor_kind is None or (
            move.target_kind is not None and move.target_kind != actor_kind
        )
    return False


# The move that normally comes next from each status, in order of preference: a screen shows
# the first one the user may make as its primary action. Exits are never a next step, and
# reserving, giving and lending belong to the allocations' workflow, not to a device's page.
NEXT_STEPS: dict[Status, tuple[str, ...]] = {
    Status.REGISTERED: ("send_to_workshop", "receive_at_workshop"),
    Status.RETURNED: ("send_to_workshop", "receive_at_workshop"),
    Status.SENT_TO_WORKSHOP: ("receive_at_workshop",),
    Status.AT_WORKSHOP: ("start_reconditioning",),
    Status.IN_RECONDITIONING: ("mark_ready",),
    Status.ON_LOAN: ("return_loan",),
}


@functools.cache
def _labels(language: str | None) -> tuple[dict[str, str], dict[str, str]]:
    with translation.override(language):
        statuses = {value: str(label) for value, label in Status.choices}
        return statuses, {move.action: str(move.label) for move in MOVES.values()}


def status_label(status: str) -> str:
    """A status's label in the active language, from a table built once per language: a lazy
    label's str() looks it up in the catalogue, and get_status_display() builds the choices'
    dict again, on every row of a list."""
    return _labels(translation.get_language())[0][status]


def move_label(action: str) -> str:
    """A move's label in the active language (as status_label)."""
    return _labels(translation.get_language())[1][action]
