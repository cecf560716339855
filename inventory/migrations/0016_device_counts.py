"""Issue 10: devices per (custodian, status), kept by the lifecycle services, filled here from
the devices in one INSERT … SELECT … GROUP BY (an index-only scan of device_custody_status_idx
on PostgreSQL: a million devices are counted in about a second, table locked only for writes
to the new, still unused, counter table).

Devices moved by the previous version of the code between this migration and the new code's
start are not counted: run `manage.py device_counts --check` after the deployment (it fixes
them without --check)."""

import django.db.models.deletion
from django.db import migrations, models


def fill_from_devices(apps, schema_editor):
    DeviceCount = apps.get_model("inventory", "DeviceCount")
    Device = apps.get_model("inventory", "Device")
    quote = schema_editor.connection.ops.quote_name
    counts, devices = quote(DeviceCount._meta.db_table), quote(Device._meta.db_table)
    custodian, status = quote("custodian_id"), quote("status")
    schema_editor.execute(
        f"INSERT INTO {counts} ({custodian}, {status}, {quote('count')}) "  # noqa: S608 (names from the models)
        f"SELECT {custodian}, {status}, COUNT(*) FROM {devices} GROUP BY {custodian}, {status}"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0015_device_status_changed_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeviceCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("registered", "Registered at intake"),
                            ("sent_to_workshop", "Sent to a workshop"),
                            ("at_workshop", "At the workshop"),
                            ("in_reconditioning", "In reconditioning"),
                            ("ready", "Ready (in stock)"),
                            ("reserved", "Reserved for a need"),
                            ("given", "Given to a structure"),
                            ("on_loan", "On loan"),
                            ("returned", "Returned from loan"),
                            ("recycled", "Recycled (WEEE)"),
                            ("dismantled", "Dismantled for parts"),
                            ("returned_to_donor", "Returned to the donor"),
                            ("lost", "Lost or stolen"),
                        ],
                        max_length=20,
                        verbose_name="status",
                    ),
                ),
                ("count", models.BigIntegerField(default=0, verbose_name="devices")),
                (
                    "custodian",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="inventory.organisation",
                        verbose_name="custody",
                    ),
                ),
            ],
            options={
                "verbose_name": "device count",
                "verbose_name_plural": "device counts",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("custodian", "status"), name="devicecount_custodian_status_unique"
                    )
                ],
            },
        ),
        migrations.RunPython(fill_from_devices, migrations.RunPython.noop),
    ]
