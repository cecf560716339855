"""Import a donor's spreadsheet from the command line into a new donation.

Donor (found by name, created if new), donation and devices in one transaction: a file with one
bad row leaves no donation behind either. The report goes to stderr, row by row.
"""

from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.errors import DomainError
from inventory.intake import selectors as intake_selectors
from inventory.intake import services as intake


class DryRunDone(Exception):
    """Raised at the end of a dry run to roll back the donor and donation it created."""


class Command(BaseCommand):
    help = (
        "Import a donor's spreadsheet (CSV or .xlsx) into a new donation: all the devices or "
        "none. The donor is found by name, or created."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the spreadsheet: .csv (comma or semicolon) or .xlsx")
        parser.add_argument("--donor", required=True, help="the donor's name (any case)")
        parser.add_argument(
            "--date",
            type=date.fromisoformat,
            default=None,
            help="date of the donation, YYYY-MM-DD (default: today)",
        )
        parser.add_argument(
            "--user", help="username of the acting user (default: the first active superuser)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and write nothing"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        actor = self._actor(options["user"])
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc}
            ) from exc
        # Refused before reading: the service would refuse the bytes anyway, after loading them.
        if size > intake.import_max_bytes():
            raise CommandError(
                _("The file is larger than %(size)s MB: split it into several files.")
                % {"size": f"{intake.import_max_bytes() / 1024 / 1024:g}"}
            )
        content = path.read_bytes()
        received_on = options["date"] or timezone.localdate()
        donor_name = " ".join(options["donor"].split())
        try:
            with transaction.atomic():
                result, created, donation = self._import(
                    actor, donor_name, received_on, path.name, content, options["dry_run"]
                )
                if options["dry_run"]:
                    raise DryRunDone
        except DryRunDone:
            self._report(result)
            if created:
                self.stdout.write(_("Donor “%(name)s” would be created.") % {"name": donor_name})
            self.stdout.write(
                ngettext(
                    "Dry run: %(count)s device would be imported. Nothing was written.",
                    "Dry run: %(count)s devices would be imported. Nothing was written.",
                    result.row_count,
                )
                % {"count": result.row_count}
            )
            return
        except DomainError as err:
            failed = err.params.get("result")
            if failed is not None:
                self._report(failed)
            raise CommandError(f"{err.code}: {err.message}") from err
        if created:
            self.stdout.write(_("Donor “%(name)s” created.") % {"name": donation.donor.name})
        self.stdout.write(
            ngettext(
                "%(count)s device imported into donation %(reference)s (%(donor)s, %(date)s).",
                "%(count)s devices imported into donation %(reference)s (%(donor)s, %(date)s).",
                result.row_count,
            )
            % {
                "count": result.row_count,
                "reference": donation.reference,
                "donor": donation.donor.name,
                "date": donation.received_on.isoformat(),
            }
        )

    def _actor(self, username: str | None):
        users = get_user_model().objects.filter(is_active=True)
        if username:
            actor = users.filter(username=username).first()
            if actor is None:
                raise CommandError(_("No active user named %(name)s.") % {"name": username})
            return actor
        actor = users.filter(is_superuser=True).order_by("pk").first()
        if actor is None:
            raise CommandError(_("No active superuser: name the acting user with --user."))
        return actor

    def _import(self, actor, donor_name, received_on, file_name, content, dry_run):
        donor = intake_selectors.donor_by_name(donor_name)
        created = donor is None
        if created:
            donor = intake.donor_create(actor=actor, name=donor_name)
        donation = intake.donation_create(actor=actor, donor=donor, received_on=received_on)
        result = intake.devices_import(
            actor=actor, donation=donation, file_name=file_name, content=content, dry_run=dry_run
        )
        if dry_run and result.errors:
            raise DomainError(
                "import_invalid",
                _("The file has errors: nothing was imported."),
                status=400,
                errors=result.errors,
                result=result,
            )
        return result, created, donation

    def _report(self, result) -> None:
        if result.ignored_columns:
            self.stdout.write(
                _("Columns ignored: %(columns)s") % {"columns": ", ".join(result.ignored_columns)}
            )
        if result.errors:
            self.stderr.write("row\tcolumn\tcode\treason")  # a TSV header, for tools
        for error in result.errors:
            row = error.row if error.row is not None else "-"
            self.stderr.write(f"{row}\t{error.column or '-'}\t{error.code}\t{error.reason}")
