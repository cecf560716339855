"""Device lists and searches at N devices: EXPLAIN ANALYZE of each query as the app builds it.

Run from the repository root with DATABASE_URL pointing at PostgreSQL:
`DATABASE_URL=postgres://… .venv/bin/python bench/list_explain.py [--sizes 10000 100000]`.
It migrates the database named in DATABASE_URL, refuses to run if it already holds devices,
loads the devices with bulk_create (no history rows: the lists and the queue do not read
them), grows the table to each size in turn, prints for each query the median execution time
of three EXPLAIN ANALYZE runs and the scans the plan chose, then deletes every row it wrote.
"""

import argparse
import json
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lifecycle import setup_django  # noqa: E402 (after the path)

WORKSHOPS = 4
WATCHED = {"inventory_device", "inventory_historicaldevice"}
BATCH = 5_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline",
        action="store_true",
        help="measure without the indexes of inventory 0013 and 0014 (unapplied, then reapplied)",
    )
    return parser.parse_args()


def load(target: int, world: dict, rng: random.Random, *, baseline: bool) -> None:
    """Grow the device table to `target` rows, spread over custodians, statuses and dates."""
    from django.db import connection

    from inventory.codes import generate_label_code
    from inventory.models import Device, LabelCode
    from inventory.states import Status

    statuses = list(Status.values)
    while (have := Device.objects.count()) < target:
        size = min(BATCH, target - have)
        codes = {generate_label_code() for _ in range(size)}
        LabelCode.objects.bulk_create([LabelCode(code=code) for code in codes])
        devices = []
        for n, code in enumerate(codes, start=have):
            fields = world["generator"].fields()
            fields["category"] = world["categories"][fields.pop("category_code")]
            fields["serial_number"] = f"SN{n:09d}"  # unique per manufacturer
            if fields.get("imei1"):
                fields["imei1"], fields["imei2"] = f"35{n:013d}", ""  # unique
            devices.append(
                Device(
                    label_code_id=code,
                    custodian=rng.choice(world["custodians"]),
                    donor=world["donor"],
                    status=rng.choice(statuses),
                    asset_tag=f"INV-{n}",
                    **fields,
                )
            )
        Device.objects.bulk_create(devices)
    with connection.cursor() as cursor:
        # bulk_create stamps every row with the same instant: spread them as registrations are.
        cursor.execute(
            "UPDATE inventory_device SET created_at = now() - id * interval '7 minutes',"
            " updated_at = now() - ((id * 7919) % 100000) * interval '1 minute'"
        )
        if not baseline:  # the column comes with inventory 0015
            cursor.execute(
                "UPDATE inventory_device SET status_changed_at = now()"
                " - ((id * 4271) % 100000) * interval '1 minute'"
            )
        cursor.execute("VACUUM ANALYZE inventory_device")


def explain(queryset) -> tuple[float, str]:
    from django.db import connection

    if isinstance(queryset, str):  # a statement as sent, its parameters inline
        sql, params = queryset, None
    else:
        sql, params = queryset.query.sql_with_params()
    times, plan = [], None
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            (row,) = cursor.fetchone()
        result = (json.loads(row) if isinstance(row, str) else row)[0]
        times.append(result["Execution Time"])
        plan = result["Plan"]
    return statistics.median(times), summary(plan)


def summary(plan: dict) -> str:
    parts = []

    def walk(node):
        kind = node["Node Type"]
        if node.get("Relation Name") in WATCHED or kind in {"Sort", "Bitmap Index Scan"}:
            name = node.get("Index Name")
            parts.append(f"{kind}{' ' + name if name else ''}")
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan)
    return ", ".join(parts)


def queries(world: dict, size: int, *, baseline: bool) -> list[tuple[str, object]]:
    from inventory import selectors
    from inventory.states import Status
    from logistics.shipments.selectors import QUEUE_PAGE, queue_figures, queue_step_devices

    coordinator, staff = world["coordinator"], world["staff"]
    workshop = world["custodians"][0]
    middle = size // 2
    page = slice(0, 50)
    deep = min(5_000, size - 50)
    # A workshop's queue: its figures, and each step's first page (the same in the API).
    queue = [
        ("queue: figures by step", queue_figures(workshop)),
        *(
            (f"queue: {status.value}", queue_step_devices(workshop, status)[:QUEUE_PAGE])
            for status in (Status.SENT_TO_WORKSHOP, Status.AT_WORKSHOP, Status.IN_RECONDITIONING)
        ),
    ]
    lists = [
        ("default list, page 1", selectors.device_list(coordinator)[page]),
        ("default list, offset 5000 (or end)", selectors.device_list(coordinator)[deep:][:50]),
        ("by status", selectors.device_list(coordinator, status=Status.READY)[page]),
        ("by custodian", selectors.device_list(coordinator, custodian=workshop.pk)[page]),
        ("workshop's own list", selectors.device_list(staff)[page]),
        (
            "workshop's list by status",
            selectors.device_list(staff, status=Status.IN_RECONDITIONING)[page],
        ),
        (
            "home preview (waiting step)",
            selectors.device_list(staff, status=Status.IN_RECONDITIONING).order_by(
                "updated_at", "id"
            )[:5],
        ),
        (
            "exact: serial (other case)",
            selectors.devices_visible_to(coordinator).filter(
                selectors.device_exact_match_filter(f"sn{middle:09d}")
            )[page],
        ),
        (
            "exact: asset tag",
            selectors.devices_visible_to(coordinator).filter(
                selectors.device_exact_match_filter(f"inv-{middle}")
            )[page],
        ),
        (
            "exact: IMEI prefix",
            selectors.devices_visible_to(coordinator).filter(
                selectors.device_exact_match_filter(f"35{middle:013d}"[:10])
            )[page],
        ),
        (
            "exact: label code",
            selectors.devices_visible_to(coordinator).filter(
                selectors.device_exact_match_filter(world["some_code"])
            )[page],
        ),
        (
            "full search (model substring too)",
            selectors.device_list(coordinator, q=f"SN{middle:09d}")[page],
        ),
        # The model substring through the trigram index of inventory 0014: a common model (a
        # tenth of the devices), a rare one, and a search that matches nothing (the worst case
        # of a scan: it reads every row).
        ("full search: common model", selectors.device_list(coordinator, q="latitude")[page]),
        ("full search: rare model", selectors.device_list(coordinator, q="ifebook u7")[page]),
        ("full search: no match", selectors.device_list(coordinator, q="zx spectrum")[page]),
        (
            "workshop's search: rare model",
            selectors.device_list(staff, q="ifebook u7")[page],
        ),
    ]
    # The baseline has no inventory 0015, hence no queue column to read.
    return lists if baseline else lists + queue + keyset_pages(world, size)


def keyset_pages(world: dict, size: int) -> list[tuple[str, str]]:
    """The two statements of a list page as inventory.pagination runs them (the capped count,
    then the page), at the start, at 90 % through a cursor, and the last page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory import selectors
    from inventory.pagination import cursor_after, last_cursor, paginate
    from inventory.states import Status

    coordinator, staff = world["coordinator"], world["staff"]
    rows = []
    for label, queryset in (
        ("every device", selectors.device_list(coordinator)),
        ("by status", selectors.device_list(coordinator, status=Status.READY)),
        ("workshop's own", selectors.device_list(staff)),
    ):
        order = ("-created_at", "-id")
        # Where 90 % of the list lies (found once with an OFFSET; not what is measured).
        at = max(0, int(queryset.count() * 0.9) - 1)
        values = list(queryset.order_by(*order).values_list("created_at", "id")[at])
        for where, cursor in (
            ("first page", None),
            ("page at 90 %", cursor_after(values, order=order)),
            ("last page", last_cursor()),
        ):
            with CaptureQueriesContext(connection) as queries:
                paginate(queryset, size=50, cursor=cursor)
            count, page = (q["sql"] for q in queries.captured_queries)
            rows.append((f"keyset {label}: {where}", page))
            if cursor is None:
                rows.append((f"keyset {label}: capped count", count))
    return rows


def main() -> None:
    args = parse_args()
    setup_django()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("EXPLAIN ANALYZE figures need PostgreSQL: set DATABASE_URL.")
    from inventory.demo.seed import DeviceGenerator
    from inventory.models import Category, Device, LabelCode, Membership, Organisation, Role
    from inventory.states import OrgKind

    call_command("migrate", verbosity=0)
    if Device.objects.exists() or LabelCode.objects.exists():
        sys.exit("The database in DATABASE_URL already holds devices: give it an empty one.")
    if args.baseline:
        call_command("migrate", "inventory", "0012", verbosity=0)
        print("baseline: without the list and search indexes of inventory 0013 and 0014")
    name = connection.settings_dict["NAME"]
    print(f"PostgreSQL {connection.pg_version // 10000}, database {name}")
    User = get_user_model()
    users, organisations = [], []
    try:
        coordination = Organisation.objects.create(name="Coordination", kind=OrgKind.COORDINATOR)
        workshops = [
            Organisation.objects.create(name=f"Atelier {n}", kind=OrgKind.WORKSHOP)
            for n in range(WORKSHOPS)
        ]
        donor = Organisation.objects.create(name="Donateur", kind=OrgKind.DONOR)
        organisations = [coordination, *workshops, donor]
        token = secrets.token_hex(4)
        coordinator = User.objects.create_user(f"bench-coordinator-{token}")
        staff = User.objects.create_user(f"bench-staff-{token}")
        users = [coordinator, staff]
        Membership.objects.create(user=coordinator, organisation=coordination, role=Role.MANAGER)
        Membership.objects.create(user=staff, organisation=workshops[0], role=Role.MEMBER)
        rng = random.Random(args.seed)
        world = {
            "coordinator": coordinator,
            "staff": staff,
            "custodians": [*workshops, coordination],
            "donor": donor,
            "categories": {c.code: c for c in Category.objects.all()},
            "generator": DeviceGenerator(rng),
        }
        results: dict[str, dict[int, tuple[float, str]]] = {}
        sizes = sorted(args.sizes)
        for size in sizes:
            started = time.perf_counter()
            load(size, world, rng, baseline=args.baseline)
            print(f"loaded {size} devices in {time.perf_counter() - started:.1f} s")
            codes = Device.objects.order_by("id").values_list("label_code_id", flat=True)
            world["some_code"] = codes[size // 3]
            for label, queryset in queries(world, size, baseline=args.baseline):
                results.setdefault(label, {})[size] = explain(queryset)
        print(f"\n{'query':36}" + "".join(f"{f'{s} (ms)':>14}" for s in sizes))
        for label, by_size in results.items():
            print(f"{label:36}" + "".join(f"{by_size[s][0]:14.2f}" for s in sizes))
        print(f"\nplans at {sizes[-1]} devices:")
        for label, by_size in results.items():
            print(f"  {label}: {by_size[sizes[-1]][1]}")
    finally:
        # Only this run's rows: the database held no device nor label code before it.
        # Plain DELETEs: a queryset delete would write a history row for each device.
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM inventory_device")
            cursor.execute("DELETE FROM inventory_labelcode")
        Membership.objects.filter(user__in=users).delete()
        for user in users:
            user.delete()
        Organisation.objects.filter(pk__in=[o.pk for o in organisations]).delete()
        if args.baseline:
            call_command("migrate", verbosity=0)


if __name__ == "__main__":
    main()
