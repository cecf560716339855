"""Plain builder functions with keyword overrides, shared by every test module."""

import itertools

from django.contrib.auth import get_user_model

from inventory.codes import luhn_check_digit
from inventory.models import Category, Commune, Device, Membership, Organisation, Role
from inventory.services import device_register
from inventory.states import OrgKind

_counter = itertools.count(1)


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
        username=username or f"user{next(_counter)}", password="a-long-test-password"
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


def reload(device: Device) -> Device:
    return Device.objects.get(pk=device.pk)


def record_reconditioning(*, actor, device, grade: str = "B") -> None:
    """Everything "ready" asks for: locks checked, storage erased, checklist passed, a grade.

    The device must be at intake or at a workshop; a device at a workshop starts its
    reconditioning with the first record.
    """
    from datetime import timedelta

    from django.utils import timezone

    from inventory.models import LockKind, TestItem
    from inventory.reconditioning import services as bench

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
    """Apply lifecycle moves in order; before "mark_ready", record what "ready" requires."""
    from inventory.services import device_transition

    for action in actions:
        if action == "mark_ready":
            record_reconditioning(actor=recorder or actor, device=device)
        device_transition(actor=actor, device_id=device.pk, action=action)
