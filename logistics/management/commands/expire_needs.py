"""Close the submitted needs nobody answered in time; meant to run daily (README: cron line).
A second run the same day finds nothing more to close."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from logistics.needs.services import needs_expire


class Command(BaseCommand):
    help = "Expire the submitted needs without an answer after REEMPLOI_NEEDS_EXPIRY_DAYS days."

    def handle(self, *args, **options):
        count = needs_expire()
        days = settings.REEMPLOI_NEEDS_EXPIRY_DAYS
        if not count:
            self.stdout.write(
                _("No submitted need has waited more than %(days)d days.") % {"days": days}
            )
            return
        self.stdout.write(
            ngettext(
                "%(count)d need expired (no answer within %(days)d days).",
                "%(count)d needs expired (no answer within %(days)d days).",
                count,
            )
            % {"count": count, "days": days}
        )
