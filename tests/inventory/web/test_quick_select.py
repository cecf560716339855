"""QuickSelect writes the markup Django's Select renders through its templates, option for
option: the device list's filters use it and nothing on the page may change."""

import pytest
from django import forms

from inventory.web.forms import QuickSelect

CHOICES = [
    ("", "Toutes les organisations"),
    (2, 'Atelier <Nord> & "Sud"'),
    (3, "Donateur l'Été"),
    ("Groupe", [("a", "Un"), ("b", "Deux")]),
]


@pytest.mark.parametrize("value", [None, "", 2, "3", "b", "absent"])
@pytest.mark.parametrize(
    "attrs",
    [
        {"id": "id_custody"},
        {"id": "id_q", "aria-describedby": "id_q_helptext", "aria-invalid": "true"},
        {"id": "id_x", "required": True, "disabled": False, "data-x": '"quoted"'},
    ],
)
def test_quick_select_writes_what_django_select_renders(value, attrs):
    expected = forms.Select(choices=CHOICES).render("custody", value, attrs)
    assert QuickSelect(choices=CHOICES).render("custody", value, attrs) == expected
