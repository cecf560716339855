"""Marks the devices awaiting a WEEE disposal (inventory 0021's flag): recycled, and in no batch.
Here and not in inventory, which knows nothing of the batches.

The first UPDATE reads the recycled devices from their status index and writes only those in no
batch; recycled is a terminal status, so no move waits for the rows it locks. A disposal that
commits while it runs is invisible to its snapshot: the second UPDATE, with a snapshot of its
own, clears the flag of any device that has a batch item by then.

Then PostgreSQL's statistics learn the new column: the fill changes too few rows (a few per cent)
for autovacuum to analyse the table soon, and without them the planner guesses that half the
devices await a disposal (500,000 rows instead of 6,600 at a million devices)."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def fill(apps, schema_editor):
    Device = apps.get_model("inventory", "Device")
    DisposalItem = apps.get_model("logistics", "DisposalItem")
    item = DisposalItem.objects.filter(device=OuterRef("pk"))
    Device.objects.filter(status="recycled", awaiting_disposal=False).exclude(Exists(item)).update(
        awaiting_disposal=True
    )
    Device.objects.filter(awaiting_disposal=True).filter(Exists(item)).update(
        awaiting_disposal=False
    )


def analyze(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Reads a sample of the table; takes no lock that stops its reads or writes.
        schema_editor.execute("ANALYZE inventory_device")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0021_device_awaiting_disposal"),
        ("logistics", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
