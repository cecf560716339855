"""Web forms of hand-overs: posted text turned into arguments for one service call (a new
hand-over, a signature drawn on the screen, a signed paper copy)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inventory.web.forms import CleanTextMixin
from logistics.handovers import services


class IdListField(forms.Field):
    """Ticked boxes sharing one name: whole numbers, checked against the list by the service
    (an allocation handed over meanwhile gets the service's sentence, not "invalid choice")."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            return [int(item) for item in value]
        except (TypeError, ValueError):
            raise ValidationError(_("Choose the devices in the list."), code="invalid") from None


class DomainErrorsMixin:
    def add_domain_error(self, error) -> None:
        """A DomainError's per-field messages on the fields shown, the rest above the form."""
        fields = error.params.get("fields") or {}
        for name, messages in fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
        if not fields:
            self.add_error(None, error.message)


class HandOverForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    allocations = IdListField(
        label=_("Devices to hand over"),
        error_messages={"required": _("Choose at least one device to hand over.")},
    )
    received_by_name = forms.CharField(
        label=_("Name of the person receiving"),
        max_length=services.MAX_NAME,
        help_text=_("As they give it: it is printed on the receipt they sign."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    received_by_role = forms.CharField(
        label=_("Their role in the structure"),
        max_length=services.MAX_NAME,
        required=False,
        help_text=_("For example: digital mediator, director."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    due_on = forms.DateField(
        label=_("Due date of the loan"),
        required=False,
        help_text=_("For the devices lent only: the date by which they are to come back."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=services.MAX_NOTE,
        required=False,
        help_text=_("Printed on the receipt: accessories given, for example."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def selected_ids(self) -> set[int]:
        if not self.is_bound:
            return set()
        try:
            return set(self.fields["allocations"].to_python(self.data.getlist("allocations")))
        except ValidationError:
            return set()

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "allocation_ids": data["allocations"],
            "received_by_name": data["received_by_name"],
            "received_by_role": data["received_by_role"],
            "due_on": data["due_on"],
            "note": data["note"],
        }


class SignatureForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    """The signature pad's form: the signer's name and the drawing as a PNG data URL, which
    static/js/signature.js writes into the hidden field on submit."""

    signer_name = forms.CharField(
        label=_("Name of the person signing"),
        max_length=services.MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    signature = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)


class PaperForm(DomainErrorsMixin, CleanTextMixin, forms.Form):
    """A signed paper copy, scanned or photographed."""

    signer_name = forms.CharField(
        label=_("Name of the person who signed"),
        max_length=services.MAX_NAME,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    file = forms.FileField(
        label=_("Scan or photo of the signed receipt"),
        help_text=_("PDF, PNG or JPEG, 10 MB at most."),
        error_messages={"required": _("Choose the scan of the signed receipt.")},
        widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )
