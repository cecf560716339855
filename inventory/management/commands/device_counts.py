"""Recount the devices per custody and status, compare with the counters the home pages read,
and fix any drift (or, with --check, only report it and exit 1: for monitoring)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.counts import device_counts_recount
from inventory.models import Organisation


class Command(BaseCommand):
    help = (
        "Recount the devices per custody and status and fix the counters read by the home "
        "pages; --check only reports the drift and exits with status 1 if there is any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="report the drift, fix nothing, exit 1 if any"
        )

    def handle(self, *args, **options):
        check = options["check"]
        drift = device_counts_recount(fix=not check)
        if not drift:
            self.stdout.write(_("Device counters are right: no drift."))
            return
        names = dict(
            Organisation.objects.filter(pk__in={d.custodian_id for d in drift}).values_list(
                "pk", "name"
            )
        )
        self.stdout.write("custodian_id\tcustodian\tstatus\tcounter\tdevices\tdrift")  # TSV
        for d in drift:
            name = names.get(d.custodian_id, "?")
            self.stdout.write(
                f"{d.custodian_id}\t{name}\t{d.status}\t{d.stored}\t{d.actual}\t"
                f"{d.stored - d.actual:+d}"
            )
        if check:
            raise CommandError(
                ngettext(
                    "%(count)s device counter differs from the devices (nothing fixed).",
                    "%(count)s device counters differ from the devices (nothing fixed).",
                    len(drift),
                )
                % {"count": len(drift)},
                returncode=1,
            )
        self.stdout.write(
            ngettext(
                "%(count)s device counter fixed.",
                "%(count)s device counters fixed.",
                len(drift),
            )
            % {"count": len(drift)}
        )
