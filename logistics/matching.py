"""Accepted need lines × ready stock → an allocation proposal: pure, deterministic, explainable.

Plain frozen dataclasses in and out, no Django and no database, so that a run can be replayed
from what was stored with it (the inputs and `Weights.to_dict()`) and tested in milliseconds.

Objective, in this order (issue 11): serve as many units as possible; then respect the fairness
limits below as far as they cost no unit; then minimise the total cost. Same inputs in any order
give the same proposal: inputs are sorted by id first, so the solver always sees the same
network and settles ties between equal-cost solutions the same way; devices of a class go to
lines lowest ids first.

Compatibility. A device can serve a line iff it is of the line's category and meets each
minimum the line gives (RAM, storage, screen: a device whose value is unknown meets none), has
the operating system the line asks for (if it asks one; an unknown system matches no request)
and a grade at least as good as the line's lowest acceptable grade (A best, then B, then C). A
device graded otherwise (D) is never offered: it is left out of the pool.

Cost of serving one unit of a line with a device: the sum of seven integer terms
(`Assignment.terms`), all weights in `Weights`:
- slack_ram, slack_storage, slack_screen, slack_grade: what the device has beyond what the line
  needs, so that a big device is kept for a line that needs it: `ram_per_gb` per GB,
  `storage_per_32gb` per whole 32 GB, `screen_per_inch` per whole inch, `grade_per_step` per
  grade better. Measured from the line's minimum or, where the line gives none, from the
  category's lowest device in the pool (worst grade for the grade); an unknown device value
  counts no slack.
- distance: device stocked in the line's EPT, on the same side (North: T4, T5; South: T2, T3),
  on the other side, or either territory unknown (`distance_*`).
- waiting: `waiting_per_day` × (`waiting_cap_days` − days waited, capped): the longer a line
  has waited, the cheaper it is to serve, never below zero.
- priority: the largest bonus of each table (`public_bonus`, `structure_type_bonus`,
  `purpose_bonus`; at least 0) minus the line's bonuses: a bonus lowers the cost, never below 0.

Model: min-cost flow (OR-Tools `solve_max_flow_with_min_cost`: the largest flow, then the least
cost), one network per category, which are independent: source → territory node (one per EPT,
lines without a territory forming their own group) → structure node → line (capacity: units
still to serve) → device class → sink. A class groups the devices of identical category, RAM,
storage, screen, system, grade and territory (capacity: its count); there is an arc from a line
to a class only when they are compatible, costing the unit cost above. Devices of a class go to
its lines in id order, lowest device ids first.

Fairness limits, per category, are the capacities of the territory and structure arcs. S is the
number of devices of the category compatible with at least one line in the run.
1. Structure (`structure_fairness`): a structure's demand is the units its lines still ask,
   counted at most up to the devices compatible with one of its lines. Water-filling: the largest
   whole level L with Σ min(demand, L) ≤ S; each structure's cap is min(demand, L); the units
   left (fewer than the structures above L) add one each to the structures above L, in order of
   the longest wait among their lines, then lowest structure id. So no structure receives more
   than its share while another structure of the category gets nothing, unless (3).
2. Territory (`territory_tolerance_percent`): an EPT's cap is
   min(demand, ceil(S × its share of the category's demand × (1 + tolerance / 100))).
3. Progressive filling: limits bind only while they cost no unit, that is while they don't leave
   stock idle that some line could use (directly, or by moving another line to other stock). A
   cap is soft: beyond it, the k-th unit a group receives costs k × P, where P exceeds the cost
   of any whole proposal of the category. The solver serves the most units first, so exactly as
   many as with no limit at all; among those ways it goes beyond the caps as little as possible,
   spreading what must go beyond over the groups that can use that stock, one unit each in turn
   as in water-filling (the growing k); and only then minimises the cost. Units served never
   depend on the fairness settings, only on stock and compatibility; the units served beyond a
   cap are counted in `Proposal.stats`. This replaces iterating (solve, raise the caps of the
   groups at their cap next to idle stock, solve again): raising only where stock sat visibly
   idle lost the units that needed another line moved to other stock, and raising where the
   residual network allowed a unit more took up to a dozen rounds on small random cases.

Lines left unserved (`Unserved`) carry a reason: `out_of_scope` (outside `scope_territory` or
`scope_category`: never served), `no_stock` (no device of the category in the pool),
`spec_above_stock` (devices of the category, none compatible), `fairness_cap` (compatible stock
went to others while the line's structure or territory was at its cap), `taken_by_others`
(compatible stock all served other lines, at least cost).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from types import MappingProxyType

import numpy as np
from ortools.graph.python import min_cost_flow

GRADES = ("A", "B", "C")  # best first; D is never offered
GRADE_RANK = {grade: rank for rank, grade in enumerate(GRADES)}
SIDES = {"T2": "south", "T3": "south", "T4": "north", "T5": "north"}
STORAGE_STEP_GB = 32
# Bounds on every weight and bonus: far above any sensible setting, low enough that the costs and
# the fairness penalty stay well inside the solver's 64-bit integers.
MAX_WEIGHT = 100_000
# Screens are compared as whole multiples of 10^-k inch; more decimals would be a typing error.
MAX_SCREEN_DECIMALS = 6

TERMS = (
    "slack_ram",
    "slack_storage",
    "slack_screen",
    "slack_grade",
    "distance",
    "waiting",
    "priority",
)
REASONS = ("out_of_scope", "no_stock", "spec_above_stock", "fairness_cap", "taken_by_others")


@dataclass(frozen=True, kw_only=True)
class NeedLineIn:
    id: int
    need_id: int
    structure_id: int
    structure_type: str = ""
    territory: str | None = None
    category: str
    units: int
    min_ram_gb: int | None = None
    min_storage_gb: int | None = None
    min_screen_inches: Decimal | None = None
    os_family: str = ""
    min_grade: str = ""
    waiting_days: int = 0
    public: str = ""
    purpose: str = ""


@dataclass(frozen=True, kw_only=True)
class DeviceIn:
    id: int
    category: str
    ram_gb: int | None = None
    storage_gb: int | None = None
    screen_inches: Decimal | None = None
    os_family: str = ""
    grade: str
    territory: str | None = None


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_BONUS_TABLES = ("public_bonus", "structure_type_bonus", "purpose_bonus")


@dataclass(frozen=True, kw_only=True)
class Weights:
    ram_per_gb: int = 4
    storage_per_32gb: int = 1
    screen_per_inch: int = 2
    grade_per_step: int = 3
    distance_same_territory: int = 0
    distance_same_side: int = 20
    distance_other_side: int = 60
    distance_unknown: int = 40
    waiting_per_day: int = 1
    waiting_cap_days: int = 365
    public_bonus: Mapping[str, int] = field(default_factory=dict)
    structure_type_bonus: Mapping[str, int] = field(default_factory=dict)
    purpose_bonus: Mapping[str, int] = field(default_factory=dict)
    structure_fairness: bool = True
    territory_tolerance_percent: int = 20

    def __post_init__(self):
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name in _BONUS_TABLES:
                if not isinstance(value, Mapping) or not all(
                    isinstance(key, str) and _is_int(bonus) and abs(bonus) <= MAX_WEIGHT
                    for key, bonus in value.items()
                ):
                    raise ValueError(
                        f"{spec.name} must map strings to integers between "
                        f"-{MAX_WEIGHT} and {MAX_WEIGHT}"
                    )
                # Read-only, so that a frozen Weights stays what was stored with the run.
                object.__setattr__(self, spec.name, MappingProxyType(dict(value)))
            elif spec.name == "structure_fairness":
                if not isinstance(value, bool):
                    raise ValueError("structure_fairness must be true or false")
            elif not _is_int(value) or not 0 <= value <= MAX_WEIGHT:
                # Negative weights would make costs negative and reward slack.
                raise ValueError(f"{spec.name} must be an integer from 0 to {MAX_WEIGHT}")

    def to_dict(self) -> dict:
        return {
            spec.name: dict(value) if spec.name in _BONUS_TABLES else value
            for spec in fields(self)
            for value in [getattr(self, spec.name)]
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "Weights":
        if not isinstance(data, Mapping):
            raise ValueError("weights must be a mapping")
        unknown = sorted(map(str, set(data) - {spec.name for spec in fields(cls)}))
        if unknown:
            raise ValueError(f"unknown weights: {', '.join(unknown)}")
        return cls(**data)


@dataclass(frozen=True)
class Assignment:
    line_id: int
    device_id: int
    cost: int
    terms: dict[str, int]
    met: tuple[str, ...]


@dataclass(frozen=True)
class Unserved:
    line_id: int
    units: int
    reason: str
    detail: dict


@dataclass(frozen=True)
class Stats:
    device_classes: int
    arcs: int
    solves: int  # one per category with lines to serve
    # Units served beyond a fairness limit, because the stock would otherwise stay idle.
    beyond_structure_caps: int
    beyond_territory_caps: int


@dataclass(frozen=True)
class Proposal:
    assignments: tuple[Assignment, ...]
    unserved: tuple[Unserved, ...]
    units_asked: int  # every line given, out of scope included
    units_served: int
    total_cost: int
    stats: Stats


@dataclass(frozen=True)
class Floors:
    """The lowest device of a category in the pool: what slack is measured from when a line
    gives no minimum."""

    ram_gb: int | None
    storage_gb: int | None
    screen_inches: Decimal | None
    grade: str  # the worst grade


# --- Scalar rules: the reference the vectorised model follows, and the explanation of a pair.


def constraints(line: NeedLineIn, device: DeviceIn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(met, unmet): codes of the constraints the line gives, category always."""
    checks = [("category", line.category == device.category)]
    for code, minimum, value in (
        ("ram", line.min_ram_gb, device.ram_gb),
        ("storage", line.min_storage_gb, device.storage_gb),
        ("screen", line.min_screen_inches, device.screen_inches),
    ):
        if minimum is not None:
            checks.append((code, value is not None and value >= minimum))
    if line.os_family:
        checks.append(("os", device.os_family == line.os_family))
    if line.min_grade:
        checks.append(
            ("grade", GRADE_RANK.get(device.grade, len(GRADES)) <= GRADE_RANK[line.min_grade])
        )
    met = tuple(code for code, ok in checks if ok)
    unmet = tuple(code for code, ok in checks if not ok)
    return met, unmet


def compatible(line: NeedLineIn, device: DeviceIn) -> bool:
    return device.grade in GRADE_RANK and not constraints(line, device)[1]


def stock_floors(devices: Sequence[DeviceIn]) -> dict[str, Floors]:
    by_category: dict[str, list[DeviceIn]] = {}
    for device in devices:
        if device.grade in GRADE_RANK:
            by_category.setdefault(device.category, []).append(device)

    def lowest(values):
        known = [value for value in values if value is not None]
        return min(known) if known else None

    return {
        category: Floors(
            ram_gb=lowest(d.ram_gb for d in group),
            storage_gb=lowest(d.storage_gb for d in group),
            screen_inches=lowest(d.screen_inches for d in group),
            grade=max((d.grade for d in group), key=GRADE_RANK.__getitem__),
        )
        for category, group in by_category.items()
    }


def distance(line_territory: str | None, device_territory: str | None, weights: Weights) -> int:
    if line_territory is None or device_territory is None:
        return weights.distance_unknown
    if line_territory == device_territory:
        return weights.distance_same_territory
    line_side, device_side = SIDES.get(line_territory), SIDES.get(device_territory)
    if line_side is None or device_side is None:
        return weights.distance_unknown
    if line_side == device_side:
        return weights.distance_same_side
    return weights.distance_other_side


def line_terms(line: NeedLineIn, weights: Weights) -> dict[str, int]:
    """The terms that depend on the line alone: waiting and priority."""
    cap = weights.waiting_cap_days
    waited = min(max(line.waiting_days, 0), cap)
    offset = sum(max([0, *table.values()]) for table in _bonus_tables(weights))
    bonus = (
        weights.public_bonus.get(line.public, 0)
        + weights.structure_type_bonus.get(line.structure_type, 0)
        + weights.purpose_bonus.get(line.purpose, 0)
    )
    return {"waiting": weights.waiting_per_day * (cap - waited), "priority": offset - bonus}


def _bonus_tables(weights: Weights):
    return (weights.public_bonus, weights.structure_type_bonus, weights.purpose_bonus)


def pair_terms(
    line: NeedLineIn, device: DeviceIn, weights: Weights, floors: Mapping[str, Floors]
) -> dict[str, int]:
    """The cost terms of serving one unit of `line` with the compatible `device`; `floors` is
    `stock_floors(pool)`."""
    floor = floors[device.category]

    def above(value, minimum, lowest):
        base = minimum if minimum is not None else lowest
        return 0 if value is None or base is None else value - base

    base_grade = line.min_grade or floor.grade
    terms = {
        "slack_ram": weights.ram_per_gb * above(device.ram_gb, line.min_ram_gb, floor.ram_gb),
        "slack_storage": weights.storage_per_32gb
        * (above(device.storage_gb, line.min_storage_gb, floor.storage_gb) // STORAGE_STEP_GB),
        "slack_screen": weights.screen_per_inch
        * int(above(device.screen_inches, line.min_screen_inches, floor.screen_inches) // 1),
        "slack_grade": weights.grade_per_step * (GRADE_RANK[base_grade] - GRADE_RANK[device.grade]),
        "distance": distance(line.territory, device.territory, weights),
    }
    return terms | line_terms(line, weights)


def water_fill(supply: int, demands: Sequence[int]) -> list[int]:
    """Shares of `supply` for `demands`: min(demand, L) at the largest whole level L that fits,
    then one more unit each to the demands above L, in the order given, until none is left."""
    if supply >= sum(demands):
        return list(demands)
    low, high = 0, max(demands)
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(demand, middle) for demand in demands) <= supply:
            low = middle
        else:
            high = middle - 1
    shares = [min(demand, low) for demand in demands]
    left = max(supply, 0) - sum(shares)
    for index, demand in enumerate(demands):
        if left <= 0:
            break
        if demand > low:
            shares[index] += 1
            left -= 1
    return shares


# --- Input checks and the stock's classes.


def _checked(items, kind: str) -> list:
    ordered = sorted(items, key=lambda item: item.id)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.id == after.id:
            raise ValueError(f"two {kind} with id {after.id}")
    return ordered


def _check_line(line: NeedLineIn) -> None:
    if not _is_int(line.units) or line.units < 0:
        raise ValueError(f"line {line.id}: units must be a non-negative integer")
    if line.min_grade and line.min_grade not in GRADE_RANK:
        raise ValueError(f"line {line.id}: unknown grade {line.min_grade!r}")


def _screen_scale(values) -> int:
    decimals = 0
    for value in values:
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise ValueError(f"screen sizes must be Decimal, not {type(value).__name__}")
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError("screen sizes must be finite")
            decimals = max(decimals, -value.normalize().as_tuple().exponent)
    if decimals > MAX_SCREEN_DECIMALS:
        raise ValueError(f"screen sizes have at most {MAX_SCREEN_DECIMALS} decimals")
    return 10**decimals


def _scaled(value, scale: int) -> int:
    return int(Decimal(value) * scale)


def _none_last(value):
    return (value is None, value if value is not None else 0)


class _Stock:
    """The pool as device classes, sorted by category then specifications, as numpy columns."""

    def __init__(self, devices: list[DeviceIn], scale: int):
        groups: dict[tuple, list[DeviceIn]] = {}
        for device in devices:
            key = (
                device.category,
                device.ram_gb,
                device.storage_gb,
                device.screen_inches,
                device.os_family,
                device.grade,
                device.territory,
            )
            groups.setdefault(key, []).append(device)
        keys = sorted(groups, key=lambda key: tuple(map(_none_last, key)))
        self.members = [groups[key] for key in keys]  # ids ascending: devices come sorted
        self.sample = [members[0] for members in self.members]
        self.count = np.array([len(members) for members in self.members], dtype=np.int64)
        self.slices: dict[str, tuple[int, int]] = {}
        for index, key in enumerate(keys):
            start, _ = self.slices.get(key[0], (index, index))
            self.slices[key[0]] = (start, index + 1)

        def column(position, convert=int):
            values = [key[position] for key in keys]
            known = np.array([value is not None for value in values], dtype=bool)
            numbers = np.array(
                [convert(value) if value is not None else 0 for value in values], dtype=np.int64
            )
            return numbers, known

        self.ram, self.has_ram = column(1)
        self.storage, self.has_storage = column(2)
        self.screen, self.has_screen = column(3, lambda value: _scaled(value, scale))
        self.os_codes = {os: code for code, os in enumerate(sorted({key[4] for key in keys}))}
        self.os = np.array([self.os_codes[key[4]] for key in keys], dtype=np.int64)
        self.grade = np.array([GRADE_RANK[key[5]] for key in keys], dtype=np.int64)
        self.territories = sorted({key[6] for key in keys}, key=_none_last)
        codes = {territory: code for code, territory in enumerate(self.territories)}
        self.territory = np.array([codes[key[6]] for key in keys], dtype=np.int64)


class _Category:
    """One category's lines against its classes: the arcs with their costs, the fairness groups
    and the flow network, solved under the fairness rules of the module's docstring."""

    def __init__(self, lines, stock: _Stock, floors: Floors | None, weights: Weights, scale):
        self.lines = lines
        self.stock = stock
        self.weights = weights
        self.start, self.end = stock.slices.get(lines[0].category, (0, 0))
        self.floors = floors
        self.scale = scale
        self.units = np.array([line.units for line in lines], dtype=np.int64)
        self._build_arcs()
        self._build_groups()

    # Arcs line → class. Lines asking the same specifications from the same territory share
    # their compatible classes and slack costs; only waiting and priority differ.
    def _build_arcs(self):
        cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        tails, heads, costs = [], [], []
        for position, line in enumerate(self.lines):
            signature = (
                line.min_ram_gb,
                line.min_storage_gb,
                line.min_screen_inches,
                line.os_family,
                line.min_grade,
                line.territory,
            )
            if signature not in cache:
                cache[signature] = self._classes_for(line)
            classes, cost = cache[signature]
            constant = sum(line_terms(line, self.weights).values())
            tails.append(np.full(len(classes), position, dtype=np.int64))
            heads.append(classes)
            costs.append(cost + constant)
        self.arc_line = np.concatenate(tails) if tails else np.zeros(0, np.int64)
        self.arc_class = np.concatenate(heads) if heads else np.zeros(0, np.int64)
        self.arc_cost = np.concatenate(costs) if costs else np.zeros(0, np.int64)

    def masks(self, line: NeedLineIn) -> dict[str, np.ndarray]:
        """Per constraint the line gives, which of the category's classes meet it."""
        stock, part = self.stock, slice(self.start, self.end)
        found = {}
        if line.min_ram_gb is not None:
            found["ram"] = stock.has_ram[part] & (stock.ram[part] >= line.min_ram_gb)
        if line.min_storage_gb is not None:
            found["storage"] = stock.has_storage[part] & (
                stock.storage[part] >= line.min_storage_gb
            )
        if line.min_screen_inches is not None:
            minimum = _scaled(line.min_screen_inches, self.scale)
            found["screen"] = stock.has_screen[part] & (stock.screen[part] >= minimum)
        if line.os_family:
            code = stock.os_codes.get(line.os_family, -1)
            found["os"] = stock.os[part] == code
        if line.min_grade:
            found["grade"] = stock.grade[part] <= GRADE_RANK[line.min_grade]
        return found

    def _classes_for(self, line):
        stock, part, weights = self.stock, slice(self.start, self.end), self.weights
        compatible = np.ones(self.end - self.start, dtype=bool)
        for mask in self.masks(line).values():
            compatible &= mask
        floors = self.floors

        def slack(values, known, minimum, lowest):
            base = minimum if minimum is not None else lowest
            if base is None:
                return np.zeros(len(values), dtype=np.int64)
            return np.where(known, values - base, 0)

        screen_minimum = (
            _scaled(line.min_screen_inches, self.scale)
            if line.min_screen_inches is not None
            else None
        )
        screen_lowest = (
            _scaled(floors.screen_inches, self.scale)
            if floors and floors.screen_inches is not None
            else None
        )
        base_grade = GRADE_RANK[line.min_grade or (floors.grade if floors else "C")]
        lookup = np.array(
            [distance(line.territory, territory, weights) for territory in stock.territories],
            dtype=np.int64,
        )
        cost = (
            weights.ram_per_gb
            * slack(stock.ram[part], stock.has_ram[part], line.min_ram_gb, floors and floors.ram_gb)
            + weights.storage_per_32gb
            * (
                slack(
                    stock.storage[part],
                    stock.has_storage[part],
                    line.min_storage_gb,
                    floors and floors.storage_gb,
                )
                // STORAGE_STEP_GB
            )
            + weights.screen_per_inch
            * (
                slack(stock.screen[part], stock.has_screen[part], screen_minimum, screen_lowest)
                // self.scale
            )
            + weights.grade_per_step * (base_grade - stock.grade[part])
            + lookup[stock.territory[part]]
        )
        chosen = np.flatnonzero(compatible)
        return chosen, cost[chosen].astype(np.int64)

    # Fairness groups: territory nodes, and structure nodes under them.
    def _build_groups(self):
        lines, count = self.lines, self.stock.count[self.start : self.end]
        territory_keys = sorted({line.territory for line in lines}, key=_none_last)
        territory_index = {key: index for index, key in enumerate(territory_keys)}
        # A structure belongs to one territory; should its lines name several, each pair
        # (territory, structure) counts as a structure of its own.
        structure_keys = sorted(
            {(line.territory, line.structure_id) for line in lines},
            key=lambda key: (_none_last(key[0]), key[1]),
        )
        structure_index = {key: index for index, key in enumerate(structure_keys)}
        self.line_structure = np.array(
            [structure_index[(line.territory, line.structure_id)] for line in lines],
            dtype=np.int64,
        )
        self.line_territory = np.array(
            [territory_index[line.territory] for line in lines], dtype=np.int64
        )
        self.structure_keys, self.territory_keys = structure_keys, territory_keys
        self.structure_parent = np.array(
            [territory_index[key[0]] for key in structure_keys], dtype=np.int64
        )
        self.structure_demand = np.bincount(
            self.line_structure, weights=self.units, minlength=len(structure_keys)
        ).astype(np.int64)
        self.territory_demand = np.bincount(
            self.line_territory, weights=self.units, minlength=len(territory_keys)
        ).astype(np.int64)
        waited = np.array([line.waiting_days for line in lines], dtype=np.int64)
        self.structure_wait = np.zeros(len(structure_keys), dtype=np.int64)
        np.maximum.at(self.structure_wait, self.line_structure, waited)
        self.territory_wait = np.zeros(len(territory_keys), dtype=np.int64)
        np.maximum.at(self.territory_wait, self.line_territory, waited)

        # Compatible devices per line, per structure and for the category (S).
        self.line_supply = np.bincount(
            self.arc_line, weights=count[self.arc_class], minlength=len(lines)
        ).astype(np.int64)
        reachable = np.unique(self.arc_class)
        self.supply = int(count[reachable].sum())
        pairs = np.unique(self.line_structure[self.arc_line] * len(count) + self.arc_class)
        self.structure_supply = np.bincount(
            pairs // max(len(count), 1),
            weights=count[pairs % max(len(count), 1)],
            minlength=len(structure_keys),
        ).astype(np.int64)

    def _structure_order(self, indices):
        return sorted(indices, key=lambda i: (-self.structure_wait[i], self.structure_keys[i][1]))

    def initial_caps(self):
        weights, supply = self.weights, self.supply
        structure_caps = self.structure_demand.copy()
        if weights.structure_fairness:
            order = self._structure_order(range(len(self.structure_keys)))
            wanted = [int(min(self.structure_demand[i], self.structure_supply[i])) for i in order]
            for index, share in zip(order, water_fill(supply, wanted), strict=True):
                structure_caps[index] = share
        total = int(self.territory_demand.sum())
        factor = 100 + weights.territory_tolerance_percent
        territory_caps = np.array(
            [
                min(int(demand), -(-supply * int(demand) * factor // (total * 100)))
                for demand in self.territory_demand
            ],
            dtype=np.int64,
        )
        return territory_caps, structure_caps

    # The network: source 0, sink 1, territories, structures, lines, classes. Arcs in blocks:
    # group arcs up to the caps, lines, line → class, class → sink, then the arcs beyond the caps.
    def run(self) -> np.ndarray:
        """Solve; return the flow on every arc, and set the flow each group received."""
        territory_caps, structure_caps = self.initial_caps()
        self.territory_caps, self.structure_caps = territory_caps, structure_caps
        n_t, n_s, n_l = len(self.territory_keys), len(self.structure_keys), len(self.lines)
        n_c = self.end - self.start
        first_t, first_s = 2, 2 + n_t
        first_l, first_c = first_s + n_s, first_s + n_s + n_l
        count = self.stock.count[self.start : self.end]
        # Beyond its cap a group's k-th unit costs k × penalty, the penalty being more than the
        # costs of any whole proposal: going beyond weighs more than any cost, and spreads.
        penalty = int(self.units.sum()) * int(self.arc_cost.max(initial=0)) + 1
        territory_extra = np.repeat(np.arange(n_t), self.territory_demand - territory_caps)
        structure_extra = np.repeat(np.arange(n_s), self.structure_demand - structure_caps)

        def steps(groups):
            # 1, 2, 3… within each group (sorted): the rank of each unit beyond its cap.
            return np.arange(1, len(groups) + 1) - np.searchsorted(groups, groups)

        tails = np.concatenate(
            [
                np.zeros(n_t, np.int64),
                first_t + self.structure_parent,
                first_s + self.line_structure,
                first_l + self.arc_line,
                first_c + np.arange(n_c),
                np.zeros(len(territory_extra), np.int64),
                first_t + self.structure_parent[structure_extra],
            ]
        )
        heads = np.concatenate(
            [
                first_t + np.arange(n_t),
                first_s + np.arange(n_s),
                first_l + np.arange(n_l),
                first_c + self.arc_class,
                np.ones(n_c, np.int64),
                first_t + territory_extra,
                first_s + structure_extra,
            ]
        )
        capacity = np.concatenate(
            [
                territory_caps,
                structure_caps,
                self.units,
                np.minimum(self.units[self.arc_line], count[self.arc_class]),
                count,
                np.ones(len(territory_extra) + len(structure_extra), np.int64),
            ]
        )
        cost = np.concatenate(
            [
                np.zeros(n_t + n_s + n_l, np.int64),
                self.arc_cost,
                np.zeros(n_c, np.int64),
                penalty * steps(territory_extra),
                penalty * steps(structure_extra),
            ]
        )
        self.blocks = np.cumsum([0, n_t, n_s, n_l, len(self.arc_line), n_c, len(territory_extra)])
        network = min_cost_flow.SimpleMinCostFlow()
        network.add_arcs_with_capacity_and_unit_cost(
            tails.astype(np.int32), heads.astype(np.int32), capacity, cost
        )
        demand = int(self.units.sum())
        network.set_node_supply(0, demand)
        network.set_node_supply(1, -demand)
        status = network.solve_max_flow_with_min_cost()
        if status == min_cost_flow.SimpleMinCostFlow.BAD_COST_RANGE:
            raise ValueError("costs too large for the solver: lower the weights")
        if status != min_cost_flow.SimpleMinCostFlow.OPTIMAL:
            raise RuntimeError(f"min-cost flow failed: {status}")
        self.arcs = len(tails)
        flow = np.asarray(network.flows(np.arange(len(tails))), dtype=np.int64)
        b = self.blocks
        self.territory_flow = flow[b[0] : b[1]] + np.bincount(
            territory_extra, weights=flow[b[5] : b[6]], minlength=n_t
        ).astype(np.int64)
        self.structure_flow = flow[b[1] : b[2]] + np.bincount(
            structure_extra, weights=flow[b[6] :], minlength=n_s
        ).astype(np.int64)
        return flow


def _line_in_scope(line, scope_territory, scope_category) -> bool:
    return (scope_territory is None or line.territory == scope_territory) and (
        scope_category is None or line.category == scope_category
    )


def solve(
    lines: Sequence[NeedLineIn],
    devices: Sequence[DeviceIn],
    weights: Weights,
    *,
    scope_territory: str | None = None,
    scope_category: str | None = None,
) -> Proposal:
    lines = _checked(lines, "lines")
    for line in lines:
        _check_line(line)
    pool = [device for device in _checked(devices, "devices") if device.grade in GRADE_RANK]
    unserved: list[Unserved] = []
    by_category: dict[str, list[NeedLineIn]] = {}
    for line in lines:
        if not line.units:
            continue
        if _line_in_scope(line, scope_territory, scope_category):
            by_category.setdefault(line.category, []).append(line)
        else:
            detail = {"scope_territory": scope_territory, "scope_category": scope_category}
            unserved.append(Unserved(line.id, line.units, "out_of_scope", detail))

    scale = _screen_scale(
        [device.screen_inches for device in pool]
        + [line.min_screen_inches for group in by_category.values() for line in group]
    )
    stock = _Stock(pool, scale)
    floors = stock_floors(pool)
    category_devices: dict[str, int] = {}
    for device in pool:
        category_devices[device.category] = category_devices.get(device.category, 0) + 1

    assignments: list[Assignment] = []
    arcs = beyond_structures = beyond_territories = 0
    next_device = [0] * len(stock.members)
    for category in sorted(by_category):
        model = _Category(by_category[category], stock, floors.get(category), weights, scale)
        flow = model.run()
        arcs += model.arcs
        beyond_structures += int(np.maximum(model.structure_flow - model.structure_caps, 0).sum())
        beyond_territories += int(np.maximum(model.territory_flow - model.territory_caps, 0).sum())
        b = model.blocks
        served = flow[b[2] : b[3]]
        arc_flow = flow[b[3] : b[4]]
        for arc in np.flatnonzero(arc_flow).tolist():
            line = model.lines[int(model.arc_line[arc])]
            index = model.start + int(model.arc_class[arc])
            sample = stock.sample[index]
            terms = pair_terms(line, sample, weights, floors)
            met = constraints(line, sample)[0]
            if line.territory is not None and line.territory == sample.territory:
                met += ("same_territory",)
            elif SIDES.get(line.territory) and SIDES.get(line.territory) == SIDES.get(
                sample.territory
            ):
                met += ("same_side",)
            taken = next_device[index]
            next_device[index] += int(arc_flow[arc])
            for device in stock.members[index][taken : next_device[index]]:
                assignments.append(
                    Assignment(line.id, device.id, int(model.arc_cost[arc]), dict(terms), met)
                )
        unserved += _unserved(model, served, category_devices.get(category, 0), flow)

    assignments.sort(key=lambda assignment: (assignment.line_id, assignment.device_id))
    unserved.sort(key=lambda item: item.line_id)
    return Proposal(
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        units_asked=sum(line.units for line in lines),
        units_served=len(assignments),
        total_cost=sum(assignment.cost for assignment in assignments),
        stats=Stats(
            device_classes=len(stock.members),
            arcs=arcs,
            solves=len(by_category),
            beyond_structure_caps=beyond_structures,
            beyond_territory_caps=beyond_territories,
        ),
    )


def _unserved(model: _Category, served, category_devices: int, flow) -> list[Unserved]:
    b = model.blocks
    used = {
        "territory": (model.territory_caps, model.territory_demand, model.territory_flow),
        "structure": (model.structure_caps, model.structure_demand, model.structure_flow),
    }
    group_of = {"territory": model.line_territory, "structure": model.line_structure}
    # Which groups each class served, as a (lowest, highest) group index: another group than
    # the line's took some of it iff either differs from the line's own.
    arc_flow = flow[b[3] : b[4]]
    taken = arc_flow > 0
    served_by = {}
    for name, of_line in group_of.items():
        n_classes = model.end - model.start
        lowest = np.full(n_classes, np.iinfo(np.int64).max, dtype=np.int64)
        highest = np.full(n_classes, -1, dtype=np.int64)
        groups = of_line[model.arc_line[taken]]
        np.minimum.at(lowest, model.arc_class[taken], groups)
        np.maximum.at(highest, model.arc_class[taken], groups)
        served_by[name] = (lowest, highest)
    first_arc = np.searchsorted(model.arc_line, np.arange(len(model.lines) + 1))
    class_used = flow[b[4] : b[5]]
    found = []
    for position, line in enumerate(model.lines):
        left = line.units - int(served[position])
        if left <= 0:
            continue
        supply = int(model.line_supply[position])
        detail: dict = {"served": int(served[position])}
        if not category_devices:
            reason = "no_stock"
        elif not supply:
            reason = "spec_above_stock"
            count = model.stock.count[model.start : model.end]
            detail["category_devices"] = category_devices
            detail["devices_meeting"] = {
                code: int(count[mask].sum()) for code, mask in model.masks(line).items()
            }
        else:
            detail["compatible_devices"] = supply
            classes = model.arc_class[first_arc[position] : first_arc[position + 1]]
            limits = []
            for name, (caps, demand, group_flow) in used.items():
                group = int(group_of[name][position])
                lowest, highest = served_by[name]
                elsewhere = (
                    (highest[classes] >= 0)
                    & ((lowest[classes] != group) | (highest[classes] != group))
                ).any()
                # A limit explains the line only if it was reached and the line's compatible
                # stock went to another group; else other lines of its own group were cheaper.
                if caps[group] < demand[group] and group_flow[group] >= caps[group] and elsewhere:
                    limits.append(name)
                    detail[f"{name}_cap"] = int(caps[group])
                    detail[f"{name}_demand"] = int(demand[group])
            own = arc_flow[first_arc[position] : first_arc[position + 1]].sum()
            detail["compatible_to_other_lines"] = int(class_used[classes].sum() - own)
            if limits:
                reason = "fairness_cap"
                detail["limits"] = limits
            else:
                reason = "taken_by_others"
        found.append(Unserved(line.id, left, reason, detail))
    return found
