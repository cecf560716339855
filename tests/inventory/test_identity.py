"""Device identity: one set of rules for the registration service and the spreadsheet import."""

import pytest

from inventory import identity
from inventory.errors import DomainError
from inventory.intake import spreadsheets
from inventory.intake.services import database_duplicates
from tests.builders import make_device, valid_imei


def codes(problems):
    return [(problem.field, problem.code) for problem in problems]


def test_identity_problems_name_each_field_with_a_stable_code():
    good = valid_imei(1)
    assert codes(
        identity.identity_problems(manufacturer="", imei1="", imei2="", has_imei=None)
    ) == [("manufacturer", "manufacturer_missing")]
    assert codes(
        identity.identity_problems(manufacturer="Dell", imei1=good, imei2="", has_imei=False)
    ) == [("imei1", "imei_not_allowed")]
    assert codes(
        identity.identity_problems(manufacturer="Dell", imei1="", imei2=good, has_imei=True)
    ) == [("imei2", "imei2_without_imei1")]
    assert codes(
        identity.identity_problems(manufacturer="Dell", imei1=good, imei2=good, has_imei=True)
    ) == [("imei2", "imei2_same")]
    assert codes(
        identity.identity_problems(
            manufacturer="Dell", imei1="123456789012345", imei2="", has_imei=True
        )
    ) == [("imei1", "imei_invalid")]


def test_a_serial_is_taken_whatever_the_case_of_its_manufacturer_beyond_ascii(coordinator):
    # SQLite's lower() folds ASCII only: the comparison is made in Python, on both engines.
    make_device(actor=coordinator, manufacturer="ÉCOTEK", serial_number="SN-1")
    with pytest.raises(DomainError) as caught:
        make_device(actor=coordinator, manufacturer="écotek", serial_number="sn-1")
    assert caught.value.code == "duplicate"
    assert "serial_number" in caught.value.params["fields"]


def test_registration_and_import_find_the_same_duplicates(coordinator):
    imei = valid_imei(7)
    held = make_device(
        actor=coordinator, category="smartphone", manufacturer="Fairphone", imei1=imei
    )
    make_device(actor=coordinator, manufacturer="Dell", serial_number="ABC 123")
    rows = [
        {"manufacturer": "DELL", "serial_number": "ABC 123", "imei1": "", "imei2": ""},
        {"manufacturer": "Fairphone", "serial_number": "", "imei1": imei, "imei2": ""},
        {"manufacturer": "Dell", "serial_number": "NEW", "imei1": "", "imei2": ""},
    ]
    parsed = [spreadsheets.ParsedRow(number, values) for number, values in enumerate(rows, 2)]
    errors = database_duplicates(parsed, {"serial_number": "Serial", "imei1": "IMEI"})
    assert [(error.row, error.column, error.code) for error in errors] == [
        (2, "Serial", "already_registered"),
        (3, "IMEI", "already_registered"),
    ]
    assert held.label_code_id.replace("-", "")[:3] in errors[1].reason.replace("-", "")
    with pytest.raises(DomainError) as caught:
        make_device(actor=coordinator, category="smartphone", manufacturer="Samsung", imei1=imei)
    assert set(caught.value.params["fields"]) == {"imei1"}


def test_a_serial_beyond_ascii_is_found_through_the_upper_index(coordinator):
    # registered_holders asks UPPER(serial_number): SQLite's upper() folds ASCII only, and a
    # stored serial is upper-cased by Python (normalize_serial), so both engines find it.
    make_device(actor=coordinator, manufacturer="Dell", serial_number="série-1")
    with pytest.raises(DomainError) as caught:
        make_device(actor=coordinator, manufacturer="DELL", serial_number="SÉRIE-1")
    assert caught.value.code == "duplicate"
    assert "serial_number" in caught.value.params["fields"]


def test_a_serial_matches_exactly_as_the_unique_constraint_does(coordinator):
    # The UPPER index finds a serial stored in another case (as an older row may be); it is
    # not the same serial for the unique constraint, so not a duplicate either.
    from inventory.models import Device

    held = make_device(actor=coordinator, manufacturer="Dell", serial_number="X1")
    Device.objects.filter(pk=held.pk).update(serial_number="ab-9")
    by_serial, _ = identity.registered_holders(serials=[("dell", "AB-9")], imeis=[])
    assert by_serial == {}
    by_serial, _ = identity.registered_holders(serials=[("dell", "ab-9")], imeis=[])
    assert by_serial == {("dell", "ab-9"): held.label_code_id}
