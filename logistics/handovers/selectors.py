"""Reads of hand-overs: who sees which, the lists, one hand-over with its devices, the
receipts still to sign, the allocations that may be handed over, a receipt's public check."""

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from inventory.documents.content import verification_code_normalize
from inventory.selectors import user_scope
from inventory.states import OrgKind, Status
from inventory.web.device_facts import DeviceFact
from logistics import permissions
from logistics.deliveries.stages import OPEN_STAGES
from logistics.models import (
    Allocation,
    AllocationStatus,
    DeliveryStage,
    HandOver,
    HandOverItem,
    LoanItem,
    LoanItemOutcome,
    ShipmentItem,
    SignatureKind,
)


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


def hand_over_by_code(raw: str):
    """The hand-over a receipt's verification code names (the public check), with its counts;
    None for an unknown or mistyped code."""
    code = verification_code_normalize(raw)
    if code is None:
        return None
    return (
        HandOver.objects.select_related("structure")
        .annotate(
            device_count=Count("items"),
            loan_count=Count("items", filter=Q(items__mode="loan")),
        )
        .filter(verification_code=code)
        .first()
    )


def allocations_to_hand_over(
    actor, *, delivery_id: int | None = None, structure_id: int | None = None
):
    """Active allocations the actor may hand over now (services.hand_over_create's rule): the
    coordination any; a workshop those of the devices in its custody; a structure its own whose
    device it received from a delivery. By structure, then in the order they were made."""
    scope = user_scope(actor)
    rows = Allocation.objects.filter(status=AllocationStatus.ACTIVE)
    if not permissions.may_hand_over(scope):
        return rows.none()
    if scope.kind == OrgKind.WORKSHOP:
        rows = rows.filter(device__custodian=scope.organisation)
    elif scope.kind == OrgKind.STRUCTURE:
        arrived = ShipmentItem.objects.filter(allocation=OuterRef("pk"), received_at__isnull=False)
        rows = rows.filter(structure=scope.organisation).filter(Exists(arrived))
    elif not scope.sees_all:
        return rows.none()
    if delivery_id is not None:
        in_delivery = ShipmentItem.objects.filter(allocation=OuterRef("pk"), shipment=delivery_id)
        rows = rows.filter(Exists(in_delivery))
    if structure_id is not None:
        rows = rows.filter(structure_id=structure_id)
    return rows.select_related(
        "device", "device__category", "structure", "structure__commune", "need_line__need"
    ).order_by("structure__name", "structure_id", "id")


def hand_over_facts(scope, device) -> list:
    """The device page's lines on what brought a device to its structure, or is bringing it
    (inventory.web.device_facts): its delivery on the way, its hand-over, its loan's due date;
    each linked for whoever may open it."""
    org = getattr(scope.organisation, "pk", None)
    facts = []
    if device.status == Status.RESERVED:
        item = (
            ShipmentItem.objects.filter(
                device=device, received_at__isnull=True, shipment__stage__in=OPEN_STAGES
            )
            .select_related("shipment")
            .first()
        )
        if item is not None:
            delivery = item.shipment
            sees = scope.sees_all or org in (delivery.sender_id, delivery.structure_id)
            facts.append(
                DeviceFact(
                    _("In delivery"),
                    f"{delivery.reference} ({DeliveryStage(delivery.stage).label})",
                    reverse("logistics:delivery_detail", args=[delivery.pk]) if sees else "",
                )
            )
    if device.status not in (Status.GIVEN, Status.ON_LOAN):
        return facts
    item = (
        HandOverItem.objects.filter(device=device)
        .select_related("hand_over")
        .order_by("-hand_over__handed_at", "-id")
        .first()
    )
    if item is not None:
        hand_over = item.hand_over
        sees = scope.sees_all or org in (
            hand_over.structure_id,
            hand_over.handed_by_organisation_id,
        )
        facts.append(
            DeviceFact(
                pgettext("device fact", "Hand-over"),
                _("%(reference)s on %(date)s")
                % {
                    "reference": hand_over.reference,
                    "date": formats.date_format(
                        timezone.localtime(hand_over.handed_at), "SHORT_DATE_FORMAT"
                    ),
                },
                reverse("logistics:hand_over_detail", args=[hand_over.pk]) if sees else "",
            )
        )
    if device.status == Status.ON_LOAN:
        loan_item = (
            LoanItem.objects.filter(device=device, outcome=LoanItemOutcome.OUT)
            .select_related("loan", "loan__hand_over")
            .first()
        )
        if loan_item is not None:
            loan = loan_item.loan
            sees = scope.sees_all or org in (
                loan.structure_id,
                loan.hand_over.handed_by_organisation_id,
            )
            late = loan.due_on < timezone.localdate()
            text = (
                _("%(reference)s, due on %(date)s (overdue)")
                if late
                else _("%(reference)s, due on %(date)s")
            ) % {
                "reference": loan.reference,
                "date": formats.date_format(loan.due_on, "SHORT_DATE_FORMAT"),
            }
            facts.append(
                DeviceFact(
                    _("On loan"),
                    text,
                    reverse("logistics:loan_detail", args=[loan.pk]) if sees else "",
                )
            )
    return facts
