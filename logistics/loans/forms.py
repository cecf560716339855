"""Web forms of loans and device reports: posted text turned into arguments for one service
call (the list's filters, an extension, a return, a report and its closing)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.web.forms import CleanTextMixin, QuickSelect
from logistics.loans.services import MAX_TEXT
from logistics.models import LoanItemOutcome, LoanStatus, ReportKind

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LoanFilterForm(CleanTextMixin, forms.Form):
    """Which loans the list shows: in progress or ended, overdue only, one structure (for the
    coordination). A wrong value is shown on its field and not applied."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", pgettext_lazy("loans", "All"))] + list(LoanStatus.choices),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    structure = forms.TypedChoiceField(
        label=_("Structure"), required=False, coerce=int, empty_value=None, widget=QuickSelect
    )

    def __init__(self, *args, structures: list[tuple[int, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if structures is None:
            del self.fields["structure"]
        else:
            self.fields["structure"].choices = [("", _("All structures"))] + structures

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {"status": "", "overdue": False, "structure_id": None}
        data = self.cleaned_data
        return {
            "status": data.get("status") or "",
            "overdue": bool(data.get("overdue")),
            "structure_id": data.get("structure"),
        }

    @property
    def active_count(self) -> int:
        return sum(1 for value in self.filters().values() if value)


class LoanExtendForm(CleanTextMixin, forms.Form):
    """A later due date and why; the version read with the page, so that an extension decided
    on a stale page is refused (412 stale)."""

    due_on = forms.DateField(label=_("New due date"), widget=DATE_INPUT)
    reason = forms.CharField(
        label=_("Why"),
        max_length=MAX_TEXT,
        help_text=_("Kept in the loan's history, with your name and the date."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        if loan is not None and not self.is_bound:
            self.initial.setdefault("version", loan.version)
            # A month after the current due date, or after today when the loan is late.
            start = max(loan.due_on, timezone.localdate())
            self.initial.setdefault("due_on", start + datetime.timedelta(weeks=4))
            self.fields["due_on"].widget.attrs["min"] = (
                loan.due_on + datetime.timedelta(days=1)
            ).isoformat()


class LoanReturnForm(CleanTextMixin, forms.Form):
    """What came back of a loan: for each device still out, returned, declared lost, or still
    out (left as it is); a note; the version read with the page. `items`: all the loan's."""

    OUTCOMES = [
        ("", pgettext_lazy("return form", "Still out")),
        (LoanItemOutcome.RETURNED, pgettext_lazy("return form", "Returned")),
        (LoanItemOutcome.LOST, pgettext_lazy("return form", "Missing: declare it lost")),
    ]

    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, items=(), loan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = list(items)
        for item in self.items:
            self.fields[self.field_name(item)] = forms.ChoiceField(
                label=item.device.label_display,
                choices=self.OUTCOMES,
                required=False,
                widget=forms.RadioSelect,
            )
        if loan is not None and not self.is_bound:
            self.initial.setdefault("version", loan.version)

    @staticmethod
    def field_name(item) -> str:
        return f"device-{item.device_id}"

    def rows(self):
        """Each device still out with its choice (the template lays them out); the devices
        already back have a field too, so that a second click on one return reads the same."""
        return [
            (item, self[self.field_name(item)])
            for item in self.items
            if item.outcome == LoanItemOutcome.OUT
        ]

    def clean(self):
        data = super().clean()
        if not self.errors and not (self.returned_ids() or self.lost_ids()):
            raise forms.ValidationError(
                _("Choose the devices returned, or declared lost."), code="nothing_chosen"
            )
        return data

    def _chosen(self, outcome: str) -> list[int]:
        return [
            item.device_id
            for item in self.items
            if self.cleaned_data.get(self.field_name(item)) == outcome
        ]

    def returned_ids(self) -> list[int]:
        return self._chosen(LoanItemOutcome.RETURNED)

    def lost_ids(self) -> list[int]:
        return self._chosen(LoanItemOutcome.LOST)


class DeviceReportForm(CleanTextMixin, forms.Form):
    """A structure's report of one device: what, an optional note, and the page to go back to."""

    device = forms.IntegerField(min_value=1)
    kind = forms.ChoiceField(choices=ReportKind.choices)
    note = forms.CharField(required=False, max_length=MAX_TEXT, widget=forms.Textarea)
    next = forms.CharField(required=False, max_length=500)


class ReportCloseForm(CleanTextMixin, forms.Form):
    note = forms.CharField(
        label=_("How it was dealt with"),
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
