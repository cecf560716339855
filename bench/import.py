"""Import figures: the seconds to preview and to import a donor's spreadsheet of 5,000 rows.

Run from the repository root: `.venv/bin/python bench/import.py [--rows 5000]`. It always runs
on a fresh SQLite file in a temporary directory, and again on PostgreSQL when DATABASE_URL is
set (in a dedicated database created and dropped on that server, as bench/lifecycle.py does).
Each database gets its own process, since Django is set up once per process.
"""

import argparse
import os
import random
import subprocess
import sys
import time

import lifecycle  # the sibling bench: database preparation and Django setup are shared


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows in the spreadsheet")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the rows")
    parser.add_argument(
        "--bench-db", default="reemploi_bench_import", help="PostgreSQL only: the database"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="PostgreSQL only: drop the bench database first if a previous run left it",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def spreadsheet(rows: int, seed: int) -> bytes:
    """A French donor's CSV: semicolons, BOM, laptops, screens and phones with their IMEI."""
    from inventory.codes import luhn_check_digit

    rng = random.Random(seed)
    lines = ["Catégorie;Marque;Modèle;N° de série;IMEI;RAM (Go);Stockage (Go);Remarques"]
    for index in range(rows):
        kind = rng.random()
        if kind < 0.6:
            brand, model = rng.choice([("Dell", "Latitude 5490"), ("Lenovo", "ThinkPad T480")])
            ram = rng.choice([4, 8, 16])
            lines.append(f"PC portable;{brand};{model};PF{index:07d};;{ram} Go;256;")
        elif kind < 0.8:
            lines.append(f"Écran;HP;P24 G4;CN{index:07d};;;;rayure légère")
        else:
            body = f"{35209900000000 + index:014d}"
            imei = body + luhn_check_digit(body)
            lines.append(f"Smartphone;Samsung;Galaxy A52;;{imei};6;128;")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def spreadsheet_xlsx(csv_content: bytes) -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for line in csv_content.decode("utf-8-sig").splitlines():
        sheet.append(line.split(";"))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(args, database: str) -> None:
    import secrets

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from inventory.intake.services import devices_import, donation_create, donor_create
    from inventory.models import Device, Organisation, Role
    from inventory.services import membership_set, organisation_save
    from inventory.states import OrgKind

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        database = database.replace("SQLite", f"SQLite {connection.Database.sqlite_version}", 1)
    coordinator = get_user_model().objects.create_user(
        "bench-coordinator", password=secrets.token_hex(16)
    )
    organisation = organisation_save(
        actor=coordinator,
        organisation=Organisation(name="Coordination (bench)", kind=OrgKind.COORDINATOR),
    )
    membership_set(
        actor=coordinator, user=coordinator, organisation=organisation, role=Role.MANAGER
    )
    donor = donor_create(actor=coordinator, name="Donateur (bench)")
    donation = donation_create(actor=coordinator, donor=donor, received_on=timezone.localdate())

    content = spreadsheet(args.rows, args.seed)
    started = time.perf_counter()
    preview = devices_import(
        actor=coordinator, donation=donation, file_name="bench.csv", content=content, dry_run=True
    )
    preview_seconds = time.perf_counter() - started
    assert preview.ok, preview.errors[:5]
    # The same rows as an Excel file, previewed while the database is still empty.
    xlsx = spreadsheet_xlsx(content)
    started = time.perf_counter()
    xlsx_preview = devices_import(
        actor=coordinator, donation=donation, file_name="bench.xlsx", content=xlsx, dry_run=True
    )
    xlsx_seconds = time.perf_counter() - started
    assert xlsx_preview.ok and xlsx_preview.row_count == args.rows, xlsx_preview.errors[:5]
    started = time.perf_counter()
    result = devices_import(
        actor=coordinator, donation=donation, file_name="bench.csv", content=content
    )
    import_seconds = time.perf_counter() - started
    assert result.row_count == args.rows == Device.objects.count()
    assert Device.history.count() == args.rows

    print(f"  database  {database}")
    print(f"  file      {len(content) / 1024:,.0f} kB CSV, {args.rows:,} rows")
    lines = [
        ("preview (read and check, dry run)", preview_seconds, ""),
        (
            "import (read, check, write)",
            import_seconds,
            f"{args.rows / import_seconds:,.0f} rows/s",
        ),
        ("preview of the same rows as .xlsx", xlsx_seconds, f"{len(xlsx) / 1024:,.0f} kB"),
    ]
    for label, seconds, note in lines:
        print(f"  {label:<36}{seconds:6.2f} s  {note}".rstrip())


def child(args) -> None:
    database, cleanup = lifecycle.prepare_database(args)
    try:
        lifecycle.setup_django()
        run(args, database)
    finally:
        cleanup()


def main() -> None:
    args = parse_args()
    if args.rows < 1:
        sys.exit("--rows must be positive.")
    if args.child:
        child(args)
        return
    print("Réemploi import benchmark: devices_import of one donor's spreadsheet")
    command = [sys.executable, __file__, "--child", *sys.argv[1:]]
    targets = [{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}]
    if os.environ.get("DATABASE_URL"):
        targets.append(dict(os.environ))
    failed = False
    for environment in targets:
        failed |= subprocess.run(command, env=environment, check=False).returncode != 0  # noqa: S603
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
