"""A fund report's figures as files for spreadsheets: one CSV (every section stacked under one
header row, the project's safe French CSV) and one XLSX (a sheet per section). Both draw the
document of `report_build` only; labels come translated in it, the headings here are ours.

Nothing here can run as a formula (R14): CSV cells go through the disposals' `cell`; XLSX text
cells are typed as text, and those that would read as a formula carry Excel's quote prefix.
A figure that does not apply (None) is an empty cell in both, never 0.
"""

import datetime as dt
import io
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from logistics.disposals.export import csv_bytes, neutralise

# Number formats by kind of figure (the file's codes; the spreadsheet shows them the local way).
XLSX_FORMATS = {
    "count": "#,##0",
    "rate": "0.0%",
    "days": "0.0",
    "kg": "#,##0.00",
    "years": "0.0",
    "euros": "#,##0.00",
    "factor": "#,##0.0##",  # an ADEME factor keeps its decimals (0.314 kg per year)
}
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
SHEET_TITLE_MAX = 31
IMPACT_MEASURES = ("co2e_kg", "materials_kg", "ewaste_kg")
# Characters Excel refuses in a sheet's name.
SHEET_TITLE_FORBIDDEN = re.compile(r"[\\/?*\[\]:]")
# Column widths (characters): text columns fit their longest value within these bounds,
# figure columns have a fixed width and their header wraps.
TEXT_WIDTH = (10, 48)
FIGURE_WIDTH = 14
HEADER_HEIGHT = 48  # points: three lines of a wrapped header


# The document's parts --------------------------------------------------------------------------


def scope_label(document: dict) -> str:
    scope = document.get("scope") or {}
    return scope.get("programme_name") or _("Whole network")


def _number(value):
    """A JSON figure as a number a file writes exactly: floats through their shortest repr
    (0.3696, not 0.369600), so the CSV shows what the document holds."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def _decimal(text) -> Decimal | None:
    try:
        return Decimal(str(text)) if text not in (None, "") else None
    except ArithmeticError:
        return None


def _workshop_headers(document: dict) -> list[str]:
    return [
        _("Workshops: %(figure)s") % {"figure": spec["label"]}
        for spec in document["workshop_metrics"].values()
    ]


def _impact_headers() -> list[str]:
    return [_("Devices counted for impact"), _("Estimated"), _("Years of extra use")]


def _programme_headers() -> list[str]:
    return [
        _("Funder"),
        _("Starts on"),
        _("Ends on"),
        _("Target (devices)"),
        _("Target budget (€)"),
        _("Handed over since the start"),
        _("Progress towards the target"),
    ]


def _impact_total_row(impact: dict) -> dict:
    return {
        "devices": impact["devices_estimated"] + impact["devices_not_estimated"],
        "not_estimated": impact["devices_not_estimated"],
        **impact["totals"],
    }


# CSV ------------------------------------------------------------------------------------------


def report_csv(document: dict) -> bytes:
    """Every section under one header: section, key, label, the metrics (header: their
    labels), then the columns only workshops, impact lines or programmes fill. One line per
    row of a section: the totals (key: the period as start/end), each month, each breakdown,
    each workshop, each impact line and their total, each programme."""
    metrics = list(document["metrics"])
    workshop_metrics = list(document["workshop_metrics"])
    width = (
        3
        + len(metrics)
        + len(workshop_metrics)
        + len(_impact_headers())
        + len(_programme_headers())
    )
    header = [
        _("Section"),
        _("Key"),
        _("Label"),
        *(spec["label"] for spec in document["metrics"].values()),
        *_workshop_headers(document),
        *_impact_headers(),
        *_programme_headers(),
    ]
    impact_at = 3 + len(metrics) + len(workshop_metrics)
    programme_at = impact_at + len(_impact_headers())

    def line(section: str, key, label, figures: dict | None = None) -> list:
        row = [section, key, label] + [None] * (width - 3)
        for index, metric in enumerate(metrics):
            row[3 + index] = _number((figures or {}).get(metric))
        return row

    period = document["period"]
    rows = [
        line(
            _("Totals"),
            f"{period['start']}/{period['end']}",
            scope_label(document),
            document["totals"],
        )
    ]
    rows += [line(_("Months"), row["key"], row["label"], row) for row in document["months"]]
    for dimension, label in document["dimensions"].items():
        rows += [
            line(label, row["key"], row["label"], row)
            for row in document["breakdowns"].get(dimension, [])
        ]
    for workshop in document["workshops"]:
        row = line(_("Workshops"), workshop["key"], workshop["label"])
        for index, metric in enumerate(workshop_metrics):
            row[3 + len(metrics) + index] = _number(workshop.get(metric))
        rows.append(row)
    impact = document["impact"]
    measures = [m for m in IMPACT_MEASURES if m in metrics]
    for impact_line in impact["lines"]:
        row = line(
            _("Impact"),
            impact_line["category"],
            impact_line["label"],
            {m: impact_line.get(m) for m in measures}
            | {"impact_not_estimated": 0 if impact_line["estimated"] else impact_line["devices"]},
        )
        row[impact_at : impact_at + 3] = [
            impact_line["devices"],
            impact_line["estimated"],
            _number(impact_line["extra_years"]),
        ]
        rows.append(row)
    total = _impact_total_row(impact)
    row = line(
        _("Impact"),
        "total",
        _("Total"),
        {m: total.get(m) for m in measures} | {"impact_not_estimated": total["not_estimated"]},
    )
    row[impact_at] = total["devices"]
    rows.append(row)
    for programme in document["programmes"]:
        row = line(
            _("Programme targets"),
            programme["reference"],
            programme["name"],
            {"handed_over": programme["handed_over_in_period"]},
        )
        row[programme_at:] = [
            programme["funder"],
            programme["starts_on"],
            programme["ends_on"],
            programme["target_devices"],
            _decimal(programme["target_budget"]),
            programme["handed_over_to_date"],
            _number(programme["progress"]),
        ]
        rows.append(row)
    return csv_bytes(header, rows)


# XLSX -----------------------------------------------------------------------------------------


def _text(cell, value: str) -> None:
    # Text stays text: openpyxl would store "=…" as a formula for the spreadsheet to run, and
    # the quote prefix keeps it text when someone edits the cell in Excel or LibreOffice.
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    cell.data_type = "s"
    if neutralise(value) != value:
        cell.quotePrefix = True


def _put(sheet, row: int, column: int, value, kind: str | None = None, *, bold: bool = False):
    cell = sheet.cell(row=row, column=column)
    if value is None:
        pass
    elif isinstance(value, str):
        _text(cell, value)
    elif isinstance(value, bool):
        _text(cell, _("Yes") if value else _("No"))
    elif isinstance(value, dt.datetime):
        cell.value = value
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        cell.value = value
        if kind in XLSX_FORMATS:
            cell.number_format = XLSX_FORMATS[kind]
    if bold:
        cell.font = Font(bold=True)
    return cell


class _Sheet:
    """A sheet written top to bottom: tables of a bold header row and typed cells."""

    def __init__(self, workbook: Workbook, title: str, taken: set[str]):
        self.sheet = workbook.create_sheet(title=_sheet_title(title, taken))
        self.row = 0
        self.widths: dict[int, int] = {}
        self.figure_columns: set[int] = set()

    def table(self, header: list[str], rows: list[list], kinds: list[str | None]) -> None:
        """`kinds[i]` is column i's kind of figure, None for text."""
        self.row += 1
        for column, label in enumerate(header, start=1):
            cell = _put(self.sheet, self.row, column, label, bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            if kinds[column - 1] is not None:
                self.figure_columns.add(column)
        self.sheet.row_dimensions[self.row].height = HEADER_HEIGHT
        for values in rows:
            self.row += 1
            for column, value in enumerate(values, start=1):
                _put(self.sheet, self.row, column, value, kinds[column - 1])
                if isinstance(value, str):
                    self.widths[column] = max(self.widths.get(column, 0), len(value))

    def finish(self, *, freeze: str = "C2") -> None:
        for column in range(1, self.sheet.max_column + 1):
            if column in self.figure_columns and column not in self.widths:
                width = FIGURE_WIDTH
            else:
                low, high = TEXT_WIDTH
                width = min(max(self.widths.get(column, 0) + 2, low, FIGURE_WIDTH), high)
            self.sheet.column_dimensions[get_column_letter(column)].width = width
        self.sheet.freeze_panes = freeze


def _sheet_title(title: str, taken: set[str]) -> str:
    base = SHEET_TITLE_FORBIDDEN.sub(" ", ILLEGAL_CHARACTERS_RE.sub("", title))
    base = " ".join(base.split()).strip("'")[:SHEET_TITLE_MAX] or "Sheet"
    candidate, n = base, 1
    while candidate.casefold() in taken:  # Excel compares sheet names case-insensitively
        n += 1
        suffix = f" ({n})"
        candidate = base[: SHEET_TITLE_MAX - len(suffix)] + suffix
    taken.add(candidate.casefold())
    return candidate


def _figure_table(sheet: _Sheet, first: str, rows: list[dict], specs: dict) -> None:
    header = [_("Key"), first, *(spec["label"] for spec in specs.values())]
    kinds = [None, None, *(spec["kind"] for spec in specs.values())]
    sheet.table(
        header,
        [[row["key"], row["label"], *(row.get(metric) for metric in specs)] for row in rows],
        kinds,
    )


def _generated_at(document: dict) -> dt.datetime | str:
    try:
        moment = dt.datetime.fromisoformat(document["generated_at"])
    except (KeyError, TypeError, ValueError):
        return document.get("generated_at") or ""
    # Spreadsheets hold no time zone: the site's local time, as the PDF shows it.
    return timezone.localtime(moment).replace(tzinfo=None) if timezone.is_aware(moment) else moment


def report_xlsx(document: dict) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    metrics = document["metrics"]

    summary = _Sheet(workbook, _("Summary"), taken)
    period = document["period"]
    scope = document.get("scope") or {}
    facts = [
        ("period_start", _("Start of the period"), dt.date.fromisoformat(period["start"]), None),
        ("period_end", _("End of the period"), dt.date.fromisoformat(period["end"]), None),
        ("scope", _("Scope"), scope_label(document), None),
        ("funder", _("Funder"), scope.get("funder") or "", None),
        ("generated_at", _("Figures as of"), _generated_at(document), None),
    ]
    facts += [
        (key, spec["label"], document["totals"].get(key), spec["kind"])
        for key, spec in metrics.items()
    ]
    summary.table(
        [_("Key"), _("Figure"), _("Value")],
        [[key, label, value] for key, label, value, _kind in facts],
        [None, None, "count"],
    )
    # Each value row has its own kind (a date, a rate, a count): set the formats by row.
    for offset, (_key, _label, value, kind) in enumerate(facts, start=2):
        if kind in XLSX_FORMATS and value is not None:
            summary.sheet.cell(row=offset, column=3).number_format = XLSX_FORMATS[kind]
    summary.widths[3] = 20
    summary.finish()

    months = _Sheet(workbook, _("Months"), taken)
    _figure_table(months, _("Month"), document["months"], metrics)
    months.finish()

    for dimension, label in document["dimensions"].items():
        sheet = _Sheet(workbook, label, taken)
        _figure_table(sheet, label, document["breakdowns"].get(dimension, []), metrics)
        sheet.finish()

    workshops = _Sheet(workbook, _("Workshops"), taken)
    _figure_table(workshops, _("Workshop"), document["workshops"], document["workshop_metrics"])
    workshops.finish()

    _impact_sheet(_Sheet(workbook, _("Impact"), taken), document)
    _factors_sheet(_Sheet(workbook, _("Impact factors"), taken), document)
    _assumptions_sheet(_Sheet(workbook, _("Impact assumptions"), taken), document)
    _programme_sheet(_Sheet(workbook, _("Programme targets"), taken), document)

    definitions = _Sheet(workbook, _("Definitions"), taken)
    definitions.table(
        [_("Definition")],
        [[text] for text in document["definitions"]]
        + [[_("An empty cell is a figure that does not apply to that breakdown.")]],
        [None],
    )
    definitions.sheet.column_dimensions["A"].width = 120
    for row in definitions.sheet.iter_rows(min_row=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    definitions.sheet.freeze_panes = "A2"

    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def _impact_sheet(sheet: _Sheet, document: dict) -> None:
    impact = document["impact"]
    metrics = document["metrics"]
    measures = [m for m in IMPACT_MEASURES if m in metrics]
    measure_labels = [metrics[m]["label"] for m in measures]
    rows = [
        [
            line["category"],
            line["label"],
            line["devices"],
            line["estimated"],
            line["extra_years"],
            *(line.get(m) for m in measures),
        ]
        for line in impact["lines"]
    ]
    total = _impact_total_row(impact)
    rows.append(
        ["total", _("Total"), total["devices"], None, None, *(total.get(m) for m in measures)]
    )
    sheet.table(
        [_("Key"), _("Category"), *_impact_headers(), *measure_labels],
        rows,
        [None, None, "count", None, "years", *(["kg"] * len(measures))],
    )
    for cell in sheet.sheet[sheet.row]:
        cell.font = Font(bold=True)
    sheet.finish()


def _factors_sheet(sheet: _Sheet, document: dict) -> None:
    metrics = document["metrics"]
    measures = [m for m in IMPACT_MEASURES if m in metrics]
    sheet.table(
        [
            _("Device type"),
            _("Factor status"),
            *(_("%(figure)s per year of use") % {"figure": metrics[m]["label"]} for m in measures),
            _("Source"),
            _("Published in"),
        ],
        [
            [
                factor["device_type"],
                _factor_status(factor["status"]),
                *(factor.get(m) for m in measures),
                factor["source"],
                factor["published_on"],
            ]
            for factor in document["impact"]["factors"]
        ],
        [None, None, *(["factor"] * len(measures)), None, None],
    )
    sheet.finish()


def _assumptions_sheet(sheet: _Sheet, document: dict) -> None:
    sheet.table(
        [_("Category"), _("Label"), _("Device type"), _("Years of extra use"), _("Basis")],
        [
            [a["category"], a["label"], a["device_type"], a["extra_years"], a["basis"]]
            for a in document["impact"]["assumptions"]
        ],
        [None, None, None, "years", None],
    )
    sheet.finish()


def _factor_status(status: str) -> str:
    if status == "published":
        return _("Published")
    if status == "to_confirm":
        return _("To be confirmed: not estimated")
    return status


def _programme_sheet(sheet: _Sheet, document: dict) -> None:
    header = [_("Reference"), _("Programme"), *_programme_headers()[:5]]
    header += [_("Handed over in the period"), *_programme_headers()[5:]]
    rows = [
        [
            p["reference"],
            p["name"],
            p["funder"],
            dt.date.fromisoformat(p["starts_on"]),
            dt.date.fromisoformat(p["ends_on"]),
            p["target_devices"],
            _decimal(p["target_budget"]),
            p["handed_over_in_period"],
            p["handed_over_to_date"],
            p["progress"],
        ]
        for p in document["programmes"]
    ]
    sheet.table(
        header, rows, [None, None, None, None, None, "count", "euros", "count", "count", "rate"]
    )
    sheet.finish()
