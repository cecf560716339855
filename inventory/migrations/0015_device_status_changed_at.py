"""When each device entered its current status, on its own row: a workshop's queue reads it
from an index instead of looking each device up in the history."""

import django.utils.timezone
from django.db import migrations, models, transaction
from django.db.models import F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce

from inventory.migration_operations import AddIndexConcurrentlyWherePossible

# The queue's steps and the one move that enters each (logistics.shipments.selectors), frozen
# here: the queue's "since" was the latest history row of that move, else the last update.
QUEUE_MOVES = {
    "sent_to_workshop": "send_to_workshop",
    "at_workshop": "receive_at_workshop",
    "in_reconditioning": "start_reconditioning",
}
# Rows per transaction: a million devices are filled without locking them all at once
# (100,000 devices with 300,000 history rows took 10 s on PostgreSQL in one go).
BATCH = 10_000


def fill_from_history(apps, schema_editor):
    Device = apps.get_model("inventory", "Device")
    History = apps.get_model("inventory", "HistoricalDevice")
    last = Device.objects.aggregate(last=Max("pk"))["last"] or 0
    for start in range(0, last + 1, BATCH):
        devices = Device.objects.filter(pk__gte=start, pk__lt=start + BATCH)
        with transaction.atomic():
            # Outside the queue's steps the history gives no cheap answer: the last update is
            # the best bound kept on the row.
            devices.exclude(status__in=QUEUE_MOVES).update(status_changed_at=F("updated_at"))
            for status, action in QUEUE_MOVES.items():
                entered = (
                    History.objects.filter(
                        id=OuterRef("pk"), status=status, history_change_reason=action
                    )
                    .order_by("-history_date")
                    .values("history_date")[:1]
                )
                devices.filter(status=status).update(
                    status_changed_at=Coalesce(Subquery(entered), F("updated_at"))
                )


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction: a live table keeps its writes.
    # The filling commits batch by batch (fill_from_history).
    atomic = False

    dependencies = [
        ("inventory", "0014_device_model_trigram_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="status_changed_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now, verbose_name="status since"
            ),
        ),
        migrations.RunPython(fill_from_history, migrations.RunPython.noop, atomic=False),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                fields=["custodian", "status", "status_changed_at", "id"],
                name="device_custody_queue_idx",
            ),
        ),
    ]
