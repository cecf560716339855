"""The need's lifecycle as plain values: no database."""

import pytest

from logistics.needs.lifecycle import (
    CLOSED,
    EDITABLE,
    MOVES,
    OPEN,
    NeedStatus,
    Side,
    move_allowed,
    moves_from,
    served_status,
)


def test_every_status_is_open_or_closed_exactly_once():
    assert set(NeedStatus.values) == OPEN | CLOSED
    assert not OPEN & CLOSED


def test_closed_needs_have_no_move_left():
    for status in CLOSED:
        assert not any(move_allowed(name, status) for name in MOVES)


def test_only_undecided_needs_are_editable():
    assert {NeedStatus.DRAFT, NeedStatus.SUBMITTED} == EDITABLE


def test_the_structure_submits_drafts_and_cancels_open_needs():
    assert [m.name for m in moves_from(NeedStatus.DRAFT, Side.STRUCTURE)] == ["submit", "cancel"]
    assert [m.name for m in moves_from(NeedStatus.ACCEPTED, Side.STRUCTURE)] == ["cancel"]
    assert moves_from(NeedStatus.SERVED, Side.STRUCTURE) == []


def test_the_coordination_decides_submitted_needs_only():
    names = [m.name for m in moves_from(NeedStatus.SUBMITTED, Side.COORDINATION)]
    assert names == ["accept", "decline"]
    assert moves_from(NeedStatus.DRAFT, Side.COORDINATION) == []
    assert moves_from(NeedStatus.ACCEPTED, Side.COORDINATION) == []


def test_only_a_submitted_need_expires():
    assert [s for s in NeedStatus.values if move_allowed("expire", s)] == [NeedStatus.SUBMITTED]


def test_an_unknown_move_is_never_allowed():
    assert not move_allowed("serve", NeedStatus.ACCEPTED)


@pytest.mark.parametrize(
    ("status", "lines", "expected"),
    [
        (NeedStatus.ACCEPTED, [(3, 0), (2, 0)], NeedStatus.ACCEPTED),
        (NeedStatus.ACCEPTED, [(3, 1), (2, 0)], NeedStatus.PARTLY_SERVED),
        (NeedStatus.PARTLY_SERVED, [(3, 3), (2, 2)], NeedStatus.SERVED),
        # A line given more than accepted does not make up for another line left unserved.
        (NeedStatus.PARTLY_SERVED, [(3, 5), (2, 0)], NeedStatus.PARTLY_SERVED),
        # A line accepted at zero units needs nothing.
        (NeedStatus.ACCEPTED, [(3, 3), (0, 0)], NeedStatus.SERVED),
        # Served units going back (an allocation cancelled) reopen the need.
        (NeedStatus.PARTLY_SERVED, [(3, 0)], NeedStatus.ACCEPTED),
        (NeedStatus.SERVED, [(3, 2)], NeedStatus.PARTLY_SERVED),
        # Only needs being served follow their units.
        (NeedStatus.CANCELLED, [(3, 3)], NeedStatus.CANCELLED),
        (NeedStatus.SUBMITTED, [(3, 3)], NeedStatus.SUBMITTED),
    ],
)
def test_served_units_make_the_status(status, lines, expected):
    assert served_status(status, lines) == expected
