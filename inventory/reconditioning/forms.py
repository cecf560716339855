"""Forms of the bench record: they read posted values for one reconditioning service call."""

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.models import (
    ErasureLevel,
    ErasureMethod,
    ErasureResult,
    Grade,
    HiddenAreas,
    LockKind,
    LockOutcome,
    MediumInterface,
    MediumKind,
    TestOutcome,
    Verification,
)
from inventory.web.forms import CleanTextMixin


class LockChecksForm(CleanTextMixin, forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args, checks: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        checks = checks or {}
        for kind, label in LockKind.choices:
            current = checks.get(kind)
            self.fields[f"lock_{kind}"] = forms.ChoiceField(
                label=label,
                choices=LockOutcome.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=current.outcome if current else None,
            )
        self.order_fields([f"lock_{kind}" for kind in LockKind.values] + ["note"])

    def outcomes(self) -> dict[str, str]:
        return {
            kind: self.cleaned_data[f"lock_{kind}"]
            for kind in LockKind.values
            if self.cleaned_data.get(f"lock_{kind}")
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.outcomes():
            raise forms.ValidationError(_("Answer at least one lock check."))
        return cleaned


class MediumForm(CleanTextMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=MediumKind.choices)
    interface = forms.ChoiceField(label=_("Interface"), choices=MediumInterface.choices)
    manufacturer = forms.CharField(label=_("Make"), required=False, max_length=80)
    model_name = forms.CharField(label=_("Model"), required=False, max_length=120)
    serial_number = forms.CharField(label=_("Serial number"), required=False, max_length=80)
    capacity_gb = forms.IntegerField(
        label=_("Capacity (GB)"), required=False, min_value=1, max_value=1_000_000
    )
    hidden_areas = forms.ChoiceField(
        label=_("Hidden areas (HPA/DCO)"), choices=HiddenAreas.choices, required=False
    )
    is_new = forms.BooleanField(
        label=_("New medium, never used (fitted at the workshop)"),
        required=False,
        help_text=_("It held no one's data: it needs no erasure."),
    )


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ErasureForm(CleanTextMixin, forms.Form):
    medium = forms.TypedChoiceField(label=_("Medium"), coerce=int)
    level = forms.ChoiceField(
        label=_("Level (NIST SP 800-88 / IEEE 2883)"), choices=ErasureLevel.choices
    )
    method = forms.ChoiceField(label=_("Method"), choices=ErasureMethod.choices)
    tool = forms.CharField(label=_("Tool"), required=False, max_length=80)
    tool_version = forms.CharField(label=_("Tool version"), required=False, max_length=40)
    verification = forms.ChoiceField(
        label=_("Verification"), choices=Verification.choices, widget=forms.RadioSelect
    )
    verification_percent = forms.IntegerField(
        label=_("Share verified (%)"),
        required=False,
        min_value=1,
        max_value=99,
        help_text=_("For a sample verification only."),
    )
    result = forms.ChoiceField(
        label=_("Result"), choices=ErasureResult.choices, widget=forms.RadioSelect
    )
    started_at = forms.DateTimeField(
        label=_("Started at"), widget=LocalDateTimeInput, input_formats=["%Y-%m-%dT%H:%M"]
    )
    ended_at = forms.DateTimeField(
        label=_("Ended at"), widget=LocalDateTimeInput, input_formats=["%Y-%m-%dT%H:%M"]
    )
    report = forms.FileField(
        label=_("Tool report (PDF or XML)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.xml,application/pdf,text/xml"}),
    )

    def __init__(self, *args, media=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["medium"].choices = [(m.pk, str(m)) for m in media]


class ChecklistForm(CleanTextMixin, forms.Form):
    def __init__(self, *args, checklist=(), **kwargs):
        super().__init__(*args, **kwargs)
        for item, result in checklist:
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=item.label,
                choices=TestOutcome.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=result.outcome if result else None,
            )

    def outcomes(self) -> dict[int, str]:
        return {
            int(name.removeprefix("item_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("item_") and value
        }

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.outcomes():
            raise forms.ValidationError(_("Answer at least one test."))
        return cleaned


class AssessmentForm(CleanTextMixin, forms.Form):
    grade = forms.ChoiceField(
        label=_("Cosmetic grade"),
        choices=Grade.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Cosmetic condition only; functions are in the checklist."),
    )
    battery_health = forms.IntegerField(
        label=_("Battery health (%)"), required=False, min_value=0, max_value=100
    )
    os_installed = forms.CharField(
        label=_("Operating system installed"), required=False, max_length=120
    )


class RepairForm(CleanTextMixin, forms.Form):
    part = forms.CharField(label=_("Part replaced or work done"), max_length=200)
    cost = forms.DecimalField(
        label=_("Cost (€)"), required=False, min_value=0, max_digits=8, decimal_places=2
    )
    minutes = forms.IntegerField(
        label=_("Time spent (minutes)"), required=False, min_value=0, max_value=100_000
    )


class ChecklistItemForm(CleanTextMixin, forms.Form):
    label_fr = forms.CharField(label=_("Label (French)"), max_length=120)
    label_en = forms.CharField(label=_("Label (English)"), max_length=120)
    sort_order = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=32767)
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)
