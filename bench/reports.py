"""Issue 13's figures on PostgreSQL: the fund's dashboard for one year at 10,000 and 1,000,000
devices, each breakdown alone, the report document, their query counts and, on demand, the
plans of the slowest queries.

Run from the repository root, with DATABASE_URL pointing at the PostgreSQL server (the database
it names is only used to create the bench's own databases, never written):
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/reports.py`
(`--sizes 10000 1000000` by default; `--share 0.6` for the worst case, the measured year
holding 60% of the devices; `--explain` for the plans; `--with-index "CREATE INDEX …"` to time
an index that the models do not have yet, dropped afterwards).

Each size has its own database, `reemploi_bench_reports_<size>[_share<pct>]`, built once and
KEPT between runs (`--rebuild` drops and builds it again, `--drop` drops it at the end). The
build writes SQL rows with COPY, not the services: devices registered over the current year and
the three before (uniformly, or with `--share` of them in the measured year), their label codes,
reconditioning cycles (received, started, completed: mostly ready, some recycled or dismantled
at the bench, the recent ones still open), devices recycled at intake, 150 structures over every
commune and structure type, needs and their lines submitted and decided over the years, one
allocation per tenth of the devices, each approved after its device was ready and its need was
accepted, handed over (gifts and loans, loans partly returned, some overdue) or still reserved,
three funding programmes with allocations attributed to them. No history rows (the figures do
not read them). The secondary indexes and foreign keys of the loaded tables are dropped during
the load and created again after it: every row is checked against them, as against the check
and unique constraints, which stay. Then VACUUM ANALYZE. A build interrupted resumes at its
first unfinished step.

The figures are timed in process, through the ORM (logistics.fund_reports.figures), for one
period (the current year to date, as the dashboard opens; `--year` for a past calendar year),
network-wide (and the dashboard for one programme): the median of `--runs` runs after
`--warmups`, with the part of it spent in the database's cursor calls (the rest is Python:
building the queries, merging the rows). Query counts are taken on one more run; `--explain N`
writes the plans (EXPLAIN ANALYZE, BUFFERS) of the N slowest queries to var/bench-reports/.
The machine's load average and a pure-Python loop's time are printed: on a shared machine the
figures move with what else runs. Nothing is asserted; the targets of the issue are printed
beside the figures (the dashboard's at 1,000,000 devices, each breakdown's at 10,000).
"""

import argparse
import bisect
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lifecycle import POSTGRES_SCHEMES, setup_django  # noqa: E402 (after the path)

DAY = 86_400.0
YEARS_BEFORE = 3  # devices registered over the current year and the three before
ALLOCATION_SHARE = 0.1  # one allocation per ten devices: 100,000 at 1,000,000
STRUCTURES = 150
DONORS = 20
WORKSHOP_WEIGHTS = (40, 25, 15, 12, 8)
# Targets of the issue: the dashboard at 1M devices, each breakdown at 10k devices (ms).
DASHBOARD_TARGET_MS = 1000
BREAKDOWN_TARGET_MS = 20
TARGET_SIZES = {"dashboard": 1_000_000, "breakdown": 10_000}
LOADED_TABLES = (
    "inventory_labelcode",
    "inventory_device",
    "inventory_reconditioning",
    "logistics_need",
    "logistics_needline",
    "logistics_allocation",
    "logistics_handover",
    "logistics_handoveritem",
    "logistics_loan",
    "logistics_loanitem",
)
STEPS = ("world", "drop", "devices", "cycles", "needs", "allocations", "restore", "analyze")
NAME = "(bench reports)"
PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument(
        "--share",
        type=float,
        default=None,
        help="share of the devices registered in the measured year (default: spread evenly "
        "over the current year and the three before)",
    )
    parser.add_argument("--year", type=int, default=None, help="measure this calendar year")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per operation")
    parser.add_argument("--warmups", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rebuild", action="store_true", help="drop the kept database first")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument(
        "--explain", type=int, default=0, metavar="N", help="EXPLAIN the N slowest queries"
    )
    parser.add_argument(
        "--with-index",
        action="append",
        default=[],
        metavar="SQL",
        help="CREATE INDEX statement timed with the figures, dropped at the end (repeatable)",
    )
    parser.add_argument("--keep-indexes", action="store_true", help="keep --with-index's")
    parser.add_argument("--jit", choices=("server", "on", "off"), default="server")
    parser.add_argument(
        "--report", action="store_true", help="also time report_build (the whole document)"
    )
    return parser.parse_args()


# --- databases -----------------------------------------------------------------------------


def server_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in POSTGRES_SCHEMES:
        sys.exit("Set DATABASE_URL to a PostgreSQL server (its database is only used to CREATE).")
    return url


def database_name(size: int, share: float | None) -> str:
    label = f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"
    if size % 1000:
        label = str(size)
    suffix = f"_share{round(share * 100)}" if share is not None else ""
    return f"reemploi_bench_reports_{label}{suffix}"


def ensure_database(url: str, name: str, *, rebuild: bool) -> bool:
    """Create the bench database if missing (dropped first with --rebuild); True if new."""
    import psycopg
    from psycopg import sql

    if name == urlsplit(url).path.lstrip("/") or name == "test":
        sys.exit(f"refusing to use {name!r}")
    with psycopg.connect(url, autocommit=True) as server:
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and rebuild:
            server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return not exists


def drop_database(url: str, name: str) -> None:
    import psycopg
    from django.db import connections
    from psycopg import sql

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as server:
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def use_database(url: str, name: str) -> None:
    """Point Django's default connection at `name` (one process measures several sizes)."""
    from django.db import connections

    connections.close_all()
    target = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    os.environ["DATABASE_URL"] = target
    connections["default"].settings_dict["NAME"] = name


# --- the meta table: what the build did, so that a kept database is reused or resumed -------


def meta_get(cursor, key: str):
    cursor.execute("SELECT value FROM bench_reports_meta WHERE key = %s", [key])
    row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]  # Django reads jsonb as text


def meta_set(cursor, key: str, value) -> None:
    cursor.execute(
        "INSERT INTO bench_reports_meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        [key, json.dumps(value)],
    )


# --- the plan: every row, drawn in Python from one seed -------------------------------------


class Plan:
    """The rows of the bench world, drawn from `seed`: the same seed, size and build moment
    give the same rows, so that an interrupted build resumes with the same plan."""

    def __init__(self, *, size: int, share: float | None, seed: int, now: float, world: dict):
        from inventory.demo.seed import CATALOGUE, CATEGORY_WEIGHTS

        self.size, self.share, self.now, self.world = size, share, now, world
        self.rng = random.Random(seed)
        today = dt.datetime.fromtimestamp(now, PARIS).date()
        self.today = today
        self.year_start = dt.datetime(today.year, 1, 1, tzinfo=PARIS).timestamp()
        self.start = dt.datetime(today.year - YEARS_BEFORE, 1, 1, tzinfo=PARIS).timestamp()
        self.categories = list(CATEGORY_WEIGHTS)
        self.category_cumulative = _cumulative(CATEGORY_WEIGHTS.values())
        self.models = {}
        for spec in CATALOGUE:
            self.models.setdefault(spec.category, []).append((spec.manufacturer, spec.model))
        self.workshop_cumulative = _cumulative(WORKSHOP_WEIGHTS)
        self._devices()
        self._allocations()

    # Devices and their cycles.

    def _created(self) -> float:
        rng = self.rng
        if self.share is None:
            return self.start + rng.random() * (self.now - DAY - self.start)
        if rng.random() < self.share:
            return self.year_start + rng.random() * (self.now - DAY - self.year_start)
        return self.start + rng.random() * (self.year_start - self.start)

    def _devices(self) -> None:
        rng, now, world = self.rng, self.now, self.world
        n = self.size
        self.created = [0.0] * n
        self.category = [""] * n
        self.status = [""] * n
        self.changed = [0.0] * n
        self.custodian = [0] * n
        self.donor: list[int | None] = [None] * n
        self.model: list[tuple[str, str]] = [("", "")] * n
        self.cycles: list[
            tuple
        ] = []  # (device index, workshop, received, started, completed, outcome, grade)
        self.completed_ready = []  # device indexes ready, with their cycle's end
        workshops, donors = world["workshops"], world["donors"]
        for i in range(n):
            created = self._created()
            category = self.categories[bisect.bisect(self.category_cumulative, rng.random())]
            self.created[i], self.category[i] = created, category
            models = self.models[category]
            self.model[i] = models[int(rng.random() * len(models))]
            self.donor[i] = donors[int(rng.random() * len(donors))] if rng.random() < 0.9 else None
            workshop = workshops[bisect.bisect(self.workshop_cumulative, rng.random())]
            r = rng.random()
            if r < 0.04:  # broken on arrival: recycled from intake
                exit_at = min(created + rng.uniform(1, 10) * DAY, now - 60)
                self.status[i], self.changed[i], self.custodian[i] = "recycled", exit_at, workshop
                continue
            received = created + rng.uniform(0.5, 14) * DAY
            started = received + rng.uniform(0.1, 15) * DAY
            completed = started + rng.uniform(0.5, 10) * DAY
            if received >= now:
                status = "registered" if rng.random() < 0.5 else "sent_to_workshop"
                custodian = world["coordination"] if status == "registered" else workshop
                self.status[i], self.changed[i], self.custodian[i] = status, created, custodian
                continue
            if started >= now:
                self.status[i], self.changed[i], self.custodian[i] = (
                    "at_workshop",
                    received,
                    workshop,
                )
                continue
            if completed >= now:
                self.cycles.append((i, workshop, received, started, None, "", ""))
                self.status[i], self.changed[i] = "in_reconditioning", started
                self.custodian[i] = workshop
                continue
            r = rng.random()
            if r < 0.06:
                outcome, status, grade = "recycle", "recycled", ""
            elif r < 0.09:
                outcome, status, grade = "dismantle", "dismantled", ""
            elif r < 0.11:
                outcome, status, grade = "return_to_donor", "returned_to_donor", ""
            else:
                outcome, status, grade = "mark_ready", "ready", "ABC"[int(rng.random() * 3)]
                self.completed_ready.append(i)
            self.cycles.append((i, workshop, received, started, completed, outcome, grade))
            self.status[i], self.changed[i], self.custodian[i] = status, completed, workshop
        self.cycle_end = {cycle[0]: cycle[4] for cycle in self.cycles if cycle[4] is not None}

    # Needs, allocations, hand-overs, loans.

    def _allocations(self) -> None:
        from logistics.models import Public, Purpose

        rng, now, world = self.rng, self.now, self.world
        wanted = int(self.size * ALLOCATION_SHARE)
        candidates = [i for i in self.completed_ready if self.cycle_end[i] < now - DAY]
        chosen = rng.sample(candidates, min(wanted, len(candidates)))
        # Each device's approval would come 1 to 60 days after it was ready; a need line takes
        # devices of its category in that order, 1 to 8 at a time, approved together.
        by_category: dict[str, list[tuple[float, int]]] = {}
        for i in chosen:
            wish = min(
                self.cycle_end[i] + rng.uniform(1, 60) * DAY, now - rng.uniform(0.05, 2) * DAY
            )
            by_category.setdefault(self.category[i], []).append(
                (max(wish, self.cycle_end[i] + 60), i)
            )
        structures = world["structures"]  # (id, territory, structure type)
        publics, purposes = list(Public.values), list(Purpose.values)
        programmes = world["programmes"]
        self.needs, self.lines, self.allocations = [], [], []
        self.hand_overs, self.items, self.loans, self.loan_items = [], [], [], []
        for category in sorted(by_category):
            queue = sorted(by_category[category])
            position = 0
            while position < len(queue):
                chunk = queue[position : position + rng.randint(1, 8)]
                position += len(chunk)
                approved = max(t for t, _i in chunk)
                structure = structures[int(rng.random() * len(structures))]
                loan = rng.random() < 0.3
                weeks = rng.choice((4, 12, 26, 52)) if loan else None
                decided = approved - rng.uniform(0.2, 30) * DAY
                submitted = decided - rng.uniform(0.2, 10) * DAY
                public, purpose = rng.choice(publics), rng.choice(purposes)
                units = len(chunk)
                accepted = units + (rng.randint(1, 3) if rng.random() < 0.15 else 0)
                asked = accepted + (rng.randint(0, 2) if rng.random() < 0.2 else 0)
                status = "served" if units >= accepted else "partly_served"
                need = len(self.needs) + 1
                self.needs.append(
                    (need, structure[0], status, purpose, public, "loan" if loan else "gift",
                     weeks, submitted - 600, submitted, decided)
                )  # fmt: skip
                line = len(self.lines) + 1
                self.lines.append((line, need, category, asked, accepted, units))
                programme = self._programme(programmes, structure, public, purpose, approved)
                handed = approved + rng.uniform(0.5, 14) * DAY
                if handed >= now - 60:
                    handed = None
                hand_over = None
                if handed is not None:
                    hand_over = len(self.hand_overs) + 1
                    self.hand_overs.append((hand_over, structure[0], handed))
                for _t, i in chunk:
                    allocation = len(self.allocations) + 1
                    self.allocations.append(
                        (allocation, i, line, structure[0], "loan" if loan else "gift",
                         programme, "handed_over" if handed else "active", approved, handed)
                    )  # fmt: skip
                    if handed is None:
                        self.status[i], self.changed[i] = "reserved", approved
                        continue
                    self.items.append((len(self.items) + 1, hand_over, allocation, i, loan))
                    self.custodian[i] = structure[0]
                    self.status[i], self.changed[i] = ("on_loan" if loan else "given"), handed
                if loan and handed is not None:
                    self._loan(hand_over, structure[0], handed, weeks, [i for _t, i in chunk])
        self._unserved_needs(structures, publics, purposes)

    def _programme(self, programmes, structure, public, purpose, approved) -> int | None:
        """Half the eligible allocations are attributed to a programme (the narrowest first)."""
        if self.rng.random() >= 0.5:
            return None
        day = dt.datetime.fromtimestamp(approved, PARIS).date()
        for programme in programmes:
            if not programme["starts_on"] <= day <= programme["ends_on"]:
                continue
            if programme["territories"] and structure[1] not in programme["territories"]:
                continue
            if programme["structure_types"] and structure[2] not in programme["structure_types"]:
                continue
            return programme["id"]
        return None

    def _loan(self, hand_over, structure, handed, weeks, devices) -> None:
        rng, now = self.rng, self.now
        started = dt.datetime.fromtimestamp(handed, PARIS).date()
        due = started + dt.timedelta(weeks=weeks)
        loan = len(self.loans) + 1
        out, last = 0, None
        for i in devices:
            closed = None
            if due < self.today and rng.random() < 0.8:
                closed = handed + rng.uniform(0.3, 1.2) * weeks * 7 * DAY
            elif due >= self.today and rng.random() < 0.1:
                closed = handed + rng.uniform(0.1, 0.9) * (now - handed)
            if closed is not None:
                closed = min(closed, now - 60)
                last = max(last or closed, closed)
                self.status[i], self.changed[i] = "returned", closed
                self.custodian[i] = self.world["coordination"]
            else:
                out += 1
            self.loan_items.append((len(self.loan_items) + 1, loan, i, closed))
        status = "open" if out else "ended"
        self.loans.append(
            (loan, structure, hand_over, status, started, due, None if out else last, out)
        )

    def _unserved_needs(self, structures, publics, purposes) -> None:
        """Needs that no allocation served: declined, expired, cancelled, still to answer, or
        accepted and waiting for devices (a quarter as many as the served ones)."""
        rng, now = self.rng, self.now
        for _n in range(len(self.needs) // 4):
            r = rng.random()
            if r < 0.3:
                status = "declined"
            elif r < 0.5:
                status = "expired"
            elif r < 0.65:
                status = "cancelled"
            elif r < 0.8:
                status = "submitted"
            else:
                status = "accepted"
            if status in ("submitted", "accepted"):
                submitted = now - rng.uniform(1, 50) * DAY
            else:
                submitted = self.start + rng.random() * (now - 90 * DAY - self.start)
            decided = (
                submitted + rng.uniform(0.5, 15) * DAY
                if status in ("declined", "accepted")
                else None
            )
            loan = rng.random() < 0.3
            need = len(self.needs) + 1
            structure = structures[int(rng.random() * len(structures))]
            self.needs.append(
                (need, structure[0], status, rng.choice(purposes), rng.choice(publics),
                 "loan" if loan else "gift", rng.choice((4, 12, 26)) if loan else None,
                 submitted - 600, submitted, decided)
            )  # fmt: skip
            asked = rng.randint(1, 10)
            accepted = asked if status == "accepted" else None
            category = self.categories[bisect.bisect(self.category_cumulative, rng.random())]
            self.lines.append((len(self.lines) + 1, need, category, asked, accepted, 0))


def _cumulative(weights) -> list[float]:
    total, running, result = sum(weights), 0.0, []
    for weight in weights:
        running += weight / total
        result.append(running)
    result[-1] = 1.0 + 1e-9
    return result


def label_code(n: int) -> str:
    """A valid label code for the n-th device: its payload a bijection of n (an odd multiplier
    modulo 32⁸), so that codes are distinct and spread like random ones."""
    from inventory.codes import ALPHABET, check_symbol

    value = (n * 0x9E3779B97 + 0x1F2E3D4C5B) % (32**8)
    payload = "".join(ALPHABET[(value >> (5 * k)) & 31] for k in range(7, -1, -1))
    return payload + check_symbol(payload)


# --- the build ------------------------------------------------------------------------------


def stamp(epoch: float | None):
    return None if epoch is None else dt.datetime.fromtimestamp(epoch, UTC)


def build(args, size: int, url: str, name: str) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction

    ensure_database(url, name, rebuild=args.rebuild)
    use_database(url, name)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_reports_meta (key text PRIMARY KEY, value jsonb)"
        )
        spec = {"size": size, "share": args.share, "seed": args.seed}
        stored = meta_get(cursor, "spec")
        fresh = stored is None
        if stored is None:
            meta_set(cursor, "spec", spec | {"now": time.time()})
            stored = meta_get(cursor, "spec")
        elif {k: stored.get(k) for k in spec} != spec:
            sys.exit(f"{name} was built with {stored}; pass --rebuild to build it again.")
        done = set(meta_get(cursor, "done") or [])
    if all(step in done for step in STEPS):
        print(
            f"  {name}: kept from a previous run (built {_when(stored['now'])}; --rebuild to redo)"
        )
        return
    print(
        f"  {name}: {'building' if fresh else 'resuming the build'} ({size:,} devices)", flush=True
    )
    started = time.perf_counter()
    plan = None
    for step in STEPS:
        if step in done:
            continue
        began = time.perf_counter()
        if step == "world":
            with transaction.atomic():
                build_world(size)
        elif step == "drop":
            with transaction.atomic(), connection.cursor() as cursor:
                drop_secondary(cursor)
        elif step in ("devices", "cycles", "needs", "allocations"):
            if plan is None:
                drawn = time.perf_counter()
                plan = Plan(
                    size=size,
                    share=args.share,
                    seed=args.seed,
                    now=stored["now"],
                    world=world_ids(),
                )
                print(f"    plan drawn in Python: {time.perf_counter() - drawn:.1f} s", flush=True)
            with transaction.atomic(), connection.cursor() as cursor:
                LOADERS[step](cursor, plan)
        elif step == "restore":
            with transaction.atomic(), connection.cursor() as cursor:
                restore_secondary(cursor)
        elif step == "analyze":
            from inventory.counts import device_counts_recount

            with transaction.atomic():
                device_counts_recount(fix=True)
            with connection.cursor() as cursor:
                for table in LOADED_TABLES:
                    cursor.execute(f"VACUUM ANALYZE {table}")
        with connection.cursor() as cursor:
            done.add(step)
            meta_set(cursor, "done", sorted(done))
        print(f"    {step:<12} {time.perf_counter() - began:7.1f} s", flush=True)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, PARIS).strftime("%Y-%m-%d %H:%M")


def build_world(size: int) -> None:
    """The bench's user and organisations, and three programmes (ORM rows, no history)."""
    from django.contrib.auth import get_user_model

    from inventory.models import Commune, Organisation, StructureType
    from inventory.states import OrgKind
    from logistics.models import FundingProgramme

    user, _ = get_user_model().objects.get_or_create(username="bench-reports")
    communes = list(Commune.objects.order_by("insee_code"))
    types = [t for t in StructureType.values]
    rows = [Organisation(name=f"Coordination {NAME}", kind=OrgKind.COORDINATOR)]
    rows += [
        Organisation(name=f"Atelier {n + 1} {NAME}", kind=OrgKind.WORKSHOP)
        for n in range(len(WORKSHOP_WEIGHTS))
    ]
    rows += [
        Organisation(name=f"Donateur {n + 1} {NAME}", kind=OrgKind.DONOR) for n in range(DONORS)
    ]
    rows += [
        Organisation(
            name=f"Structure {n + 1} {NAME}",
            kind=OrgKind.STRUCTURE,
            structure_type=types[(n * 7) % len(types)],
            commune=communes[n % len(communes)],
        )
        for n in range(STRUCTURES)
    ]
    funds = Organisation.objects.bulk_create(
        [
            Organisation(name=f"{fund} {NAME}", kind=OrgKind.FUND)
            for fund in ("CAF92", "Département", "Banque des Territoires")
        ]
    )
    Organisation.objects.bulk_create(rows)
    year = dt.date.today().year
    target = max(size // 50, 10)
    FundingProgramme.objects.bulk_create(
        [
            FundingProgramme(
                funder=funds[1], name="Inclusion numérique GPSO–POLD",
                starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31),
                target_devices=target // 2, territories=["T3", "T4"],
            ),
            FundingProgramme(
                funder=funds[2], name="France Services équipées", starts_on=dt.date(year - 2, 1, 1),
                ends_on=dt.date(year, 12, 31), target_devices=target // 4, structure_types=["RFS"],
            ),
            FundingProgramme(
                funder=funds[0], name="Équipement des structures",
                starts_on=dt.date(year - 1, 1, 1), ends_on=dt.date(year, 12, 31),
                target_devices=target,
            ),
        ]
    )  # fmt: skip
    assert user.pk


def world_ids() -> dict:
    from django.contrib.auth import get_user_model

    from inventory.models import Organisation
    from inventory.states import OrgKind
    from logistics.models import FundingProgramme

    mine = Organisation.objects.filter(name__endswith=NAME).select_related("commune").order_by("pk")
    return {
        "user": get_user_model().objects.get(username="bench-reports").pk,
        "coordination": next(o.pk for o in mine if o.kind == OrgKind.COORDINATOR),
        "workshops": [o.pk for o in mine if o.kind == OrgKind.WORKSHOP],
        "donors": [o.pk for o in mine if o.kind == OrgKind.DONOR],
        "structures": [
            (o.pk, o.commune.territory_id, o.structure_type)
            for o in mine
            if o.kind == OrgKind.STRUCTURE
        ],
        # In the order a line is attributed: the narrowest eligibility first.
        "programmes": [
            {
                "id": p.pk,
                "starts_on": p.starts_on,
                "ends_on": p.ends_on,
                "territories": p.territories,
                "structure_types": p.structure_types,
            }
            for p in FundingProgramme.objects.order_by("pk")
        ],
    }


def drop_secondary(cursor) -> None:
    """Drop the loaded tables' secondary indexes and foreign keys, their definitions kept in
    the meta table to be created again (and so checked against every row) after the load."""
    if meta_get(cursor, "dropped") is not None:
        return
    cursor.execute(
        "SELECT c.relname, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
        "WHERE c.relname = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [list(LOADED_TABLES)],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
        "JOIN pg_class c ON c.oid = k.conrelid WHERE k.contype = 'f' AND c.relname = ANY(%s)",
        [list(LOADED_TABLES)],
    )
    keys = cursor.fetchall()
    meta_set(cursor, "dropped", {"indexes": indexes, "foreign_keys": keys})
    for table, constraint, _definition in keys:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"')
    for _table, index, _definition in indexes:
        cursor.execute(f"DROP INDEX {index}")


def restore_secondary(cursor) -> None:
    dropped = meta_get(cursor, "dropped") or {"indexes": [], "foreign_keys": []}
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _table, index, definition in dropped["indexes"]:
        cursor.execute("SELECT to_regclass(%s)", [index])
        if cursor.fetchone()[0] is None:
            cursor.execute(definition)
    for table, constraint, definition in dropped["foreign_keys"]:
        cursor.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [constraint])
        if cursor.fetchone() is None:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" {definition}')
    for table in LOADED_TABLES:
        if table != "inventory_labelcode":  # the ids were given: move the sequences past them
            sequence = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            cursor.execute(f"{sequence}COALESCE(MAX(id), 0) + 1, false) FROM {table}")  # noqa: S608


def _copy(cursor, table: str, columns: str, rows) -> int:
    count = 0
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


# The columns each COPY writes; the ones left out are nullable and stay NULL.
DEVICE_COLUMNS = (
    "id, label_code, category_id, manufacturer, model_name, serial_number, imei1, imei2, "
    "asset_tag, cpu, storage_type, operating_system, notes, status, created_at, "
    "updated_at, status_changed_at, custodian_id, donor_id, awaiting_disposal"
)
CYCLE_COLUMNS = (
    "id, device_id, workshop_id, received_at, started_at, completed_at, outcome, grade, "
    "os_installed"
)
NEED_COLUMNS = (
    "id, structure_id, status, purpose, public, mode, loan_weeks, urgency, justification, "
    "created_at, submitted_at, decided_at, reason, version, created_by_id"
)
LINE_COLUMNS = (
    "id, need_id, category_id, quantity, quantity_accepted, quantity_served, os_family, min_grade"
)
ALLOCATION_COLUMNS = (
    "id, device_id, need_line_id, structure_id, mode, programme_id, status, created_at, "
    "ended_at, reason, created_by_id"
)
HAND_OVER_COLUMNS = (
    "id, structure_id, handed_at, handed_by_id, verification_code, received_by_name, "
    "received_by_role, signature_kind, signature_file, signature_sha256, signer_name, "
    "receipt_file, receipt_sha256, note"
)
ITEM_COLUMNS = "id, hand_over_id, allocation_id, device_id, mode, snapshot"
LOAN_COLUMNS = (
    "id, structure_id, hand_over_id, status, started_on, due_on, ended_at, units_out, version"
)
LOAN_ITEM_COLUMNS = "id, loan_id, device_id, outcome, closed_at, closed_by_id"


def load_devices(cursor, plan: Plan) -> None:
    user = plan.world["user"]
    _copy(
        cursor,
        "inventory_labelcode",
        "code, issued_at, issued_by_id",
        ((label_code(i), stamp(plan.created[i]), user) for i in range(plan.size)),
    )
    blank = ("",) * 8  # serial, IMEIs, asset tag, CPU, storage type, OS, notes
    _copy(
        cursor,
        "inventory_device",
        DEVICE_COLUMNS,
        (
            (i + 1, label_code(i), plan.category[i], *plan.model[i], *blank, plan.status[i])
            + (stamp(plan.created[i]), stamp(plan.changed[i]), stamp(plan.changed[i]))
            + (plan.custodian[i], plan.donor[i], False)
            for i in range(plan.size)
        ),
    )


def load_cycles(cursor, plan: Plan) -> None:
    _copy(
        cursor,
        "inventory_reconditioning",
        CYCLE_COLUMNS,
        (
            (n + 1, i + 1, workshop, stamp(received), stamp(started), stamp(completed))
            + (outcome, grade, "")
            for n, (i, workshop, received, started, completed, outcome, grade) in enumerate(
                plan.cycles
            )
        ),
    )


def load_needs(cursor, plan: Plan) -> None:
    user = plan.world["user"]
    _copy(
        cursor,
        "logistics_need",
        NEED_COLUMNS,
        (
            (*need[:7], "normal", "", *map(stamp, need[7:]), "", 1, user)
            for need in plan.needs  # id … loan weeks, then created, submitted, decided
        ),
    )
    _copy(cursor, "logistics_needline", LINE_COLUMNS, ((*line, "", "") for line in plan.lines))


def snapshot(plan: Plan, i: int, names: dict) -> str:
    """The receipt's row as the hand-over service freezes it (logistics.handovers.services)."""
    category = plan.category[i]
    return json.dumps(
        {
            "label_code": label_code(i),
            "category": category,
            "category_fr": names[category][0],
            "category_en": names[category][1],
            "manufacturer": plan.model[i][0],
            "model": plan.model[i][1],
            "serial": "",
            "grade": "B",
            "public_donor": False,
        },
        ensure_ascii=False,
    )


def load_allocations(cursor, plan: Plan) -> None:
    from inventory.models import Category

    user = plan.world["user"]
    names = {c.code: (c.name_fr, c.name_en) for c in Category.objects.all()}
    _copy(
        cursor,
        "logistics_allocation",
        ALLOCATION_COLUMNS,
        (
            (a, i + 1, line, structure, mode, programme, status, stamp(approved), stamp(handed))
            + ("", user)
            for a, i, line, structure, mode, programme, status, approved, handed in (
                plan.allocations
            )
        ),
    )
    _copy(
        cursor,
        "logistics_handover",
        HAND_OVER_COLUMNS,
        (
            (h, structure, stamp(handed), user, f"BR{h:012d}", "Bench") + ("",) * 8
            for h, structure, handed in plan.hand_overs
        ),
    )
    _copy(
        cursor,
        "logistics_handoveritem",
        ITEM_COLUMNS,
        (
            (n, h, a, i + 1, "loan" if loan else "gift", snapshot(plan, i, names))
            for n, h, a, i, loan in plan.items
        ),
    )
    _copy(
        cursor,
        "logistics_loan",
        LOAN_COLUMNS,
        (
            (loan, structure, h, status, started, due, stamp(ended), out, 1)
            for loan, structure, h, status, started, due, ended, out in plan.loans
        ),
    )
    _copy(
        cursor,
        "logistics_loanitem",
        LOAN_ITEM_COLUMNS,
        (
            (n, loan, i + 1, "returned" if closed else "", stamp(closed), user if closed else None)
            for n, loan, i, closed in plan.loan_items
        ),
    )


LOADERS = {
    "devices": load_devices,
    "cycles": load_cycles,
    "needs": load_needs,
    "allocations": load_allocations,
}


# --- the measures ---------------------------------------------------------------------------


def python_loop_ms() -> float:
    """The same pure-Python work timed on this machine (as bench/scale.py prints it)."""

    def once() -> float:
        started, total = time.perf_counter(), 0
        for n in range(1_000_000):
            total += n
        return (time.perf_counter() - started) * 1000

    return min(once() for _ in range(5))


def measure(fn, runs: int, warmups: int) -> tuple[float, float, float, float, list[dict]]:
    """(median ms, min ms, max ms, median ms spent in the database's cursor calls, the queries
    of one more run). The rest of a run is Python: building the queries, merging the rows."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(warmups):
        fn()
    samples, in_database = [], []
    spent = [0.0]

    def timer(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter() - began

    with connection.execute_wrapper(timer):
        for _ in range(runs):
            spent[0] = 0.0
            began = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - began) * 1000)
            in_database.append(spent[0] * 1000)
    with CaptureQueriesContext(connection) as queries:
        fn()
    return (
        statistics.median(samples),
        min(samples),
        max(samples),
        statistics.median(in_database),
        list(queries.captured_queries),
    )


def operations(period, scope, dashboard_scope_programme=None) -> list[tuple[str, str, object]]:
    """(name, target kind, callable)."""
    from logistics.fund_reports import figures, selectors

    def dashboard(scope=scope):
        figures.figures_totals(period, scope)
        figures.figures_by_month(period, scope)
        figures.figures_by(period, scope, "territory")
        figures.workshop_figures(period, scope)
        selectors.programme_rows(period, scope)

    result = [("dashboard (totals, months, EPT, workshops, programmes)", "dashboard", dashboard)]
    if dashboard_scope_programme is not None:
        programme_scope = figures.Scope(programme=dashboard_scope_programme)
        result.append(
            ("dashboard, one programme's scope", "dashboard", lambda: dashboard(programme_scope))
        )
    result += [
        ("  totals", "", lambda: figures.figures_totals(period, scope)),
        ("  by month", "breakdown", lambda: figures.figures_by_month(period, scope)),
    ]
    for dimension in figures.DIMENSIONS:
        result.append(
            (
                f"  by {dimension}",
                "breakdown",
                lambda d=dimension: figures.figures_by(period, scope, d),
            )
        )
    result += [
        ("  workshops", "breakdown", lambda: figures.workshop_figures(period, scope)),
        (
            "  programmes (selectors.programme_rows)",
            "",
            lambda: selectors.programme_rows(period, scope),
        ),
    ]
    return result


def describe(size: int, period) -> dict:
    from django.db import connection

    from logistics.fund_reports.figures import Period

    start, end = Period(period.start, period.end).bounds()
    period_of = "created_at >= %s AND created_at < %s"
    handed = (
        "logistics_handoveritem i JOIN logistics_handover h ON h.id = i.hand_over_id "
        "WHERE h.handed_at >= %s AND h.handed_at < %s"
    )
    bounds = [start, end]
    queries = (
        ("devices", "inventory_device", []),
        ("devices in the period", f"inventory_device WHERE {period_of}", bounds),
        ("cycles", "inventory_reconditioning", []),
        (
            "cycles ended in the period",
            "inventory_reconditioning WHERE completed_at >= %s AND completed_at < %s",
            bounds,
        ),
        (
            "recycled or dismantled",
            "inventory_device WHERE status IN ('recycled', 'dismantled')",
            [],
        ),
        ("needs", "logistics_need", []),
        ("need lines", "logistics_needline", []),
        ("allocations", "logistics_allocation", []),
        ("  attributed to a programme", "logistics_allocation WHERE programme_id IS NOT NULL", []),
        ("hand-overs", "logistics_handover", []),
        ("hand-over items", "logistics_handoveritem", []),
        ("  in the period", handed, bounds),
        ("loans", "logistics_loan", []),
        (
            "  open and overdue",
            "logistics_loan WHERE status = 'open' AND due_on < CURRENT_DATE",
            [],
        ),
        ("loan items", "logistics_loanitem", []),
    )
    with connection.cursor() as cursor:
        counts = {}
        for label, source, params in queries:
            cursor.execute(f"SELECT COUNT(*) FROM {source}", params)  # noqa: S608 (constants)
            counts[label] = cursor.fetchone()[0]
        cursor.execute("SELECT MIN(created_at), MAX(created_at) FROM inventory_device")
        first, last = cursor.fetchone()
        cursor.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database())), "
            "current_setting('jit'), current_setting('shared_buffers'), "
            "current_setting('work_mem'), version()"
        )
        db_size, jit, buffers, work_mem, version = cursor.fetchone()
    return {
        "counts": counts,
        "first": first,
        "last": last,
        "db_size": db_size,
        "settings": f"jit={jit}, shared_buffers={buffers}, work_mem={work_mem}",
        "version": version.split(" on ")[0],
    }


def run_size(args, size: int, url: str, name: str) -> list[tuple]:
    from django.db import connection

    from logistics.fund_reports import selectors
    from logistics.fund_reports.figures import Period, Scope
    from logistics.models import FundingProgramme

    use_database(url, name)
    if args.jit != "server":
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute(f"SET jit = {args.jit}")
    made = []
    with connection.cursor() as cursor:
        for statement in args.with_index:
            began = time.perf_counter()
            cursor.execute(statement)
            made.append(_index_name(statement))
            print(f"  + {statement}  ({time.perf_counter() - began:.1f} s)")
        if made:
            cursor.execute("ANALYZE")
    if args.year:
        period = Period(dt.date(args.year, 1, 1), dt.date(args.year, 12, 31))
    else:
        period = selectors.period_default()
    facts = describe(size, period)
    counts = facts["counts"]
    share = counts["devices in the period"] / max(counts["devices"], 1)
    print(
        f"\n{size:,} devices — {name} ({facts['db_size']}), {facts['version']}, "
        f"{facts['settings']}\n"
        f"  registered {facts['first']:%Y-%m-%d} … {facts['last']:%Y-%m-%d}; measured period "
        f"{period.start} … {period.end}, {share:.0%} of the devices registered in it"
    )
    print("  " + ", ".join(f"{label.strip()} {value:,}" for label, value in counts.items()))
    programme = FundingProgramme.objects.order_by("pk").first()
    results = []
    explained: list[tuple[float, str, str]] = []
    load_before = os.getloadavg()[0]
    for label, kind, fn in operations(period, Scope(), programme):
        median, low, high, database, queries = measure(fn, args.runs, args.warmups)
        results.append((label, kind, median, low, high, database, queries))
        if args.explain:
            explained += [(float(q["time"]) * 1000, label, q["sql"]) for q in queries]
    if args.report:
        timed = measure(lambda: selectors.report_build(period, Scope()), 1, 1)
        results.append(("report_build (the whole document; no target)", "", *timed))
    load_after = os.getloadavg()[0]
    print_table(size, results, args)
    print(
        f"  load average (1 min) {load_before:.2f} before, {load_after:.2f} after, "
        f"on {os.cpu_count()} CPUs"
    )
    if args.explain:
        explain(explained, args.explain, size)
    if made and not args.keep_indexes:
        with connection.cursor() as cursor:
            for index in made:
                cursor.execute(f"DROP INDEX IF EXISTS {index}")
    return results


def _index_name(statement: str) -> str:
    words = statement.replace("(", " ").split()
    upper = [w.upper() for w in words]
    position = upper.index("INDEX") + 1
    while upper[position] in ("CONCURRENTLY", "IF", "NOT", "EXISTS"):
        position += 1
    return words[position]


def print_table(size: int, results: list[tuple], args) -> None:
    print(
        f"  {'operation':<56}{'median ms':>10}{'min':>8}{'max':>8}{'in db':>8}{'queries':>8}"
        f"{'target':>8}"
    )
    for label, kind, median, low, high, database, queries in results:
        queries = len(queries)
        target = ""
        flag = ""
        if kind == "dashboard":
            target = f"{DASHBOARD_TARGET_MS}"
            if size >= TARGET_SIZES["dashboard"] and median > DASHBOARD_TARGET_MS:
                flag = "OVER"
        elif kind == "breakdown":
            target = f"{BREAKDOWN_TARGET_MS}"
            if size <= TARGET_SIZES["breakdown"] and median > BREAKDOWN_TARGET_MS:
                flag = "OVER"
        applies = (kind == "dashboard" and size >= TARGET_SIZES["dashboard"]) or (
            kind == "breakdown" and size <= TARGET_SIZES["breakdown"]
        )
        print(
            f"  {label:<56}{median:>10.1f}{low:>8.1f}{high:>8.1f}{database:>8.1f}{queries:>8}"
            f"{(target if applies else ''):>8}  {flag}".rstrip()
        )


def explain(explained: list[tuple[float, str, str]], top: int, size: int) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest distinct queries, written under var/."""
    from django.db import connection

    seen, picked = set(), []
    for ms, label, sql in sorted(explained, reverse=True):
        if sql in seen:
            continue
        seen.add(sql)
        picked.append((ms, label, sql))
        if len(picked) == top:
            break
    out = ROOT / "var" / "bench-reports"
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"explain-{size}.txt"
    with path.open("w") as handle, connection.cursor() as cursor:
        for ms, label, sql in picked:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            handle.write(f"=== {label.strip()} — {ms:.1f} ms\n{sql}\n\n{plan}\n\n")
            summary = [line for line in plan.splitlines() if "Execution Time" in line]
            print(
                f"  slow query ({label.strip()}): {ms:.1f} ms, "
                f"{summary[0].strip() if summary else ''}"
            )
            print(f"    {sql[:220]}…")
    print(f"  plans written to {path.relative_to(ROOT)}")


def main() -> int:
    args = parse_args()
    url = server_url()
    first = database_name(args.sizes[0], args.share)
    os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{first}"))
    ensure_database(url, first, rebuild=False)
    setup_django()
    import django

    print("Réemploi fund's reports benchmark (issue 13)")
    print(
        f"  Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs "
        f"(shared: other work may run beside it), load average {os.getloadavg()[0]:.2f}; "
        f"pure-Python loop of 1M additions: {python_loop_ms():.0f} ms"
    )
    spread = (
        f"{args.share:.0%} of the devices in the current year, the rest over the "
        f"{YEARS_BEFORE} before"
        if args.share is not None
        else f"devices registered evenly over the current year and the {YEARS_BEFORE} before"
    )
    print(f"  data: {spread}; one allocation per {round(1 / ALLOCATION_SHARE)} devices")
    for size in args.sizes:
        name = database_name(size, args.share)
        build(args, size, url, name)
        if not args.build_only:
            run_size(args, size, url, name)
        if args.drop:
            drop_database(url, name)
            print(f"  {name} dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
