"""Issue 11: the matching of 2,000 accepted need lines (about 5,000 units) against 20,000 ready
devices, with logistics.matching.solve.

Run from the repository root: `.venv/bin/python bench/matching.py [--lines N] [--devices N]
[--runs R] [--seed S]`. The instance is random but fixed by the seed: 4 categories, about 40
structures over T2-T5 (and some with no territory), needs with varied specifications, devices
from a catalogue of models per category (company batches: many identical machines), graded and
stocked over the 4 EPTs or outside them (a workshop in Paris). Tablets are scarce, so that the
fairness limits bind. Prints the seconds of solve() (best and median of R runs), units asked and
served, device classes, arcs, solver runs, units served beyond a fairness limit (so that no
usable stock stays idle), and the reasons lines stay unserved. Target: 2 s on a 2-core
machine; nothing is asserted.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from logistics.matching import DeviceIn, NeedLineIn, Weights, solve  # noqa: E402

TERRITORIES = ["T2", "T3", "T4", "T5"]
STRUCTURE_TYPES = ["CCAS", "CS", "BIB", "PIMMS", "RFS", "MUNI", "ASSO", "EPN"]
PUBLICS = ["seniors", "job_seekers", "young_people", "disabilities", "allophones", "families"]
PURPOSES = ["public_access", "lent_to_people", "staff_use", "itinerant_kit"]
# Share of the stock, share of the need lines.
CATEGORIES = {
    "laptop": (0.55, 0.40),
    "desktop": (0.25, 0.15),
    "smartphone": (0.17, 0.25),
    "tablet": (0.03, 0.20),
}
# Per category: RAM (GB), storage (GB), screen (inches), systems, each with its weights.
SPECS = {
    "laptop": (
        [4, 8, 16, 32],
        [128, 256, 512, 1024],
        ["12.5", "13.3", "14.0", "15.6"],
        {"windows": 8, "linux": 1, "chromeos": 1, "macos": 1},
    ),
    "desktop": ([4, 8, 16, 32], [256, 512, 1024], [None], {"windows": 9, "linux": 1}),
    "smartphone": (
        [2, 3, 4, 6, 8],
        [32, 64, 128, 256],
        ["5.5", "6.1", "6.7"],
        {"android": 3, "ios": 1},
    ),
    "tablet": (
        [2, 3, 4, 8],
        [32, 64, 128],
        ["8.0", "10.1", "10.9", "12.9"],
        {"android": 2, "ios": 1},
    ),
}
MODELS_PER_CATEGORY = 30


def screen(value):
    return Decimal(value) if value is not None else None


def catalogue(rng: random.Random) -> dict[str, list[tuple]]:
    models = {}
    for category, (rams, storages, screens, systems) in SPECS.items():
        models[category] = [
            (
                rng.choice(rams),
                rng.choice(storages),
                screen(rng.choice(screens)),
                rng.choices(list(systems), weights=list(systems.values()))[0],
            )
            for _ in range(MODELS_PER_CATEGORY)
        ]
    return models


def make_devices(rng: random.Random, count: int) -> list[DeviceIn]:
    models = catalogue(rng)
    categories = list(CATEGORIES)
    shares = [stock for stock, _ in CATEGORIES.values()]
    devices = []
    for index in range(count):
        category = rng.choices(categories, weights=shares)[0]
        ram, storage, size, system = rng.choice(models[category])
        if rng.random() < 0.05:
            ram = None  # not read at the bench
        devices.append(
            DeviceIn(
                id=index + 1,
                category=category,
                ram_gb=ram,
                storage_gb=storage,
                screen_inches=size,
                os_family=system,
                grade=rng.choices("ABC", weights=[1, 2, 1])[0],
                territory=rng.choices([*TERRITORIES, None], weights=[2, 2, 2, 2, 2])[0],
            )
        )
    return devices


def make_lines(rng: random.Random, count: int, structures: int) -> list[NeedLineIn]:
    places = [
        (rng.choice(STRUCTURE_TYPES), TERRITORIES[index % 4] if index % 10 else None)
        for index in range(structures)
    ]
    categories = list(CATEGORIES)
    shares = [lines for _, lines in CATEGORIES.values()]
    lines, need_id = [], 0
    while len(lines) < count:
        need_id += 1
        structure = rng.randrange(structures)
        kind, territory = places[structure]
        waiting, public, purpose = rng.randrange(400), rng.choice(PUBLICS), rng.choice(PURPOSES)
        for _ in range(min(rng.randint(1, 4), count - len(lines))):
            category = rng.choices(categories, weights=shares)[0]
            rams, storages, screens, systems = SPECS[category]
            lines.append(
                NeedLineIn(
                    id=len(lines) + 1,
                    need_id=need_id,
                    structure_id=structure + 1,
                    structure_type=kind,
                    territory=territory,
                    category=category,
                    units=rng.choices([1, 2, 3, 4, 6], weights=[35, 30, 15, 10, 10])[0],
                    min_ram_gb=rng.choice([None, None, *rams[:3]]),
                    min_storage_gb=rng.choice([None, None, *storages[:2]]),
                    min_screen_inches=screen(rng.choice([None, None, None, *screens[:2]])),
                    os_family=rng.choice(["", "", "", *systems]),
                    min_grade=rng.choice(["", "", "C", "B", "B", "A"]),
                    waiting_days=waiting,
                    public=public,
                    purpose=purpose,
                )
            )
    return lines


WEIGHTS = Weights(
    public_bonus={"seniors": 20, "job_seekers": 30, "young_people": 20},
    structure_type_bonus={"CCAS": 15, "RFS": 15},
    purpose_bonus={"lent_to_people": 25},
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--devices", type=int, default=20_000)
    parser.add_argument("--structures", type=int, default=40)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    devices = make_devices(rng, args.devices)
    lines = make_lines(rng, args.lines, args.structures)
    seconds, proposal = [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        proposal = solve(lines, devices, WEIGHTS)
        seconds.append(time.perf_counter() - started)

    stats = proposal.stats
    print(f"matching: Python {platform.python_version()}, {os.cpu_count()} CPUs, seed {args.seed}")
    asked = Counter()
    for line in lines:
        asked[line.category] += line.units
    served = Counter()
    category_of = {line.id: line.category for line in lines}
    for assignment in proposal.assignments:
        served[category_of[assignment.line_id]] += 1
    stock = Counter(device.category for device in devices)
    print(
        f"  input     {len(lines):,} need lines of {args.structures} structures, "
        f"{len(devices):,} ready devices"
    )
    print(f"  {'category':<12}{'devices':>9}{'units asked':>13}{'served':>9}")
    for category in CATEGORIES:
        print(f"  {category:<12}{stock[category]:>9,}{asked[category]:>13,}{served[category]:>9,}")
    print(
        f"  {'total':<12}{len(devices):>9,}{proposal.units_asked:>13,}{proposal.units_served:>9,}"
    )
    print(
        f"  model     {stats.device_classes:,} device classes, {stats.arcs:,} arcs, "
        f"{stats.solves} solver runs (one per category)"
    )
    print(
        f"  fairness  {stats.beyond_structure_caps:,} units beyond a structure's cap and "
        f"{stats.beyond_territory_caps:,} beyond a territory's (stock otherwise idle)"
    )
    reasons = Counter()
    for item in proposal.unserved:
        reasons[item.reason] += item.units
    print(
        "  unserved  "
        + (", ".join(f"{reason} {units:,} units" for reason, units in sorted(reasons.items())))
    )
    print(f"  cost      {proposal.total_cost:,} in total")
    print(
        f"  solve()   best {min(seconds):.3f} s, median {statistics.median(seconds):.3f} s "
        f"of {args.runs} runs (target 2 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
