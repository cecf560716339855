"""Issue 11: a device is reserved only by an allocation now. A device reserved before (through the
device page, with no need and no structure behind it) is released: ready again, with a history
row that says why, and the home pages' counters moved with it. The coordination reserves it
again, if it still should, by approving a matching run.

Devices are read and changed in chunks of 1,000, each chunk's history rows written in one INSERT;
the counters move by the chunk's devices per custodian."""

from collections import Counter

from django.db import migrations
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

CHUNK = 1000
NOTE = (
    "Réservation sans attribution levée à la mise à jour : les réservations passent désormais "
    "par les attributions (rapprochement besoins-stock)."
)


def release(apps, schema_editor):
    Device = apps.get_model("inventory", "Device")
    HistoricalDevice = apps.get_model("inventory", "HistoricalDevice")
    DeviceCount = apps.get_model("inventory", "DeviceCount")
    Allocation = apps.get_model("logistics", "Allocation")
    active = Allocation.objects.filter(device=OuterRef("pk"), status="active")
    orphans = Device.objects.filter(status="reserved").exclude(Exists(active)).order_by("pk")
    tracked = [
        field.attname
        for field in HistoricalDevice._meta.concrete_fields
        if not field.attname.startswith("history_")
    ]
    while True:
        chunk = list(orphans.values(*tracked)[:CHUNK])
        if not chunk:
            break
        now = timezone.now()
        ids = [row["id"] for row in chunk]
        Device.objects.filter(pk__in=ids, status="reserved").update(
            status="ready", status_changed_at=now, updated_at=now
        )
        HistoricalDevice.objects.bulk_create(
            HistoricalDevice(
                **(row | {"status": "ready"}),
                history_date=now,
                history_type="~",
                history_change_reason="release_reservation",
                history_note=NOTE,
                history_user=None,
            )
            for row in chunk
        )
        for custodian, count in Counter(row["custodian_id"] for row in chunk).items():
            DeviceCount.objects.filter(custodian_id=custodian, status="reserved").update(
                count=F("count") - count
            )
            moved = DeviceCount.objects.filter(custodian_id=custodian, status="ready").update(
                count=F("count") + count
            )
            if not moved:
                DeviceCount.objects.create(custodian_id=custodian, status="ready", count=count)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0023_organisation_directory_ids"),
        ("logistics", "0004_allocations"),
    ]

    operations = [migrations.RunPython(release, migrations.RunPython.noop)]
