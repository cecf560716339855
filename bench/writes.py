"""Write figures: median and p95 time and statements of each write and scan path, through the
app's own code path (URL routing, middleware, authentication, views, serializers, services),
in process with Django's test client, on a table of --devices devices.

Paths: register (API and web form), a move (API and web form, custody to a workshop), a status
change (API), a scan (API, with a client id), a batch scan (API, per scan) and the pre-print of
1,000 label codes (the service). The statement count is what Django logs, BEGIN and COMMIT
included (SQLite's BEGIN IMMEDIATE, PostgreSQL's BEGIN with psycopg 3).

Run from the repository root: `.venv/bin/python bench/writes.py [--devices 10000] [--samples 300]`.
Same database handling as bench/lifecycle.py: a temporary SQLite file, or a dedicated
PostgreSQL database created and dropped when DATABASE_URL is set (--bench-db names it).
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.lifecycle import percentile, prepare_database, setup_django  # noqa: E402

BATCH = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000, help="devices in the table")
    parser.add_argument("--samples", type=int, default=300, help="timed requests per path")
    parser.add_argument("--preprints", type=int, default=10, help="pre-prints of 1,000 codes")
    parser.add_argument("--bench-db", default="reemploi_bench_writes")
    parser.add_argument("--replace", action="store_true")
    return parser.parse_args()


def run(args) -> list[tuple]:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from inventory.codes import generate_label_code
    from inventory.models import Category, Device, LabelCode, Membership, Organisation, Role
    from inventory.services import label_codes_preprint
    from inventory.states import OrgKind, Status

    call_command("migrate", verbosity=0)
    User = get_user_model()
    coordination = Organisation.objects.create(name="Coordination", kind=OrgKind.COORDINATOR)
    workshop = Organisation.objects.create(name="ECODAIR", kind=OrgKind.WORKSHOP)
    donor = Organisation.objects.create(name="Donateur", kind=OrgKind.DONOR)
    coordinator = User.objects.create_user("coord", password=None)
    Membership.objects.create(user=coordinator, organisation=coordination, role=Role.MANAGER)
    bench_user = User.objects.create_user("bench", password=None)
    Membership.objects.create(user=bench_user, organisation=workshop, role=Role.MEMBER)
    categories = list(Category.objects.all())
    laptop = Category.objects.get(code="laptop")
    rng = random.Random(7)

    def insert(count: int, *, custodian, status, category=None) -> list[Device]:
        """Devices in bulk (no history: only the timed paths write it)."""
        made: list[Device] = []
        for start in range(0, count, 5000):
            size = min(5000, count - start)
            codes: set[str] = set()
            while len(codes) < size:
                codes.add(generate_label_code())
            codes -= set(LabelCode.objects.filter(code__in=codes).values_list("code", flat=True))
            with transaction.atomic():
                LabelCode.objects.bulk_create([LabelCode(code=code) for code in codes])
                made += Device.objects.bulk_create(
                    Device(
                        label_code_id=code,
                        category=category or rng.choice(categories),
                        manufacturer="Dell",
                        model_name="Latitude 5490",
                        donor=donor,
                        custodian=custodian,
                        status=status,
                    )
                    for code in codes
                )
        return made

    samples = args.samples
    insert(args.devices // 2, custodian=workshop, status=Status.AT_WORKSHOP)
    insert(args.devices // 2, custodian=coordination, status=Status.REGISTERED)
    to_send_api = insert(samples, custodian=coordination, status=Status.REGISTERED)
    to_send_web = insert(samples, custodian=coordination, status=Status.REGISTERED)
    to_start = insert(samples, custodian=workshop, status=Status.AT_WORKSHOP, category=laptop)
    to_scan = insert(samples, custodian=workshop, status=Status.AT_WORKSHOP)
    batches = max(10, samples // BATCH)
    to_receive = insert(batches * BATCH + 1, custodian=workshop, status=Status.SENT_TO_WORKSHOP)
    connection.close()

    coord_api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=coordinator)}")
    bench_api = Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=bench_user)}")
    coord_web = Client()
    coord_web.force_login(coordinator)
    for client in (coord_api, bench_api):
        client.get("/api/organisations/")
    coord_web.get("/api/organisations/")  # the pages need collected static files

    def post_json(client, url, body, expect):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == expect, (url, response.status_code, response.content[:300])
        return response

    def measure(name: str, calls, per: int = 1) -> tuple:
        """Time each call; count the statements of one more, taken from the middle."""
        times = []
        counted = None
        for index, call in enumerate(calls):
            if index == len(calls) // 2:
                with CaptureQueriesContext(connection) as captured:
                    call()
                counted = len(captured)
                continue
            start = time.perf_counter()
            call()
            times.append((time.perf_counter() - start) * 1000 / per)
        row = (name, statistics.median(times), percentile(times, 0.95), counted, per)
        print(f"  {name:<44}{row[1]:>9.2f}{row[2]:>9.2f}{counted:>8}", flush=True)
        return row

    print(f"  {'path':<44}{'median':>9}{'p95':>9}{'stmts':>8}   (ms per operation)")
    rows = []
    rows.append(
        measure(
            "register, API (POST /api/devices/)",
            [
                lambda i=i: post_json(
                    coord_api,
                    "/api/devices/",
                    {
                        "category": "laptop",
                        "manufacturer": "Dell",
                        "serial_number": f"API-{i}",
                        "donor": donor.pk,
                    },
                    201,
                )
                for i in range(samples)
            ],
        )
    )
    rows.append(
        measure(
            "register, API with Idempotency-Key",
            [
                lambda i=i: coord_api.post(
                    "/api/devices/",
                    {"category": "laptop", "manufacturer": "Dell", "serial_number": f"KEY-{i}"},
                    content_type="application/json",
                    HTTP_IDEMPOTENCY_KEY=f"key-{i}",
                )
                for i in range(samples)
            ],
        )
    )

    def web_register(i):
        form = {
            "category": "laptop",
            "manufacturer": "Dell",
            "serial_number": f"WEB-{i}",
            "custodian": coordination.pk,
        }
        assert coord_web.post("/devices/new/", form).status_code == 302
        # The message for the next page, never shown here: left to pile up, it would overflow
        # its cookie into the session and add a session write to every request.
        coord_web.cookies.pop("messages", None)

    rows.append(
        measure("register, web form", [lambda i=i: web_register(i) for i in range(samples)])
    )
    rows.append(
        measure(
            "move, API (send to a workshop)",
            [
                lambda d=d: post_json(
                    coord_api,
                    f"/api/devices/{d.pk}/transition/",
                    {"action": "send_to_workshop", "target": workshop.pk},
                    200,
                )
                for d in to_send_api
            ],
        )
    )

    def web_move(device):
        form = {"action": "send_to_workshop", "target": workshop.pk}
        assert coord_web.post(f"/devices/{device.pk}/move/", form).status_code == 302
        coord_web.cookies.pop("messages", None)

    rows.append(measure("move, web form", [lambda d=d: web_move(d) for d in to_send_web]))
    rows.append(
        measure(
            "status change, API (start reconditioning)",
            [
                lambda d=d: post_json(
                    bench_api,
                    f"/api/devices/{d.pk}/transition/",
                    {"action": "start_reconditioning"},
                    200,
                )
                for d in to_start
            ],
        )
    )
    rows.append(
        measure(
            "scan, API (POST /api/scan/)",
            [
                lambda i=i, d=d: post_json(
                    bench_api,
                    "/api/scan/",
                    {"raw": d.label_code_id.lower(), "client_id": f"scan-{i}"},
                    200,
                )
                for i, d in enumerate(to_scan)
            ],
        )
    )

    def batch(index):
        devices = to_receive[1 + index * BATCH : 1 + (index + 1) * BATCH]
        body = {
            "action": "receive_at_workshop",
            "scans": [
                {"client_id": f"batch-{index}-{n}", "raw": d.label_code_id}
                for n, d in enumerate(devices)
            ],
        }
        response = post_json(bench_api, "/api/scan/batch/", body, 200)
        assert response.json()["summary"]["applied"] == BATCH

    rows.append(
        measure(
            f"batch scan, API (per scan, batches of {BATCH})",
            [lambda i=i: batch(i) for i in range(batches)],
            per=BATCH,
        )
    )
    rows.append(
        measure(
            "pre-print of 1,000 codes (service)",
            [
                lambda: label_codes_preprint(actor=coordinator, count=1000)
                for _ in range(args.preprints)
            ],
        )
    )
    return rows


def main() -> None:
    args = parse_args()
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SECURE_SSL_REDIRECT"] = "0"
    description, cleanup = prepare_database(args)
    try:
        setup_django()
        print(f"  database  {description}")
        print(f"  devices   {args.devices:,} in the table, {args.samples} samples per path")
        run(args)
        print("  stmts: statements of one request (batch: of the whole batch of 20)")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
