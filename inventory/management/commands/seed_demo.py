"""Load the demo network (organisations, one account per role, devices with their history).

All or nothing, in one transaction; run again, it finds the demo there and writes nothing.
"""

import ipaddress
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError
from django.utils.translation import gettext as _

from inventory.demo.address import binds_all_interfaces, demo_url
from inventory.demo.seed import (
    ACCOUNTS,
    ADMIN,
    DEFAULT_DEVICES,
    SEED,
    DemoConflict,
    demo_admin_unchanged,
    demo_present,
    demo_seed,
)
from inventory.errors import DomainError
from inventory.states import Status

DEFAULT_HOST = "127.0.0.1:8000"  # runserver's and the Makefile's default


class Command(BaseCommand):
    help = (
        "Create the demo data: the Hauts-de-Seine network, one account per role and a few "
        "hundred devices with a believable history. Does nothing if the demo is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--devices",
            type=int,
            default=DEFAULT_DEVICES,
            help=f"how many devices (at least {len(Status)}, one per status; default "
            f"{DEFAULT_DEVICES})",
        )
        parser.add_argument(
            "--seed", type=int, default=SEED, help="random seed: the same seed, the same data"
        )

    def handle(self, *args, **options):
        if demo_present():
            self.stdout.write(_("The demo data is already there: nothing was written."))
            self._accounts(admin_created=demo_admin_unchanged())
            return
        if options["devices"] < len(Status):
            raise CommandError(
                _("--devices must be at least %(count)d (one per status).") % {"count": len(Status)}
            )
        started = time.perf_counter()
        try:
            summary = demo_seed(devices=options["devices"], seed=options["seed"])
        except DemoConflict as error:
            raise CommandError(
                _("Cannot load the demo data (%(reason)s); nothing was written.")
                % {"reason": error}
            ) from None
        except (DomainError, ValidationError, IntegrityError) as error:
            raise CommandError(
                _("The demo data could not be loaded, nothing was written: %(error)s")
                % {"error": error}
            ) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Demo data created in %(seconds).1f s: %(organisations)d organisations "
                    "(%(structures)d structures in %(territories)d territories), %(users)d "
                    "users, %(devices)d devices with %(rows)d history entries."
                )
                % {
                    "seconds": elapsed,
                    "organisations": summary.organisations,
                    "structures": summary.structures,
                    "territories": summary.territories,
                    "users": summary.users,
                    "devices": summary.devices,
                    "rows": summary.history_rows,
                }
            )
        )
        self.stdout.write(_("Devices per status:"))
        for status in Status:
            self.stdout.write(f"  {status.label:<32} {summary.statuses.get(status, 0):>4}")
        self._accounts(admin_created=summary.admin_created)

    def _accounts(self, *, admin_created: bool) -> None:
        host = settings.DEMO_HOST or DEFAULT_HOST
        site = settings.DEMO_URL or demo_url(DEFAULT_HOST)
        self.stdout.write("")
        if settings.DEMO_HOST:  # make demo starts the server right after
            self.stdout.write(_("Sign in at %(url)s") % {"url": site})
        else:
            self.stdout.write(
                _("Start the server (python manage.py runserver %(host)s) and sign in at %(url)s")
                % {"host": host, "url": site}
            )
        for line in _reach(host, site):
            self.stdout.write(line)
        rows = [(a.role_label, a.username, a.password, a.organisation) for a in ACCOUNTS]
        admin_password = ADMIN.password if admin_created else _("(existing account, unchanged)")
        rows.append((ADMIN.role_label, ADMIN.username, admin_password, f"{site}admin/"))
        header = (_("role"), _("username"), _("password"), _("organisation"))
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  " + "  ".join([*cells, str(row[3])]))
        self.stdout.write(
            self.style.WARNING(
                _(
                    "These passwords are for the demo only: never load the demo data on a "
                    "server that others can reach."
                )
            )
        )


def _reach(host: str, site: str) -> list[str]:
    """Who can open the demo at that address, and what its labels encode."""
    lines = []
    hostname = urlsplit(site).hostname or ""
    if binds_all_interfaces(host) and not ipaddress.ip_address(hostname).is_loopback:
        lines.append(_("Phones and computers on the same network open it at that address too."))
    elif binds_all_interfaces(host):
        lines.append(_("No network address was found: only this computer can open it."))
    else:
        lines.append(
            _(
                "Only this computer can open it; for phones on the same network (to scan the "
                "labels), run: make demo HOST=0.0.0.0:%(port)s"
            )
            % {"port": urlsplit(site).port}
        )
    if site != settings.SITE_URL + "/":
        lines.append(_("Labels encode %(url)s (SITE_URL).") % {"url": settings.SITE_URL})
    return lines
