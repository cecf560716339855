"""Issue 9: every form of the screens refuses text holding control characters with a field
error, before the field reads it (a NUL reaches PostgreSQL as a 500 otherwise)."""

import importlib
import inspect

import pytest
from django import forms

from inventory.models import Organisation
from inventory.text import CONTROL_CHARACTERS, ONE_LINE
from inventory.web.forms import CleanTextMixin

MODULES = [
    "inventory.forms",
    "inventory.intake.forms",
    "inventory.reconditioning.forms",
    "logistics.web.picking",
    "logistics.shipments.forms",
    "logistics.disposals.forms",
    "labels.forms",
]
# What each form needs to be built, besides its data.
KWARGS = {
    "DeviceFilterForm": lambda: {"show_custody": True},
    "DeviceRegistrationForm": lambda: {"choose_custody": True},
    "DonationDeviceForm": lambda: {"choose_custody": True},
    "RegisterFilterForm": lambda: {"years": [2025]},
    "WorkshopChoiceForm": lambda: {"workshops": Organisation.objects.all()},
}
HOSTILE = {"nul": "lap\x00top", "esc": "lap\x1btop", "surrogate": "lap\ud800top"}


def form_classes() -> list[type[forms.Form]]:
    found = {}
    for name in MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name:
                found[cls.__qualname__ + cls.__module__] = cls
    return list(found.values())


def test_every_form_of_the_screens_checks_its_text():
    classes = form_classes()
    assert len(classes) > 20
    assert [cls for cls in classes if not issubclass(cls, CleanTextMixin)] == []


@pytest.mark.django_db
@pytest.mark.parametrize("hostile", HOSTILE)
def test_every_field_of_every_form_refuses_control_characters(hostile):
    checked = []
    for cls in form_classes():
        fields = cls(**KWARGS.get(cls.__name__, dict)()).fields
        for name, field in fields.items():
            if isinstance(field, forms.FileField | forms.BooleanField):
                continue  # a checkbox reads as True or False, whatever is sent
            value = [HOSTILE[hostile]] if isinstance(field, forms.MultipleChoiceField) else None
            form = cls(data={name: value or HOSTILE[hostile]}, **KWARGS.get(cls.__name__, dict)())
            assert not form.is_valid()
            assert form.errors.get(name) == [str(CONTROL_CHARACTERS)], (cls, name)
            checked.append((cls, name))
    assert len(checked) > 60


def test_line_breaks_are_kept_in_a_textarea_and_refused_on_one_line():
    from inventory.forms import DeviceRegistrationForm

    form = DeviceRegistrationForm(
        data={"manufacturer": "Dell\nInc", "notes": "Rayure\r\n\tcapot"}, choose_custody=False
    )
    form.is_valid()
    assert form.errors["manufacturer"] == [str(ONE_LINE)]
    assert "notes" not in form.errors


def test_a_form_without_control_characters_cleans_as_before(db):
    from inventory.forms import DeviceFilterForm

    form = DeviceFilterForm(data={"q": "Dell 7QK"}, show_custody=True)
    assert form.is_valid()
    assert form.cleaned_data["q"] == "Dell 7QK"
