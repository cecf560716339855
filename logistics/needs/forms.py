"""Web forms of the needs register: posted text read into arguments for one service call.

The service checks the values, and answers every mistake at once; these forms only read the
fields, refuse what no screen sends (an unknown choice, control characters), and put the
service's answer back on the fields it names.
"""

from django import forms
from django.template.defaultfilters import floatformat
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Commune, Grade, StructureType, Territory
from inventory.web.forms import CleanTextMixin, QuickSelect
from logistics.models import Mode, OsFamily, Public, Purpose, Urgency
from logistics.needs.lifecycle import NeedStatus
from logistics.needs.selectors import RegisterFilters
from logistics.needs.services import MAX_LINES, MAX_TEXT

# The rows a new need shows; "Add a line" gives one more, up to the service's MAX_LINES.
LINE_ROWS = 3
MAX_AGE_DAYS = 3650
LINE_FIELDS = (
    "category",
    "quantity",
    "min_ram_gb",
    "min_storage_gb",
    "min_screen_inches",
    "os_family",
    "min_grade",
)
SPEC_FIELDS = LINE_FIELDS[2:]
GRADE_CHOICES = [("", _("Any")), *((g.value, g.label) for g in Grade if g != Grade.D)]


def _choose(choices) -> list:
    return [("", _("Choose…")), *choices]


class ServiceCheckedChoice(forms.ChoiceField):
    """A choice shown as required whose blank is passed on: the service refuses it, together
    with the form's other mistakes, instead of this field alone first."""

    def validate(self, value):
        if value in self.empty_values:
            return
        super().validate(value)


def _number_input(mode: str = "numeric") -> forms.TextInput:
    # Text, not type=number: what was typed comes back as typed, with the service's message.
    return forms.TextInput(attrs={"inputmode": mode, "autocomplete": "off"})


class NeedForm(CleanTextMixin, forms.Form):
    """The need's own fields; the structure only when the coordination declares one."""

    # The id of this form as displayed: a second submission of it (a double click, a reload)
    # finds the need the first one recorded (inventory.web.form_replay).
    token = forms.CharField(widget=forms.HiddenInput, max_length=64, required=False)
    # The version of the need the edit form was read from: a change made in the meantime
    # is not overwritten.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    structure = ServiceCheckedChoice(label=_("Structure"), widget=QuickSelect)
    purpose = ServiceCheckedChoice(
        label=_("What the devices are for"), choices=_choose(Purpose.choices)
    )
    public = ServiceCheckedChoice(label=_("Public served"), choices=_choose(Public.choices))
    mode = ServiceCheckedChoice(
        label=_("Gift or loan"), choices=_choose(Mode.choices), initial=Mode.GIFT
    )
    loan_weeks = forms.CharField(
        label=_("Loan length (weeks)"),
        required=False,
        max_length=10,
        help_text=_("For a loan only: from 1 to 104 weeks."),
        widget=_number_input(),
    )
    urgency = ServiceCheckedChoice(
        label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL
    )
    justification = forms.CharField(
        label=_("Justification"),
        required=False,
        help_text=_(
            "What the devices will be used for, and for whom. Name no one: describe the people "
            "helped, not who they are."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": MAX_TEXT}),
    )

    def __init__(self, *args, structures=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["version"]
        if structures is None:
            # A structure's staff declare for their own structure, and an edit keeps it.
            del self.fields["structure"]
        else:
            self.fields["structure"].choices = _choose(structures)

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        arguments = {
            name: data.get(name, "")
            for name in ("purpose", "public", "mode", "loan_weeks", "urgency", "justification")
        }
        if "structure" in self.fields:
            structure = data.get("structure") or ""
            arguments["structure"] = int(structure) if structure.isdigit() else None
        return arguments


class NeedLineForm(CleanTextMixin, forms.Form):
    """One row of the need's lines; a row left empty is no line."""

    category = forms.ChoiceField(label=_("Category"), required=False, widget=QuickSelect)
    quantity = forms.CharField(
        label=_("Quantity"), required=False, max_length=10, widget=_number_input()
    )
    min_ram_gb = forms.CharField(
        label=_("Minimum RAM (GB)"), required=False, max_length=10, widget=_number_input()
    )
    min_storage_gb = forms.CharField(
        label=_("Minimum storage (GB)"), required=False, max_length=10, widget=_number_input()
    )
    min_screen_inches = forms.CharField(
        label=_("Minimum screen (inches)"),
        required=False,
        max_length=10,
        widget=_number_input("decimal"),
    )
    os_family = forms.ChoiceField(
        label=_("Operating system"), required=False, choices=OsFamily.choices
    )
    min_grade = forms.ChoiceField(
        label=_("Lowest acceptable grade"), required=False, choices=GRADE_CHOICES
    )

    def __init__(self, *args, categories, number: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.number = number
        self.fields["category"].choices = _choose(categories)

    @property
    def specs_open(self) -> bool:
        """The row's requirements stay unfolded while one is set, or wrong."""
        if not self.is_bound:
            return any(self.initial.get(name) for name in SPEC_FIELDS)
        return any(
            self.errors.get(name) or str(self.data.get(self.add_prefix(name), "")).strip()
            for name in SPEC_FIELDS
        )

    def is_blank(self) -> bool:
        return not any(str(self.cleaned_data.get(name) or "").strip() for name in LINE_FIELDS)

    def service_values(self) -> dict:
        return {name: self.cleaned_data.get(name, "") for name in LINE_FIELDS}


class NeedEntry:
    """The need's form and its line rows, read from one post and given one service answer.

    The service numbers the lines it was given (`lines.1.quantity`): blank rows are left out
    of that list, so each of its numbers is mapped back to the row it came from.
    """

    def __init__(
        self,
        data=None,
        *,
        rows: int,
        structures=None,
        editing: bool = False,
        initial: dict | None = None,
        lines: list[dict] | None = None,
        new_row: int | None = None,
    ):
        categories = [(category.pk, category.name) for category in Category.objects.all()]
        self.form = NeedForm(data, structures=structures, editing=editing, initial=initial)
        lines = lines or []
        self.rows = [
            NeedLineForm(
                data,
                prefix=f"lines-{index}",
                categories=categories,
                number=index + 1,
                initial=lines[index] if index < len(lines) else None,
            )
            for index in range(max(1, min(rows, MAX_LINES)))
        ]
        if new_row is not None and new_row < len(self.rows):
            # The row "Add a line" made: where the keyboard goes when the page comes back.
            self.rows[new_row].fields["category"].widget.attrs["autofocus"] = True
        self.kept: list[int] = []
        self.line_errors: list = []

    @property
    def can_add_line(self) -> bool:
        return len(self.rows) < MAX_LINES

    def is_valid(self) -> bool:
        # Every form cleaned, so that each shows its own mistakes.
        valid = [self.form.is_valid(), *(row.is_valid() for row in self.rows)]
        self.kept = [index for index, row in enumerate(self.rows) if not row.is_blank()]
        return all(valid)

    def service_arguments(self) -> dict:
        return self.form.service_arguments() | {
            "lines": [self.rows[index].service_values() for index in self.kept]
        }

    def add_domain_error(self, error) -> None:
        fields = error.params.get("fields") or {}
        for key, messages in fields.items():
            parts = key.split(".")
            if parts[0] == "lines" and len(parts) == 3 and parts[1].isdigit():
                index = int(parts[1])
                row = self.rows[self.kept[index]] if index < len(self.kept) else None
                if row is not None and parts[2] in row.fields:
                    for message in messages:
                        row.add_error(parts[2], message)
                    continue
            if key == "lines":
                self.line_errors += list(messages)
                continue
            for message in messages:
                self.form.add_error(key if key in self.form.fields else None, message)
        if not fields:
            self.form.add_error(None, error.message)

    @property
    def has_errors(self) -> bool:
        return bool(self.form.errors or self.line_errors or any(row.errors for row in self.rows))

    def summary(self) -> list[dict]:
        """Every mistake, in the page's order, each with the id of the field it is about."""
        entries = [{"anchor": "", "message": error} for error in self.form.non_field_errors()]
        for field in self.form:
            entries += [
                {"anchor": field.id_for_label, "label": field.label, "message": error}
                for error in field.errors
            ]
        first = self.rows[0]["category"].id_for_label
        entries += [{"anchor": first, "message": error} for error in self.line_errors]
        for row in self.rows:
            for field in row:
                entries += [
                    {
                        "anchor": field.id_for_label,
                        "label": _("Line %(number)s, %(field)s")
                        % {"number": row.number, "field": field.label},
                        "message": error,
                    }
                    for error in field.errors
                ]
        return entries


def need_initial(need) -> tuple[dict, list[dict]]:
    """What the edit form shows first: the need's fields and its lines, as typed text."""
    fields = {
        "version": need.version,
        "purpose": need.purpose,
        "public": need.public,
        "mode": need.mode,
        "loan_weeks": "" if need.loan_weeks is None else str(need.loan_weeks),
        "urgency": need.urgency,
        "justification": need.justification,
    }
    lines = [
        {
            "category": line.category_id,
            "quantity": str(line.quantity),
            "min_ram_gb": "" if line.min_ram_gb is None else str(line.min_ram_gb),
            "min_storage_gb": "" if line.min_storage_gb is None else str(line.min_storage_gb),
            # As a person types it: "10,1" in French, "13" rather than "13.0".
            "min_screen_inches": ""
            if line.min_screen_inches is None
            else floatformat(line.min_screen_inches, -1),
            "os_family": line.os_family,
            "min_grade": line.min_grade,
        }
        for line in need.line_rows
    ]
    return fields, lines


def row_count(data, *, default: int) -> int:
    """How many line rows the posted form had (its hidden `rows`), or `default`."""
    text = (data or {}).get("rows", "")
    rows = int(text) if text.isascii() and text.isdigit() else default
    return max(1, min(rows, MAX_LINES))


class NeedMoveForm(CleanTextMixin, forms.Form):
    """A move posted from the need's page: its name, the version read, a reason."""

    action = forms.ChoiceField(
        choices=[(name, name) for name in ("submit", "accept", "decline", "cancel")]
    )
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(required=False, widget=forms.Textarea)

    def quantities(self, lines) -> dict:
        """The units accepted per line, as typed (`accept-<line id>`); the service checks them,
        and accepts a line not sent as asked."""
        return {
            line.pk: self.data[f"accept-{line.pk}"].strip()
            for line in lines
            if f"accept-{line.pk}" in self.data
        }


class RegisterFilterForm(CleanTextMixin, forms.Form):
    """The register's query string; a wrong value is shown on its field and not applied."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All statuses")), *NeedStatus.choices],
    )
    territory = forms.ChoiceField(label=_("Territory (EPT)"), required=False, widget=QuickSelect)
    commune = forms.ChoiceField(label=_("Commune"), required=False, widget=QuickSelect)
    structure_type = forms.ChoiceField(
        label=_("Structure type"),
        required=False,
        choices=[("", _("All types")), *StructureType.choices],
    )
    category = forms.ChoiceField(label=_("Category"), required=False, widget=QuickSelect)
    public = forms.ChoiceField(
        label=_("Public served"), required=False, choices=[("", _("All publics")), *Public.choices]
    )
    purpose = forms.ChoiceField(
        label=_("What the devices are for"),
        required=False,
        choices=[("", _("All purposes")), *Purpose.choices],
    )
    older_than_days = forms.IntegerField(
        label=_("Older than (days)"),
        help_text=_("Needs declared more than this many days ago."),
        required=False,
        min_value=0,
        max_value=MAX_AGE_DAYS,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    # One structure's needs: the link of a structure's page, not a field of the form.
    structure = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Read when the form is shown or a value is checked.
        self.fields["territory"].choices = lambda: [("", _("All territories")), *self._territories]
        self.fields["commune"].choices = lambda: [("", _("All communes")), *self._communes]
        self.fields["category"].choices = lambda: [("", _("All categories")), *self._categories]

    @cached_property
    def _territories(self) -> list[tuple[str, str]]:
        return list(Territory.objects.values_list("code", "name"))

    @cached_property
    def _communes(self) -> list[tuple[str, str]]:
        return list(Commune.objects.values_list("insee_code", "name"))

    @cached_property
    def _categories(self) -> list[tuple[str, str]]:
        return [(category.pk, category.name) for category in Category.objects.all()]

    def filters(self) -> RegisterFilters:
        """The valid filters; a wrong one is left out (its field shows why)."""
        if not self.is_bound:
            return RegisterFilters()
        self.is_valid()
        data = self.cleaned_data
        return RegisterFilters(
            status=data.get("status") or "",
            territory=data.get("territory") or "",
            commune=data.get("commune") or "",
            structure_type=data.get("structure_type") or "",
            category=data.get("category") or "",
            public=data.get("public") or "",
            purpose=data.get("purpose") or "",
            older_than_days=data.get("older_than_days"),
            structure=data.get("structure"),
        )

    @property
    def active_count(self) -> int:
        return sum(1 for name in self.fields if self.is_bound and self.data.get(name))
