"""Issue 13, the fund's figures: when a reconditioning cycle's device was received at the
workshop (turnaround runs from it to "ready"), filled for past cycles from the device's
history; and the indexes the period's figures read (devices that left as WEEE or parts, cycles
completed), built concurrently so that a live device table keeps its writes."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Coalesce

from inventory.migration_operations import AddIndexConcurrentlyWherePossible


def fill_received_at(apps, schema_editor):
    Reconditioning = apps.get_model("inventory", "Reconditioning")
    HistoricalDevice = apps.get_model("inventory", "HistoricalDevice")
    received = (
        HistoricalDevice.objects.filter(
            id=OuterRef("device_id"),
            history_change_reason="receive_at_workshop",
            history_date__lte=OuterRef("started_at"),
        )
        .order_by("-history_date")
        .values("history_date")[:1]
    )
    Reconditioning.objects.filter(received_at__isnull=True).update(
        received_at=Coalesce(Subquery(received), "started_at")
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inventory", "0024_organisation_public_body"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalreconditioning",
            name="received_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="received at"),
        ),
        migrations.AddField(
            model_name="reconditioning",
            name="received_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="received at"),
        ),
        migrations.RunPython(fill_received_at, migrations.RunPython.noop, atomic=True),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                condition=models.Q(("status__in", ["recycled", "dismantled"])),
                fields=["status_changed_at", "category"],
                name="device_exit_idx",
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="reconditioning",
            index=models.Index(fields=["completed_at", "outcome"], name="recond_completed_idx"),
        ),
    ]
