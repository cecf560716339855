"""Issue 10: the devices awaiting a WEEE disposal read from partial indexes of the waiting devices
only. A device keeps its "recycled" status after it left in a batch, so the list used to sort
every recycled device the channel ever had and drop those with a batch item (170 ms for the
coordination at a million devices, growing with the history). The flag is filled by logistics
0002, which knows the batches; the indexes are built concurrently (the table keeps its writes).
Adding a boolean column with a constant default rewrites nothing on PostgreSQL 11+."""

from django.db import migrations, models

from inventory.migration_operations import AddIndexConcurrentlyWherePossible


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY cannot run in a transaction: a live table keeps its writes.
    atomic = False

    dependencies = [
        ("inventory", "0020_drop_redundant_device_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="awaiting_disposal",
            field=models.BooleanField(
                default=False, editable=False, verbose_name="awaiting disposal"
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                condition=models.Q(awaiting_disposal=True),
                fields=["updated_at", "id"],
                name="device_awaiting_disposal_idx",
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                condition=models.Q(awaiting_disposal=True),
                fields=["custodian", "updated_at", "id"],
                name="device_custody_disposal_idx",
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                condition=models.Q(awaiting_disposal=True),
                fields=["category", "updated_at", "id"],
                name="device_category_disposal_idx",
            ),
        ),
        AddIndexConcurrentlyWherePossible(
            model_name="device",
            index=models.Index(
                condition=models.Q(awaiting_disposal=True),
                fields=["custodian", "category", "updated_at", "id"],
                name="device_cust_cat_disposal_idx",
            ),
        ),
    ]
