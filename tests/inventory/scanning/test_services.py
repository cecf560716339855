"""Scanning: resolving what a scanner typed, recording every scan, replaying batches."""

import pytest
from django.test import override_settings

from inventory.codes import InvalidCode, check_symbol, code_from_scan, group_label_code
from inventory.errors import DomainError
from inventory.models import Device, LabelCode, ScanEvent, ScanResult
from inventory.scanning.selectors import scan_lookup
from inventory.scanning.services import device_scan, scan_apply
from inventory.services import device_transition, label_codes_preprint
from inventory.states import Status
from tests.builders import make_device, reload

SITE = "https://reemploi.example.org"
CODE = "7QK2M9XH" + check_symbol("7QK2M9XH")


@pytest.mark.parametrize(
    "raw",
    [
        CODE,
        CODE.lower(),
        group_label_code(CODE),
        f"  {group_label_code(CODE).lower()}\n",
        f"{SITE}/d/{CODE}",
        f"{SITE.upper()}/D/{CODE}",
        f"{SITE}/d/{group_label_code(CODE).lower()}/",
        f"reemploi.example.org/d/{CODE}",
        f"/d/{CODE}",
    ],
)
def test_scanned_text_in_every_form_gives_the_code(raw):
    assert code_from_scan(raw, SITE) == CODE


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        (f"https://evil.example.com/d/{CODE}", "foreign_url"),
        (f"{SITE}/admin/{CODE}", "foreign_url"),
        (CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), "check"),
        (CODE[:5], "length"),
        ("4006381333931", "length"),  # an EAN barcode from the box
    ],
)
def test_scanned_text_that_is_not_one_of_our_codes_says_why(raw, reason):
    with pytest.raises(InvalidCode) as excinfo:
        code_from_scan(raw, SITE)
    assert excinfo.value.reason == reason


@override_settings(SITE_URL=SITE)
def test_lookup_by_url_finds_the_device(coordinator, device):
    lookup = scan_lookup(coordinator, f"{SITE}/d/{device.label_code_id.lower()}")
    assert (lookup.result, lookup.device) == (ScanResult.FOUND, device)


def test_a_mistyped_code_never_resolves_to_another_device(coordinator, device):
    code = device.label_code_id
    for position in range(len(code)):
        typo = code[:position] + ("Z" if code[position] != "Z" else "Y") + code[position + 1 :]
        lookup = scan_lookup(coordinator, typo)
        assert lookup.device is None
        assert lookup.result == ScanResult.INVALID
        assert lookup.error_code == "code_check"


def test_an_unknown_valid_code_is_reported_unknown(coordinator, device):
    assert scan_lookup(coordinator, CODE).result == ScanResult.UNKNOWN


def test_another_organisations_device_looks_unknown(workshop_staff, device):
    lookup = scan_lookup(workshop_staff, device.label_code_id)
    assert (lookup.result, lookup.device) == (ScanResult.UNKNOWN, None)


def test_every_scan_is_recorded_even_refused_ones(workshop_staff, device):
    device_scan(actor=workshop_staff, raw="garbage!!")
    device_scan(actor=workshop_staff, raw=device.label_code_id)
    results = list(ScanEvent.objects.order_by("id").values_list("result", "error_code", "raw"))
    assert results == [
        (ScanResult.INVALID, "code_alphabet", "garbage!!"),
        (ScanResult.UNKNOWN, "code_unknown", device.label_code_id),
    ]


def test_a_preprinted_label_binds_to_the_device_registered_with_it(coordinator):
    [label] = label_codes_preprint(actor=coordinator, count=1)
    assert scan_lookup(coordinator, label.code).result == ScanResult.UNASSIGNED
    device = make_device(actor=coordinator, label_code=group_label_code(label.code).lower())
    assert device.label_code_id == label.code
    assert scan_lookup(coordinator, label.code).device == device
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=coordinator, label_code=label.code)
    assert excinfo.value.code == "label_code_in_use"
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=coordinator, label_code=CODE)
    assert excinfo.value.code == "invalid"
    assert Device.objects.count() == 1


def test_preprinted_runs_are_numbered(coordinator):
    first = label_codes_preprint(actor=coordinator, count=3)
    second = label_codes_preprint(actor=coordinator, count=2)
    assert {label.preprint_run for label in first} == {1}
    assert {label.preprint_run for label in second} == {2}
    assert LabelCode.objects.filter(issued_by=coordinator).count() == 5


def test_scan_apply_moves_the_device_then_says_already_done(
    coordinator, workshop_staff, device, workshop_org
):
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    code = device.label_code_id
    first = scan_apply(actor=workshop_staff, raw=code, action="receive_at_workshop")
    second = scan_apply(actor=workshop_staff, raw=code, action="receive_at_workshop")
    assert (first.result, second.result) == (ScanResult.APPLIED, ScanResult.ALREADY_DONE)
    assert reload(device).status == Status.AT_WORKSHOP
    assert device.history.filter(history_change_reason="receive_at_workshop").count() == 1


def test_a_refused_move_is_recorded_with_its_code(coordinator, device):
    outcome = scan_apply(actor=coordinator, raw=device.label_code_id, action="mark_ready")
    assert (outcome.result, outcome.error_code) == (ScanResult.REFUSED, "transition_not_allowed")
    assert outcome.message
    assert ScanEvent.objects.filter(result=ScanResult.REFUSED, device=device).count() == 1
    assert reload(device).status == Status.REGISTERED


@pytest.mark.slow
def test_a_batch_uploaded_three_times_applies_each_move_once(coordinator, workshop_org):
    devices = [make_device(actor=coordinator) for _ in range(200)]
    # Ten of them were already moved elsewhere: those scans must come back as conflicts.
    for device in devices[:10]:
        device_transition(actor=coordinator, device_id=device.pk, action="declare_lost")
    batch = [(f"phone-1:{i}", device.label_code_id.lower()) for i, device in enumerate(devices)]

    for _upload in range(3):
        outcomes = [
            scan_apply(
                actor=coordinator,
                raw=raw,
                action="send_to_workshop",
                target=workshop_org,
                client_id=client_id,
            )
            for client_id, raw in batch
        ]
        results = [outcome.result for outcome in outcomes]
        assert results.count(ScanResult.APPLIED) == 190
        assert results.count(ScanResult.REFUSED) == 10

    assert ScanEvent.objects.count() == 200
    assert Device.objects.filter(status=Status.SENT_TO_WORKSHOP).count() == 190
    assert Device.history.filter(history_change_reason="send_to_workshop").count() == 190


US_KEYS_ON_AZERTY = str.maketrans(
    {
        "1": "&", "2": "é", "3": '"', "4": "'", "5": "(", "6": "-", "7": "è", "8": "_",
        "9": "ç", "0": "à", "-": ")", "Q": "A", "A": "Q", "W": "Z", "Z": "W", "M": "?",
        ":": "M", ".": ":", "/": "!", ",": ";",
    }
)  # fmt: skip


def test_a_us_layout_scanner_on_a_french_keyboard_is_understood():
    payload = f"{SITE.upper()}/D/{CODE}"
    typed = payload.translate(US_KEYS_ON_AZERTY)
    assert typed.startswith("HTTPSM!!")
    assert code_from_scan(typed, SITE) == CODE


def test_keyboard_unscrambling_never_turns_a_typo_into_a_code():
    typo = CODE[:-1] + ("0" if CODE[-1] != "0" else "1")
    with pytest.raises(InvalidCode):
        code_from_scan(typo, SITE)
    garbled_typo = f"{SITE.upper()}/D/{typo}".translate(US_KEYS_ON_AZERTY)
    with pytest.raises(InvalidCode) as excinfo:
        code_from_scan(garbled_typo, SITE)
    assert excinfo.value.reason == "check"
