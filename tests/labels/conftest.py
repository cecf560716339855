"""Label-test items: thirty real generated codes with varied categories and models."""

import pytest

from inventory.codes import generate_label_code
from labels.render import LabelItem


@pytest.fixture
def items() -> list[LabelItem]:
    categories = ["Ordinateur portable", "Smartphone", "Tablette", "Écran", "Unité centrale"]
    models = ["Dell Latitude 5490", "Samsung Galaxy A52s 5G", "Apple iPad (9e génération)", "HP"]
    return [
        LabelItem(generate_label_code(), categories[i % len(categories)], models[i % len(models)])
        for i in range(30)
    ]
