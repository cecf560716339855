"""Web forms of the fund's figures: the period and scope the dashboard, its downloads and a
report's issue read from the query string (or the posted issue). A date that cannot be read, a
period that ends before it starts or spans more than MAX_YEARS is a field error, never a 500."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from inventory.web.forms import CleanTextMixin
from logistics.fund_reports.figures import DIMENSIONS, Period

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A longer period is refused: its monthly charts and the figures' queries stay bounded.
MAX_YEARS = 5
# Dates outside these bounds are typing mistakes (and year 9999 would overflow a day later).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2099, 12, 31)
DEFAULT_DIMENSION = "territory"


def years_later(day: dt.date, years: int) -> dt.date:
    """The same day `years` later (28 February for a 29 February that has none)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def quick_periods(today: dt.date) -> list[tuple[str, Period]]:
    """The periods offered as one-click links: this year to date, last year, the last twelve
    months (this one included)."""
    first = today.replace(day=1)
    month = first.month - 11
    year = first.year + (month - 1) // 12
    twelve = dt.date(year, (month - 1) % 12 + 1, 1)
    return [
        ("this_year", Period(dt.date(today.year, 1, 1), today)),
        ("last_year", Period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31))),
        ("last_12_months", Period(twelve, today)),
    ]


class FiguresForm(CleanTextMixin, forms.Form):
    """The period (from, to: both included), the scope (the network or one programme) and the
    breakdown. A date left empty takes the default period's; a wrong value is a field error."""

    start = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    programme = forms.ChoiceField(label=_("Scope"), required=False)
    # The breakdown's links set it; an unknown one shows the default breakdown.
    by = forms.CharField(required=False, max_length=40)

    def __init__(self, data=None, *args, programmes=(), default: Period, **kwargs):
        if data is not None:
            # A date left out is the default period's, and shown as such in its field.
            data = data.copy()
            for name, day in (("start", default.start), ("end", default.end)):
                if not data.get(name):
                    data[name] = day.isoformat()
        super().__init__(data, *args, **kwargs)
        self.default = default
        self.fields["programme"].choices = [("", _("The whole network"))] + [
            (str(programme.pk), f"{programme.name} · {programme.funder.name}")
            for programme in programmes
        ]
        self.fields["start"].widget.attrs.update(min=EARLIEST.isoformat(), max=LATEST.isoformat())
        self.fields["end"].widget.attrs.update(min=EARLIEST.isoformat(), max=LATEST.isoformat())
        if not self.is_bound:
            self.initial = {"start": default.start, "end": default.end, "by": DEFAULT_DIMENSION}

    def _clean_day(self, name: str) -> dt.date | None:
        day = self.cleaned_data.get(name)
        if day is not None and not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                _("Give a date between %(first)s and %(last)s.")
                % {"first": EARLIEST.year, "last": LATEST.year},
                code="out_of_range",
            )
        return day

    def clean_start(self):
        return self._clean_day("start")

    def clean_end(self):
        return self._clean_day("end")

    def clean(self):
        data = super().clean()
        if "start" in self.errors or "end" in self.errors:
            return data
        start = data.get("start") or self.default.start
        end = data.get("end") or self.default.end
        if end < start:
            self.add_error("end", _("The period cannot end before it starts."))
        elif end >= years_later(start, MAX_YEARS):
            self.add_error(
                "end",
                ngettext_lazy(
                    "A period spans at most %(years)s year: choose a shorter one.",
                    "A period spans at most %(years)s years: choose a shorter one.",
                    MAX_YEARS,
                )
                % {"years": MAX_YEARS},
            )
        data["start"], data["end"] = start, end
        return data

    def period(self) -> Period | None:
        """The period asked for; None when the form has errors (the default when unbound)."""
        if not self.is_bound:
            return self.default
        if not self.is_valid():
            return None
        return Period(self.cleaned_data["start"], self.cleaned_data["end"])

    def dimension(self) -> str:
        chosen = self.data.get("by") if self.is_bound else None
        return chosen if chosen in DIMENSIONS else DEFAULT_DIMENSION


class IssueForm(CleanTextMixin, forms.Form):
    """A report's issue from the dashboard: its period and scope as shown, and the id of this
    display of the button (a double click issues one report)."""

    start = forms.DateField()
    end = forms.DateField()
    programme = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    token = forms.CharField(max_length=64, required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if not (EARLIEST <= start <= LATEST and EARLIEST <= end <= LATEST) or end < start:
                raise forms.ValidationError(_("This period is not valid."), code="period")
            if end >= years_later(start, MAX_YEARS):
                raise forms.ValidationError(_("This period is too long."), code="period")
        return data
