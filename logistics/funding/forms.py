"""Web form of a funding programme: posted text read into the arguments of programme_create or
programme_update, which check the values (a funder that is a fund, a period that holds its
allocations); this form reads dates, numbers and the eligibility boxes."""

from decimal import Decimal

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.models import Organisation, Territory
from inventory.models.organisations import StructureType
from inventory.states import OrgKind
from inventory.web.forms import CleanTextMixin, QuickSelect
from logistics.funding.services import FIELDS, MAX_BUDGET, MAX_TARGET_DEVICES, NAME_MAX
from logistics.models import FundingProgramme, Public, Purpose

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
CHECKBOX_FIELDS = ("territories", "structure_types", "publics", "purposes")


def _checkboxes(label, help_text) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        help_text=help_text,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class ProgrammeForm(CleanTextMixin, forms.Form):
    """A programme's funder, name, period, targets and eligibility; on a change, the version
    read with the page, so that a change decided on a stale page is refused (412 stale)."""

    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int, widget=QuickSelect)
    name = forms.CharField(label=_("Name"), max_length=NAME_MAX)
    starts_on = forms.DateField(label=_("Start"), widget=DATE_INPUT)
    ends_on = forms.DateField(label=_("End"), widget=DATE_INPUT)
    target_devices = forms.IntegerField(
        label=_("Target (devices)"),
        required=False,
        min_value=1,
        max_value=MAX_TARGET_DEVICES,
        help_text=_("Optional: the number of devices the programme is to equip."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    target_budget = forms.DecimalField(
        label=_("Target (budget, €)"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=MAX_BUDGET,
        decimal_places=2,
        localize=True,
        help_text=_("Optional: the budget in euros, such as 25000 or 25000.50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    territories = _checkboxes(
        _("Eligible territories (EPT)"), _("None ticked: every territory is eligible.")
    )
    structure_types = _checkboxes(
        _("Eligible structure types"), _("None ticked: every structure type is eligible.")
    )
    publics = _checkboxes(_("Eligible publics"), _("None ticked: every public is eligible."))
    purposes = _checkboxes(_("Eligible purposes"), _("None ticked: every purpose is eligible."))
    is_active = forms.BooleanField(
        label=_("Open to new allocations"),
        required=False,
        help_text=_("Untick it to stop counting new allocations in the programme."),
        widget=forms.CheckboxInput(attrs={"aria-describedby": "id_is_active_helptext"}),
    )
    version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=2**31 - 1
    )

    def __init__(self, *args, programme: FundingProgramme | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.fields["funder"].choices = lambda: [("", _("Choose a fund")), *self._funders]
        self.fields["territories"].choices = lambda: self._territories
        self.fields["structure_types"].choices = StructureType.choices
        self.fields["publics"].choices = Public.choices
        self.fields["purposes"].choices = Purpose.choices
        if programme is None:
            del self.fields["version"]
            if not self.is_bound:
                self.initial.setdefault("is_active", True)
        elif not self.is_bound:
            self.initial.update({name: getattr(programme, name) for name in FIELDS})
            self.initial["funder"] = programme.funder_id
            self.initial["version"] = programme.version

    @cached_property
    def _funders(self) -> list[tuple[int, str]]:
        funds = Organisation.objects.filter(kind=OrgKind.FUND)
        if self.programme is None:
            funds = funds.filter(is_active=True)
        else:  # the programme's own funder stays, even if it is no longer active
            funds = funds.filter(is_active=True) | funds.filter(pk=self.programme.funder_id)
        return list(funds.order_by("name").values_list("pk", "name"))

    @cached_property
    def _territories(self) -> list[tuple[str, str]]:
        return [
            (code, f"{name} ({code})")
            for code, name in Territory.objects.order_by("code").values_list("code", "name")
        ]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", _("The programme cannot end before it starts."))
        return data

    def arguments(self) -> dict:
        """The service's keyword arguments."""
        data = self.cleaned_data
        return {name: data.get(name) for name in FIELDS}

    def checkbox_fields(self):
        return [self[name] for name in CHECKBOX_FIELDS]

    def summary(self) -> list[dict]:
        """The error summary's entries, each leading to its field."""
        entries = [{"anchor": "", "message": error} for error in self.non_field_errors()]
        for name in self.fields:
            field = self[name]
            anchor = field.auto_id if name in CHECKBOX_FIELDS else field.id_for_label
            entries += [
                {"anchor": anchor, "label": field.label, "message": error} for error in field.errors
            ]
        return entries
