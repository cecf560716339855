"""CSV files that spreadsheets open safely: no cell can run as a formula (R14).

The files are for French offices, so they follow what Excel in a French locale expects when a
file is double-clicked: UTF-8 *with* a byte-order mark (without it Excel reads the bytes as
Windows-1252 and "éco-organisme" turns into "Ã©co-organisme") and `;` between cells (the French
list separator: `,` is the decimal comma there, so a comma-separated file opens in one column).
Decimals are written with a comma for the same reason. LibreOffice and `csv.reader(...,
delimiter=";")` on text decoded as "utf-8-sig" read the same file back unchanged.
"""

import csv
import datetime
import io
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

DELIMITER = ";"
ENCODING = "utf-8-sig"  # writes the BOM; also strips it when reading back
CONTENT_TYPE = "text/csv; charset=utf-8"
# A cell whose text starts with one of these is read as a formula (or, for tab and CR, lets
# the next character be) by Excel, LibreOffice or Google Sheets: OWASP's "CSV injection".
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """Text as it should appear in a cell: a leading quote makes a would-be formula plain text.

    Leading spaces are looked through, because some spreadsheets trim them on import.
    """
    if text.lstrip(" ").startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def cell(value) -> str:
    """One value as cell text. Only text can carry a formula: numbers and dates are typed
    values of our own and are written as such (a negative number must stay a number)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal | float):
        return format(value, "f").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return neutralise(str(value))


def write_csv(stream, header: Iterable, rows: Iterable[Iterable]) -> None:
    """Write the header and rows to a text stream, every cell passed through `cell`."""
    writer = csv.writer(stream, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([cell(value) for value in header])
    for row in rows:
        writer.writerow([cell(value) for value in row])


def csv_bytes(header: Iterable, rows: Iterable[Iterable]) -> bytes:
    stream = io.StringIO()
    write_csv(stream, header, rows)
    return stream.getvalue().encode(ENCODING)


def csv_response(filename: str, header: Iterable, rows: Iterable[Iterable]) -> HttpResponse:
    """A download of the whole file; exports here are registers of a few thousand lines."""
    response = HttpResponse(csv_bytes(header, rows), content_type=CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def weee_register_response(batches, *, start=None, end=None) -> HttpResponse:
    """The WEEE register, one line per batch, as the file the web screen and the API send."""
    header = (
        _("Date of removal"),
        _("Reference"),
        _("Eco-organisation"),
        _("Collector or site"),
        _("Number of devices"),
        _("Weight (kg)"),
        _("Document reference"),
        _("Handed over by"),
    )
    rows = (
        (
            batch.left_on,
            batch.reference,
            batch.eco_organisation,
            batch.collector,
            batch.device_count,
            batch.weight_kg,
            batch.document_reference,
            batch.organisation.name if batch.organisation else "",
        )
        for batch in batches
    )
    period = "-".join(day.isoformat() for day in (start, end) if day)
    stamp = period or timezone.localdate().isoformat()
    # The file name is translated too ("registre-deee-…" in French), then made safe.
    name = slugify(_("weee-register")) or "weee-register"
    return csv_response(f"{name}-{stamp}.csv", header, rows)
