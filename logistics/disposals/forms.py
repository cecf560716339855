"""Web forms of WEEE disposals: posted text turned into arguments for one service call."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Category
from inventory.web.forms import CleanTextMixin
from logistics.web.picking import DevicePickingForm, codes_field

CODES_MAX_LINES = 1000
# The two approved éco-organismes for household and professional IT equipment; suggestions
# only, any other name may be typed.
ECO_ORGANISATIONS = ("ecosystem", "Ecologic")


class DisposalForm(DevicePickingForm):
    """A new batch: where and when it left, its weight, its document, and the devices."""

    CODES_MAX_LINES = CODES_MAX_LINES

    eco_organisation = forms.CharField(
        label=_("Eco-organisation"),
        max_length=120,
        widget=forms.TextInput(attrs={"list": "eco-organisations", "autocomplete": "off"}),
    )
    collector = forms.CharField(
        label=_("Collector or collection site"),
        max_length=200,
        required=False,
        help_text=_("The company that took the devices away, or the drop-off site."),
    )
    left_on = forms.DateField(
        label=_("Date of removal"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        max_digits=9,
        decimal_places=2,
        localize=True,
        help_text=_("As weighed or written on the collector's document."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    document_reference = forms.CharField(
        label=_("Document reference"),
        max_length=120,
        help_text=_("The number of the pick-up note or waste tracking slip (BSD)."),
    )
    codes = codes_field(CODES_MAX_LINES)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["left_on"].initial = timezone.localdate

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "eco_organisation": data["eco_organisation"],
            "collector": data.get("collector", ""),
            "left_on": data["left_on"],
            "weight_kg": data["weight_kg"],
            "document_reference": data["document_reference"],
            "devices": self.picked_devices(),
            "notes": data.get("notes", ""),
        }


class CandidateFilterForm(CleanTextMixin, forms.Form):
    """Which recycled devices the list shows; an invalid value is ignored, not an error."""

    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.all(),
        empty_label=_("All categories"),
    )

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {"category": ""}
        category = self.cleaned_data.get("category")
        return {"category": category.pk if category else ""}


class RegisterFilterForm(CleanTextMixin, forms.Form):
    """The period of the list and of the register export: a year, or dates, or both."""

    year = forms.TypedChoiceField(label=_("Year"), required=False, coerce=int, empty_value=None)
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        # The years with batches, and the current one so that an empty year can be exported.
        years = sorted(set(years) | {timezone.localdate().year}, reverse=True)
        self.fields["year"].choices = [("", _("All years"))] + [(y, str(y)) for y in years]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end of the period cannot be before its start."))
        return data

    def period(self) -> tuple[datetime.date | None, datetime.date | None]:
        """The first and last day covered; None where the period is open."""
        if not self.is_bound or not self.is_valid():
            return None, None
        data = self.cleaned_data
        start, end = data.get("start"), data.get("end")
        year = data.get("year")
        if year:
            first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            start = max(start, first) if start else first
            end = min(end, last) if end else last
        return start, end

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)
