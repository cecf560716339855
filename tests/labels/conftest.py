"""Shared data for the label tests: real generated codes and a production-like SITE_URL."""

import pytest

from inventory.codes import generate_label_code
from labels.render import LabelItem

# A long-ish real host: its payload needs QR version 4 with Q, the tightest of the usual cases.
SITE_URL = "https://reemploi.inclusion-numerique92.fr"
NETWORK = "Réseau inclusion numérique 92"
RENDER = {"site_url": SITE_URL, "network_name": NETWORK}


@pytest.fixture
def items() -> list[LabelItem]:
    categories = ["Ordinateur portable", "Smartphone", "Tablette", "Écran", "Unité centrale"]
    models = ["Dell Latitude 5490", "Samsung Galaxy A52s 5G", "Apple iPad (9e génération)", "HP"]
    return [
        LabelItem(generate_label_code(), categories[i % len(categories)], models[i % len(models)])
        for i in range(30)
    ]
