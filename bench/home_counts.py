"""The home pages' counts at N devices: the GROUP BY status they ran before issue 10 against
the counter rows they read now, and what a full recount (`manage.py device_counts`) costs.

Run from the repository root with DATABASE_URL pointing at an empty PostgreSQL database:
`DATABASE_URL=postgres://… .venv/bin/python bench/home_counts.py [--sizes 10000 100000]`.
It migrates it, refuses to run if it already holds devices, grows the device table to each
size with INSERT … SELECT generate_series (no history rows: the counts do not read them),
prints the median of five EXPLAIN ANALYZE runs of each query, then deletes what it wrote
(1M took about 15 minutes here, mostly the inserts into the indexed device table).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lifecycle import setup_django  # noqa: E402 (after the path)

CUSTODIANS = 5  # the coordination and four workshops


def grow(target: int, custodians: list[int]) -> None:
    from django.db import connection

    from inventory.states import Status

    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in Status.values) + "]"
    ids = "ARRAY[" + ",".join(str(pk) for pk in custodians) + "]"
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM inventory_device")
        (start,) = cursor.fetchone()
        if start >= target:
            return
        cursor.execute(
            "INSERT INTO inventory_labelcode (code, issued_at) SELECT"
            " 'B' || lpad(i::text, 8, '0'), now() FROM generate_series(%s, %s) i",
            [start + 1, target],
        )
        cursor.execute(
            "INSERT INTO inventory_device (label_code, category_id, manufacturer, model_name,"  # noqa: S608 (our own constants)
            " serial_number, imei1, imei2, asset_tag, cpu, storage_type, operating_system,"
            " custodian_id, status, notes, created_at, updated_at, status_changed_at)"
            f" SELECT 'B' || lpad(i::text, 8, '0'), 'laptop', 'Dell', 'Latitude', 'BN' || i,"
            f" '', '', '', '', '', '', ({ids})[1 + i %% {len(custodians)}],"
            f" ({statuses})[1 + (i * 7) %% {len(Status.values)}], '', now(), now(), now()"
            " FROM generate_series(%s, %s) i",
            [start + 1, target],
        )
        cursor.execute("VACUUM ANALYZE inventory_device")


def explain(sql: str, params) -> float:
    from django.db import connection

    times = []
    for _ in range(5):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            (row,) = cursor.fetchone()
        times.append((json.loads(row) if isinstance(row, str) else row)[0]["Execution Time"])
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count, Sum

    from inventory.counts import device_counts_recount
    from inventory.models import Device, DeviceCount, Organisation
    from inventory.states import OrgKind

    assert connection.vendor == "postgresql", "PostgreSQL only"
    call_command("migrate", verbosity=0)
    if Device.objects.exists():
        sys.exit("the database already holds devices: use an empty one")
    organisations = [
        Organisation.objects.create(name="Bench coordination", kind=OrgKind.COORDINATOR)
    ]
    organisations += [
        Organisation.objects.create(name=f"Bench workshop {n}", kind=OrgKind.WORKSHOP)
        for n in range(CUSTODIANS - 1)
    ]
    custodians = [o.pk for o in organisations]
    workshop = organisations[1]
    try:
        print("devices\tquery\tmedian ms (EXPLAIN ANALYZE, 5 runs)")
        for size in args.sizes:
            grow(size, custodians)
            started = time.perf_counter()
            device_counts_recount(fix=True)
            recount = (time.perf_counter() - started) * 1000
            old_all = Device.objects.order_by().values_list("status").annotate(n=Count("id"))
            old_one = old_all.filter(custodian=workshop)
            new_all = DeviceCount.objects.order_by().values_list("status").annotate(n=Sum("count"))
            new_one = DeviceCount.objects.filter(custodian=workshop).values_list("status", "count")
            for name, queryset in (
                ("before: GROUP BY status, every device (coordination, fund)", old_all),
                ("before: GROUP BY status, one workshop's devices", old_one),
                ("now: counters, every custodian", new_all),
                ("now: counters, one workshop", new_one),
            ):
                sql, params = queryset.query.sql_with_params()
                print(f"{size}\t{name}\t{explain(sql, params):.3f}")
            print(f"{size}\tdevice_counts recount and fix (wall clock)\t{recount:.1f}")
    finally:
        # In SQL: Django's delete() would collect a million devices' relations in Python. The
        # device table was empty at the start, so everything in it is ours.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM inventory_device")
            cursor.execute("DELETE FROM inventory_devicecount")
            cursor.execute("DELETE FROM inventory_labelcode WHERE code LIKE 'B%%'")
        Organisation.objects.filter(pk__in=custodians).delete()


if __name__ == "__main__":
    main()
