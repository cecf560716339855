"""Web forms of deliveries: posted text read into arguments for one service call. The services
check the values; these forms refuse what no screen sends (an unknown choice, an id that is no
number, control characters)."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.models import Organisation
from inventory.states import OrgKind
from inventory.web.forms import CleanTextMixin, QuickSelect
from logistics.deliveries.services import MAX_TEXT
from logistics.models import DeliveryStage

MAX_ID = 2**63 - 1
# What a scanner or a typed code may hold: longer is no label code nor one of our URLs.
MAX_SCAN = 300
MAX_CARRIER = 120
ACTIONS = ("dispatch", "receive_at_depot", "cancel", "remove", "receive")


class DeliveryFilterForm(CleanTextMixin, forms.Form):
    """Which deliveries the list shows; a wrong value is left out, not an error. The structure
    is a filter of the coordination only."""

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    structure = forms.ChoiceField(label=_("Structure"), required=False, widget=QuickSelect)

    def __init__(self, *args, structures: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [
            ("", _("All stages")),
            ("open", _("Not delivered yet")),
            *DeliveryStage.choices,
        ]
        if structures:
            self.fields["structure"].choices = lambda: [
                ("", _("All structures")),
                *self._structures,
            ]
        else:
            del self.fields["structure"]

    @cached_property
    def _structures(self) -> list[tuple[str, str]]:
        structures = Organisation.objects.filter(kind=OrgKind.STRUCTURE).order_by("name")
        return [(str(pk), name) for pk, name in structures.values_list("pk", "name")]

    def filters(self) -> dict:
        """The valid filters, as the list selector's arguments."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        chosen = {}
        if data.get("stage"):
            chosen["stage"] = data["stage"]
        if data.get("structure"):
            chosen["structure_id"] = int(data["structure"])
        return chosen


class IdListField(forms.Field):
    """Ticked ids: each a whole number, none twice; what no screen sends is an error."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        if value in self.empty_values:
            return []
        values = value if isinstance(value, (list, tuple)) else [value]
        ids = []
        for item in values:
            try:
                number = int(str(item).strip())
            except ValueError:
                raise ValidationError(_("Tick devices of the list."), code="invalid") from None
            if not 1 <= number <= MAX_ID:
                raise ValidationError(_("Tick devices of the list."), code="invalid")
            ids.append(number)
        return sorted(set(ids))


class PrepareForm(CleanTextMixin, forms.Form):
    """Deliveries of the ticked allocations, one per structure, with what they share: through
    the depot or not, the expected arrival, the carrier, the notes."""

    # The id of this form as displayed: a second submission finds what the first prepared.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    allocation = IdListField(required=False)
    via_depot = forms.BooleanField(
        label=_("Through the coordination's depot"),
        required=False,
        help_text=_(
            "The devices stop at the depot first; the coordination then sends them on to the "
            "structure."
        ),
    )
    expected_on = forms.DateField(
        label=_("Expected arrival"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    carrier = forms.CharField(label=_("Carrier or vehicle"), max_length=MAX_CARRIER, required=False)
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_allocation(self) -> list[int]:
        ids = self.cleaned_data["allocation"]
        if not ids:
            raise ValidationError(_("Tick at least one device to deliver."), code="required")
        return ids

    def shared_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "via_depot": data["via_depot"],
            "expected_on": data.get("expected_on"),
            "carrier": data.get("carrier", ""),
            "notes": data.get("notes", ""),
        }


class PrepareAllForm(CleanTextMixin, forms.Form):
    """Every allocated device waiting to leave, one delivery per structure, in one click."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    via_depot = forms.BooleanField(label=_("Through the coordination's depot"), required=False)


class DeliveryActionForm(CleanTextMixin, forms.Form):
    """A move posted from a delivery's page: on the whole delivery, or on one of its devices
    (ticked by its row, or scanned)."""

    action = forms.ChoiceField(choices=[(name, name) for name in ACTIONS])
    item = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    raw = forms.CharField(required=False, strip=True)
    reason = forms.CharField(required=False, max_length=MAX_TEXT, widget=forms.Textarea)

    def clean_raw(self) -> str:
        # A longer text is no code: the service says so, as for any other wrong scan.
        return self.cleaned_data["raw"][:MAX_SCAN]
