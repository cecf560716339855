"""Plain builder functions with keyword overrides, shared by every test module."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from inventory.codes import luhn_check_digit
from inventory.counts import device_counts_recount
from inventory.intake.services import devices_import, donation_create
from inventory.models import (
    Category,
    Commune,
    Device,
    DeviceImport,
    Donation,
    LabelCode,
    LockKind,
    Membership,
    Organisation,
    Role,
    TestItem,
)
from inventory.reconditioning import services as bench
from inventory.services import device_register, device_transition
from inventory.states import WORKFLOW_MOVES, OrgKind
from logistics.disposals.services import disposal_create
from logistics.shipments.services import shipment_create

_counter = itertools.count(1)
PASSWORD = "a-long-test-password"  # every user make_user creates has it
TODAY = date(2026, 3, 2)
# A donation's release attestation, complete (the to-do and the certificate tests).
ATTESTED = {
    "released_accounts": True,
    "released_management": True,
    "released_firmware": True,
    "attested_by": "Mme Durand, DSI",
    "attested_on": TODAY,
}


def valid_siret(seed: int) -> str:
    body = f"{41000000000 + seed:013d}"
    return body + luhn_check_digit(body)


def valid_imei(seed: int) -> str:
    body = f"{35209900000000 + seed:014d}"
    return body + luhn_check_digit(body)


def make_organisation(*, kind: str = OrgKind.STRUCTURE, name: str | None = None, **overrides):
    n = next(_counter)
    fields = {"name": name or f"{kind} {n}", "kind": kind}
    if kind == OrgKind.STRUCTURE:
        fields |= {
            "siret": valid_siret(n),
            "structure_type": "CS",
            "commune": Commune.objects.get(insee_code="92002"),
        }
    fields |= overrides
    return Organisation.objects.create(**fields)


def make_user(*, organisation=None, role: str = Role.MEMBER, username: str | None = None):
    user = get_user_model().objects.create_user(
        username=username or f"user{next(_counter)}", password=PASSWORD
    )
    if organisation is not None:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def make_device(*, actor, category: str = "laptop", manufacturer: str = "Dell", **overrides):
    fields = {"serial_number": f"SN{next(_counter):06d}", "model_name": "Latitude 5490"}
    fields |= overrides
    return device_register(
        actor=actor,
        category=Category.objects.get(code=category),
        manufacturer=manufacturer,
        **fields,
    )


def assert_counts_match() -> None:
    """The counters the home pages read equal a count of the devices (no drift)."""
    assert device_counts_recount(fix=False) == []


def reload(device: Device) -> Device:
    return Device.objects.get(pk=device.pk)


def record_reconditioning(*, actor, device, grade: str = "B") -> None:
    """Everything "ready" asks for: locks checked, storage erased, checklist passed, a grade.

    The device must be at intake or at a workshop; a device at a workshop starts its
    reconditioning with the first record.
    """
    bench.lock_checks_record(
        actor=actor,
        device_id=device.pk,
        outcomes={kind: "not_applicable" for kind in LockKind.values},
    )
    if bench.erased_by_factory_reset(device.category):
        bench.factory_reset_record(actor=actor, device_id=device.pk)
    elif device.category.holds_data:
        media = list(device.media.filter(state="in_device"))
        if not media:
            media = [
                bench.medium_add(
                    actor=actor, device_id=device.pk, kind="ssd", interface="nvme", capacity_gb=256
                )
            ]
        now = timezone.now()
        for medium in media:
            bench.erasure_record(
                actor=actor,
                medium_id=medium.pk,
                level="purge",
                method="nvme_sanitize",
                verification="full",
                result="passed",
                started_at=now - timedelta(minutes=20),
                ended_at=now,
                tool="Blancco Drive Eraser",
                tool_version="7.9",
            )
    items = TestItem.objects.filter(category_id=device.category_id, is_active=True)
    bench.test_results_record(
        actor=actor, device_id=device.pk, outcomes={item.pk: "passed" for item in items}
    )
    bench.assessment_record(actor=actor, device_id=device.pk, grade=grade, battery_health=87)


def walk(*, actor, device, actions, recorder=None) -> None:
    """Apply lifecycle moves in order; before "mark_ready", record what "ready" requires.

    The moves a workflow owns (reserve, give, lend) are applied as that workflow would: tests
    that need a device in such a state without the workflow's records build it here."""
    for action in actions:
        if action == "mark_ready":
            record_reconditioning(actor=recorder or actor, device=device)
        device_transition(
            actor=actor, device_id=device.pk, action=action, workflow=action in WORKFLOW_MOVES
        )


def to_bench(actor, device, workshop) -> None:
    """Sent to `workshop`, received there and in reconditioning."""
    device_transition(actor=actor, device_id=device.pk, action="send_to_workshop", target=workshop)
    walk(actor=actor, device=device, actions=("receive_at_workshop", "start_reconditioning"))


def reconditioned(actor, device, workshop) -> None:
    """Sent to `workshop` and made ready there."""
    device_transition(actor=actor, device_id=device.pk, action="send_to_workshop", target=workshop)
    walk(
        actor=actor,
        device=device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready"),
    )


def hand_over(actor, device, action, structure) -> None:
    """A ready device reserved, then given or lent (`action`) to `structure`, as the
    allocations and hand-overs do (without their records)."""
    device_transition(actor=actor, device_id=device.pk, action="reserve", workflow=True)
    device_transition(
        actor=actor, device_id=device.pk, action=action, target=structure, workflow=True
    )


def recycled(*, actor, workshop=None, workshop_actor=None) -> Device:
    """A recycled device: at the coordination, or at `workshop`, recycled by its staff."""
    device = make_device(actor=actor)
    if workshop is not None:
        device_transition(
            actor=actor, device_id=device.pk, action="send_to_workshop", target=workshop
        )
        device_transition(
            actor=workshop_actor or actor, device_id=device.pk, action="receive_at_workshop"
        )
    device_transition(actor=workshop_actor or actor, device_id=device.pk, action="recycle")
    return reload(device)


def dispose(*, actor, devices, **overrides):
    """A WEEE disposal batch of `devices` (ids or label codes) handed to an eco-organisation."""
    fields = {
        "eco_organisation": "ecosystem",
        "left_on": date(2025, 3, 14),
        "weight_kg": Decimal("42.50"),
        "document_reference": "BSD-2025-0042",
        "collector": "Envie 92",
    }
    return disposal_create(actor=actor, devices=devices, **(fields | overrides))


def erase(actor, medium, **overrides):
    """A passed purge of `medium` with a recognised tool, unless `overrides` say otherwise."""
    now = timezone.now()
    fields = {
        "level": "purge",
        "method": "nvme_sanitize",
        "verification": "full",
        "result": "passed",
        "started_at": now - timedelta(minutes=30),
        "ended_at": now - timedelta(minutes=5),
        "tool": "Blancco Drive Eraser",
        "tool_version": "7.9",
    }
    return bench.erasure_record(actor=actor, medium_id=medium.pk, **fields | overrides)


def wrong_check(code: str) -> str:
    """A label code with its check character mistyped."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


# Donations and donors' spreadsheets

# The columns the import reads; tests that need an IMEI or an ignored column pass their own.
SHEET_HEADER = ("Catégorie", "Marque", "Modèle", "N° de série", "IMEI")


def make_donation(*, actor, donor, received_on: date = TODAY, **details) -> Donation:
    return donation_create(actor=actor, donor=donor, received_on=received_on, **details)


def laptops(count: int, *, prefix: str = "SN", start: int = 0) -> list[tuple]:
    """Spreadsheet rows of laptops with serial numbers prefix00000, prefix00001..."""
    return [
        ("PC portable", "Dell", "Latitude 5490", f"{prefix}{i:05d}", "")
        for i in range(start, start + count)
    ]


def donor_sheet(rows, header=SHEET_HEADER) -> bytes:
    """The rows as a donor's CSV export: semicolons, CRLF and a byte-order mark."""
    lines = [";".join(header)] + [";".join(row) for row in rows]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def sheet_upload(content: bytes, name: str = "don.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def import_laptops(*, actor, donation, count: int, prefix: str = "SN") -> None:
    """Import `count` laptops into `donation`, their serials unique to the donation."""
    content = donor_sheet(laptops(count, prefix=f"{prefix}{donation.pk}-"))
    devices_import(actor=actor, donation=donation, file_name="f.csv", content=content)


def written() -> tuple[int, int, int, int]:
    """Devices, their history rows, label codes and import records: what an import leaves."""
    return (
        Device.objects.count(),
        Device.history.count(),
        LabelCode.objects.count(),
        DeviceImport.objects.count(),
    )


# Clients and query counts


def token_client(user) -> APIClient:
    """An API client authenticated by the user's token, as the mobile app is."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    return client


def session_client(user=None) -> APIClient:
    """An API client with a browser's session, signed in as `user` when one is given."""
    client = APIClient()
    if user is not None:
        client.force_login(user)  # a real session: the query counts include its lookup
    return client


def queries_of_get(client, url: str) -> int:
    """How many queries a successful GET of `url` takes."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def shipped(coordinator, workshop, count: int = 1):
    """`count` new devices sent to `workshop` in one shipment: (shipment, devices)."""
    devices = [make_device(actor=coordinator) for _ in range(count)]
    shipment = shipment_create(
        actor=coordinator, workshop=workshop, devices=[d.pk for d in devices]
    )
    return shipment, devices


# Needs


def need_fields(**overrides) -> dict:
    """A need's own fields, valid: a gift of laptops for public access, for everyone."""
    return {
        "purpose": "public_access",
        "public": "everyone",
        "mode": "gift",
        "urgency": "normal",
        "justification": "Espace numérique ouvert au public",
    } | overrides


def make_need(*, actor, lines=None, submit: bool = True, **overrides):
    """A need declared by `actor` (structure staff, or the coordination with `structure=`),
    submitted unless told otherwise; one line of 2 laptops by default."""
    from logistics.needs.services import need_create

    lines = lines if lines is not None else [{"category": "laptop", "quantity": 2}]
    return need_create(actor=actor, lines=lines, submit=submit, **need_fields(**overrides))


def accepted_need(*, structure_actor, coordinator, lines=None, quantities=None, **overrides):
    from logistics.needs.services import need_accept

    need = make_need(actor=structure_actor, lines=lines, **overrides)
    return need_accept(actor=coordinator, need_id=need.pk, quantities=quantities)


# Allocations, deliveries, hand-overs


def ready_devices(coordinator, workshop, count: int = 1, **fields) -> list[Device]:
    """`count` new devices made ready at `workshop`."""
    made = []
    for _ in range(count):
        device = make_device(actor=coordinator, **fields)
        reconditioned(coordinator, device, workshop)
        made.append(reload(device))
    return made


def allocated(
    *, coordinator, structure_actor, workshop, count: int = 2, mode: str = "gift", **need
):
    """`count` laptops made ready at `workshop`, matched to an accepted need of
    `structure_actor`'s structure (a gift, or a loan of 8 weeks) and approved: the
    allocations, in id order."""
    from logistics.allocations.services import matching_run_approve, matching_run_create

    ready_devices(coordinator, workshop, count, ram_gb=8, storage_gb=256)
    fields = {"mode": mode} | ({"loan_weeks": 8} if mode == "loan" else {}) | need
    accepted_need(
        structure_actor=structure_actor,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": count}],
        **fields,
    )
    run = matching_run_create(actor=coordinator)
    made = matching_run_approve(actor=coordinator, run_id=run.pk)
    return sorted(made, key=lambda allocation: allocation.pk)


# A small valid PNG (1 × 1 pixel), as a signature pad would send it (larger).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478"
    "9c63606060f80f00010401005fe5c34b0000000049454e44ae426082"
)
