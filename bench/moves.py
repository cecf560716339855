"""Move figures on an existing scaled database: the median time of a status change and of a
move through the lifecycle service (inventory.services.device_transition), and the size of the
device table's indexes, on the database DATABASE_URL names (one made by bench/scale.py, or a
copy of it: this writes to it, each run spends --samples devices of each kind).

A status change is a workshop's `start_reconditioning` (at_workshop -> in_reconditioning, same
custody); a move is the coordination's `send_to_workshop` (registered -> sent_to_workshop, custody
to the first workshop). Devices are drawn at random across the table, as real moves are. Both
are non-HOT updates (status and custody are indexed): every index of the device table gets an
entry, so their cost follows the indexes' size against PostgreSQL's shared_buffers: the index
pages each move read from the OS ("read") or found in shared_buffers ("hit") are printed too,
a figure that other work on the machine does not blur as it does the times.

Run from the repository root, on a copy:
`DATABASE_URL=postgres://…/copy_of_bench1m .venv/bin/python bench/moves.py [--samples 300]`.
"""

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lifecycle import percentile, setup_django  # noqa: E402

WARM_UP = 30  # moves not timed: the process's first queries, the connection, the caches


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=300, help="timed moves of each kind")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: any)")
    parser.add_argument(
        "--no-commit-flush",
        action="store_true",
        help="synchronous_commit off for this session: the time of the work without the WAL "
        "flush each commit waits for, which is the same whatever the indexes",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.db import connection

    from inventory.models import Device, Organisation
    from inventory.services import device_transition
    from inventory.states import OrgKind, Status

    rng = random.Random(args.seed)
    workshop = Organisation.objects.filter(kind=OrgKind.WORKSHOP).order_by("pk").first()
    coordination = Organisation.objects.filter(kind=OrgKind.COORDINATOR).order_by("pk").first()
    users = get_user_model().objects
    bench_user = users.filter(membership__organisation=workshop).first()
    coordinator = users.filter(membership__organisation=coordination).first()
    wanted = args.samples + WARM_UP

    def draw(custodian, status) -> list[int]:
        ids = list(
            Device.objects.filter(custodian=custodian, status=status).values_list("pk", flat=True)
        )
        if len(ids) < wanted:
            sys.exit(f"only {len(ids)} devices {status} at {custodian}: use a fresh copy")
        return rng.sample(ids, wanted)

    if args.no_commit_flush:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
    to_start = draw(workshop, Status.AT_WORKSHOP)
    to_send = draw(coordination, Status.REGISTERED)

    def index_buffers() -> dict[str, int]:
        """Index pages each table's indexes were read (from the OS) or found in shared_buffers,
        this backend's counts flushed first (PostgreSQL 15+)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT relname, idx_blks_read, idx_blks_hit FROM pg_statio_user_tables "
                "WHERE relname IN ('inventory_device', 'inventory_historicaldevice')"
            )
            return {
                f"{table} {kind}": value
                for table, read, hit in cursor.fetchall()
                for kind, value in (("read", read), ("hit", hit))
            }

    def timed(actor, ids, action, target=None) -> list[float]:
        times = []
        for index, device_id in enumerate(ids):
            start = time.perf_counter()
            result = device_transition(
                actor=actor, device_id=device_id, action=action, target=target
            )
            elapsed = (time.perf_counter() - start) * 1000
            assert result.changed, (device_id, action)
            if index >= WARM_UP:
                times.append(elapsed)
        return times

    rows = []
    for name, actor, ids, action, target in (
        (
            "status change (start_reconditioning)",
            bench_user,
            to_start,
            "start_reconditioning",
            None,
        ),
        ("move (send_to_workshop)", coordinator, to_send, "send_to_workshop", workshop),
    ):
        before = index_buffers()
        times = timed(actor, ids, action, target)
        after = index_buffers()
        per_move = {key: (after[key] - before[key]) / len(ids) for key in after}
        rows.append((name, times, per_move))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), pg_size_pretty(sum(pg_relation_size(indexrelid))) "
            "FROM pg_stat_user_indexes WHERE relname = 'inventory_device'"
        )
        count, size = cursor.fetchone()
    print(f"{connection.settings_dict['NAME']}: {count} indexes on inventory_device, {size}")
    for name, times, per_move in rows:
        print(
            f"  {name:<40} median {statistics.median(times):6.2f} ms"
            f"  p95 {percentile(times, 0.95):6.2f} ms  ({len(times)} moves)"
        )
        print(
            "    index pages per move: "
            + ", ".join(f"{key} {value:.1f}" for key, value in sorted(per_move.items()))
        )


if __name__ == "__main__":
    main()
