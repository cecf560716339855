"""What every form of the screens shares: text holding control characters is a field error, and
a select that renders its options without a template each."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

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


class QuickSelect(forms.Select):
    """A select written in Python: Django renders each option through its own template, some
    70 µs an option (5 ms for the device list's 77 organisations, the biggest cost of that page).
    The markup is Django's own (django/forms/widgets/select.html), character for character."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, group_choices, _index in widget["optgroups"]:
            options = format_html_join(
                "",
                '\n  <option value="{}"{}>{}</option>\n',
                ((str(o["value"]), _attributes(o["attrs"]), o["label"]) for o in group_choices),
            )
            if group_name:
                options = format_html(
                    '\n  <optgroup label="{}">{}\n  </optgroup>', group_name, options
                )
            groups.append((options,))
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            format_html_join("", "{}", groups),
        )


def _attributes(attrs: dict) -> str:
    """django/forms/widgets/attrs.html: a True value is written bare, a False one left out."""
    if not attrs:
        return ""  # most options: no attribute, and this runs once an option
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', str(value)))
            for name, value in attrs.items()
            if value is not False
        ),
    )
