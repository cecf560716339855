"""Web forms of shipments: posted text turned into arguments for one service call, no rules."""

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Organisation
from inventory.selectors import organisations_of_kind
from inventory.states import OrgKind
from inventory.web.forms import CleanTextMixin
from logistics.web.picking import DevicePickingForm, codes_field

CODES_MAX_LINES = 500


class ShipmentForm(DevicePickingForm):
    """A new shipment: the workshop, the dates, and the devices (ticked or typed)."""

    CODES_MAX_LINES = CODES_MAX_LINES

    workshop = forms.ModelChoiceField(
        label=_("Workshop"),
        queryset=Organisation.objects.none(),
        empty_label=_("Choose…"),
    )
    sent_on = forms.DateField(
        label=_("Date sent"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    expected_on = forms.DateField(
        label=_("Expected arrival"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    carrier = forms.CharField(label=_("Carrier or vehicle"), max_length=120, required=False)
    codes = codes_field(CODES_MAX_LINES)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, check: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check = check
        self.fields["workshop"].queryset = organisations_of_kind(OrgKind.WORKSHOP)
        self.fields["sent_on"].initial = timezone.localdate

    def full_clean(self):
        if not self.check:
            # A change of page or filter shows the form again as typed, without errors yet.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "workshop": data["workshop"],
            "devices": self.picked_devices(),
            "sent_on": data["sent_on"],
            "expected_on": data.get("expected_on"),
            "carrier": data.get("carrier", ""),
            "notes": data.get("notes", ""),
        }


class CandidateFilterForm(CleanTextMixin, forms.Form):
    """Which sendable devices the list shows; invalid values are ignored, not errors."""

    donor = forms.ModelChoiceField(
        label=_("Donor"),
        required=False,
        queryset=Organisation.objects.filter(kind=OrgKind.DONOR).order_by("name"),
        empty_label=_("All donors"),
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.all(),
        empty_label=_("All categories"),
    )

    def filters(self) -> dict:
        if not self.is_bound:
            return {"donor": None, "category": ""}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {
            "donor": data["donor"].pk if data.get("donor") else None,
            "category": data["category"].pk if data.get("category") else "",
        }


class WorkshopChoiceForm(CleanTextMixin, forms.Form):
    workshop = forms.ModelChoiceField(
        label=_("Workshop"), queryset=Organisation.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args, workshops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = workshops
