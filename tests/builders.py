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
