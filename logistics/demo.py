"""Demo logistics: a shipment on its way to ECODAIR (partly received) and a WEEE disposal.

Runs after inventory's demo (`seed_demo`), through the logistics services, with the demo's
accounts; finding a shipment or a disposal already there, it writes nothing.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from inventory.demo.seed import WORKSHOP_NAME
from inventory.models import Device, Organisation
from inventory.states import OrgKind, Status
from logistics.disposals.services import disposal_create
from logistics.models import DisposalBatch, Shipment
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


def logistics_demo_present() -> bool:
    return Shipment.objects.exists() or DisposalBatch.objects.exists()


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
    return LogisticsSummary(shipped=len(to_send), received=received, disposed=len(recycled))
