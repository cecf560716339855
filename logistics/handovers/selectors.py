"""Reads of hand-overs: who sees which, the lists, one hand-over with its devices, the
receipts still to sign."""

from django.db.models import Count, Q

from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.models import HandOver, HandOverItem, SignatureKind


def hand_overs_visible_to(actor):
    """The coordination: every hand-over; a workshop: those it made; a structure: its own;
    the fund and donors: none (the fund reads aggregates only)."""
    scope = user_scope(actor)
    if not permissions.may_read_hand_overs(scope):
        return HandOver.objects.none()
    if scope.sees_all:
        return HandOver.objects.all()
    if scope.kind == OrgKind.WORKSHOP:
        return HandOver.objects.filter(handed_by_organisation=scope.organisation)
    return HandOver.objects.filter(structure=scope.organisation)


def hand_over_list(actor, *, unsigned: bool = False, structure_id: int | None = None):
    rows = hand_overs_visible_to(actor)
    if unsigned:
        rows = rows.filter(signature_kind=SignatureKind.NONE)
    if structure_id is not None:
        rows = rows.filter(structure_id=structure_id)
    return (
        rows.select_related("structure", "handed_by_organisation")
        .annotate(
            device_count=Count("items"),
            loan_count=Count("items", filter=Q(items__mode="loan")),
        )
        .order_by("-handed_at", "-id")
    )


def hand_over_detail(actor, hand_over_id):
    try:
        pk = int(hand_over_id)
    except (TypeError, ValueError):
        return None
    return (
        hand_overs_visible_to(actor)
        .select_related(
            "structure", "structure__commune", "handed_by", "handed_by_organisation", "delivery"
        )
        .filter(pk=pk)
        .first()
    )


def hand_over_items(hand_over: HandOver):
    return (
        HandOverItem.objects.filter(hand_over=hand_over)
        .select_related("device", "allocation")
        .order_by("id")
    )
