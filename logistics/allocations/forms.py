"""Web forms of matching runs, the matching policy and allocations: posted text read into
arguments for one service call. The services check the values; these forms refuse what no
screen sends (an unknown choice, control characters) and give the policy's numbers a range."""

from django import forms
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Organisation, StructureType, Territory
from inventory.states import OrgKind
from inventory.web.forms import CleanTextMixin, QuickSelect
from logistics import matching
from logistics.allocations.explain import WEIGHT_LABELS
from logistics.models import AllocationStatus, Public, Purpose

MAX_REASON = 1000
# The policy's tables: one number per choice of each (fields named `<table>__<choice>`).
BONUS_TABLES = {
    "public_bonus": Public.choices,
    "structure_type_bonus": StructureType.choices,
    "purpose_bonus": Purpose.choices,
}
SCALAR_WEIGHTS = tuple(
    name
    for name in matching.Weights().to_dict()
    if name not in BONUS_TABLES and name != "structure_fairness"
)


def _number_input() -> forms.TextInput:
    # Text, not type=number: what was typed comes back as typed, with its message.
    return forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"})


class RunCreateForm(CleanTextMixin, forms.Form):
    """A new run's scope: one EPT or all, one category or all."""

    # The id of this form as displayed: a second submission finds the run the first created.
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    territory = forms.ChoiceField(label=_("Territory (EPT)"), required=False, widget=QuickSelect)
    category = forms.ChoiceField(label=_("Category"), required=False, widget=QuickSelect)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["territory"].choices = lambda: [("", _("All territories")), *self._territories]
        self.fields["category"].choices = lambda: [("", _("All categories")), *self._categories]

    @cached_property
    def _territories(self) -> list[tuple[str, str]]:
        return [
            (code, f"{code} · {name}")
            for code, name in Territory.objects.values_list("code", "name")
        ]

    @cached_property
    def _categories(self) -> list[tuple[str, str]]:
        return [(category.pk, category.name) for category in Category.objects.all()]


class RunActionForm(CleanTextMixin, forms.Form):
    """A move posted from a run's page: on one of its lines, or on the whole run."""

    action = forms.ChoiceField(
        choices=[(name, name) for name in ("remove", "restore", "swap", "approve", "discard")]
    )
    line = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    device = forms.CharField(label=_("Label code of the other device"), required=False)
    reason = forms.CharField(required=False, max_length=MAX_REASON, widget=forms.Textarea)
    # An approval's funding programme (none: no programme); the service checks eligibility.
    programme = forms.IntegerField(
        label=_("Funding programme"), required=False, min_value=1, max_value=2**63 - 1
    )


class PolicyForm(CleanTextMixin, forms.Form):
    """matching.Weights as fields: every weight and limit, and one bonus per public, structure
    type and purpose (0: none; negative: a malus)."""

    structure_fairness = forms.BooleanField(
        label=WEIGHT_LABELS["structure_fairness"],
        required=False,
        help_text=_(
            "No structure receives more than its share while another structure asking the "
            "same category gets nothing, as long as sharing costs no unit."
        ),
    )

    def __init__(self, *args, weights: matching.Weights, **kwargs):
        values = weights.to_dict()
        initial = {name: values[name] for name in (*SCALAR_WEIGHTS, "structure_fairness")}
        for table in BONUS_TABLES:
            for choice, _label in BONUS_TABLES[table]:
                initial[f"{table}__{choice}"] = values[table].get(choice, 0)
        super().__init__(*args, initial=initial, **kwargs)
        for name in SCALAR_WEIGHTS:
            self.fields[name] = forms.IntegerField(
                label=WEIGHT_LABELS[name],
                min_value=0,
                max_value=matching.MAX_WEIGHT,
                widget=_number_input(),
            )
        for table, choices in BONUS_TABLES.items():
            for choice, label in choices:
                self.fields[f"{table}__{choice}"] = forms.IntegerField(
                    label=label,
                    required=False,  # empty: no bonus
                    min_value=-matching.MAX_WEIGHT,
                    max_value=matching.MAX_WEIGHT,
                    widget=_number_input(),
                )

    def scalar_fields(self):
        return [self[name] for name in ("structure_fairness", *SCALAR_WEIGHTS)]

    def tables(self) -> list[dict]:
        """Each bonus table with its fields, for a fieldset each."""
        return [
            {
                "name": table,
                "label": WEIGHT_LABELS[table],
                "fields": [self[f"{table}__{choice}"] for choice, _label in choices],
            }
            for table, choices in BONUS_TABLES.items()
        ]

    def weights(self) -> dict:
        """The weights for policy_update; a bonus of 0 is no bonus and is left out."""
        data = self.cleaned_data
        weights = {name: data[name] for name in SCALAR_WEIGHTS}
        weights["structure_fairness"] = bool(data.get("structure_fairness"))
        for table, choices in BONUS_TABLES.items():
            weights[table] = {
                choice: data[f"{table}__{choice}"]
                for choice, _label in choices
                if data.get(f"{table}__{choice}")
            }
        return weights


class AllocationFilterForm(CleanTextMixin, forms.Form):
    """The coordination's filters on the allocations; a wrong value is shown on its field."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *AllocationStatus.choices],
    )
    structure = forms.ChoiceField(label=_("Structure"), required=False, widget=QuickSelect)
    run = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].choices = lambda: [("", _("All structures")), *self._structures]

    @cached_property
    def _structures(self) -> list[tuple[str, str]]:
        structures = Organisation.objects.filter(kind=OrgKind.STRUCTURE).order_by("name")
        return [(str(pk), name) for pk, name in structures.values_list("pk", "name")]

    def filters(self) -> dict:
        """The valid filters, as allocation_list's arguments; a wrong one is left out."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = self.cleaned_data
        filters = {}
        if data.get("status"):
            filters["status"] = data["status"]
        if data.get("structure"):
            filters["structure"] = int(data["structure"])
        if data.get("run"):
            filters["run"] = data["run"]
        return filters


class CancelForm(CleanTextMixin, forms.Form):
    """An allocation's cancellation from the list: which one, and why (the service requires
    the reason)."""

    allocation = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, max_length=MAX_REASON, widget=forms.Textarea)
