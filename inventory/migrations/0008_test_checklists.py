"""Reference data: which categories hold users' data, and the functional-test checklists."""

import csv
from pathlib import Path

from django.db import migrations

CHECKLISTS_CSV = Path(__file__).resolve().parent.parent / "data" / "test_checklists.csv"

# Screens, simple printers and accessories keep no user data; the rest need an erasure.
HOLDS_NO_DATA = ("screen", "printer", "accessory")


def load(apps, schema_editor):
    Category = apps.get_model("inventory", "Category")
    TestItem = apps.get_model("inventory", "TestItem")
    Category.objects.filter(code__in=HOLDS_NO_DATA).update(holds_data=False)
    known = set(Category.objects.values_list("code", flat=True))
    orders: dict[str, int] = {}
    with CHECKLISTS_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["category"] not in known:
                continue
            orders[row["category"]] = orders.get(row["category"], 0) + 10
            TestItem.objects.update_or_create(
                category_id=row["category"],
                code=row["code"],
                defaults={
                    "label_fr": row["label_fr"],
                    "label_en": row["label_en"],
                    "sort_order": orders[row["category"]],
                },
            )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0007_donations_and_reconditioning")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
