"""The needs register as a file: one row per need line, as CSV (the WEEE register's safe CSV)
or XLSX. Facts about structures and devices only: no person's name, e-mail or phone, so the
author of a need is left out, and so is the free text a person may have been named in."""

import datetime
import io
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from logistics.disposals.export import csv_response

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Enough for the longest label of each column to show without widening it by hand.
XLSX_WIDTHS = (12, 30, 18, 24, 24, 14, 28, 22, 10, 10, 10, 12, 12, 12, 18) + (10,) * 8


def _header() -> tuple:
    return (
        _("Reference"),
        _("Structure"),
        _("Commune"),
        _("Territory (EPT)"),
        _("Structure type"),
        _("Status"),
        _("What the devices are for"),
        _("Public served"),
        _("Gift or loan"),
        _("Loan length (weeks)"),
        _("Urgency"),
        _("Declared on"),
        _("Submitted on"),
        _("Decided on"),
        _("Category"),
        _("Quantity asked"),
        _("Quantity accepted"),
        _("Quantity served"),
        _("Minimum RAM (GB)"),
        _("Minimum storage (GB)"),
        _("Minimum screen (inches)"),
        _("Operating system"),
        _("Lowest acceptable grade"),
    )


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localdate(moment) if moment else None


def _rows(needs):
    """One row per line; `needs` come from need_register (their lines read with them), with
    their structure's commune and its territory."""
    for need in needs:
        structure = need.structure
        commune = structure.commune
        territory = commune.territory if commune is not None else None
        facts = (
            need.reference,
            structure.name,
            commune.name if commune is not None else "",
            territory.name if territory is not None else "",
            structure.get_structure_type_display(),
            need.get_status_display(),
            need.get_purpose_display(),
            need.get_public_display(),
            need.get_mode_display(),
            need.loan_weeks,
            need.get_urgency_display(),
            _day(need.created_at),
            _day(need.submitted_at),
            _day(need.decided_at),
        )
        for line in need.line_rows:
            yield (
                *facts,
                line.category.name,
                line.quantity,
                line.quantity_accepted,
                line.quantity_served,
                line.min_ram_gb,
                line.min_storage_gb,
                line.min_screen_inches,
                line.get_os_family_display() if line.os_family else "",
                line.min_grade,
            )


def _filename(extension: str) -> str:
    # Translated too ("registre-des-besoins-…" in French), then made safe.
    name = slugify(_("needs-register")) or "needs-register"
    return f"{name}-{timezone.localdate().isoformat()}.{extension}"


def needs_csv_response(needs) -> HttpResponse:
    return csv_response(_filename("csv"), _header(), _rows(needs))


def _xlsx_cell(sheet, value, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # Text stays text: openpyxl would store "=…" as a formula for the spreadsheet to run.
        cell.data_type = "s"
    elif isinstance(value, datetime.date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, Decimal):
        cell.number_format = "0.0"
    if bold:
        cell.font = Font(bold=True)
    return cell


def needs_xlsx_bytes(needs) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Needs")[:31])
    sheet.freeze_panes = "B2"
    for index, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.append([_xlsx_cell(sheet, label, bold=True) for label in _header()])
    for row in _rows(needs):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def needs_xlsx_response(needs) -> HttpResponse:
    response = HttpResponse(needs_xlsx_bytes(needs), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
