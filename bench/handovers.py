"""Issue 12 on a database: handing over a delivery of 50 devices (a loan: one kit) with its
receipt PDF, drawing a receipt alone, and the overdue loans' first page at 1,000 and 100,000
loans (the flat list pattern: the same queries, and about the same time, whatever the size).

Run from the repository root: `.venv/bin/python bench/handovers.py` (a temporary SQLite file)
or with DATABASE_URL set (PostgreSQL: a dedicated database, created and dropped;
`--bench-db`, `--replace`). The 50 devices go through the services (declared, accepted,
matched, approved, delivered, received, handed over); the filler loans of the large sizes are
bulk rows, as years of hand-overs would leave. Prints seconds and query counts; nothing is
asserted.
"""

import argparse
import datetime
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lifecycle import prepare_database, setup_django  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50, help="devices of the hand-over")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--pages", type=int, default=20, help="timed first pages per size")
    parser.add_argument("--rounds", type=int, default=5, help="receipts drawn alone")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--bench-db", default="reemploi_bench_handovers")
    parser.add_argument("--replace", action="store_true")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    database, cleanup = prepare_database(args)
    setup_django()
    from django.conf import settings

    media = tempfile.TemporaryDirectory(prefix="reemploi-bench-media-")
    settings.MEDIA_ROOT = media.name
    try:
        run(args, database)
    finally:
        cleanup()
        media.cleanup()
    return 0


def kit_allocations(args, coordinator, workshop, structure_user, rng):
    from allocations import ready_devices

    from logistics.allocations import services as allocations
    from logistics.needs.services import need_accept, need_create

    ready_devices(args.devices, workshop, rng)
    need = need_create(
        actor=structure_user,
        submit=True,
        lines=[{"category": "laptop", "quantity": args.devices}],
        purpose="itinerant_kit",
        public="seniors",
        mode="loan",
        loan_weeks=26,
        urgency="normal",
    )
    need_accept(actor=coordinator, need_id=need.pk)
    run = allocations.matching_run_create(actor=coordinator)
    return allocations.matching_run_approve(actor=coordinator, run_id=run.pk)


def filler_loans(total: int, structures, author, device_ids: list[int], rng) -> None:
    """Hand-overs and their loans as bulk rows, up to `total` loans: a tenth of them open and
    overdue, a tenth open and not yet due, the rest ended."""
    from django.utils import timezone

    from logistics.models import HandOver, Loan, LoanStatus

    missing = total - Loan.objects.count()
    today = timezone.localdate()
    chunk = 5000
    serial = Loan.objects.count()
    while missing > 0:
        size = min(chunk, missing)
        hand_overs = HandOver.objects.bulk_create(
            HandOver(
                structure=structures[(serial + n) % len(structures)],
                verification_code=f"BENCH{serial + n:011d}",
                handed_by=author,
                received_by_name="Bench",
            )
            for n in range(size)
        )
        loans = []
        for n, hand_over in enumerate(hand_overs):
            started = today - datetime.timedelta(days=rng.randint(30, 900))
            due = started + datetime.timedelta(weeks=rng.choice([4, 12, 26]))
            kind = (serial + n) % 10
            status = LoanStatus.OPEN if kind < 2 else LoanStatus.ENDED
            if kind == 1:
                due = today + datetime.timedelta(days=rng.randint(1, 90))
            loans.append(
                Loan(
                    structure_id=hand_over.structure_id,
                    hand_over=hand_over,
                    status=status,
                    started_on=min(started, due),
                    due_on=due,
                    units_out=1 if status == LoanStatus.OPEN else 0,
                )
            )
        Loan.objects.bulk_create(loans)
        serial += size
        missing -= size


def timed_page(queryset_of, pages: int) -> tuple[float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.pagination import paginate

    times = []
    rows = 0
    for _ in range(pages + 3):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            page = paginate(queryset_of(), size=50)
            rows = len(list(page.object_list))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[3:]), len(queries.captured_queries), rows


def run(args, database: str) -> None:
    from allocations import world
    from django.core.management import call_command
    from django.db import connection

    from logistics.deliveries import services as deliveries
    from logistics.handovers import services as handovers
    from logistics.handovers.receipt import receipt_pdf_render
    from logistics.loans.selectors import loan_list

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    coordinator, workshop, structures, staff = world()
    print(f"hand-overs bench: {database}")

    made = kit_allocations(args, coordinator, workshop, staff[0], rng)
    delivery = deliveries.delivery_create(actor=coordinator, structure=structures[0])
    deliveries.delivery_dispatch(actor=coordinator, delivery_id=delivery.pk)
    for item in delivery.items.order_by("pk"):
        deliveries.delivery_receive(actor=staff[0], delivery_id=delivery.pk, item_id=item.pk)
    started = time.perf_counter()
    hand_over = handovers.hand_over_create(
        actor=coordinator,
        allocation_ids=[allocation.pk for allocation in made],
        received_by_name="Bench Signataire",
    )
    handed = time.perf_counter() - started
    print(
        f"  hand-over of a delivery of {len(made)} devices (one loan, receipt stored): "
        f"{handed:.2f} s"
    )
    times, size = [], 0
    for _ in range(args.rounds):
        started = time.perf_counter()
        pdf = receipt_pdf_render(hand_over)
        times.append(time.perf_counter() - started)
        size = len(pdf)
    print(
        f"  receipt PDF of {len(made)} devices drawn alone: "
        f"median {statistics.median(times):.2f} s ({size / 1024:.0f} KiB)"
    )

    print(f"  {'loans':>9}  {'overdue page':>13}  {'queries':>7}  {'one structure':>14}  queries")
    for size in args.sizes:
        filler_loans(size, structures, coordinator, [a.device_id for a in made], rng)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        overdue_ms, overdue_queries, rows = timed_page(
            lambda: loan_list(coordinator, overdue=True), args.pages
        )
        mine_ms, mine_queries, _rows = timed_page(
            lambda: loan_list(staff[1], overdue=True), args.pages
        )
        print(
            f"  {size:>9,}  {overdue_ms:>10.1f} ms  {overdue_queries:>7}  "
            f"{mine_ms:>11.1f} ms  {mine_queries:>7}   ({rows} rows on the page)"
        )


if __name__ == "__main__":
    sys.exit(main())
