"""Scan figures: queries and time per scan at 10,000 and 100,000 devices.

A scan is what the bench does all day: resolve the scanned URL to a device the user may see
and record the scan (scanning.services.device_scan), or the same plus one move
(scanning.services.scan_apply).
The devices are inserted in bulk (no history) because only the scan path is measured here;
bench/lifecycle.py measures registration through the service.

Run from the repository root: `.venv/bin/python bench/scan.py [--sizes 10000 100000]`.
Same database handling as bench/lifecycle.py: a temporary SQLite file, or a dedicated
PostgreSQL database created and dropped when DATABASE_URL is set.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lifecycle import percentile, prepare_database, setup_django  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--scans", type=int, default=1_000, help="scans timed per size")
    parser.add_argument("--moves", type=int, default=300, help="scans with a move per size")
    parser.add_argument("--bench-db", default="reemploi_bench_scan")
    parser.add_argument("--replace", action="store_true")
    return parser.parse_args()


def run(args, database: str) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from inventory.codes import generate_label_code
    from inventory.models import Category, Device, LabelCode, Membership, Organisation, Role
    from inventory.scanning.services import device_scan, scan_apply
    from inventory.states import OrgKind, Status

    call_command("migrate", verbosity=0)
    User = get_user_model()
    coordination = Organisation.objects.create(name="Coordination", kind=OrgKind.COORDINATOR)
    workshop = Organisation.objects.create(name="ECODAIR", kind=OrgKind.WORKSHOP)
    bench_user = User.objects.create_user("bench", password=None)
    Membership.objects.create(user=bench_user, organisation=workshop, role=Role.MEMBER)
    categories = list(Category.objects.all())
    rng = random.Random(7)

    def insert(count: int) -> None:
        # Half at the workshop (visible to the bench user), half with the coordination.
        for start in range(0, count, 5000):
            size = min(5000, count - start)
            codes = set()
            while len(codes) < size:
                codes.add(generate_label_code())
            codes -= set(LabelCode.objects.filter(code__in=codes).values_list("code", flat=True))
            with transaction.atomic():
                LabelCode.objects.bulk_create([LabelCode(code=code) for code in codes])
                Device.objects.bulk_create(
                    Device(
                        label_code_id=code,
                        category=rng.choice(categories),
                        manufacturer="Dell",
                        model_name="Latitude 5490",
                        custodian=workshop if index % 2 else coordination,
                        status=Status.AT_WORKSHOP if index % 2 else Status.REGISTERED,
                    )
                    for index, code in enumerate(codes)
                )

    print(f"  database  {database}")
    print(f"  scanned   {settings.SITE_URL}/d/<code>, typed in lower case")
    print()
    header = f"{'devices':>9} {'what':<34} {'median':>9} {'p95':>9} {'queries':>8}"
    print(header)
    print("-" * len(header))
    have = 0
    for size in sorted(args.sizes):
        insert(size - have)
        have = size
        visible = list(
            Device.objects.filter(custodian=workshop, status=Status.AT_WORKSHOP).values_list(
                "label_code_id", flat=True
            )
        )
        sample = rng.sample(visible, min(args.scans + args.moves, len(visible)))
        scans, moves = sample[: args.scans], sample[args.scans :]

        def measure(fn, codes):
            times, queries = [], []
            for code in codes:
                bench_user.__dict__.pop("_reemploi_scope", None)  # a new request each time
                connection.queries_log.clear()  # the log is capped; counts come from a fresh one
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    fn(f"{settings.SITE_URL}/d/{code.lower()}")
                    times.append(time.perf_counter() - started)
                queries.append(len(captured.captured_queries))
            return times, queries

        for label, fn, codes in (
            ("scan (device_scan)", lambda raw: device_scan(actor=bench_user, raw=raw), scans),
            (
                "scan + move (scan_apply)",
                lambda raw: scan_apply(actor=bench_user, raw=raw, action="start_reconditioning"),
                moves,
            ),
        ):
            times, queries = measure(fn, codes)
            print(
                f"{size:>9,} {label:<34} {statistics.median(times) * 1000:>7.2f}ms "
                f"{percentile(times, 0.95) * 1000:>7.2f}ms {statistics.median(queries):>8.0f}"
            )


def main() -> None:
    args = parse_args()
    database, cleanup = prepare_database(args)
    try:
        setup_django()
        run(args, database)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
