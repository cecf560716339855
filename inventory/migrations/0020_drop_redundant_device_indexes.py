"""Issue 10: a move or a status change writes an entry in every index of the device table (status
and custody are indexed, so the update is never HOT) and a history row in every index of the
historical table; at a million devices those indexes no longer fit in shared_buffers and each
entry may cost a read. Dropped here, concurrently (the tables keep their reads and writes):

- device_status_idx (status): device_status_created_idx begins with it;
- device_custody_status_idx (custodian, status) and the custodian's automatic index: the custody
  indexes of Device.Meta begin with them (the PROTECT check of an organisation's deletion
  included);
- device_imei1_idx (imei1): device_imei1_prefix_idx serves `=` as well as LIKE 'digits%', and
  device_imei1_unique any IMEI equality;
- device_serial_idx (serial_number): the one query it served, the duplicate check of
  registration and import (inventory.identity.registered_holders), reads the search's
  UPPER(serial_number) index instead;
- the `_like` twins of label_code and category (LIKE 'abc%' outside the C locale): no query
  runs a LIKE on either (the admin's search is a LIKE '%…%', which no btree serves), and the
  unique index and the plain category index serve their equalities;
- the historical table's indexes on category, custodian, donation, donor and label_code: no
  query reads the history by them, and the history has no foreign key constraints to check.

Kept: every unique constraint (they enforce data), the indexes of the lists, queue and home
pages, the search's, and the donor, donation and category indexes of the device table (the
lists' filters; the list by category reads the order index while a category is a few percent of
the devices, but a rare one would be read end to end without it).

tests/inventory/test_device_indexes.py lists the indexes each table keeps on PostgreSQL."""

from django.db import migrations, models
import django.db.models.deletion

from inventory.migration_operations import (
    AlterFieldIndexConcurrently,
    RemoveIndexConcurrentlyWherePossible,
    RemoveLikeIndexConcurrently,
)


def history_fk(to: str, verbose_name: str, **extra):
    return models.ForeignKey(
        blank=True,
        db_constraint=False,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.DO_NOTHING,
        related_name="+",
        to=to,
        verbose_name=verbose_name,
        **extra,
    )


class Migration(migrations.Migration):
    # DROP INDEX CONCURRENTLY cannot run in a transaction: a live table keeps its writes.
    atomic = False

    dependencies = [
        ("inventory", "0019_history_reason_custody_index"),
    ]

    operations = [
        RemoveIndexConcurrentlyWherePossible(model_name="device", name="device_status_idx"),
        RemoveIndexConcurrentlyWherePossible(model_name="device", name="device_custody_status_idx"),
        RemoveIndexConcurrentlyWherePossible(model_name="device", name="device_serial_idx"),
        RemoveIndexConcurrentlyWherePossible(model_name="device", name="device_imei1_idx"),
        AlterFieldIndexConcurrently(
            model_name="device",
            name="custodian",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="devices_in_custody",
                to="inventory.organisation",
                verbose_name="custody",
            ),
        ),
        RemoveLikeIndexConcurrently(model_name="device", name="label_code"),
        RemoveLikeIndexConcurrently(model_name="device", name="category"),
        AlterFieldIndexConcurrently(
            model_name="historicaldevice",
            name="category",
            field=history_fk("inventory.category", "category"),
        ),
        AlterFieldIndexConcurrently(
            model_name="historicaldevice",
            name="custodian",
            field=history_fk("inventory.organisation", "custody"),
        ),
        AlterFieldIndexConcurrently(
            model_name="historicaldevice",
            name="donation",
            field=history_fk("inventory.donation", "donation"),
        ),
        AlterFieldIndexConcurrently(
            model_name="historicaldevice",
            name="donor",
            field=history_fk(
                "inventory.organisation", "donor", limit_choices_to={"kind": "donor"}
            ),
        ),
        AlterFieldIndexConcurrently(
            model_name="historicaldevice",
            name="label_code",
            field=history_fk("inventory.labelcode", "label code", db_column="label_code"),
        ),
    ]
