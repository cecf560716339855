"""What every form of the screens shares: text holding control characters is a field error."""

from django import forms
from django.core.exceptions import ValidationError

from inventory.text import text_problem


class CleanTextMixin:
    """Refuses a field whose submitted text holds control characters (NUL, a lone surrogate…)
    before the field cleans it: a choice, a slug or an id is never looked up with them, where
    PostgreSQL would answer a 500. Tab and line breaks are allowed in a textarea only."""

    def _clean_fields(self):
        refused = {}
        for name, bound in self._bound_items():
            multiline = isinstance(bound.field.widget, forms.Textarea)
            if problem := text_problem(bound.data, multiline=multiline):
                refused[name] = problem
        if not refused:
            return super()._clean_fields()
        for name, bound in self._bound_items():
            if name in refused:
                self.add_error(name, ValidationError(refused[name], code="control_characters"))
                continue
            # Django's own loop (forms.BaseForm._clean_fields) for the other fields.
            try:
                self.cleaned_data[name] = bound.field._clean_bound_field(bound)
                if hasattr(self, f"clean_{name}"):
                    self.cleaned_data[name] = getattr(self, f"clean_{name}")()
            except ValidationError as error:
                self.add_error(name, error)
