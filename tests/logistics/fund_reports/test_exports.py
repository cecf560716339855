"""The fund report's files (CSV, XLSX, PDF) drawn from the document of the year counted by
hand in scenario.py, read back the way a spreadsheet or a reader would."""

import csv
import datetime as dt
import io

import pypdfium2 as pdfium
import pytest
from django.utils import formats, translation
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from inventory.models import Organisation
from logistics.fund_reports import figures
from logistics.fund_reports.exports import report_csv, report_xlsx
from logistics.fund_reports.pdf import _figure, report_pdf
from logistics.fund_reports.selectors import report_build
from logistics.models import FundingProgramme
from tests.logistics.fund_reports.scenario import build_year

YEAR = figures.Period(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
# Names that a spreadsheet would run as formulas if they were written as they are.
WORKSHOP = '=HYPERLINK("http://example.org","ECODAIR")'
PROGRAMME = "@SUM(1)"


@pytest.fixture
def year(coordinator, workshop_org, fund_org):
    year = build_year(coordinator=coordinator, workshop=workshop_org, fund=fund_org)
    Organisation.objects.filter(pk=workshop_org.pk).update(name=WORKSHOP)
    FundingProgramme.objects.filter(pk=year.a.pk).update(name=PROGRAMME)
    return year


@pytest.fixture
def document(year):
    with translation.override("fr"):
        return report_build(YEAR, figures.Scope())


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def cell_value(text: str):
    """A CSV cell as the document's value: empty is None, a number has a decimal comma."""
    if text == "":
        return None
    return float(text.replace(",", ".")) if "," in text else int(text)


def pdf_text(data: bytes) -> tuple[int, str]:
    document = pdfium.PdfDocument(data)
    text = " ".join(page.get_textpage().get_text_range() for page in document)
    return len(document), " ".join(text.split())


def test_the_csv_reads_back_every_section_and_figure_of_the_document(document):
    with translation.override("fr"):
        rows = read_csv(report_csv(document))
        names = {
            "totals": _("Totals"),
            "months": _("Months"),
            "workshops": _("Workshops"),
            "impact": _("Impact"),
            "programmes": _("Programme targets"),
            "network": _("Whole network"),
        }
    header, body = rows[0], rows[1:]
    metrics = list(document["metrics"])
    column = {metric: 3 + index for index, metric in enumerate(metrics)}
    assert header[3 : 3 + len(metrics)] == [spec["label"] for spec in document["metrics"].values()]
    assert {len(row) for row in rows} == {len(header)}
    sections = [row[0] for row in body]
    assert set(sections) == {
        names["totals"],
        names["months"],
        *document["dimensions"].values(),
        names["workshops"],
        names["impact"],
        names["programmes"],
    }

    totals = body[0]
    assert totals[:3] == [names["totals"], "2025-01-01/2025-12-31", names["network"]]
    assert {m: cell_value(totals[column[m]]) for m in metrics} == document["totals"]
    assert totals[column["handed_over"]] == "5"
    assert totals[column["reuse_rate"]] == "0,8333"  # 5 ÷ 6, as the document holds it

    months = [row for row in body if row[0] == names["months"]]
    assert [row[1] for row in months] == [f"2025-{n:02d}" for n in range(1, 13)]
    for row, expected in zip(months, document["months"], strict=True):
        assert {m: cell_value(row[column[m]]) for m in metrics} == {m: expected[m] for m in metrics}
    # A figure that does not apply is an empty cell, never 0; a zero stays 0.
    assert months[0][column["on_loan"]] == ""
    assert months[0][column["handed_over"]] == "0"
    territories = [row for row in body if row[0] == document["dimensions"]["territory"]]
    assert territories and {row[column["received"]] for row in territories} == {""}

    impact = {row[1]: row for row in body if row[0] == names["impact"]}
    assert cell_value(impact["laptop"][column["co2e_kg"]]) == 243.0
    assert impact["tablet"][column["co2e_kg"]] == ""
    assert impact["tablet"][column["impact_not_estimated"]] == "1"
    assert cell_value(impact["total"][column["ewaste_kg"]]) == 2.83

    # Names that would run as formulas come back as plain text.
    workshop = next(row for row in body if row[0] == names["workshops"])
    assert workshop[2] == "'" + WORKSHOP
    programmes = [row for row in body if row[0] == names["programmes"]]
    assert [row[2] for row in programmes] == ["'" + PROGRAMME, "Programme B"]
    assert programmes[0][column["handed_over"]] == "3"


def test_the_xlsx_has_a_sheet_per_section_with_typed_figures_and_no_formula(document):
    with translation.override("fr"):
        workbook = load_workbook(io.BytesIO(report_xlsx(document)))
        expected = [
            _("Summary"),
            _("Months"),
            *document["dimensions"].values(),
            _("Workshops"),
            _("Impact"),
            _("Impact factors"),
            _("Impact assumptions"),
            _("Programme targets"),
            _("Definitions"),
        ]
        summary = workbook[_("Summary")]
        workshops = workbook[_("Workshops")]
        programmes = workbook[_("Programme targets")]
    assert workbook.sheetnames == [name[:31] for name in expected]

    values = {row[0].value: row[2] for row in summary.iter_rows(min_row=2)}
    assert {m: values[m].value for m in document["metrics"]} == document["totals"]
    assert values["reuse_rate"].number_format == "0.0%"
    assert values["handed_over"].number_format == "#,##0"
    assert values["period_start"].value.date() == dt.date(2025, 1, 1)
    assert summary["A1"].font.b and summary.freeze_panes == "C2"

    territory = workbook[document["dimensions"]["territory"]]
    header = [cell.value for cell in territory[1]]
    received = header.index(document["metrics"]["received"]["label"]) + 1
    assert territory.max_row > 1
    assert {
        territory.cell(row=r, column=received).value for r in range(2, territory.max_row + 1)
    } == {None}

    # Text that looks like a formula is stored as text, with Excel's quote prefix.
    name = workshops["B2"]
    assert (name.value, name.data_type, name.quotePrefix) == (WORKSHOP, "s", True)
    name = programmes["B2"]
    assert (name.value, name.data_type, name.quotePrefix) == (PROGRAMME, "s", True)
    assert programmes["J2"].value == 0.3 and programmes["J2"].number_format == "0.0%"
    assert not [
        cell.coordinate
        for sheet in workbook
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def test_the_pdf_shows_the_period_the_figures_the_impact_and_names_no_person(document):
    with translation.override("fr"):
        pages, text = pdf_text(report_pdf(document))
        start = formats.date_format(dt.date(2025, 1, 1), "DATE_FORMAT")
        not_estimated = _("not estimated")
        last_page = _("Page %(page)s / %(total)s") % {"page": pages, "total": pages}
    assert start == "1 janvier 2025" and start in text and "31 décembre 2025" in text
    assert "83,3 %" in text  # the reuse rate, 5 ÷ 6
    assert "243,0" in text and "1 143,0" in text and "2,8" in text  # the impact's totals
    assert " ".join(not_estimated.split()) in text  # the tablet
    assert "ADEME, Évaluation de l'impact environnemental" in text and "2022-09" in text
    # Names are shown as they are (a long one wraps in its cell).
    assert PROGRAMME in text and '=HYPERLINK("http://example.org"' in text
    assert " ".join(last_page.split()) in text
    # The hand-overs' receivers are named in the database; never in the report.
    assert "Agent d'accueil" not in text


def test_a_programme_report_leaves_out_what_does_not_apply(year):
    with translation.override("fr"):
        document = report_build(YEAR, figures.Scope(programme=year.a))
        rows = read_csv(report_csv(document))
        pages, text = pdf_text(report_pdf(document))
        workbook = load_workbook(io.BytesIO(report_xlsx(document)))
        months = _("Months")
        workshops_note = _(
            "The workshops' figures cover the whole network only: a workshop's "
            "work is not attributed to a programme."
        )
    column = 3 + list(document["metrics"]).index("received")
    assert {row[column] for row in rows[1:] if row[0] == months} == {""}
    assert " ".join(workshops_note.split()) in text and PROGRAMME in text
    assert workbook[_("Workshops")].max_row == 1


def test_figures_are_rounded_not_cut_and_none_is_a_dash():
    with translation.override("fr"):
        assert _figure(13.19, "kg") == "13,2"
        assert _figure(1134.0, "kg").replace("\xa0", " ") == "1 134,0"
        assert _figure(0.8333, "rate").replace("\xa0", " ") == "83,3 %"
        assert _figure(0.314, "factor") == "0,314"
        assert _figure(None, "count") == "—"
        assert _figure(0, "count") == "0"
