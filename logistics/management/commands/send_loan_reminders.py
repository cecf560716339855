"""Send the loans' e-mail reminders (a week before the due date, on the day, a week and a month
late); meant to run daily (README: cron line). Each loan gets one reminder per stage and due
date: a second run the same day sends nothing new."""

import argparse
import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from logistics.loans.services import loan_reminders_send


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(_("Give the date as YYYY-MM-DD.")) from err


class Command(BaseCommand):
    help = "Send the e-mail reminders of the loans due soon or overdue (once per stage)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=_date,
            default=None,
            help="The day to act as (YYYY-MM-DD), today by default: to catch up a missed run.",
        )

    def handle(self, *args, date=None, **options):
        counts = loan_reminders_send(today=date)
        self.stdout.write(
            _(
                "Reminders sent: %(sent)d; already sent before: %(already)d; "
                "no e-mail address: %(no_recipient)d; failed (retried next run): %(failed)d."
            )
            % counts
        )
        if counts["failed"]:
            # A non-zero exit, so that cron or the systemd unit reports the failure.
            raise CommandError(
                ngettext(
                    "%(failed)d reminder could not be sent: see the log.",
                    "%(failed)d reminders could not be sent: see the log.",
                    counts["failed"],
                )
                % counts
            )
