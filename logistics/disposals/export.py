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
import unicodedata
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
# Look-alikes a spreadsheet (or the person retyping the cell) may take for a trigger, besides
# those that NFKC folds into one (full-width ＝ ＋ － ＠, small ﹦ ﹢ ﹣ ﹫, super/subscript ⁼ ₊).
LOOK_ALIKE_TRIGGERS = frozenset("\u2212")  # MINUS SIGN
# What may stand, unseen, before a trigger: whitespace of any kind and the invisible format
# characters (zero-width space and joiners U+200B–U+200D, direction marks U+200E–U+200F and
# embeddings, word joiner U+2060, BOM U+FEFF, soft hyphen), plus combining marks.
_UNSEEN_CATEGORIES = frozenset({"Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _unseen(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in _UNSEEN_CATEGORIES


def _is_trigger(char: str) -> bool:
    return (
        char in FORMULA_TRIGGERS
        or char in LOOK_ALIKE_TRIGGERS
        or unicodedata.normalize("NFKC", char)[:1] in FORMULA_TRIGGERS
    )


def neutralise(text: str) -> str:
    """Text as it should appear in a cell: a leading quote makes a would-be formula plain text.

    The first character that shows is checked, with its look-alikes: spreadsheets trim
    leading spaces on import, and invisible characters are pasted in with copied text. Every
    CSV the application writes goes through here (via `cell`).
    """
    for char in text:
        if _is_trigger(char):  # a tab or CR among the leading blanks counts as well
            return "'" + text
        if not _unseen(char):
            break
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
