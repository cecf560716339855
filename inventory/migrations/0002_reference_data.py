"""Reference data: the 36 communes of the 92 and Argenteuil with their EPT, and the categories."""

import csv
from pathlib import Path

from django.db import migrations

COMMUNES_CSV = Path(__file__).resolve().parent.parent / "data" / "communes.csv"

CATEGORIES = [
    # code, French, English, has_imei
    ("laptop", "Ordinateur portable", "Laptop", False),
    ("desktop", "Ordinateur fixe (unité centrale)", "Desktop computer", False),
    ("all_in_one", "Ordinateur tout-en-un", "All-in-one computer", False),
    ("screen", "Écran", "Screen", False),
    ("tablet", "Tablette", "Tablet", False),
    ("smartphone", "Smartphone", "Smartphone", True),
    ("feature_phone", "Téléphone mobile simple", "Feature phone", True),
    ("printer", "Imprimante", "Printer", False),
    ("mfp", "Imprimante multifonction", "Multifunction printer", False),
    ("network_box", "Box internet, routeur", "Network box, router", False),
    ("accessory", "Accessoire (clavier, souris, chargeur…)", "Accessory", False),
]


def load(apps, schema_editor):
    Territory = apps.get_model("inventory", "Territory")
    Commune = apps.get_model("inventory", "Commune")
    Category = apps.get_model("inventory", "Category")
    with COMMUNES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            territory, _ = Territory.objects.update_or_create(
                code=row["ept_code"], defaults={"name": row["ept_name"]}
            )
            Commune.objects.update_or_create(
                insee_code=row["insee_code"],
                defaults={
                    "name": row["name"],
                    "postal_code": row["postal_code"],
                    "departement": row["departement"],
                    "territory": territory,
                },
            )
    for order, (code, name_fr, name_en, has_imei) in enumerate(CATEGORIES):
        Category.objects.update_or_create(
            code=code,
            defaults={
                "name_fr": name_fr,
                "name_en": name_en,
                "has_imei": has_imei,
                "sort_order": (order + 1) * 10,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
