"""Lifecycle figures: register N devices and apply N moves through the services, then time the
lookup by label code at N devices.

Run from the repository root: `.venv/bin/python bench/lifecycle.py [--devices 10000]`.
Without DATABASE_URL it works on a fresh SQLite file in a temporary directory, deleted at the
end. With DATABASE_URL pointing at PostgreSQL it creates its own database on that server
(`reemploi_bench`, or --bench-db), runs there and drops it; the database named in the URL is
only used to issue CREATE/DROP DATABASE and is never written. Settings run with DEBUG off, as
in production, so that Django does not log every query.
"""

import argparse
import os
import platform
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices to register")
    parser.add_argument("--lookups", type=int, default=1_000, help="label codes to look up")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the device data")
    parser.add_argument(
        "--bench-db", default="reemploi_bench", help="PostgreSQL only: the database to create"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="PostgreSQL only: drop the bench database first if a previous run left it",
    )
    return parser.parse_args()


def prepare_database(args):
    """Point the settings at a throw-away database; return (description, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        directory = tempfile.mkdtemp(prefix="reemploi-bench-")
        # Read by config.settings at import time: the SQLite file goes under it.
        os.environ["REEMPLOI_DATA_DIR"] = directory
        return (
            f"SQLite, fresh temporary file {directory}/reemploi.sqlite3",
            lambda: shutil.rmtree(directory, ignore_errors=True),
        )
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        sys.exit(
            "DATABASE_URL is set but is not PostgreSQL; unset it to benchmark on a "
            "temporary SQLite file."
        )
    import psycopg
    from psycopg import sql

    name = args.bench_db
    if name == parts.path.lstrip("/"):
        sys.exit(f"--bench-db must differ from the database in DATABASE_URL ({name}).")
    with psycopg.connect(url, autocommit=True) as server:
        exists = server.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not args.replace:
            sys.exit(f"Database {name!r} already exists (a previous run?); pass --replace.")
        if exists:
            server.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(
            f"DATABASE_URL is set: PostgreSQL at {parts.hostname}:{parts.port or 5432}, in a "
            f"dedicated database {name!r} created now and dropped at the end."
        )
        version = server.execute("SHOW server_version").fetchone()[0]
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))

    def cleanup():
        from django.db import connections

        connections.close_all()
        with psycopg.connect(url, autocommit=True) as server:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    return f"PostgreSQL {version}, database {name} (dropped at the end)", cleanup


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)  # bench-only, never stored
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    import django

    django.setup()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def run(args, database: str) -> None:
    import django
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.demo.seed import DeviceGenerator
    from inventory.models import Category, Device, Organisation, Role
    from inventory.selectors import device_by_code
    from inventory.services import (
        device_register,
        device_transition,
        membership_set,
        organisation_save,
    )
    from inventory.states import OrgKind

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        database = database.replace("SQLite", f"SQLite {connection.Database.sqlite_version}", 1)
    User = get_user_model()
    coordinator = User.objects.create_user("bench-coordinator", password=secrets.token_hex(16))
    coordinator_org = organisation_save(
        actor=coordinator,
        organisation=Organisation(name="Coordination (bench)", kind=OrgKind.COORDINATOR),
    )
    membership_set(
        actor=coordinator, user=coordinator, organisation=coordinator_org, role=Role.MANAGER
    )
    workshop = organisation_save(
        actor=coordinator, organisation=Organisation(name="ECODAIR", kind=OrgKind.WORKSHOP)
    )
    donor = organisation_save(
        actor=coordinator, organisation=Organisation(name="Donateur (bench)", kind=OrgKind.DONOR)
    )
    bench_staff = User.objects.create_user("bench-workshop", password=secrets.token_hex(16))
    membership_set(actor=coordinator, user=bench_staff, organisation=workshop)

    categories = {category.code: category for category in Category.objects.all()}
    generator = DeviceGenerator(random.Random(args.seed))
    batch = []
    for _ in range(args.devices):
        fields = generator.fields()
        fields["category"] = categories[fields.pop("category_code")]
        batch.append(fields)

    n = args.devices
    started = time.perf_counter()
    ids, codes = [], []
    for fields in batch:
        device = device_register(actor=coordinator, donor=donor, **fields)
        ids.append(device.pk)
        codes.append(device.label_code_id)
    register_seconds = time.perf_counter() - started

    started = time.perf_counter()
    for pk in ids:
        device_transition(
            actor=coordinator, device_id=pk, action="send_to_workshop", target=workshop
        )
    move_seconds = time.perf_counter() - started
    history_rows = Device.history.model.objects.count()
    assert Device.objects.count() == n and history_rows == 2 * n, (n, history_rows)

    rng = random.Random(args.seed + 1)
    sample = rng.sample(codes, k=min(args.lookups, n))

    def fresh_user(user):
        # A new request loads its user again, so the scope is read again (one more query).
        return User.objects.get(pk=user.pk)

    scenarios = [
        ("coordinator, scope already read", lambda: coordinator),
        ("workshop staff, scope already read", lambda: bench_staff),
        ("coordinator, new request", lambda: fresh_user(coordinator)),
    ]
    lookups = []
    for label, who in scenarios:
        users = [who() for _ in sample]
        for user, code in zip(users[:50], sample[:50], strict=True):  # warm-up
            device_by_code(user, code)
        users = [who() for _ in sample]
        durations = []
        for user, code in zip(users, sample, strict=True):
            begin = time.perf_counter_ns()
            device = device_by_code(user, code)
            durations.append((time.perf_counter_ns() - begin) / 1e6)
            assert device is not None and device.label_code_id == code
        users = [who() for _ in sample]
        counts = set()
        statements = []
        for user, code in zip(users, sample, strict=True):
            with CaptureQueriesContext(connection) as queries:
                device_by_code(user, code)
            counts.add(len(queries.captured_queries))
            statements.append(queries.captured_queries[-1]["sql"])
        lookups.append((label, durations, counts))
    # The device query alone, replayed on a raw cursor: what the database itself costs.
    durations = []
    with connection.cursor() as cursor:
        for statement in statements:
            begin = time.perf_counter_ns()
            cursor.execute(statement)
            assert len(cursor.fetchall()) == 1
            durations.append((time.perf_counter_ns() - begin) / 1e6)
    lookups.append(("(the device query alone, on a raw cursor)", durations, {1}))

    line = "-" * 82
    print()
    print("Réemploi lifecycle benchmark")
    print(f"  database  {database}")
    print(
        f"  runtime   Python {platform.python_version()}, Django {django.get_version()}, "
        f"{os.cpu_count()} CPUs, DEBUG off"
    )
    print(f"  data      {n:,} devices registered, {history_rows:,} device history rows")
    print(line)
    print(f"{'step':<52}{'count':>8}{'seconds':>10}{'per second':>12}")
    print(line)
    print(
        f"{'register (services.device_register)':<52}{n:>8,}{register_seconds:>10.2f}"
        f"{n / register_seconds:>12,.0f}"
    )
    print(
        f"{'move send_to_workshop (services.device_transition)':<52}{n:>8,}"
        f"{move_seconds:>10.2f}{n / move_seconds:>12,.0f}"
    )
    print(line)
    print(
        f"lookup by label code (selectors.device_by_code): {len(sample):,} random codes "
        f"among {n:,} devices"
    )
    print(f"{'who':<52}{'median':>10}{'p95':>10}{'queries':>10}")
    print(line)
    for label, durations, counts in lookups:
        queries = "-".join(str(c) for c in sorted(counts))
        print(
            f"{label:<52}{statistics.median(durations):>8.3f}ms"
            f"{percentile(durations, 0.95):>8.3f}ms{queries:>10}"
        )
    print(line)


def main() -> None:
    args = parse_args()
    if args.devices < 1 or args.lookups < 1:
        sys.exit("--devices and --lookups must be positive.")
    database, cleanup = prepare_database(args)
    try:
        setup_django()
        run(args, database)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
