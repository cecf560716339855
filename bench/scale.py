"""Scale figures: each operation of issue 10 over HTTP behind gunicorn, at growing device counts.

Run from the repository root, on PostgreSQL (an EMPTY database, or --reuse):
`DATABASE_URL=postgres://… .venv/bin/python bench/scale.py --sizes 10000 100000 1000000 --port 8640`
or on a fresh SQLite file: `.venv/bin/python bench/scale.py --sqlite --sizes 10000 --port 8640`.

For each size in turn the one database grows to that many devices, in batches of 5,000 loaded
by --load-workers forked processes through the bulk path of the intake service
(inventory/intake/services.py: label codes issued in one insert, then simple-history's
bulk_create_with_history, one history row per device, by the bench coordinator; then the
home pages' counters and the donations' to-do, as the import keeps them), 500 devices
per donation, spread over donors, 5 workshops, 20 structures, statuses, custody that matches
the status, and categories. Registration, change and status dates are drawn over two years
before the insert (the auto_now flags of the two date fields are switched off in the loading
process; no UPDATE afterwards); each history row is dated at its device's status change.
Then gunicorn (deploy/gunicorn.conf.py, DEBUG off, fixed workers) serves the database on
--port, the bench signs its users in (login form for the screens, API tokens for the API) and
times each operation with a sequential client: --requests timed after --warmups, each on
another device (--slow-requests only for an operation whose warm-up took over a second);
writes always on fresh devices. The floor is GET /healthz on the same server. Each size's
samples are saved under var/bench-scale/ so that a --reuse run's growth table includes them.
At the end the database is emptied (dropped and created again; the SQLite file is deleted),
unless --keep: a kept database grows further with --reuse.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from lifecycle import percentile, setup_django  # noqa: E402 (after the path)

BATCH = 5_000  # devices per bulk insert (the import service's largest file by default)
PER_DONATION = 500
WORKSHOP_WEIGHTS = (45, 25, 15, 10, 5)  # the first, the biggest, is the bench's workshop
STRUCTURES = 20
DONORS = 50
ASSET_TAG_SHARE = 0.3
DATA_DIR = ROOT / "var" / "bench-scale"  # static files (DEBUG off needs their manifest)
LABEL_FORMATS = ("avery-l7160", "zebra-2x1in")
NAME = "(scale)"  # every organisation and user of the bench world carries it

# Issue 10's targets (ms, medians) and the growth allowed from the smallest to the largest size.
TARGETS = {"list": 30, "home": 30, "exact": 15, "substring": 100, "write": 8, "labels": 2000}
GROWTH_LIMIT = 1.5
SLOW_MS = 1000  # a warm-up slower than this: --slow-requests timed requests, not --requests


# Pure helpers: percentiles, tables, flags (tests/bench/test_scale.py).


def python_loop_ms() -> float:
    """The same pure-Python work timed on this machine: the figures of a run on a machine
    twice as slow are about twice as high, and the machines these benches run on differ."""

    def once() -> float:
        started, total = time.perf_counter(), 0
        for n in range(1_000_000):
            total += n
        return (time.perf_counter() - started) * 1000

    return min(once() for _ in range(5))


def summarise(samples: list[float]) -> tuple[float, float]:
    """(median, p95) of durations in ms."""
    return statistics.median(samples), percentile(samples, 0.95)


def deep_page_url(base: str, total: int, *, share: float = 0.9) -> str:
    """The device list's page that starts at `share` of its `total` rows (newest first): a
    cursor built by inventory.pagination.cursor_after from the row just before it, read once
    here with an OFFSET (the measured request itself reads from the index, at any depth)."""
    from inventory.models import Device
    from inventory.pagination import cursor_after

    position = max(0, min(total - 1, int(total * share) - 1))
    row = Device.objects.order_by("-created_at", "-id").values_list("created_at", "id")[position]
    cursor = cursor_after(list(row), order=("-created_at", "-id"), start=position + 1)
    return f"{base}{'&' if '?' in base else '?'}{urlencode({'cursor': cursor})}"


@dataclass
class Result:
    name: str
    kind: str  # a key of TARGETS, or "" for no target ("floor" for the floor)
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return summarise(self.samples)[0]

    @property
    def p95(self) -> float:
        return summarise(self.samples)[1]


def over_target(result: Result) -> bool:
    target = TARGETS.get(result.kind)
    return target is not None and result.median > target


TABLE_HEADER = (
    f"{'operation':<44}{'median ms':>11}{'p95 ms':>10}{'× floor':>9}{'target':>8}{'n':>5}"
)


def table_row(result: Result, floor: float) -> str:
    target = TARGETS.get(result.kind)
    return (
        f"{result.name:<44}{result.median:>11.1f}{result.p95:>10.1f}"
        f"{result.median / floor:>9.0f}{target if target else '':>8}{len(result.samples):>5}"
        f"  {'OVER TARGET' if over_target(result) else ''}"
    ).rstrip()


def size_table(results: list[Result], floor: float) -> str:
    return "\n".join([TABLE_HEADER, *(table_row(result, floor) for result in results)])


def growth_table(by_size: dict[int, list[Result]]) -> str:
    sizes = sorted(by_size)
    smallest, largest = sizes[0], sizes[-1]
    header = "".join(f"{f'{size:,}':>11}" for size in sizes)
    lines = [
        f"medians in ms; growth = {largest:,} / {smallest:,}; flags: growth over "
        f"{GROWTH_LIMIT}×, median at {largest:,} over the issue's target",
        f"{'operation':<44}{header}{'growth':>9}  flags",
    ]
    medians = {size: {r.name: r for r in results} for size, results in by_size.items()}
    for result in by_size[largest]:
        row = [medians[size].get(result.name) for size in sizes]
        cells = "".join(f"{r.median:>11.1f}" if r else f"{'-':>11}" for r in row)
        first = row[0]
        growth = result.median / first.median if first else float("nan")
        flags = []
        if growth > GROWTH_LIMIT:
            flags.append("GROWS")
        if over_target(result):
            flags.append(f"OVER {TARGETS[result.kind]} ms")
        lines.append(f"{result.name:<44}{cells}{growth:>8.2f}×  {' '.join(flags)}".rstrip())
    return "\n".join(lines)


# The database.


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument(
        "--sqlite", action="store_true", help="a fresh SQLite file, not DATABASE_URL"
    )
    parser.add_argument("--reuse", action="store_true", help="grow a database a --keep run left")
    parser.add_argument("--keep", action="store_true", help="leave the data for a --reuse run")
    parser.add_argument("--port", type=int, default=8640)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per operation")
    parser.add_argument("--warmups", type=int, default=3)
    parser.add_argument(
        "--slow-requests",
        type=int,
        default=10,
        help=f"timed requests of an operation whose warm-up took over {SLOW_MS} ms",
    )
    parser.add_argument(
        "--label-formats",
        nargs="+",
        default=list(LABEL_FORMATS),
        help="formats for the 1,000-label request ('all': every format of the catalogue)",
    )
    parser.add_argument("--label-requests", type=int, default=3, help="timed, after one warm-up")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--load-workers", type=int, default=2, help="processes that load batches in parallel"
    )
    return parser.parse_args()


def prepare_database(args) -> str:
    """Point the settings at the bench's database before Django starts; return its description."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    os.environ["REEMPLOI_DATA_DIR"] = str(DATA_DIR)
    if args.sqlite:
        os.environ.pop("DATABASE_URL", None)
        path = DATA_DIR / "reemploi.sqlite3"
        if not args.reuse:
            for leftover in DATA_DIR.glob("reemploi.sqlite3*"):
                leftover.unlink()
        return f"SQLite file {path}"
    url = os.environ.get("DATABASE_URL", "")
    if urlsplit(url).scheme not in {"postgres", "postgresql"}:
        sys.exit("Set DATABASE_URL to an empty PostgreSQL database, or pass --sqlite.")
    return f"PostgreSQL database {urlsplit(url).path.lstrip('/')}"


def empty_database(args) -> None:
    """Drop the bench's data: the SQLite file, or the PostgreSQL database created again empty."""
    from django.db import connection, connections

    if connection.vendor == "sqlite":
        connections.close_all()
        for path in DATA_DIR.glob("reemploi.sqlite3*"):
            path.unlink()
        return
    import psycopg
    from psycopg import sql

    name = connection.settings_dict["NAME"]
    connections.close_all()
    maintenance = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as server:
        server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"database {name} dropped and created again, empty")


@dataclass
class World:
    coordinator: object
    staff: object  # of the biggest workshop
    structure_staff: object
    fund_reader: object
    passwords: dict
    coordination: object
    workshops: list
    structures: list
    donors: list
    categories: dict


def build_world(args):
    from django.contrib.auth import get_user_model

    from inventory.models import (
        Category,
        Commune,
        Device,
        LabelCode,
        Membership,
        Organisation,
        Role,
        StructureType,
    )
    from inventory.services import membership_set, organisation_save
    from inventory.states import OrgKind

    User = get_user_model()
    existing = Organisation.objects.filter(name=f"Coordination {NAME}").first()
    if (Device.objects.exists() or LabelCode.objects.exists()) and not args.reuse:
        sys.exit("The database already holds devices: give an empty one, or pass --reuse.")
    if args.reuse and existing is None and Device.objects.exists():
        sys.exit("--reuse: this database holds devices but no bench world of a previous run.")
    passwords = {}

    def user(username: str):
        account, _ = User.objects.get_or_create(username=f"{username}-scale")
        passwords[account.username] = secrets.token_urlsafe(16)
        account.set_password(passwords[account.username])
        account.save()
        return account

    coordinator = user("coordinator")
    if existing is None:
        commune = Commune.objects.order_by("pk").first()

        def organisation(name: str, kind: str, **fields):
            return organisation_save(
                actor=coordinator,
                organisation=Organisation(name=f"{name} {NAME}", kind=kind, **fields),
            )

        coordination = organisation("Coordination", OrgKind.COORDINATOR)
        for n in range(len(WORKSHOP_WEIGHTS)):
            organisation(f"Atelier {n + 1}", OrgKind.WORKSHOP)
        for n in range(STRUCTURES):
            organisation(
                f"Structure {n + 1}",
                OrgKind.STRUCTURE,
                rna=f"W92{n + 1:07d}",
                structure_type=StructureType.CS,
                commune=commune,
            )
        for n in range(DONORS):
            organisation(f"Donateur {n + 1}", OrgKind.DONOR)
        organisation("Fonds", OrgKind.FUND)
    else:
        coordination = existing
    mine = Organisation.objects.filter(name__endswith=NAME).order_by("pk")
    workshops = [o for o in mine if o.kind == OrgKind.WORKSHOP]
    structures = [o for o in mine if o.kind == OrgKind.STRUCTURE]
    donors = [o for o in mine if o.kind == OrgKind.DONOR]
    fund = next(o for o in mine if o.kind == OrgKind.FUND)
    world = World(
        coordinator=coordinator,
        staff=user("workshop"),
        structure_staff=user("structure"),
        fund_reader=user("fund"),
        passwords=passwords,
        coordination=coordination,
        workshops=workshops,
        structures=structures,
        donors=donors,
        categories={c.code: c for c in Category.objects.all()},
    )
    for account, organisation, role in (
        (world.coordinator, coordination, Role.MANAGER),
        (world.staff, workshops[0], Role.MEMBER),
        (world.structure_staff, structures[0], Role.MEMBER),
        (world.fund_reader, fund, Role.READER),
    ):
        if not Membership.objects.filter(user=account, organisation=organisation).exists():
            membership_set(actor=coordinator, user=account, organisation=organisation, role=role)
    return world


# Loading.


def device_rows(world: World, rng: random.Random, first: int, count: int) -> list[dict]:
    """`count` devices' fields, numbered from `first`: a realistic mix of models and statuses,
    with custody that matches each status; serials and IMEIs unique by their number."""
    from django.utils import timezone

    from inventory.codes import luhn_check_digit
    from inventory.demo.seed import CATALOGUE, CATEGORY_WEIGHTS, STATUS_WEIGHTS
    from inventory.states import AT_WORKSHOPS, EXITS, IN_STOCK, WITH_STRUCTURES, Status

    categories = rng.choices(list(CATEGORY_WEIGHTS), weights=CATEGORY_WEIGHTS.values(), k=count)
    statuses = rng.choices(list(STATUS_WEIGHTS), weights=STATUS_WEIGHTS.values(), k=count)
    by_category: dict[str, list] = {}
    for spec in CATALOGUE:
        by_category.setdefault(spec.category, []).append(spec)
    structure_weights = [1 / (n + 1) for n in range(len(world.structures))]
    now = timezone.now()
    rows = []
    for offset, (category, status) in enumerate(zip(categories, statuses, strict=True)):
        n = first + offset
        # Registered over two years in the order of their numbers (a minute apart), changed
        # since at random; the status changed between registration and the last change.
        created = min(now, now - timedelta(days=730) + timedelta(minutes=n))
        changed = created + (now - created) * rng.random()
        specs = by_category[category]
        spec = rng.choices(specs, weights=[s.weight for s in specs])[0]
        if status in AT_WORKSHOPS | IN_STOCK | EXITS - {Status.RETURNED_TO_DONOR} or (
            status == Status.REGISTERED and rng.random() < 0.4  # collected by a workshop
        ):
            custodian = rng.choices(world.workshops, weights=WORKSHOP_WEIGHTS)[0]
        elif status in WITH_STRUCTURES:
            custodian = rng.choices(world.structures, weights=structure_weights)[0]
        else:
            custodian = world.coordination
        row = {
            "category": world.categories[spec.category],
            "manufacturer": spec.manufacturer,
            "model_name": spec.model,
            "serial_number": f"{spec.manufacturer[:2].upper()}{n:010d}" if spec.serial else "",
            "status": status,
            "custodian": custodian,
            "asset_tag": f"INV-{n:08d}" if rng.random() < ASSET_TAG_SHARE else "",
            "created_at": created,
            "updated_at": changed,
            "status_changed_at": created + (changed - created) * rng.random(),
        }
        if spec.tac:
            body = f"{spec.tac}{n % 1_000_000:06d}"  # TAC + serial part: unique below 1M per TAC
            row["imei1"] = body + luhn_check_digit(body)
        if spec.ram:
            row["ram_gb"] = rng.choice(spec.ram)
        if spec.storage:
            row["storage_gb"], row["storage_type"] = rng.choice(spec.storage)
        if spec.os:
            row["operating_system"] = rng.choice(spec.os)
        if status == Status.RETURNED_TO_DONOR:
            row["custodian"] = None  # the donation's donor, set below
        rows.append(row)
    return rows


_FORKED = {}  # what the forked loaders inherit: the bench world


def load_batch(job: tuple[int, int, int]) -> int:
    """One batch of devices, numbered from `first`, through the intake service's bulk path."""
    from django.db import transaction
    from simple_history.utils import bulk_create_with_history

    from inventory.counts import device_counts_add
    from inventory.documents.services import donation_todo_refresh
    from inventory.intake.services import CHUNK, _label_codes_issue, donation_create
    from inventory.models import Device

    first, size, seed = job
    world, rng = _FORKED["world"], random.Random(seed)
    rows = device_rows(world, rng, first, size)
    with transaction.atomic(), dates_as_given():
        # The import's own steps (devices_import, once the spreadsheet is read and checked):
        # fresh label codes in one insert, then the devices and their history rows.
        codes = _label_codes_issue(actor=world.coordinator, count=size)
        devices = []
        for start in range(0, size, PER_DONATION):
            donation = donation_create(
                actor=world.coordinator,
                donor=rng.choice(world.donors),
                received_on=date.today() - timedelta(days=rng.randrange(730)),
            )
            for code, row in zip(
                codes[start : start + PER_DONATION],
                rows[start : start + PER_DONATION],
                strict=False,
            ):
                row["custodian"] = row["custodian"] or donation.donor
                device = Device(
                    label_code_id=code, donor_id=donation.donor_id, donation=donation, **row
                )
                device._history_date = device.status_changed_at  # read by simple-history
                devices.append(device)
        bulk_create_with_history(
            devices,
            Device,
            batch_size=CHUNK,
            default_user=world.coordinator,
            default_change_reason="import",
        )
        # As the import does after its insert: the home pages' counters and each donation's
        # place on the coordination's to-do, in the same transaction.
        device_counts_add((device.custodian_id, device.status) for device in devices)
        for donation_id in {device.donation_id for device in devices}:
            donation_todo_refresh(donation_id)
    return size


def load(target: int, world: World, *, seed: int, workers: int) -> None:
    """Grow the device table to `target` devices, in batches shared by `workers` processes."""
    from django.db import connection, connections

    from inventory.models import Device

    have = Device.objects.count()
    jobs = [
        (first, min(BATCH, target - first), seed * 1_000_003 + first)
        for first in range(have, target, BATCH)
    ]
    _FORKED["world"] = world
    if workers > 1 and len(jobs) > 1:
        connections.close_all()  # each forked loader opens its own connection
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            for _ in pool.imap_unordered(load_batch, jobs):
                pass
    else:
        for job in jobs:
            load_batch(job)
    analyse(connection)


def analyse(connection) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum would have done by the time a live table reached this size.
            cursor.execute("VACUUM ANALYZE inventory_device")
            cursor.execute("VACUUM ANALYZE inventory_historicaldevice")
        else:
            cursor.execute("ANALYZE")


@contextmanager
def dates_as_given():
    """Let bulk_create keep the registration and change dates the loader draws: the device's
    auto_now fields are switched off in this process for the load (no UPDATE afterwards, which
    would write every index of each row a second time)."""
    from inventory.models import Device

    fields = [Device._meta.get_field(name) for name in ("created_at", "updated_at")]
    saved = [(f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, (auto_now, auto_now_add) in zip(fields, saved, strict=True):
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


# The server and the client.


def collect_static() -> None:
    if not (DATA_DIR / "static" / "staticfiles.json").exists():
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)


def start_gunicorn(args) -> subprocess.Popen:
    env = dict(
        os.environ,
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_TIMEOUT="300",  # 1,000 labels take seconds
        GUNICORN_ACCESS_LOG=str(DATA_DIR / "access.log"),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback, as nginx talks to it
    )
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
        + ["config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(DATA_DIR / "gunicorn.log", "ab"),  # noqa: SIM115 (the child's)
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if Client(args.port).call("GET", "/healthz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit(f"gunicorn did not answer on port {args.port}: see {DATA_DIR / 'gunicorn.log'}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


class Client:
    """One user's connection; gunicorn's sync workers close it after each reply, and
    http.client opens the next one itself."""

    def __init__(self, port: int, headers: dict | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.headers = headers or {}
        self.cookies: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        sent = dict(self.headers, **(headers or {}))
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if isinstance(body, dict):
            sent["Content-Type"] = "application/json"
            body = json.dumps(body)
        elif isinstance(body, str):
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter_ns()
        try:
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            content = response.read()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()  # closed by the server between two requests: once more
            started = time.perf_counter_ns()
            self.connection.request(method, path, body=body, headers=sent)
            response = self.connection.getresponse()
            content = response.read()
        elapsed = (time.perf_counter_ns() - started) / 1e6
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, content, elapsed


def login(port: int, username: str, password: str) -> Client:
    """A browser's session: the login form, its CSRF token, the session cookie."""
    client = Client(port)
    status, page, _ = client.call("GET", "/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert status == 200 and token, status
    form = urlencode(
        {"csrfmiddlewaretoken": token.group(1).decode(), "username": username, "password": password}
    )
    status, _, _ = client.call("POST", "/login/", body=form)
    assert status == 302 and "sessionid" in client.cookies, (status, client.cookies)
    return client


def api_client(port: int, user) -> Client:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    return Client(port, {"Authorization": f"Token {token.key}", "Accept": "application/json"})


# The operations.


@dataclass
class Operation:
    name: str
    kind: str
    client: Client
    request: object  # i → (method, path, body, headers)
    expect: int = 200
    repeat: int | None = None  # timed requests, when not --requests
    warmups: int | None = None


def targets(world: World, n: int, seed: int) -> dict[str, list]:
    """Distinct devices for each operation that reads or changes one device."""
    from inventory.models import Device
    from inventory.states import Status

    rng = random.Random(seed)
    devices = Device.objects.order_by()
    ids = (
        devices.order_by("pk").values_list("pk", flat=True).first(),
        devices.order_by("-pk").values_list("pk", flat=True).first(),
    )

    def sample(queryset, count=n):
        # Random ids, then the next device matching from each: spread over the whole table.
        found, seen = [], set()
        for _ in range(count * 20):
            if len(found) == count:
                break
            device = queryset.filter(pk__gte=rng.randint(*ids)).order_by("pk").first()
            if device is not None and device.pk not in seen:
                seen.add(device.pk)
                found.append(device)
        assert len(found) == count, (queryset.query, len(found))
        return found

    workshop = world.workshops[0]
    return {
        "read": sample(devices),
        "serial": sample(devices.exclude(serial_number="")),
        "imei": sample(devices.exclude(imei1="")),
        "asset_tag": sample(devices.exclude(asset_tag="")),
        "code": sample(devices),
        "public": sample(devices),
        "scan": sample(devices.filter(custodian=workshop)),
        "move": sample(devices.filter(status=Status.REGISTERED, custodian=world.coordination)),
        "status": sample(devices.filter(status=Status.AT_WORKSHOP, custodian=workshop)),
    }


def label_formats(requested: list[str]) -> list[str]:
    from labels.formats import format_names

    return format_names() if requested == ["all"] else requested


def operations(args, world: World, size: int) -> list[Operation]:
    from inventory.codes import group_label_code
    from inventory.models import Device
    from inventory.states import Status

    n = args.warmups + args.requests
    port = args.port
    coordinator, staff = api_client(port, world.coordinator), api_client(port, world.staff)
    web = {
        "coordinator": login(
            port, world.coordinator.username, world.passwords[world.coordinator.username]
        ),
        "workshop": login(port, world.staff.username, world.passwords[world.staff.username]),
        "structure": login(
            port, world.structure_staff.username, world.passwords[world.structure_staff.username]
        ),
        "fund": login(
            port, world.fund_reader.username, world.passwords[world.fund_reader.username]
        ),
    }
    anonymous = Client(port)
    picked = targets(world, n, args.seed + size)
    workshop = world.workshops[0]
    status, page, _ = coordinator.call("GET", "/api/devices/?page_size=50")
    assert status == 200, page[:300]
    deep_page = deep_page_url("/api/devices/", Device.objects.count())
    run = uuid.uuid4().hex[:8]

    def get(path_of):
        return lambda i: ("GET", path_of(i), None, None)

    def q(value: str) -> str:
        return "/api/devices/?" + urlencode({"q": value})

    def laptop(serial: str) -> dict:
        """A registration's body (with or without an Idempotency-Key, the same device)."""
        return {
            "category": "laptop",
            "manufacturer": "Dell",
            "model_name": "Latitude 5490",
            "serial_number": serial,
        }

    some = picked["read"]
    label_codes = list(Device.objects.order_by("pk").values_list("label_code_id", flat=True)[:1000])
    ops = [
        Operation(
            "list of 50, first page (API)", "list", coordinator, get(lambda i: "/api/devices/")
        ),
        Operation(
            "list of 50, page at 90 % (API)",
            "list",
            coordinator,
            get(lambda i: deep_page),
        ),
        Operation(
            "list filtered by status (API)",
            "list",
            coordinator,
            get(lambda i: f"/api/devices/?status={Status.READY}"),
        ),
        Operation(
            "list filtered by custodian (API)",
            "list",
            coordinator,
            get(lambda i: f"/api/devices/?custodian={workshop.pk}"),
        ),
        Operation("list as workshop staff (API)", "list", staff, get(lambda i: "/api/devices/")),
        Operation(
            "search serial, exact (API)",
            "exact",
            coordinator,
            get(lambda i: q(picked["serial"][i].serial_number.lower())),
        ),
        Operation(
            "search IMEI, exact (API)",
            "exact",
            coordinator,
            get(lambda i: q(picked["imei"][i].imei1)),
        ),
        Operation(
            "search label code, exact (API)",
            "exact",
            coordinator,
            get(lambda i: q(group_label_code(picked["code"][i].label_code_id))),
        ),
        Operation(
            "search asset tag, exact (API)",
            "exact",
            coordinator,
            get(lambda i: q(picked["asset_tag"][i].asset_tag.lower())),
        ),
        Operation(
            "search model substring 'Latitude' (API)",
            "substring",
            coordinator,
            get(lambda i: q("Latitude")),
        ),
        Operation("web device list", "list", web["coordinator"], get(lambda i: "/devices/")),
        Operation(
            "count of one status (API, page_size=1)",
            "list",
            coordinator,
            get(lambda i: f"/api/devices/?status={Status.READY}&page_size=1"),
        ),
        Operation("home page, coordinator", "home", web["coordinator"], get(lambda i: "/")),
        Operation("home page, workshop", "home", web["workshop"], get(lambda i: "/")),
        Operation("home page, structure", "home", web["structure"], get(lambda i: "/")),
        Operation("home page, fund", "home", web["fund"], get(lambda i: "/")),
        Operation(
            "workshop queue (API)",
            "list",
            staff,
            get(lambda i: f"/api/workshops/{workshop.pk}/queue/"),
        ),
        Operation(
            "lookup by code (API)",
            "",
            coordinator,
            get(lambda i: f"/api/devices/by-code/{some[i].label_code_id}/"),
        ),
        Operation(
            "public page /d/<code>",
            "",
            anonymous,
            get(lambda i: f"/d/{quote(picked['public'][i].label_code_id)}"),
        ),
        Operation(
            "device detail (API)", "", coordinator, get(lambda i: f"/api/devices/{some[i].pk}/")
        ),
        Operation(
            "device detail (web)", "", web["coordinator"], get(lambda i: f"/devices/{some[i].pk}/")
        ),
        Operation(
            "scan (API)",
            "write",
            staff,
            lambda i: (
                "POST",
                "/api/scan/",
                {"raw": picked["scan"][i].label_code_id, "client_id": f"{run}-{i}"},
                None,
            ),
        ),
        Operation(
            "register (API, Idempotency-Key)",
            "write",
            coordinator,
            lambda i: (
                "POST",
                "/api/devices/",
                laptop(f"SCALE{run}{size}{i:04d}"),
                {"Idempotency-Key": f"scale-{run}-{size}-{i}"},
            ),
            expect=201,
        ),
        Operation(
            "register (API, no key)",
            "write",
            coordinator,
            lambda i: ("POST", "/api/devices/", laptop(f"SCALEN{run}{size}{i:04d}"), None),
            expect=201,
        ),
        Operation(
            "move: send to workshop (API transition)",
            "write",
            coordinator,
            lambda i: (
                "POST",
                f"/api/devices/{picked['move'][i].pk}/transition/",
                {"action": "send_to_workshop", "target": workshop.pk},
                None,
            ),
        ),
        Operation(
            "status change: start reconditioning (API)",
            "write",
            staff,
            lambda i: (
                "POST",
                f"/api/devices/{picked['status'][i].pk}/transition/",
                {"action": "start_reconditioning"},
                None,
            ),
        ),
    ]
    for name in label_formats(args.label_formats):
        ops.append(
            Operation(
                f"1,000 labels, {name} (API)",
                "labels",
                coordinator,
                lambda i, name=name: (
                    "POST",
                    "/api/labels/",
                    {"format": name, "codes": label_codes},
                    None,
                ),
                repeat=args.label_requests,
                warmups=1,
            )
        )
    return ops


def measure(operation: Operation, args) -> Result:
    """Warm-ups, then the timed requests: fewer of them (--slow-requests) for an operation
    whose warm-ups took over a second, so that a large size ends in reasonable time."""
    warmups = args.warmups if operation.warmups is None else operation.warmups
    repeat = args.requests if operation.repeat is None else operation.repeat
    result = Result(operation.name, operation.kind)
    i = 0
    while i < warmups + repeat:
        method, path, body, headers = operation.request(i)
        status, content, elapsed = operation.client.call(method, path, body, headers)
        if status != operation.expect:
            sys.exit(f"{operation.name}: {method} {path} answered {status}: {content[:500]!r}")
        if operation.kind == "write" and b'"changed":false' in content.replace(b" ", b""):
            sys.exit(f"{operation.name}: {path} changed nothing (a device used twice?)")
        if i >= warmups:
            result.samples.append(elapsed)
        elif elapsed > SLOW_MS and operation.kind not in {"labels", "floor"}:
            repeat = min(repeat, args.slow_requests)
        i += 1
    return result


def floor(args) -> Result:
    client = Client(args.port)
    operation = Operation(
        "floor: GET /healthz", "floor", client, lambda i: ("GET", "/healthz", None, None)
    )
    return measure(operation, args)


def save(results: list[Result], *, vendor: str, size: int) -> None:
    rows = [{"name": r.name, "kind": r.kind, "samples": r.samples} for r in results]
    (DATA_DIR / f"results-{vendor}-{size}.json").write_text(json.dumps(rows))


def saved(*, vendor: str) -> dict[int, list[Result]]:
    found = {}
    for path in DATA_DIR.glob(f"results-{vendor}-*.json"):
        size = int(path.stem.rsplit("-", 1)[1])
        found[size] = [Result(**row) for row in json.loads(path.read_text())]
    return found


def main() -> None:
    args = parse_args()
    database = prepare_database(args)
    setup_django()
    import django
    from django.core.management import call_command
    from django.db import connection

    from inventory.models import Device

    call_command("migrate", verbosity=0)
    world = build_world(args)
    collect_static()
    print(
        f"Réemploi scale bench: {database}, Django {django.get_version()}, {os.cpu_count()} CPUs,"
        f" gunicorn {args.workers} sync workers on port {args.port}, DEBUG off;"
        f" {args.requests} timed requests per operation after {args.warmups} warm-ups;"
        f" this machine's speed: {python_loop_ms():.0f} ms for a Python loop of 1,000,000"
        " additions (best of 5), to compare figures taken on different machines"
    )
    by_size: dict[int, list[Result]] = {}
    try:
        for size in sorted(args.sizes):
            have = Device.objects.count()
            started = time.perf_counter()
            load(size, world, seed=args.seed, workers=args.load_workers)
            history = Device.history.count()
            print(
                f"\n== {size:,} devices ({history:,} device history rows): loaded"
                f" {size - have:,} in {time.perf_counter() - started:.0f} s; load average"
                f" {os.getloadavg()[0]:.1f}"
            )
            server = start_gunicorn(args)
            try:
                # Each row as soon as it is measured: a long run shows where it is.
                base = floor(args)
                print(TABLE_HEADER)
                print(table_row(base, base.median))
                results = []
                for operation in operations(args, world, size):
                    results.append(measure(operation, args))
                    print(table_row(results[-1], base.median))
                late = floor(args)
            finally:
                stop_gunicorn(server)
            print(f"floor again at the end: median {late.median:.1f} ms, p95 {late.p95:.1f} ms")
            by_size[size] = [base, *results]
            save(by_size[size], vendor=connection.vendor, size=size)
        if args.reuse:  # the smaller sizes a --keep run measured before, for the growth
            for size, results in saved(vendor=connection.vendor).items():
                by_size.setdefault(size, results)
            print(f"(load average after the measures: {os.getloadavg()[0]:.1f})")
        if len(by_size) > 1:
            print()
            print(growth_table(by_size))
    finally:
        if args.keep:
            print(f"\ndata kept for --reuse: {database}")
        else:
            empty_database(args)


if __name__ == "__main__":
    main()
