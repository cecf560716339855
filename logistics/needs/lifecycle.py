"""The life of a need, as plain values: its statuses, who moves it where, and what its served
units make of it. Pure: tested without a database; the services apply it under a row lock."""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class NeedStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    PARTLY_SERVED = "partly_served", _("Partly served")
    SERVED = "served", _("Served")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


# A need the structure still waits on, or may still send: what the cap per structure counts.
OPEN = frozenset(
    {NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.ACCEPTED, NeedStatus.PARTLY_SERVED}
)
# What matching serves: the coordination said yes, and units remain to serve.
TO_SERVE = frozenset({NeedStatus.ACCEPTED, NeedStatus.PARTLY_SERVED})
# What the structure may still change: nothing has been decided on it yet.
EDITABLE = frozenset({NeedStatus.DRAFT, NeedStatus.SUBMITTED})
CLOSED = frozenset(
    {NeedStatus.DECLINED, NeedStatus.SERVED, NeedStatus.CANCELLED, NeedStatus.EXPIRED}
)

STATUS_TONES = {
    NeedStatus.DRAFT: "neutral",
    NeedStatus.SUBMITTED: "info",
    NeedStatus.ACCEPTED: "warning",
    NeedStatus.DECLINED: "danger",
    NeedStatus.PARTLY_SERVED: "warning",
    NeedStatus.SERVED: "success",
    NeedStatus.CANCELLED: "neutral",
    NeedStatus.EXPIRED: "neutral",
}


class Side(models.TextChoices):
    """Who takes an action: the structure that asks, the coordination that decides, the
    system (the daily expiry)."""

    STRUCTURE = "structure", _("the structure")
    COORDINATION = "coordination", _("the coordination")
    SYSTEM = "system", _("the system")


@dataclass(frozen=True)
class NeedMove:
    name: str
    label: str
    sources: frozenset
    target: str
    side: str


_MOVES = (
    NeedMove(
        "submit", _("Submit to the coordination"), frozenset({NeedStatus.DRAFT}),
        NeedStatus.SUBMITTED, Side.STRUCTURE,
    ),
    NeedMove(
        "accept", _("Accept"), frozenset({NeedStatus.SUBMITTED}), NeedStatus.ACCEPTED,
        Side.COORDINATION,
    ),
    NeedMove(
        "decline", _("Decline"), frozenset({NeedStatus.SUBMITTED}), NeedStatus.DECLINED,
        Side.COORDINATION,
    ),
    NeedMove(
        "cancel", _("Cancel the need"),
        frozenset({NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.ACCEPTED,
                   NeedStatus.PARTLY_SERVED}),
        NeedStatus.CANCELLED, Side.STRUCTURE,
    ),
    NeedMove(
        "expire", _("Expire"), frozenset({NeedStatus.SUBMITTED}), NeedStatus.EXPIRED, Side.SYSTEM
    ),
)  # fmt: skip
MOVES = {move.name: move for move in _MOVES}


def move_allowed(name: str, status: str) -> bool:
    move = MOVES.get(name)
    return move is not None and status in move.sources


def moves_from(status: str, side: str) -> list[NeedMove]:
    """The moves a side may offer on a need in this status, in the table's order."""
    return [move for move in _MOVES if move.side == side and status in move.sources]


def served_status(status: str, lines: list[tuple[int, int]]) -> str:
    """A need's status once its lines' (accepted, served) units changed: the allocations of
    the matching serve an accepted need partly, then wholly, and a cancelled allocation
    reopens it; any other status stays."""
    if status not in TO_SERVE | {NeedStatus.SERVED}:
        return status
    accepted = sum(wanted for wanted, _served in lines)
    served = sum(min(done, wanted) for wanted, done in lines)
    if accepted and served >= accepted:
        return NeedStatus.SERVED
    if served:
        return NeedStatus.PARTLY_SERVED
    return NeedStatus.ACCEPTED
