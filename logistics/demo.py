"""Demo logistics: a shipment on its way to ECODAIR (partly received), a WEEE disposal, needs
and their allocations, and what follows them: deliveries (one delivered, one on its way through
the depot), hand-overs with signed receipts (one still to sign), loans in progress, one overdue,
and an itinerant kit partly returned.

Runs after inventory's demo (`seed_demo`), through the logistics services, with the demo's
accounts; finding a shipment or a disposal already there, it writes nothing.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.demo.seed import DEMO_STRUCTURE_NAME, WORKSHOP_NAME
from inventory.models import Device, Organisation
from inventory.states import OrgKind, Status
from logistics.allocations.services import matching_run_approve, matching_run_create
from logistics.disposals.services import disposal_create
from logistics.models import DisposalBatch, Need, Shipment
from logistics.needs import services as needs
from logistics.shipments.services import shipment_create, shipment_receive

SHIPPED = 6  # registered devices sent in the demo shipment
RECEIVED = 2  # of which the workshop has scanned this many
DISPOSED = 12  # recycled devices in the demo disposal


class DemoMissing(Exception):
    """The inventory demo must be loaded first."""


@dataclass(frozen=True)
class LogisticsSummary:
    shipped: int
    received: int
    disposed: int
    needs: int = 0
    allocated: int = 0
    handed_over: int = 0


def logistics_demo_present() -> bool:
    return Shipment.objects.exists() or DisposalBatch.objects.exists() or Need.objects.exists()


def logistics_demo_seed() -> LogisticsSummary:
    users = get_user_model().objects.in_bulk(["coordination", "atelier"], field_name="username")
    workshop = Organisation.objects.filter(kind=OrgKind.WORKSHOP, name=WORKSHOP_NAME).first()
    if len(users) < 2 or workshop is None:
        raise DemoMissing("run seed_demo first")
    coordinator, bench = users["coordination"], users["atelier"]
    today = timezone.localdate()
    with transaction.atomic():
        to_send = list(
            Device.objects.filter(status=Status.REGISTERED, custodian__kind=OrgKind.COORDINATOR)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:SHIPPED]
        )
        received = 0
        if to_send:
            shipment = shipment_create(
                actor=coordinator,
                workshop=workshop,
                devices=to_send,
                sent_on=today - datetime.timedelta(days=2),
                expected_on=today,
                carrier="Camionnette de la coordination",
                notes="Lot de la semaine pour ECODAIR.",
            )
            for device in Device.objects.filter(pk__in=to_send[:RECEIVED]):
                shipment_receive(actor=bench, shipment=shipment, raw=device.label_code_id)
                received += 1
        recycled = list(
            Device.objects.filter(status=Status.RECYCLED)
            .order_by("updated_at", "pk")
            .values_list("pk", flat=True)[:DISPOSED]
        )
        if recycled:
            disposal_create(
                actor=coordinator,
                eco_organisation="ecosystem",
                collector="Point de collecte ecosystem — Nanterre",
                left_on=today - datetime.timedelta(days=7),
                weight_kg=Decimal("2.4") * len(recycled),
                document_reference=f"BSD-{today:%Y}-0417",
                devices=recycled,
            )
        declared = _seed_needs(coordinator, users_structure(), today)
        # One matching run approved (its devices reserved for the needs), then one proposed
        # over what is left, for the coordination to review.
        approved = matching_run_create(actor=coordinator)
        # The oldest needs' lines first: half of the proposal is approved, the rest waits.
        lines = list(approved.lines.order_by("need_line__need__created_at", "id"))
        kept = [line.pk for line in lines[: max(len(lines) // 2, 1)]] if lines else []
        allocated = (
            len(matching_run_approve(actor=coordinator, run_id=approved.pk, line_ids=kept))
            if kept
            else 0
        )
        kit_run = matching_run_create(actor=coordinator)
        kit_lines = list(
            kit_run.lines.filter(need_line__need__purpose="itinerant_kit").values_list(
                "pk", flat=True
            )
        )
        if kit_lines:
            allocated += len(
                matching_run_approve(actor=coordinator, run_id=kit_run.pk, line_ids=kit_lines)
            )
            matching_run_create(actor=coordinator)
        handed = _seed_hand_overs(coordinator, users_structure(), today)
    return LogisticsSummary(
        shipped=len(to_send),
        received=received,
        disposed=len(recycled),
        needs=declared,
        allocated=allocated,
        handed_over=handed,
    )


def users_structure():
    return get_user_model().objects.filter(username="structure").first()


# The demo's needs: (lines, need fields, days ago, what became of it). Lines are
# (category, quantity, {spec}); one need per structure in this order, the demo structure's
# first (its account declares them; the coordination records the others, as for a structure
# that phoned its need in).
_L, _T, _P = "laptop", "tablet", "smartphone"
DEMO_NEEDS = (
    ([(_L, 4, {"min_ram_gb": 8, "os_family": "windows"}), (_T, 2, {})],
     {"purpose": "public_access", "public": "everyone"}, 40, "accepted"),
    ([(_T, 4, {"min_grade": "B"})],
     {"purpose": "itinerant_kit", "public": "seniors", "mode": "loan", "loan_weeks": 26}, 45,
     "accepted"),
    ([(_L, 2, {})], {"purpose": "staff_use", "public": "everyone"}, 1, "draft"),
    ([(_L, 6, {"min_ram_gb": 8, "min_storage_gb": 256})],
     {"purpose": "lent_to_people", "public": "job_seekers", "mode": "loan", "loan_weeks": 12},
     75, "accepted"),
    ([(_P, 10, {"os_family": "android", "min_grade": "B"})],
     {"purpose": "lent_to_people", "public": "allophones", "urgency": "high"}, 20, "accepted"),
    ([(_L, 3, {"min_ram_gb": 16})], {"purpose": "staff_use", "public": "everyone"}, 90,
     "declined"),
    ([(_T, 5, {})], {"purpose": "public_access", "public": "young_people"}, 12, "submitted"),
    ([(_L, 2, {"min_ram_gb": 4}), (_P, 2, {})],
     {"purpose": "public_access", "public": "families"}, 50, "accepted"),
    ([(_L, 12, {"min_ram_gb": 8})],
     {"purpose": "lent_to_people", "public": "job_seekers", "urgency": "high"}, 33, "accepted"),
    ([(_P, 4, {})], {"purpose": "lent_to_people", "public": "disabilities"}, 65, "cancelled"),
    ([(_T, 3, {"min_grade": "A"})], {"purpose": "public_access", "public": "seniors"}, 8,
     "submitted"),
    ([(_L, 5, {"os_family": "linux"})], {"purpose": "public_access", "public": "everyone"},
     120, "expired"),
    ([(_L, 2, {}), (_T, 2, {})], {"purpose": "itinerant_kit", "public": "seniors",
     "mode": "loan", "loan_weeks": 52}, 27, "accepted"),
    ([(_P, 6, {"min_storage_gb": 64})], {"purpose": "lent_to_people", "public": "young_people"},
     15, "accepted"),
    ([(_L, 1, {})], {"purpose": "staff_use", "public": "everyone", "urgency": "low"}, 5,
     "submitted"),
)  # fmt: skip


def _seed_needs(coordinator, structure_user, today) -> int:
    """The demo's needs through the services, then dated back to their story's days (the
    rows and their history rows together, as the bench's demo records are)."""
    structures = list(
        Organisation.objects.filter(kind=OrgKind.STRUCTURE, is_active=True).order_by("name")
    )
    structures.sort(key=lambda org: org.name != DEMO_STRUCTURE_NAME)
    now = timezone.now()
    declared = 0
    for index, (lines, fields, days, fate) in enumerate(DEMO_NEEDS):
        structure = structures[index % len(structures)] if index >= 3 else structures[0]
        own = structure.name == DEMO_STRUCTURE_NAME and structure_user is not None
        actor = structure_user if own else coordinator
        need = needs.need_create(
            actor=actor,
            structure=None if own else structure.pk,
            submit=fate != "draft",
            lines=[{"category": c, "quantity": q, **spec} for c, q, spec in lines],
            **({"mode": "gift", "urgency": "normal", "justification": ""} | fields),
        )
        if fate == "accepted":
            first = need.lines.order_by("id").first()
            cut = {first.pk: max(first.quantity - 1, 1)} if first.quantity > 4 else {}
            needs.need_accept(actor=coordinator, need_id=need.pk, quantities=cut)
        elif fate == "declined":
            needs.need_decline(
                actor=coordinator,
                need_id=need.pk,
                reason="Ordinateurs de 16 Go trop rares en stock : redéposez un besoin à 8 Go.",
            )
        elif fate == "cancelled":
            needs.need_cancel(actor=actor, need_id=need.pk, reason="Équipés par la mairie.")
        elif fate == "expired":
            Need.objects.filter(pk=need.pk).update(submitted_at=now - datetime.timedelta(days=days))
            needs.needs_expire(now=now, days=60)
        _backdate_need(need.pk, now - datetime.timedelta(days=days))
        declared += 1
    return declared


def _backdate_need(need_id: int, moment) -> None:
    """Move a demo need and its history to its story's day, keeping the steps' order."""
    history = list(Need.history.filter(id=need_id).order_by("history_date", "history_id"))
    for step, record in enumerate(history):
        Need.history.filter(history_id=record.history_id).update(
            history_date=moment + datetime.timedelta(hours=step)
        )
    changes = {"created_at": moment}
    need = Need.objects.get(pk=need_id)
    if need.submitted_at is not None:
        changes["submitted_at"] = moment + datetime.timedelta(minutes=5)
    if need.decided_at is not None:
        changes["decided_at"] = moment + datetime.timedelta(hours=len(history) - 1)
    Need.objects.filter(pk=need_id).update(**changes)


# Deliveries, hand-overs and loans ------------------------------------------------------------


def _signature_png(name: str) -> bytes:
    """A hand-drawn-looking stroke, as the signature pad would send it (demo only)."""
    import io
    import math

    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (480, 160), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    seed = sum(map(ord, name))
    points = [
        (30 + x * 4, 90 + 28 * math.sin(x / (6 + seed % 4)) * math.cos(x / 17)) for x in range(105)
    ]
    draw.line(points, fill=(20, 30, 60, 255), width=4, joint="curve")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _backdate_hand_over(hand_over, days: int) -> None:
    """Move a demo hand-over, its loan and their history to its story's day."""
    from logistics.models import HandOver, Loan

    moment = timezone.now() - datetime.timedelta(days=days)
    HandOver.objects.filter(pk=hand_over.pk).update(handed_at=moment)
    HandOver.history.filter(id=hand_over.pk).update(history_date=moment)
    if hand_over.signed_at is not None:
        HandOver.objects.filter(pk=hand_over.pk).update(signed_at=moment)
    loan = Loan.objects.filter(hand_over=hand_over).first()
    if loan is not None:
        length = loan.due_on - loan.started_on
        started = timezone.localdate() - datetime.timedelta(days=days)
        Loan.objects.filter(pk=loan.pk).update(started_on=started, due_on=started + length)
        Loan.history.filter(id=loan.pk).update(history_date=moment)
    # The receipt drawn again with the story's dates (the stored file is the demo's evidence).
    from logistics.handovers.receipt import receipt_store

    receipt_store(HandOver.objects.get(pk=hand_over.pk))


def _seed_kit(coordinator, allocations, name: str, role: str) -> None:
    """An itinerant kit lent five weeks ago, signed; one device came back to the depot."""
    from logistics.handovers import services as handovers
    from logistics.loans.services import loan_return

    hand_over = handovers.hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in allocations],
        received_by_name=name,
        received_by_role=role,
    )
    handovers.hand_over_sign(
        actor=coordinator,
        hand_over_id=hand_over.pk,
        signer_name=name,
        image=_signature_png(name),
    )
    _backdate_hand_over(hand_over, 35)
    if len(allocations) > 1:
        loan_return(
            actor=coordinator,
            loan_id=hand_over.loan.pk,
            returned=[allocations[-1].device_id],
            note="Rendu après la tournée des résidences seniors.",
        )


def _seed_on_the_way(coordinator, structure, allocations, today) -> None:
    """A delivery through the depot, now on its way to the structure."""
    from logistics.deliveries import services as deliveries

    delivery = deliveries.delivery_create(
        actor=coordinator,
        structure=structure,
        allocation_ids=[a.pk for a in allocations],
        via_depot=True,
        expected_on=today + datetime.timedelta(days=1),
        carrier="Coursier solidaire",
    )
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    deliveries.delivery_receive_at_depot(actor=coordinator, delivery_id=delivery.pk)
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)


def _seed_hand_overs(coordinator, structure_user, today) -> int:
    """Through the services: the demo structure's gifts delivered and signed, its tablets on
    their way through the depot; a loan handed over long ago and now overdue; an itinerant kit
    partly returned; one receipt still to sign."""
    from logistics.deliveries import services as deliveries
    from logistics.handovers import services as handovers
    from logistics.models import Allocation, AllocationStatus

    active = Allocation.objects.filter(status=AllocationStatus.ACTIVE).select_related(
        "structure", "device", "need_line__need"
    )
    by_structure: dict = {}
    for allocation in active.order_by("pk"):
        by_structure.setdefault(allocation.structure, []).append(allocation)
    handed = 0
    unsigned = on_the_way = False
    for structure, allocations in sorted(by_structure.items(), key=lambda kv: kv[0].pk):
        own = structure.name == DEMO_STRUCTURE_NAME
        purpose = allocations[0].need_line.need.purpose
        if own:
            kit = [a for a in allocations if a.mode == "loan"]
            allocations = [a for a in allocations if a.mode != "loan"]
            laptops = [a for a in allocations if a.device.category_id == "laptop"]
            others = [a for a in allocations if a.device.category_id != "laptop"]
            if kit:
                _seed_kit(coordinator, kit, "Nadia Benali", "Coordinatrice de l'espace numérique")
                handed += len(kit)
            # The laptops: delivered from the bench last week, received, handed over, signed.
            if laptops:
                delivery = deliveries.delivery_create(
                    actor=coordinator,
                    structure=structure,
                    allocation_ids=[a.pk for a in laptops],
                    carrier="Camionnette de la coordination",
                )
                deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
                for allocation in laptops:
                    deliveries.delivery_receive(
                        actor=structure_user or coordinator,
                        delivery_id=delivery.pk,
                        raw=allocation.device.label_code_id,
                    )
                hand_over = handovers.hand_over_create(
                    actor=coordinator,
                    allocation_ids=[a.pk for a in laptops],
                    received_by_name="Nadia Benali",
                    received_by_role="Coordinatrice de l'espace numérique",
                )
                handovers.hand_over_sign(
                    actor=structure_user or coordinator,
                    hand_over_id=hand_over.pk,
                    signer_name="Nadia Benali",
                    image=_signature_png("Nadia Benali"),
                )
                _backdate_hand_over(hand_over, 6)
                handed += len(laptops)
            # The tablets: through the depot, now on their way to the structure.
            if others:
                _seed_on_the_way(coordinator, structure, others, today)
                on_the_way = True
            continue
        if purpose == "itinerant_kit":
            _seed_kit(coordinator, allocations, "Karim Haddad", "Médiateur numérique itinérant")
            handed += len(allocations)
        elif allocations[0].mode == "loan":
            # A loan of twelve weeks handed over a hundred days ago: overdue now.
            hand_over = handovers.hand_over_create(
                actor=coordinator,
                allocation_ids=[a.pk for a in allocations],
                received_by_name="Sophie Marchand",
                received_by_role="Conseillère en insertion",
            )
            handovers.hand_over_sign(
                actor=coordinator,
                hand_over_id=hand_over.pk,
                signer_name="Sophie Marchand",
                image=_signature_png("Sophie Marchand"),
            )
            _backdate_hand_over(hand_over, 100)
            handed += len(allocations)
        elif not on_the_way:
            _seed_on_the_way(coordinator, structure, allocations, today)
            on_the_way = True
        elif not unsigned:
            # A gift handed over yesterday whose receipt waits for its signature; the other
            # structures' gifts wait at the bench, to prepare.
            unsigned = True
            hand_over = handovers.hand_over_create(
                actor=coordinator,
                allocation_ids=[a.pk for a in allocations],
                received_by_name="Jean Morel",
            )
            _backdate_hand_over(hand_over, 1)
            handed += len(allocations)
    return handed
