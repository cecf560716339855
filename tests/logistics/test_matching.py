"""The matching module (issue 11): pure, so tested without a database. Compatibility, the cost
terms, lexicographic optimality against brute force, fairness, determinism, explanations."""

import itertools
import json
import random
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from logistics.matching import (
    MAX_WEIGHT,
    TERMS,
    DeviceIn,
    NeedLineIn,
    Weights,
    compatible,
    constraints,
    pair_terms,
    solve,
    stock_floors,
    water_fill,
)

# No fairness limit: what brute force computes is the plain lexicographic optimum.
UNLIMITED = Weights(structure_fairness=False, territory_tolerance_percent=MAX_WEIGHT)


def need_line(**overrides) -> NeedLineIn:
    fields = {
        "id": 1,
        "need_id": 1,
        "structure_id": 1,
        "structure_type": "CCAS",
        "territory": "T3",
        "category": "laptop",
        "units": 1,
        "waiting_days": 0,
        "public": "seniors",
        "purpose": "public_access",
    }
    return NeedLineIn(**(fields | overrides))


def device(**overrides) -> DeviceIn:
    fields = {
        "id": 1,
        "category": "laptop",
        "ram_gb": 8,
        "storage_gb": 256,
        "screen_inches": Decimal("14.0"),
        "os_family": "windows",
        "grade": "B",
        "territory": "T3",
    }
    return DeviceIn(**(fields | overrides))


def laptops(count, first_id=1, **overrides) -> list[DeviceIn]:
    return [device(id=first_id + index, **overrides) for index in range(count)]


def served(proposal, line_id=None) -> int | Counter:
    counts = Counter(assignment.line_id for assignment in proposal.assignments)
    return counts if line_id is None else counts[line_id]


def reasons(proposal) -> dict[int, str]:
    return {item.line_id: item.reason for item in proposal.unserved}


# --- Compatibility


def test_a_device_of_another_category_is_incompatible():
    assert not compatible(need_line(category="tablet"), device())
    assert compatible(need_line(), device())


@pytest.mark.parametrize(
    ("spec", "minimum", "meets", "falls_short"),
    [
        ("ram_gb", 8, 8, 4),
        ("storage_gb", 256, 256, 128),
        ("screen_inches", Decimal("14.0"), Decimal("14"), Decimal("13.9")),
    ],
)
def test_each_minimum_is_met_from_its_value_up(spec, minimum, meets, falls_short):
    line = need_line(**{f"min_{spec}": minimum})
    assert compatible(line, device(**{spec: meets}))
    assert not compatible(line, device(**{spec: falls_short}))
    assert constraints(line, device(**{spec: falls_short}))[1] == (spec.split("_")[0],)


@pytest.mark.parametrize("spec", ["ram_gb", "storage_gb", "screen_inches"])
def test_an_unknown_device_value_meets_no_given_minimum(spec):
    unknown = device(**{spec: None})
    assert not compatible(need_line(**{f"min_{spec}": 0}), unknown)
    assert compatible(need_line(), unknown)  # no minimum given: unknown is fine


def test_the_system_must_match_only_when_the_line_asks_one():
    assert compatible(need_line(os_family=""), device(os_family="linux"))
    assert compatible(need_line(os_family="linux"), device(os_family="linux"))
    assert not compatible(need_line(os_family="linux"), device(os_family="windows"))
    # An unknown system matches no request.
    assert not compatible(need_line(os_family="linux"), device(os_family=""))


@pytest.mark.parametrize(
    ("minimum", "accepted"),
    [("", "ABC"), ("C", "ABC"), ("B", "AB"), ("A", "A")],
)
def test_a_grade_at_least_as_good_as_the_minimum_is_accepted(minimum, accepted):
    line = need_line(min_grade=minimum)
    assert [g for g in "ABC" if compatible(line, device(grade=g))] == list(accepted)


def test_a_grade_d_device_is_never_offered():
    assert not compatible(need_line(), device(grade="D"))
    proposal = solve([need_line()], [device(grade="D")], Weights())
    assert proposal.units_served == 0
    assert reasons(proposal) == {1: "no_stock"}


def test_met_lists_the_constraints_given_and_the_territory():
    line = need_line(min_ram_gb=8, os_family="windows", min_grade="B")
    proposal = solve([line], [device(grade="A")], Weights())
    assert proposal.assignments[0].met == ("category", "ram", "os", "grade", "same_territory")
    proposal = solve([need_line(territory="T2")], [device(territory="T3")], Weights())
    assert proposal.assignments[0].met == ("category", "same_side")


# --- Cost terms


def test_slack_is_measured_from_the_line_minimum():
    line = need_line(
        min_ram_gb=8, min_storage_gb=128, min_screen_inches=Decimal("14.0"), min_grade="C"
    )
    big = device(ram_gb=16, storage_gb=200, screen_inches=Decimal("15.6"), grade="A")
    terms = pair_terms(line, big, Weights(), stock_floors([big]))
    # 8 GB × 4; 72 GB is two whole 32 GB steps × 1; 1.6 inch is one whole inch × 2; A for C × 3.
    assert terms["slack_ram"] == 32
    assert terms["slack_storage"] == 2
    assert terms["slack_screen"] == 2
    assert terms["slack_grade"] == 6


def test_without_a_minimum_slack_is_measured_from_the_lowest_device_of_the_category():
    small = device(id=1, ram_gb=4, grade="B")
    large = device(id=2, ram_gb=16, grade="B")
    floors = stock_floors([small, large])
    assert pair_terms(need_line(), small, Weights(), floors)["slack_ram"] == 0
    assert pair_terms(need_line(), large, Weights(), floors)["slack_ram"] == 48
    # So an "any RAM" line gets the small laptop, the big one is kept.
    proposal = solve([need_line()], [large, small], Weights())
    assert [a.device_id for a in proposal.assignments] == [1]


@pytest.mark.parametrize(
    ("line_territory", "device_territory", "expected"),
    [
        ("T3", "T3", 0),
        ("T2", "T3", 20),
        ("T4", "T5", 20),
        ("T2", "T5", 60),
        ("T4", None, 40),
        (None, "T4", 40),
        (None, None, 40),
    ],
)
def test_distance_by_territory(line_territory, device_territory, expected):
    stock = device(territory=device_territory)
    terms = pair_terms(need_line(territory=line_territory), stock, Weights(), stock_floors([stock]))
    assert terms["distance"] == expected


@pytest.mark.parametrize(("days", "expected"), [(0, 365), (100, 265), (365, 0), (900, 0)])
def test_waiting_lowers_the_cost_down_to_zero(days, expected):
    stock = device()
    terms = pair_terms(need_line(waiting_days=days), stock, Weights(), stock_floors([stock]))
    assert terms["waiting"] == expected


def test_a_priority_bonus_lowers_the_cost_and_keeps_it_non_negative():
    weights = Weights(
        public_bonus={"seniors": 30, "job_seekers": 10},
        structure_type_bonus={"CCAS": 20},
        purpose_bonus={"staff_use": -15},
    )
    stock = device()
    floors = stock_floors([stock])

    def priority(**overrides):
        return pair_terms(need_line(**overrides), stock, weights, floors)["priority"]

    assert priority(public="seniors", structure_type="CCAS") == 0  # every top bonus
    assert priority(public="job_seekers", structure_type="ASSO") == 40
    assert priority(public="families", structure_type="ASSO", purpose="staff_use") == 65


def test_the_longest_waiting_line_is_served_first_when_stock_is_short():
    lines = [need_line(id=1, waiting_days=10), need_line(id=2, waiting_days=200)]
    proposal = solve(lines, [device()], UNLIMITED)
    assert served(proposal) == {2: 1}


# --- Optimality against brute force

CATEGORIES = st.sampled_from(["laptop", "tablet"])
TERRITORIES = st.sampled_from([None, "T2", "T3", "T4", "T5"])
SCREENS = [None, Decimal("12.5"), Decimal("13.3"), Decimal("14.0"), Decimal("15.6")]
LINES = st.lists(
    st.builds(
        need_line,
        structure_id=st.integers(1, 3),
        territory=TERRITORIES,
        category=CATEGORIES,
        units=st.integers(1, 6),
        min_ram_gb=st.sampled_from([None, 4, 8]),
        min_storage_gb=st.sampled_from([None, 64, 128]),
        min_screen_inches=st.sampled_from([None, Decimal("13.3"), Decimal("14")]),
        os_family=st.sampled_from(["", "", "windows", "linux"]),
        min_grade=st.sampled_from(["", "A", "B", "C"]),
        waiting_days=st.integers(0, 400),
        public=st.sampled_from(["seniors", "families"]),
        structure_type=st.sampled_from(["CCAS", "ASSO"]),
    ),
    min_size=1,
    max_size=4,
)
DEVICES = st.lists(
    st.builds(
        device,
        category=CATEGORIES,
        ram_gb=st.sampled_from([None, 4, 8, 16]),
        storage_gb=st.sampled_from([None, 64, 100, 128, 256]),
        screen_inches=st.sampled_from(SCREENS),
        os_family=st.sampled_from(["", "windows", "linux"]),
        grade=st.sampled_from("ABC"),
        territory=TERRITORIES,
    ),
    min_size=0,
    max_size=5,
)
WEIGHTED = Weights(
    structure_fairness=False,
    territory_tolerance_percent=MAX_WEIGHT,
    public_bonus={"seniors": 50},
    structure_type_bonus={"CCAS": 7},
)


def numbered(items):
    return [replace(item, id=index + 1) for index, item in enumerate(items)]


def brute_force(lines, devices, weights) -> tuple[int, int]:
    """(most units, least cost at that many units) over every assignment of the devices."""
    floors = stock_floors(devices)
    options = [
        [(None, 0)]
        + [
            (line.id, sum(pair_terms(line, stock, weights, floors).values()))
            for line in lines
            if compatible(line, stock)
        ]
        for stock in devices
    ]
    units = {line.id: line.units for line in lines}
    best = (0, 0)
    for choice in itertools.product(*options):
        taken = Counter(line_id for line_id, _ in choice if line_id is not None)
        if any(count > units[line_id] for line_id, count in taken.items()):
            continue
        best = max(best, (sum(taken.values()), -sum(cost for _, cost in choice)))
    return best[0], -best[1]


@settings(max_examples=300, deadline=None, database=None)
@given(LINES, DEVICES, st.sampled_from([UNLIMITED, WEIGHTED]))
def test_solve_serves_the_most_units_then_at_the_least_cost(lines, devices, weights):
    lines, devices = numbered(lines), numbered(devices)
    proposal = solve(lines, devices, weights)
    assert (proposal.units_served, proposal.total_cost) == brute_force(lines, devices, weights)
    by_id = {line.id: line for line in lines}
    stock = {item.id: item for item in devices}
    floors = stock_floors(devices)
    for assignment in proposal.assignments:
        line, chosen = by_id[assignment.line_id], stock[assignment.device_id]
        assert compatible(line, chosen)
        assert assignment.terms == pair_terms(line, chosen, weights, floors)
        assert sum(assignment.terms.values()) == assignment.cost
    assert len({a.device_id for a in proposal.assignments}) == proposal.units_served
    unserved = sum(item.units for item in proposal.unserved)
    assert proposal.units_asked == proposal.units_served + unserved


# Several draws of up to 4 lines: structures with several lines, scarce and shared stock.
FAIR_LINES = st.lists(LINES, min_size=1, max_size=3).map(lambda groups: sum(groups, []))


@settings(max_examples=150, deadline=None, database=None)
@given(
    FAIR_LINES,
    st.lists(DEVICES, min_size=1, max_size=3).map(lambda groups: sum(groups, [])),
    st.integers(0, 50),
    st.randoms(use_true_random=False),
)
def test_fairness_never_costs_a_unit_and_any_input_order_gives_the_same_proposal(
    lines, devices, tolerance, shuffler
):
    lines, devices = numbered(lines), numbered(devices)
    fair = Weights(territory_tolerance_percent=tolerance)
    proposal = solve(lines, devices, fair)
    assert proposal.units_served == solve(lines, devices, UNLIMITED).units_served
    shuffler.shuffle(lines)
    shuffler.shuffle(devices)
    assert solve(lines, devices, fair) == proposal
    for assignment in proposal.assignments:
        assert sum(assignment.terms.values()) == assignment.cost
        assert tuple(assignment.terms) == TERMS


# --- Fairness


@pytest.mark.parametrize(
    ("supply", "demands", "shares"),
    [
        (10, [3, 20], [3, 7]),
        (5, [4, 1, 4], [2, 1, 2]),
        (4, [3, 3, 3], [2, 1, 1]),  # the unit left goes to the first in order
        (9, [3, 3, 3], [3, 3, 3]),
        (50, [3, 3], [3, 3]),
        (0, [3, 3], [0, 0]),
    ],
)
def test_water_filling_shares(supply, demands, shares):
    assert water_fill(supply, demands) == shares


def tablets_for_two_structures():
    lines = [
        need_line(id=1, structure_id=1, category="tablet", units=10, waiting_days=300),
        need_line(id=2, structure_id=2, category="tablet", units=2, waiting_days=0),
    ]
    return lines, laptops(4, category="tablet")


def test_a_scarce_category_is_shared_between_structures_by_water_filling():
    lines, tablets = tablets_for_two_structures()
    # Without the limit, the line that waited longest takes every tablet.
    assert served(solve(lines, tablets, UNLIMITED)) == {1: 4}
    proposal = solve(lines, tablets, Weights())
    assert served(proposal) == {1: 2, 2: 2}
    [capped] = proposal.unserved
    assert (capped.line_id, capped.units, capped.reason) == (1, 8, "fairness_cap")
    assert capped.detail["limits"] == ["structure"]
    assert capped.detail["structure_cap"] == 2


def test_the_unit_left_by_water_filling_goes_to_the_structure_waiting_longest():
    lines = [
        need_line(id=1, structure_id=1, units=3, waiting_days=5),
        need_line(id=2, structure_id=2, units=3, waiting_days=90),
    ]
    assert served(solve(lines, laptops(3), Weights())) == {1: 1, 2: 2}


def test_progressive_filling_gives_a_structure_the_stock_only_it_can_use():
    # Three Macs only structure 1 can use (it asks no system), three Windows laptops all can.
    lines = [
        need_line(id=1, structure_id=1, units=6, waiting_days=50),
        need_line(id=2, structure_id=2, units=6, os_family="windows", waiting_days=10),
        need_line(id=3, structure_id=3, units=6, os_family="windows"),
    ]
    stock = laptops(3, os_family="macos") + laptops(3, first_id=4, os_family="windows")
    proposal = solve(lines, stock, Weights())
    # Water-filling gives each structure 2 of the 6 devices; the third Mac would stay idle.
    assert served(proposal) == {1: 3, 2: 2, 3: 1}
    assert proposal.stats.beyond_structure_caps == 1
    macs = {a.device_id for a in proposal.assignments if a.line_id == 1}
    assert macs == {1, 2, 3}


def territory_lines(*, t4_os=""):
    return [
        need_line(id=1, structure_id=1, territory="T3", units=10, waiting_days=100),
        need_line(id=2, structure_id=2, territory="T4", units=10, os_family=t4_os),
    ]


TERRITORY_ONLY = Weights(structure_fairness=False)


def test_a_territory_gets_no_more_than_its_share_with_the_tolerance_when_stock_is_short():
    stock = laptops(10, territory="T3")
    # Alone, the local line takes everything (no distance, longer wait).
    assert served(solve(territory_lines(), stock, UNLIMITED)) == {1: 10}
    # 10 devices, half the demand each: ceil(10 × 1/2 × 1.2) = 6.
    proposal = solve(territory_lines(), stock, TERRITORY_ONLY)
    assert served(proposal) == {1: 6, 2: 4}
    detail = {item.line_id: item for item in proposal.unserved}[1].detail
    assert detail["limits"] == ["territory"]
    assert (detail["territory_cap"], detail["territory_demand"]) == (6, 10)
    wider = solve(
        territory_lines(), stock, Weights(structure_fairness=False, territory_tolerance_percent=50)
    )
    assert served(wider) == {1: 8, 2: 2}


def test_a_territory_limit_is_raised_when_it_would_leave_stock_idle():
    # T4 asks Macs, none in stock: its share of the laptops would stay idle.
    proposal = solve(territory_lines(t4_os="macos"), laptops(10, territory="T3"), TERRITORY_ONLY)
    assert served(proposal) == {1: 10}
    assert proposal.stats.beyond_territory_caps == 4
    assert reasons(proposal) == {2: "spec_above_stock"}


def test_what_goes_beyond_the_limits_is_spread_over_the_groups_that_can_use_it():
    lines = territory_lines() + [
        need_line(id=3, structure_id=3, territory="T2", units=10, os_family="macos")
    ]
    # 12 laptops, a third of the demand each: caps of ceil(12 × 1/3 × 1.2) = 5. T2 can use
    # none, so 2 would stay idle: one more each for T3 and T4, though T3 is nearer.
    proposal = solve(lines, laptops(12, territory="T3"), TERRITORY_ONLY)
    assert served(proposal) == {1: 6, 2: 6}
    assert proposal.stats.beyond_territory_caps == 2


def test_lines_without_a_territory_form_their_own_group():
    lines = territory_lines() + [
        need_line(id=3, structure_id=3, territory=None, units=10, waiting_days=400)
    ]
    proposal = solve(lines, laptops(9, territory="T3"), TERRITORY_ONLY)
    # 9 devices, a third of the demand each: ceil(9 × 1/3 × 1.2) = 4 at most per group.
    assert sorted(served(proposal).values()) == [1, 4, 4]


# --- Determinism


def test_shuffled_inputs_and_repeated_runs_give_the_same_proposal():
    rng = random.Random(7)
    lines = [
        need_line(
            id=index + 1,
            structure_id=rng.randint(1, 4),
            territory=rng.choice([None, "T2", "T3", "T4", "T5"]),
            units=rng.randint(1, 4),
            min_ram_gb=rng.choice([None, 4, 8]),
            waiting_days=rng.randint(0, 30),
        )
        for index in range(30)
    ]
    stock = [
        device(
            id=index + 1,
            ram_gb=rng.choice([4, 8, 16]),
            grade=rng.choice("ABC"),
            territory=rng.choice([None, "T2", "T3", "T4", "T5"]),
        )
        for index in range(50)
    ]
    proposal = solve(lines, stock, Weights())
    assert solve(lines, stock, Weights()) == proposal
    for _ in range(5):
        rng.shuffle(lines)
        rng.shuffle(stock)
        assert solve(lines, stock, Weights()) == proposal


# --- Explanations


def test_each_unserved_line_carries_its_reason():
    lines = [
        need_line(id=1, category="smartphone"),  # no phone at all
        need_line(id=2, min_ram_gb=64),  # laptops exist, none that big
        need_line(id=3, structure_id=3, units=3),  # same structure: its own line is cheaper
        need_line(id=4, structure_id=3, units=1, waiting_days=200),
    ]
    proposal = solve(lines, laptops(2), UNLIMITED)
    assert reasons(proposal) == {
        1: "no_stock",
        2: "spec_above_stock",
        3: "taken_by_others",
    }
    by_line = {item.line_id: item for item in proposal.unserved}
    assert by_line[2].detail == {
        "served": 0,
        "category_devices": 2,
        "devices_meeting": {"ram": 0},
    }
    assert by_line[3].units == 2
    assert by_line[3].detail == {
        "served": 1,
        "compatible_devices": 2,
        "compatible_to_other_lines": 1,
    }
    json.dumps([item.detail for item in proposal.unserved])  # storable with the run


def test_stock_taken_inside_the_structure_is_not_a_fairness_limit():
    lines = [need_line(id=1, units=2, waiting_days=100), need_line(id=2, units=2)]
    proposal = solve(lines, laptops(2), Weights())
    assert served(proposal) == {1: 2}
    assert reasons(proposal) == {2: "taken_by_others"}


def test_lines_out_of_scope_are_reported_never_served():
    lines = [
        need_line(id=1, territory="T3"),
        need_line(id=2, territory="T4"),
        need_line(id=3, territory="T3", category="tablet", units=2),
    ]
    stock = laptops(3) + laptops(2, first_id=10, category="tablet")
    proposal = solve(lines, stock, Weights(), scope_territory="T3", scope_category="laptop")
    assert served(proposal) == {1: 1}
    assert reasons(proposal) == {2: "out_of_scope", 3: "out_of_scope"}
    assert proposal.unserved[0].detail == {"scope_territory": "T3", "scope_category": "laptop"}
    assert (proposal.units_asked, proposal.units_served) == (4, 1)


def test_terms_add_up_to_the_cost_and_the_total():
    lines = [need_line(id=1, units=2, min_ram_gb=4, waiting_days=40, territory="T5")]
    stock = [device(id=1, ram_gb=16, grade="A", territory="T2"), device(id=2, territory=None)]
    proposal = solve(lines, stock, Weights(public_bonus={"seniors": 5, "families": 9}))
    for assignment in proposal.assignments:
        assert tuple(assignment.terms) == TERMS
        assert sum(assignment.terms.values()) == assignment.cost
    assert proposal.total_cost == sum(a.cost for a in proposal.assignments)
    first = proposal.assignments[0]
    assert first.terms == {
        "slack_ram": 48,
        "slack_storage": 0,
        "slack_screen": 0,
        "slack_grade": 3,
        "distance": 60,
        "waiting": 325,
        "priority": 4,
    }


def test_inputs_that_make_no_sense_are_refused():
    with pytest.raises(ValueError, match="two lines"):
        solve([need_line(id=1), need_line(id=1)], [], Weights())
    with pytest.raises(ValueError, match="two devices"):
        solve([], [device(id=3), device(id=3)], Weights())
    with pytest.raises(ValueError, match="units"):
        solve([need_line(units=-1)], [], Weights())
    with pytest.raises(ValueError, match="grade"):
        solve([need_line(min_grade="D")], [], Weights())


def test_nothing_to_match_gives_an_empty_proposal():
    proposal = solve([], [], Weights())
    assert (proposal.assignments, proposal.unserved, proposal.units_asked) == ((), (), 0)


# --- Weights stored with a run


def test_weights_round_trip_through_a_plain_dict():
    weights = Weights(
        ram_per_gb=5,
        public_bonus={"seniors": 30},
        purpose_bonus={"lent_to_people": 10},
        structure_fairness=False,
        territory_tolerance_percent=35,
    )
    stored = json.loads(json.dumps(weights.to_dict()))
    assert Weights.from_dict(stored) == weights
    assert Weights.from_dict({}) == Weights()
    assert stored["public_bonus"] == {"seniors": 30}


def test_weights_keep_their_bonuses_when_the_given_dict_changes():
    bonuses = {"seniors": 30}
    weights = Weights(public_bonus=bonuses)
    bonuses["seniors"] = 999
    assert weights.public_bonus["seniors"] == 30
    with pytest.raises(TypeError):
        weights.public_bonus["seniors"] = 1


@pytest.mark.parametrize(
    "data",
    [
        {"ram_per_gb": "4"},
        {"ram_per_gb": 4.0},
        {"ram_per_gb": True},
        {"distance_other_side": -1},
        {"waiting_cap_days": MAX_WEIGHT + 1},
        {"public_bonus": {"seniors": -MAX_WEIGHT - 1}},
        {"structure_fairness": 1},
        {"territory_tolerance_percent": None},
        {"public_bonus": {"seniors": "30"}},
        {"public_bonus": {"seniors": 2.5}},
        {"purpose_bonus": [("staff_use", 3)]},
        {"structure_type_bonus": {3: 3}},
        {"speed": 3},
    ],
)
def test_weights_refuse_unknown_keys_and_bad_values(data):
    with pytest.raises(ValueError):
        Weights.from_dict(data)


def test_weights_from_something_else_than_a_mapping_are_refused():
    with pytest.raises(ValueError):
        Weights.from_dict([("ram_per_gb", 4)])
