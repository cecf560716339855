"""The device-picking part shared by the shipment and the disposal forms: devices ticked in a
list (kept across its pages) and label codes scanned or pasted, one per line."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.codes import group_label_code
from inventory.web.forms import CleanTextMixin
from inventory.web.paging import page_of

PAGE_SIZE = 50


def codes_field(max_lines: int) -> forms.CharField:
    return forms.CharField(
        label=_("Label codes"),
        required=False,
        max_length=max_lines * 60,
        help_text=_("One per line: scan the labels here, or paste a list."),
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
            }
        ),
    )


class DevicePickingForm(CleanTextMixin, forms.Form):
    """Subclasses declare `codes = codes_field(N)` and set CODES_MAX_LINES to the same N."""

    CODES_MAX_LINES = 500
    # The id of this form as displayed: a second submission of it (a double click, a reload)
    # finds the record the first one made instead of a refusal.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems: list = []

    def selected_ids(self) -> list[int]:
        """The ticked devices, on this page of the list and carried over from the others."""
        if not self.is_bound:
            return []
        return sorted({int(value) for value in self.data.getlist("device") if value.isdigit()})

    def code_lines(self) -> list[str]:
        text = self.cleaned_data.get("codes", "") if hasattr(self, "cleaned_data") else ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def picked_devices(self) -> list:
        return self.selected_ids() + self.code_lines()

    def clean_codes(self):
        codes = self.cleaned_data["codes"]
        if len(codes.splitlines()) > self.CODES_MAX_LINES:
            raise forms.ValidationError(
                _("At most %(max)s lines at a time."), params={"max": self.CODES_MAX_LINES}
            )
        return codes

    def add_domain_error(self, err) -> None:
        self.problems = list(err.params.get("problems", []))
        for name, errors in (err.params.get("fields") or {}).items():
            # "devices" is no field of its own (ticked boxes and typed codes): a form error.
            self.add_error(name if name in self.fields else None, errors)
        if not self.errors and not self.problems:
            self.add_error(None, err.message)


def picking_context(request, form: DevicePickingForm, candidates, data) -> dict:
    """The paginated list of devices to tick, and the ticks carried over from other pages;
    `data` holds the page asked for (the posted form, or the query string)."""
    page = page_of(request, candidates, size=PAGE_SIZE, data=data)
    for device in page.object_list:
        device.label_display = group_label_code(device.label_code_id)
    selected = form.selected_ids()
    on_page = {device.pk for device in page.object_list}
    return {
        "page": page,
        "selected": set(selected),
        # Ticks on other pages of the list travel with the form as hidden fields.
        "carried": [pk for pk in selected if pk not in on_page],
        "selected_count": len(selected),
    }
