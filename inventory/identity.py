"""Device identity: how a manufacturer, a serial number and an IMEI are written, what makes them
valid, and which registered devices already hold them.

The registration service (one device) and the spreadsheet import (thousands of rows) both call
this module, so a device is identified the same way whichever door it comes in by.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from inventory.codes import group_label_code, is_valid_imei
from inventory.compiled import CompiledRows
from inventory.models import Device

IMEI_FIELDS = ("imei1", "imei2")
# Rows read per IN query when looking for devices already registered.
CHUNK = 500


@dataclass(frozen=True)
class IdentityProblem:
    field: str
    code: str
    message: str


def normalize_serial(raw: str) -> str:
    return re.sub(r"\s+", " ", (raw or "").strip()).upper()


def normalize_manufacturer(raw: str) -> str:
    return re.sub(r"\s+", " ", (raw or "").strip())


def serial_key(manufacturer: str, serial: str) -> tuple[str, str]:
    """A serial number is unique per manufacturer, whatever the case the maker is written in."""
    return (manufacturer.lower(), serial)


def identity_problems(
    *, manufacturer: str, imei1: str, imei2: str, has_imei: bool | None
) -> list[IdentityProblem]:
    """What is wrong with normalised identity values; `has_imei` is the category's, or None
    when the category is not known (its own error is the caller's)."""
    problems = []
    if not manufacturer:
        problems.append(
            IdentityProblem("manufacturer", "manufacturer_missing", _("Give the manufacturer."))
        )
    for field, value in zip(IMEI_FIELDS, (imei1, imei2), strict=True):
        if not value:
            continue
        if not is_valid_imei(value):
            problems.append(
                IdentityProblem(
                    field, "imei_invalid", _("An IMEI has 15 digits and a valid check digit.")
                )
            )
        elif has_imei is False:
            problems.append(
                IdentityProblem(
                    field, "imei_not_allowed", _("This category of device has no IMEI.")
                )
            )
    if imei2 and not imei1:
        problems.append(
            IdentityProblem("imei2", "imei2_without_imei1", _("Give IMEI 1 before IMEI 2."))
        )
    if imei1 and imei1 == imei2:
        problems.append(
            IdentityProblem("imei2", "imei2_same", _("IMEI 2 must differ from IMEI 1."))
        )
    return problems


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# Compiled once per number of values asked (inventory.compiled): a registration asks one or two.
_SERIAL_HOLDERS = CompiledRows(
    lambda *asked: (
        Device.objects.alias(serial_upper=Upper("serial_number"))
        .filter(serial_upper__in=asked)
        .values_list("manufacturer", "serial_number", "label_code_id")
        .order_by()
    )
)
_IMEI_HOLDERS = CompiledRows(
    lambda *imeis: (
        Device.objects.filter(Q(imei1__in=imeis) | Q(imei2__in=imeis))
        .values_list("imei1", "imei2", "label_code_id")
        .order_by()
    )
)


def registered_holders(
    *, serials: Iterable[tuple[str, str]], imeis: Iterable[str]
) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """The label codes of the registered devices holding these (manufacturer, serial) pairs and
    these IMEIs, keyed by `serial_key` and by IMEI: a few IN queries, never one per device."""
    wanted = {key for key in serials if key[1]}
    by_serial: dict[tuple[str, str], str] = {}
    for chunk in _chunks(sorted({serial for _maker, serial in wanted})):
        # Through the search's UPPER(serial_number) index (Device.Meta): a plain serial index
        # would be one more for every move to write (inventory 0020 dropped it). Serials are
        # stored upper-cased (normalize_serial) and each is asked as given and upper-cased, so
        # a row holding it exactly is among those found; `key in wanted` keeps only those.
        # Folded here, not by the database: SQLite's lower() leaves non-ASCII letters alone.
        asked = sorted({form for serial in chunk for form in (serial, serial.upper())})
        for manufacturer, serial, code in _SERIAL_HOLDERS.rows(*asked):
            key = serial_key(manufacturer, serial)
            if key in wanted:
                by_serial[key] = code
    by_imei: dict[str, str] = {}
    for chunk in _chunks(sorted({imei for imei in imeis if imei})):
        for first, second, code in _IMEI_HOLDERS.rows(*chunk):
            for imei in (first, second):
                if imei:
                    by_imei[imei] = code
    return by_serial, by_imei


def duplicate_problems(
    values: dict, holders: tuple[dict, dict], *, name_holder: bool
) -> list[IdentityProblem]:
    """The problems of one device's normalised values (manufacturer, serial_number, imei1,
    imei2) against `registered_holders`. `name_holder` adds the label of the device already
    registered: for the coordination, which sees every device, not for a workshop."""
    by_serial, by_imei = holders
    problems = []
    serial = values["serial_number"]
    code = by_serial.get(serial_key(str(values["manufacturer"]), serial)) if serial else None
    if code:
        message = (
            _(
                "A device of this manufacturer with this serial number is already registered "
                "(label %(code)s)."
            )
            % {"code": group_label_code(code)}
            if name_holder
            else _("A device of this manufacturer already has this serial number.")
        )
        problems.append(IdentityProblem("serial_number", "already_registered", message))
    for field in IMEI_FIELDS:
        code = by_imei.get(values[field]) if values[field] else None
        if code:
            message = (
                _("A device with this IMEI is already registered (label %(code)s).")
                % {"code": group_label_code(code)}
                if name_holder
                else _("A device with this IMEI is already registered.")
            )
            problems.append(IdentityProblem(field, "already_registered", message))
    return problems
