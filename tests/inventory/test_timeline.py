"""The timeline reads as words: no action, reason or outcome code reaches the page."""

import re

import pytest
from django.urls import reverse
from django.utils import translation

from inventory.models import ScanResult
from inventory.states import MOVES, Status
from inventory.timeline import DONE_LABELS, REASON_LABELS, action_label, device_timeline
from tests.builders import make_device, reconditioned, walk

CODES = [*MOVES, *REASON_LABELS]


def looks_like_a_code(text: str) -> bool:
    return bool(re.fullmatch(r"[a-z]+(_[a-z]+)+|[a-z]+", text))


@pytest.mark.parametrize("code", CODES)
def test_every_move_and_reason_has_a_french_label(code):
    with translation.override("fr"):
        label = action_label(code)
    assert label != code
    assert not looks_like_a_code(label)


def test_every_move_reads_as_done_in_the_history():
    assert set(DONE_LABELS) == set(MOVES)


def test_an_unknown_reason_reads_as_a_change_not_as_its_code():
    with translation.override("fr"):
        assert action_label("some_new_reason") == action_label("") == "Changement"


@pytest.mark.parametrize("choices", [Status, ScanResult])
def test_every_status_and_scan_result_has_a_french_label(choices):
    with translation.override("fr"):
        for value, label in choices.choices:
            assert str(label) != value
            assert not looks_like_a_code(str(label))


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_a_cycle_closed_by_a_move_shows_the_moves_label_on_the_device_page(
    login, coordinator, workshop_staff, workshop_org
):
    device = make_device(actor=coordinator)
    reconditioned(coordinator, device, workshop_org)
    lost = make_device(actor=coordinator)
    reconditioned(coordinator, lost, workshop_org)
    walk(actor=coordinator, device=lost, actions=("declare_lost",))
    for one in (device, lost):
        with translation.override("fr"):
            outcomes = [
                change.new
                for entry in device_timeline(one)
                for change in entry.changes
                if change.label == "Résultat"
            ]
        assert outcomes
        page = login(coordinator).get(reverse("inventory:device_detail", args=[one.pk]))
        page = text_of(page.text)
        for code in CODES:
            assert not re.search(rf"(?<![\w-]){code}(?![\w-])", page), code
    with translation.override("fr"):
        assert "Déclaré disponible au réemploi" in [
            c.new for e in device_timeline(device) for c in e.changes if c.label == "Résultat"
        ]
