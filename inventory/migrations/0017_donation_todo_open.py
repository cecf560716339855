"""Issue 10: the coordination's to-do reads only the donations it can count (`todo_open`, a
partial index), instead of computing the certificate state of every donation ever received.

Every existing donation starts open; those already settled are closed here with a conservative
test on the frozen models (attestation complete, counts agreeing, a certificate covering every
medium erased). A settled donation this test leaves open costs only a little reading: the next
write on it closes it (inventory.documents.services.donation_todo_refresh)."""

from django.db import migrations, models
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

BATCH = 1000


def close_settled(apps, schema_editor):
    Donation = apps.get_model("inventory", "Donation")
    Device = apps.get_model("inventory", "Device")
    StorageMedium = apps.get_model("inventory", "StorageMedium")
    ErasureRecord = apps.get_model("inventory", "ErasureRecord")
    ErasureCertificate = apps.get_model("inventory", "ErasureCertificate")
    registered = (
        Device.objects.filter(donation=OuterRef("pk"))
        .order_by()
        .values("donation")
        .annotate(n=Count("id"))
        .values("n")
    )
    passed = ErasureRecord.objects.filter(medium=OuterRef("pk"), result="passed")
    erased = (
        StorageMedium.objects.filter(
            device__donation=OuterRef("pk"), device__category__holds_data=True
        )
        .filter(Exists(passed))
        .order_by()
        .values("device__donation")
        .annotate(n=Count("id", distinct=True))
        .values("n")
    )
    certified = (
        ErasureCertificate.objects.filter(donation=OuterRef("pk"))
        .order_by()
        .values("donation")
        .annotate(m=Max("media_count"))
        .values("m")
    )
    settled = (
        Donation.objects.filter(
            released_accounts=True,
            released_management=True,
            released_firmware=True,
            attested_on__isnull=False,
        )
        .exclude(attested_by="")
        .annotate(
            registered=Coalesce(Subquery(registered), 0),
            erased=Coalesce(Subquery(erased), 0),
            certified=Coalesce(Subquery(certified), 0),
        )
        .filter(
            Q(received_count__isnull=True)
            | (
                Q(registered=F("received_count"))
                & (Q(expected_count__isnull=True) | Q(expected_count=F("received_count")))
            )
        )
        .filter(erased__lte=F("certified"))
    )
    ids = list(settled.values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        Donation.objects.filter(pk__in=ids[start : start + BATCH]).update(todo_open=False)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0016_device_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="donation",
            name="todo_open",
            field=models.BooleanField(
                default=True, editable=False, verbose_name="on the coordination's to-do"
            ),
        ),
        migrations.RunPython(close_settled, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="donation",
            index=models.Index(
                condition=models.Q(("todo_open", True)),
                fields=["id"],
                name="donation_todo_open_idx",
            ),
        ),
    ]
