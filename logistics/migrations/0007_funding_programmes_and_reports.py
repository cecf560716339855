"""Issue 13: funding programmes (an allocation counts in one), and the fund's frozen reports."""

import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0025_reconditioning_received_and_exit_indexes"),
        ("logistics", "0006_deliveries_handovers_loans"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FundingProgramme",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("starts_on", models.DateField(verbose_name="start")),
                ("ends_on", models.DateField(verbose_name="end")),
                (
                    "target_devices",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="target (devices)"
                    ),
                ),
                (
                    "target_budget",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=12,
                        null=True,
                        verbose_name="target (budget, €)",
                    ),
                ),
                (
                    "territories",
                    models.JSONField(
                        blank=True, default=list, verbose_name="eligible territories (EPT)"
                    ),
                ),
                (
                    "structure_types",
                    models.JSONField(
                        blank=True, default=list, verbose_name="eligible structure types"
                    ),
                ),
                (
                    "publics",
                    models.JSONField(blank=True, default=list, verbose_name="eligible publics"),
                ),
                (
                    "purposes",
                    models.JSONField(blank=True, default=list, verbose_name="eligible purposes"),
                ),
                (
                    "is_active",
                    models.BooleanField(default=True, verbose_name="open to new allocations"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created at")),
                ("version", models.PositiveIntegerField(default=1, verbose_name="version")),
                (
                    "funder",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="programmes",
                        to="inventory.organisation",
                        verbose_name="funder",
                    ),
                ),
            ],
            options={
                "verbose_name": "funding programme",
                "verbose_name_plural": "funding programmes",
                "ordering": ["-starts_on", "name", "id"],
            },
        ),
        migrations.AddField(
            model_name="allocation",
            name="programme",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="allocations",
                to="logistics.fundingprogramme",
                verbose_name="funding programme",
            ),
        ),
        migrations.AddField(
            model_name="historicalallocation",
            name="programme",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="logistics.fundingprogramme",
                verbose_name="funding programme",
            ),
        ),
        migrations.CreateModel(
            name="FundReport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("period_start", models.DateField(verbose_name="from")),
                ("period_end", models.DateField(verbose_name="to")),
                ("figures", models.JSONField(verbose_name="figures")),
                (
                    "figures_sha256",
                    models.CharField(max_length=64, verbose_name="SHA-256 of the figures"),
                ),
                ("pdf_file", models.CharField(max_length=200, verbose_name="PDF file")),
                ("pdf_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the PDF")),
                ("csv_file", models.CharField(max_length=200, verbose_name="CSV file")),
                ("csv_sha256", models.CharField(max_length=64, verbose_name="SHA-256 of the CSV")),
                ("xlsx_file", models.CharField(max_length=200, verbose_name="XLSX file")),
                (
                    "xlsx_sha256",
                    models.CharField(max_length=64, verbose_name="SHA-256 of the XLSX"),
                ),
                (
                    "verification_code",
                    models.CharField(max_length=20, unique=True, verbose_name="verification code"),
                ),
                ("issued_at", models.DateTimeField(auto_now_add=True, verbose_name="issued at")),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="issued by",
                    ),
                ),
                (
                    "programme",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reports",
                        to="logistics.fundingprogramme",
                        verbose_name="programme",
                    ),
                ),
            ],
            options={
                "verbose_name": "fund report",
                "verbose_name_plural": "fund reports",
                "ordering": ["-issued_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalFundingProgramme",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                ("history_note", models.TextField(blank=True, verbose_name="note")),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("starts_on", models.DateField(verbose_name="start")),
                ("ends_on", models.DateField(verbose_name="end")),
                (
                    "target_devices",
                    models.PositiveIntegerField(
                        blank=True, null=True, verbose_name="target (devices)"
                    ),
                ),
                (
                    "target_budget",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=12,
                        null=True,
                        verbose_name="target (budget, €)",
                    ),
                ),
                (
                    "territories",
                    models.JSONField(
                        blank=True, default=list, verbose_name="eligible territories (EPT)"
                    ),
                ),
                (
                    "structure_types",
                    models.JSONField(
                        blank=True, default=list, verbose_name="eligible structure types"
                    ),
                ),
                (
                    "publics",
                    models.JSONField(blank=True, default=list, verbose_name="eligible publics"),
                ),
                (
                    "purposes",
                    models.JSONField(blank=True, default=list, verbose_name="eligible purposes"),
                ),
                (
                    "is_active",
                    models.BooleanField(default=True, verbose_name="open to new allocations"),
                ),
                (
                    "created_at",
                    models.DateTimeField(blank=True, editable=False, verbose_name="created at"),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "funder",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="inventory.organisation",
                        verbose_name="funder",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical funding programme",
                "verbose_name_plural": "historical funding programmes",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.AddConstraint(
            model_name="fundingprogramme",
            constraint=models.CheckConstraint(
                condition=models.Q(("ends_on__gte", models.F("starts_on"))),
                name="programme_period_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="fundreport",
            index=models.Index(fields=["issued_at", "id"], name="fundreport_issued_idx"),
        ),
        migrations.AddConstraint(
            model_name="fundreport",
            constraint=models.CheckConstraint(
                condition=models.Q(("period_end__gte", models.F("period_start"))),
                name="fundreport_period_valid",
            ),
        ),
    ]
