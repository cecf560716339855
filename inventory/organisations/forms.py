"""Forms of the coordination's structure screens: they turn posted text into arguments for one
service call of inventory.organisations.services, which checks every rule."""

from functools import cached_property

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from inventory.intake.forms import DomainErrorsMixin
from inventory.models import Role, Territory
from inventory.models.organisations import StructureType
from inventory.organisations import selectors
from inventory.organisations.services import STRUCTURE_FIELDS
from inventory.web.forms import CleanTextMixin, QuickSelect

ACTIVE_CHOICES = [
    ("", _("Active and inactive")),
    ("yes", _("Active only")),
    ("no", _("Inactive only")),
]


class StructureFilterForm(CleanTextMixin, forms.Form):
    """The list's query string; a wrong value is shown on its field and not applied."""

    q = forms.CharField(
        label=_("Name or identifier"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    territory = forms.ChoiceField(label=_("Territory (EPT)"), required=False)
    structure_type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[("", _("All types")), *StructureType.choices],
    )
    active = forms.ChoiceField(label=_("Active or not"), required=False, choices=ACTIVE_CHOICES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is shown or a value is checked.
        self.fields["territory"].choices = lambda: [("", _("All territories")), *self._territories]

    @cached_property
    def _territories(self) -> list[tuple[str, str]]:
        return list(Territory.objects.values_list("code", "name"))

    def filters(self) -> selectors.StructureFilters:
        """The valid filters; a wrong one is left out (its field shows why)."""
        if not self.is_bound:
            return selectors.StructureFilters()
        self.is_valid()
        data = self.cleaned_data
        active = data.get("active")
        return selectors.StructureFilters(
            territory=data.get("territory") or "",
            structure_type=data.get("structure_type") or "",
            active={"yes": True, "no": False}.get(active or ""),
            q=data.get("q") or "",
        )

    @property
    def filtered(self) -> bool:
        return self.is_bound and any(self.data.get(name) for name in self.fields)


class StructureForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    siret = forms.CharField(
        label=_("SIRET"),
        max_length=30,
        required=False,
        help_text=_("14 digits. A structure needs its SIRET or its RNA number."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    rna = forms.CharField(
        label=capfirst(_("RNA number")),
        max_length=30,
        required=False,
        help_text=_("For an association without a SIRET: W followed by 9 digits."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    structure_type = forms.ChoiceField(
        label=_("Type of structure"), choices=[("", _("Choose…")), *StructureType.choices]
    )
    commune = forms.ChoiceField(
        label=capfirst(_("Commune")),
        help_text=_("Grouped by territory (EPT)."),
        widget=QuickSelect,
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=250,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contact_name = forms.CharField(
        label=_("Contact name"),
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    contact_email = forms.CharField(
        label=_("Contact e-mail"),
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off"}),
    )
    soliguide_id = forms.CharField(
        label=capfirst(_("Soliguide identifier")),
        max_length=64,
        required=False,
        help_text=_("To link the structure's record in Soliguide."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    dora_id = forms.CharField(
        label=capfirst(_("DORA identifier")),
        max_length=64,
        required=False,
        help_text=_("To link the structure's record in DORA."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    version = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    # One token per display of the new-structure form (inventory.web.form_replay).
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].choices = lambda: [("", _("Choose…")), *self._communes]

    @cached_property
    def _communes(self):
        return selectors.communes_by_territory()

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in STRUCTURE_FIELDS}


class InviteForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    # The address becomes the person's username, which holds 150 characters.
    email = forms.CharField(
        label=_("E-mail address"),
        max_length=150,
        help_text=_("The invitation goes there; it is also what the person signs in with."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.MEMBER)
    token = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def service_arguments(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in ("email", "first_name", "last_name", "role")
        }


class StructureImportForm(CleanTextMixin, forms.Form):
    file = forms.FileField(
        label=_("data·inclusion file (CSV)"),
        help_text=_(
            "The structures schema of data·inclusion: one structure per row under a header "
            "row; the columns nom, and siret or rna, are required."
        ),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )
