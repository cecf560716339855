"""Forms of the intake screens: they turn posted text into arguments for one service call."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from inventory.forms import DeviceRegistrationForm
from inventory.intake.selectors import DONATION_FIELDS
from inventory.models import Organisation
from inventory.selectors import organisations_of_kind
from inventory.states import OrgKind
from inventory.web.forms import CleanTextMixin

ACCEPTED_TYPES = ",".join(
    (
        ".csv",
        ".xlsx",
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
)


class DomainErrorsMixin:
    def add_domain_error(self, error) -> None:
        """A DomainError's per-field messages on the fields shown, the rest above the form."""
        fields = error.params.get("fields") or {}
        for name, messages in fields.items():
            if name == "__all__":
                continue
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if not fields or "__all__" in fields:
            self.add_error(None, error.message)


class DonorForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    contact_name = forms.CharField(label=_("Contact name"), max_length=120, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=250, required=False)
    is_public_body = forms.BooleanField(
        label=_("A public body (commune, département, public establishment)"),
        help_text=_(
            "Loi 3DS: the structures may resell its devices only at the capped “prix "
            "solidaires”; the hand-over receipts say so."
        ),
        required=False,
    )


class DonationFilterForm(CleanTextMixin, forms.Form):
    donor = forms.ModelChoiceField(
        label=_("Donor"),
        required=False,
        queryset=Organisation.objects.filter(kind=OrgKind.DONOR).order_by("name"),
        empty_label=_("All donors"),
    )

    def filters(self) -> dict:
        self.is_valid()
        donor = self.cleaned_data.get("donor")
        return {"donor": donor.pk if donor else None}


class DonationForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    donor = forms.ModelChoiceField(
        label=_("Donor"), queryset=organisations_of_kind(OrgKind.DONOR), empty_label=_("Choose…")
    )
    received_on = forms.DateField(
        label=_("Date of the donation"), widget=forms.DateInput(attrs={"type": "date"})
    )
    pickup_address = forms.CharField(label=_("Pickup address"), max_length=250, required=False)
    expected_count = forms.IntegerField(
        label=_("Devices announced"),
        min_value=0,
        max_value=100_000,
        required=False,
        help_text=_("As the donor announced them."),
    )
    received_count = forms.IntegerField(
        label=_("Devices counted on arrival"), min_value=0, max_value=100_000, required=False
    )
    released_accounts = forms.BooleanField(
        label=_("User accounts signed out (Apple ID, Google, Microsoft)"), required=False
    )
    released_management = forms.BooleanField(
        label=_("MDM, Autopilot and Apple Business Manager released"), required=False
    )
    released_firmware = forms.BooleanField(label=_("BIOS/UEFI passwords removed"), required=False)
    attested_by = forms.CharField(
        label=_("Attestation signed by"),
        max_length=120,
        required=False,
        help_text=_("Name and position of the donor's signatory."),
    )
    attested_on = forms.DateField(
        label=_("Attestation date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    def service_arguments(self) -> dict:
        return {name: self.cleaned_data[name] for name in DONATION_FIELDS}


class ImportUploadForm(CleanTextMixin, forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(
            "CSV (comma or semicolon) or Excel (.xlsx); one device per row under a header row."
        ),
        widget=forms.FileInput(attrs={"accept": ACCEPTED_TYPES}),
    )


class ImportConfirmForm(CleanTextMixin, forms.Form):
    sha256 = forms.CharField(min_length=64, max_length=64, widget=forms.HiddenInput)
    file_name = forms.CharField(max_length=255, required=False, widget=forms.HiddenInput)

    def clean_sha256(self) -> str:
        value = self.cleaned_data["sha256"].lower()
        # The digest names a file on disk: only hexadecimal reaches the path.
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise forms.ValidationError(_("This import could not be found: upload the file again."))
        return value


class DonationDeviceForm(DeviceRegistrationForm):
    """The registration form without the donor: the donation's donor is the device's."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["donor"]

    def service_arguments(self) -> dict:
        self.cleaned_data.setdefault("donor", None)
        arguments = super().service_arguments()
        del arguments["donor"]
        return arguments
