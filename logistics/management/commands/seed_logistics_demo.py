"""Add the demo's shipment and WEEE disposal, after `seed_demo`; a second run writes nothing."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from inventory.errors import DomainError
from logistics.demo import DemoMissing, logistics_demo_present, logistics_demo_seed


class Command(BaseCommand):
    help = "Add a demo shipment, a demo WEEE disposal and demo needs (after seed_demo)."

    def handle(self, *args, **options):
        if logistics_demo_present():
            self.stdout.write(
                _("Shipments, disposals or needs already exist: nothing was written.")
            )
            return
        try:
            summary = logistics_demo_seed()
        except DemoMissing as error:
            raise CommandError(_("Load the demo first: python manage.py seed_demo")) from error
        except DomainError as error:
            raise CommandError(str(error.message)) from error
        self.stdout.write(
            _(
                "Demo logistics: %(shipped)d devices shipped to the workshop (%(received)d "
                "received), %(disposed)d recycled devices handed to an éco-organisme, "
                "%(needs)d needs declared by structures, %(allocated)d devices allocated by "
                "approved matching runs, %(handed)d handed over to structures."
            )
            % {
                "shipped": summary.shipped,
                "received": summary.received,
                "disposed": summary.disposed,
                "needs": summary.needs,
                "allocated": summary.allocated,
                "handed": summary.handed_over,
            }
        )
