"""Web forms: they turn posted text into arguments for one service call, and hold no rules.

The login form, with its throttle, is in inventory/login.py.
"""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Organisation, StorageType
from inventory.selectors import organisations_of_kind
from inventory.services import DEVICE_SPEC_FIELDS
from inventory.states import EXITS, MOVES, OrgKind, Status
from inventory.web.forms import CleanTextMixin, QuickSelect


class DeviceFilterForm(CleanTextMixin, forms.Form):
    """The device list's query string; invalid values are ignored, not errors."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Label code, serial number, IMEI, model or manufacturer."),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *Status.choices],
        widget=QuickSelect,
    )
    # Plain choices read in __init__, not ModelChoiceFields: one query for both lists of
    # organisations, no model built per option, and a filter value costs no lookup.
    category = forms.ChoiceField(label=_("Category"), required=False, widget=QuickSelect)
    custody = forms.TypedChoiceField(
        label=_("Custody"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    # Donor and day of registration together find an intake batch (e.g. to print its labels).
    donor = forms.TypedChoiceField(
        label=_("Donor"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )
    registered_on = forms.DateField(
        label=_("Registered on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Set by the donation page's links (its devices, their labels); kept hidden in the form.
    donation = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, show_custody: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_custody = show_custody
        # Read when the form is shown or a value is checked, not for a page that only asks
        # for filters() with none of these set (the labels' print page).
        self.fields["category"].choices = lambda: [("", _("All categories")), *self._categories]
        self.fields["donor"].choices = lambda: [
            ("", _("All donors")),
            *((pk, name) for pk, name, kind in self._organisations if kind == OrgKind.DONOR),
        ]
        if show_custody:
            self.fields["custody"].choices = lambda: [
                ("", _("All organisations")),
                *((pk, name) for pk, name, _kind in self._organisations),
            ]
        else:
            # Workshops and structures only see their own custody: the filter would be noise.
            del self.fields["custody"]

    @cached_property
    def _categories(self) -> list[tuple[str, str]]:
        return [(category.pk, category.name) for category in Category.objects.all()]

    @cached_property
    def _organisations(self) -> list[tuple[int, str, str]]:
        """Both lists of organisations, custody and donors, in one query."""
        organisations = Organisation.objects.order_by("name")
        if self.show_custody:
            organisations = organisations.exclude(kind=OrgKind.FUND)
        else:
            organisations = organisations.filter(kind=OrgKind.DONOR)
        return list(organisations.values_list("pk", "name", "kind"))

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "category": data.get("category") or "",
            "custodian": data.get("custody"),
            "donor": data.get("donor"),
            "registered_on": data.get("registered_on"),
            "donation": data.get("donation"),
        }


class DeviceRegistrationForm(CleanTextMixin, forms.Form):
    """Intake of one device; every check happens in services.device_register."""

    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), empty_label=_("Choose…")
    )
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=80)
    model_name = forms.CharField(label=_("Model"), max_length=120, required=False)
    serial_number = forms.CharField(label=_("Serial number"), max_length=80, required=False)
    imei1 = forms.CharField(
        label=_("IMEI 1"),
        max_length=20,
        required=False,
        help_text=_("Phones and cellular tablets: 15 digits (dial *#06# to read it)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    imei2 = forms.CharField(
        label=_("IMEI 2"),
        max_length=20,
        required=False,
        help_text=_("Dual-SIM phones only."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    asset_tag = forms.CharField(label=_("Donor's asset tag"), max_length=80, required=False)
    label_code = forms.CharField(
        label=_("Pre-printed label"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to issue a new label code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    cpu = forms.CharField(label=_("Processor"), max_length=120, required=False)
    ram_gb = forms.IntegerField(label=_("RAM (GB)"), min_value=0, max_value=4096, required=False)
    storage_gb = forms.IntegerField(
        label=_("Storage (GB)"), min_value=0, max_value=10_000_000, required=False
    )
    storage_type = forms.ChoiceField(
        label=_("Storage type"), required=False, choices=[("", "—"), *StorageType.choices]
    )
    screen_inches = forms.DecimalField(
        label=_("Screen (inches)"),
        max_digits=4,
        decimal_places=1,
        min_value=0,
        required=False,
        localize=True,
    )
    operating_system = forms.CharField(label=_("Operating system"), max_length=120, required=False)
    donor = forms.ModelChoiceField(
        label=_("Donor"),
        required=False,
        queryset=organisations_of_kind(OrgKind.DONOR),
        empty_label=_("Unknown or none"),
    )
    custodian = forms.ModelChoiceField(
        label=_("Custody"),
        required=False,
        queryset=Organisation.objects.filter(
            kind__in=[OrgKind.COORDINATOR, OrgKind.WORKSHOP], is_active=True
        ).order_by("name"),
        empty_label=_("My organisation"),
        help_text=_("The organisation that has the device now."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, choose_custody: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not choose_custody:
            # Workshops register into their own custody: the service decides, not a field.
            del self.fields["custodian"]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "manufacturer": data["manufacturer"],
            "serial_number": data["serial_number"],
            "imei1": data["imei1"],
            "imei2": data["imei2"],
            "donor": data["donor"],
            "custodian": data.get("custodian"),
            "label_code": data["label_code"],
            **{name: data[name] for name in DEVICE_SPEC_FIELDS},
        }

    def add_domain_error(self, error) -> None:
        """Place a DomainError's per-field messages on the fields this form shows."""
        fields = error.params.get("fields") or {}
        for name, messages in fields.items():
            if name == "__all__":
                continue
            for message in messages:
                # A field this form does not show (e.g. custody for a workshop) still
                # deserves its sentence, above the form.
                self.add_error(name if name in self.fields else None, message)
        if not fields or "__all__" in fields:
            # "__all__" may carry a raw database message: people get the service's sentence.
            self.add_error(None, error.message)


class TransitionForm(CleanTextMixin, forms.Form):
    action = forms.ChoiceField(
        choices=[(action, move.label) for action, move in MOVES.items()],
        error_messages={"required": _("Choose the move to make (for an exit, its reason).")},
    )
    target = forms.ModelChoiceField(
        label=_("Organisation"), required=False, queryset=Organisation.objects.all()
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        move = MOVES.get(data.get("action", ""))
        # Exits are final: a stray tap on a phone must not send a device to recycling.
        if move is not None and move.target in EXITS and not data.get("confirm"):
            raise forms.ValidationError(
                _("Tick the confirmation box: an exit is final."), code="confirm"
            )
        return data
