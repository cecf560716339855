"""Web forms of shipments: posted text turned into arguments for one service call, no rules."""

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Organisation
from inventory.selectors import organisations_of_kind
from inventory.states import OrgKind

CODES_MAX_LINES = 500


class ShipmentForm(forms.Form):
    """A new shipment: the workshop, the dates, and the devices (ticked or typed)."""

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
    codes = forms.CharField(
        label=_("Label codes"),
        required=False,
        max_length=CODES_MAX_LINES * 60,
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
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # The id of this form as displayed: a second submission of it (a double click, a reload)
    # finds the shipment the first one recorded instead of a refusal.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, check: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.check = check
        self.fields["workshop"].queryset = organisations_of_kind(OrgKind.WORKSHOP)
        self.fields["sent_on"].initial = timezone.localdate
        self.problems: list = []

    def full_clean(self):
        if not self.check:
            # A change of page or filter shows the form again as typed, without errors yet.
            self._errors = ErrorDict()
            self.cleaned_data = {}
            return
        super().full_clean()

    def selected_ids(self) -> list[int]:
        """The ticked devices, on this page of the list and carried over from the others."""
        if not self.is_bound:
            return []
        return sorted({int(value) for value in self.data.getlist("device") if value.isdigit()})

    def code_lines(self) -> list[str]:
        text = self.cleaned_data.get("codes", "") if hasattr(self, "cleaned_data") else ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def clean_codes(self):
        codes = self.cleaned_data["codes"]
        if len(codes.splitlines()) > CODES_MAX_LINES:
            raise forms.ValidationError(
                _("At most %(max)s lines at a time."), params={"max": CODES_MAX_LINES}
            )
        return codes

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "workshop": data["workshop"],
            "devices": self.selected_ids() + self.code_lines(),
            "sent_on": data["sent_on"],
            "expected_on": data.get("expected_on"),
            "carrier": data.get("carrier", ""),
            "notes": data.get("notes", ""),
        }

    def add_domain_error(self, err) -> None:
        self.problems = list(err.params.get("problems", []))
        for name, errors in (err.params.get("fields") or {}).items():
            # "devices" is no field of its own (ticked boxes and typed codes): a form error.
            self.add_error(name if name in self.fields else None, errors)
        if not self.errors and not self.problems:
            self.add_error(None, err.message)


class CandidateFilterForm(forms.Form):
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


class WorkshopChoiceForm(forms.Form):
    workshop = forms.ModelChoiceField(
        label=_("Workshop"), queryset=Organisation.objects.none(), empty_label=_("Choose…")
    )

    def __init__(self, *args, workshops, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workshop"].queryset = workshops
