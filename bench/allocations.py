"""Issue 11 on a database: approving a matching run of 500 lines, and the needs register's and
the allocations' first pages at 1,000 and 100,000 needs (the flat list pattern: the same
queries, and about the same time, whatever the table's size).

Run from the repository root: `.venv/bin/python bench/allocations.py` (a temporary SQLite
file) or with DATABASE_URL set (PostgreSQL: a dedicated database, created and dropped;
`--bench-db`, `--replace`). The 500 ready devices and the needs are written through the
services (declare, accept, run, approve); the register's filler needs and allocations of the
large sizes are bulk rows, as an old register would hold. Prints seconds and query counts;
targets (5 s for the approval) are printed, nothing is asserted.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lifecycle import prepare_database, setup_django  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500, help="lines of the approved run")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--pages", type=int, default=20, help="timed first pages per size")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bench-db", default="reemploi_bench_allocations")
    parser.add_argument("--replace", action="store_true")
    return parser.parse_args()


def world():
    from django.contrib.auth import get_user_model

    from inventory.models import Commune, Membership, Organisation, Role
    from inventory.states import OrgKind
    from tests.builders import valid_siret

    User = get_user_model()
    coordination = Organisation.objects.create(name="Coordination", kind=OrgKind.COORDINATOR)
    workshop = Organisation.objects.create(name="ECODAIR", kind=OrgKind.WORKSHOP)
    coordinator = User.objects.create_user("bench-coordinator")
    Membership.objects.create(user=coordinator, organisation=coordination, role=Role.MANAGER)
    communes = list(Commune.objects.order_by("insee_code"))
    structures, staff = [], []
    for n in range(40):
        structure = Organisation.objects.create(
            name=f"Structure {n}",
            kind=OrgKind.STRUCTURE,
            siret=valid_siret(7000 + n),
            structure_type="CS",
            commune=communes[n % len(communes)],
        )
        user = User.objects.create_user(f"bench-structure-{n}")
        Membership.objects.create(user=user, organisation=structure, role=Role.MEMBER)
        structures.append(structure)
        staff.append(user)
    return coordinator, workshop, structures, staff


def ready_devices(count: int, workshop, rng: random.Random) -> None:
    """Ready laptops as bulk rows, each with the completed reconditioning that graded it."""
    from django.utils import timezone

    from inventory.codes import generate_label_code
    from inventory.counts import device_counts_recount
    from inventory.models import Device, LabelCode, Reconditioning
    from inventory.states import Status

    codes = set()
    while len(codes) < count:
        codes.add(generate_label_code())
    labels = LabelCode.objects.bulk_create([LabelCode(code=code) for code in sorted(codes)])
    now = timezone.now()
    devices = Device.objects.bulk_create(
        Device(
            label_code=label,
            category_id="laptop",
            manufacturer="Dell",
            model_name="Latitude 5490",
            serial_number=f"BENCH{n:07d}",
            ram_gb=rng.choice([4, 8, 16]),
            storage_gb=rng.choice([128, 256, 512]),
            operating_system="Windows 11",
            custodian=workshop,
            status=Status.READY,
        )
        for n, label in enumerate(labels)
    )
    Reconditioning.objects.bulk_create(
        Reconditioning(
            device=device, workshop=workshop, completed_at=now, outcome="mark_ready", grade="B"
        )
        for device in devices
    )
    device_counts_recount(fix=True)


def declared_needs(staff, coordinator, units: int, rng: random.Random) -> None:
    from logistics.needs.services import need_accept, need_create

    per_need = 2
    for n in range(units // per_need):
        need = need_create(
            actor=staff[n % len(staff)],
            submit=True,
            lines=[{"category": "laptop", "quantity": per_need, "min_ram_gb": rng.choice([4, 8])}],
            purpose="public_access",
            public="everyone",
            mode="gift",
            urgency="normal",
        )
        need_accept(actor=coordinator, need_id=need.pk)


def filler_needs(total: int, structures, author, devices: list[int]) -> None:
    """Old needs, served long ago by allocations handed over since, up to `total` needs in
    the register and as many allocations: bulk rows."""
    from logistics.models import Allocation, AllocationStatus, Need, NeedLine
    from logistics.needs.lifecycle import NeedStatus

    missing = total - Need.objects.count()
    chunk = 5000
    while missing > 0:
        size = min(chunk, missing)
        needs = Need.objects.bulk_create(
            Need(
                structure=structures[n % len(structures)],
                status=NeedStatus.SERVED,
                purpose="public_access",
                public="everyone",
                mode="gift",
                urgency="normal",
                created_by=author,
            )
            for n in range(size)
        )
        lines = NeedLine.objects.bulk_create(
            NeedLine(
                need=need, category_id="laptop", quantity=1, quantity_accepted=1, quantity_served=1
            )  # fmt: skip
            for need in needs
        )
        Allocation.objects.bulk_create(
            Allocation(
                device_id=devices[n % len(devices)],
                need_line=line,
                structure_id=line.need.structure_id,
                mode="gift",
                status=AllocationStatus.HANDED_OVER,
                created_by=author,
            )
            for n, line in enumerate(lines)
        )
        missing -= size


def timed_page(user, queryset_of, pages: int) -> tuple[float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.pagination import paginate

    times = []
    for _ in range(pages + 3):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            page = paginate(queryset_of(user), size=50)
            list(page.object_list)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[3:]), len(queries.captured_queries)


def main() -> int:
    args = parse_args()
    database, cleanup = prepare_database(args)
    setup_django()
    try:
        run(args, database)
    finally:
        cleanup()
    return 0


def run(args, database: str) -> None:
    from django.core.management import call_command
    from django.db import connection

    from logistics.allocations import services as allocations
    from logistics.allocations.selectors import allocation_list
    from logistics.needs.selectors import need_register

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    coordinator, workshop, structures, staff = world()
    print(f"allocations bench: {database}")

    ready_devices(args.lines, workshop, rng)
    declared_needs(staff, coordinator, args.lines, rng)
    started = time.perf_counter()
    run = allocations.matching_run_create(actor=coordinator)
    proposed = time.perf_counter() - started
    started = time.perf_counter()
    made = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    approved = time.perf_counter() - started
    print(
        f"  matching run over {args.lines} ready devices and {args.lines} accepted units: "
        f"proposed {run.units_proposed} lines in {proposed:.2f} s (solver {run.solve_ms} ms)"
    )
    print(f"  approving {len(made)} lines: {approved:.2f} s (target 5 s)")

    print(
        f"  {'needs':>9}  {'register page':>14}  {'queries':>7}  {'allocations page':>16}  queries"
    )
    devices = [allocation.device_id for allocation in made]
    for size in args.sizes:
        filler_needs(size, structures, coordinator, devices)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        register_ms, register_queries = timed_page(coordinator, need_register, args.pages)
        allocations_ms, allocation_queries = timed_page(
            coordinator, lambda user: allocation_list(user), args.pages
        )
        print(
            f"  {size:>9,}  {register_ms:>11.1f} ms  {register_queries:>7}  "
            f"{allocations_ms:>13.1f} ms  {allocation_queries:>7}"
        )


if __name__ == "__main__":
    sys.exit(main())
