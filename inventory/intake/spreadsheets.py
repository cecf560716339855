"""Donors' spreadsheets read into plain rows: CSV or XLSX, columns named in French or English.

Pure: no ORM. The caller hands in the categories as plain values and asks the database about
duplicates itself; everything found wrong is a RowError (row as the spreadsheet shows it,
column as the file names it, reason), so an import can be refused as a whole and explained.
"""

import csv
import datetime
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.formats import number_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from openpyxl.xml.functions import fromstring, iterparse  # defusedxml's if installed

from inventory.codes import is_valid_imei, normalize_imei
from inventory.identity import (
    IMEI_FIELDS,
    identity_problems,
    normalize_manufacturer,
    normalize_serial,
    serial_key,
)

DEFAULT_MAX_ROWS = 5000
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# Trailing rows that only carry formatting are common in XLSX files; past this many empty rows
# in a row, the sheet is taken as ended (an archive of empty rows is no reason to spin).
MAX_EMPTY_RUN = 1000
# Rows read in all, blank ones included, beyond the row cap: blank rows scattered between the
# devices cannot make the reader walk a million rows.
ROW_SLACK = 2 * MAX_EMPTY_RUN
MAX_COLUMNS = 200
PREVIEW_ROWS = 20

# What an XLSX archive may declare, checked from its directory before any XML is parsed: a
# 5 MB upload can unpack to gigabytes, and the XML reader's time grows with what it unpacks.
# A genuine 5,000-row list of 8 columns unpacks to 2.2 MB of sheet (measured with openpyxl's
# writer): 10 MB leaves room for some 30 columns.
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_SHEET_BYTES = 10 * 1024 * 1024  # the sheet that is read
XLSX_MAX_STRINGS_BYTES = 10 * 1024 * 1024  # the shared strings, and the styles
XLSX_MAX_PART_BYTES = 1024 * 1024  # any other XML part read (workbook, relationships, types)
# Parts never read (pictures, charts, drawings, printer settings) count in the total only.
_UNREAD_PARTS = ("xl/worksheets/", "xl/media/", "xl/charts/", "xl/drawings/", "xl/embeddings/")
XLSX_MAX_TOTAL_BYTES = 128 * 1024 * 1024  # every member, pictures included
# Office XML packs 5 to 30 times; zeros or repeated filler pack a thousand times.
XLSX_MAX_RATIO = 100
XLSX_MAX_SHARED_STRINGS = 100_000
# Cells met in the sheet, read or skipped: the XML parser's time follows them, not the rows
# (a 5,000-row list with 40 columns has 200,000).
XLSX_MAX_CELLS = 250_000
_ARCHIVE_EXTENSIONS = (".zip", ".xlsx", ".xlsm", ".xls", ".docx", ".7z", ".rar", ".gz", ".jar")

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls format of Excel 97-2003

REQUIRED = ("category", "manufacturer")


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits only: "N° de série" → "ndeserie"."""
    decomposed = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(char for char in decomposed if char.isalnum() and char.isascii())


# Column names as donors write them. Folded, so case, accents, spaces and punctuation differ
# freely ("RAM (Go)", "ram go", "Ram-GO").
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "category": (
        "Catégorie", "Category", "Type", "Type d'appareil", "Type de matériel", "Matériel",
        "Device type", "Equipment type",
    ),
    "manufacturer": (
        "Fabricant", "Marque", "Constructeur", "Manufacturer", "Brand", "Make", "Vendor",
    ),
    "model_name": ("Modèle", "Nom du modèle", "Model", "Model name"),
    "serial_number": (
        "N° de série", "Nº de série", "No de série", "Numéro de série", "Num série", "N° série",
        "Série", "Serial", "Serial number", "Serial no", "S/N", "SN", "Service tag",
    ),
    "imei1": ("IMEI", "IMEI 1", "IMEI1"),
    "imei2": ("IMEI 2", "IMEI2"),
    "asset_tag": (
        "Numéro d'inventaire", "N° d'inventaire", "Nº d'inventaire", "No d'inventaire",
        "Inventaire", "Étiquette d'inventaire", "Asset tag", "Asset", "Asset number",
    ),
    "cpu": ("Processeur", "CPU", "Processor"),
    "ram_gb": (
        "RAM (Go)", "RAM (GB)", "RAM", "Mémoire (Go)", "Mémoire vive", "Mémoire vive (Go)",
        "Memory", "Memory (GB)",
    ),
    "storage_gb": (
        "Stockage (Go)", "Storage (GB)", "Stockage", "Storage", "Disque (Go)", "Capacité (Go)",
        "Disk (GB)", "Disk size (GB)",
    ),
    "storage_type": ("Type de stockage", "Type de disque", "Storage type", "Disk type"),
    "operating_system": ("Système", "Système d'exploitation", "OS", "Operating system"),
    "screen_inches": (
        "Écran (pouces)", "Écran", "Taille d'écran", "Taille écran (pouces)", "Screen",
        "Screen (inches)", "Screen size",
    ),
    "notes": ("Notes", "Note", "Remarques", "Remarque", "Commentaire", "Commentaires",
              "Observations", "Comments", "Comment"),
}  # fmt: skip
_COLUMN_BY_FOLD = {
    fold(alias): name for name, aliases in COLUMN_ALIASES.items() for alias in aliases
}

COLUMN_LABELS = {
    "category": _("Category"),
    "manufacturer": _("Manufacturer"),
    "model_name": _("Model"),
    "serial_number": _("Serial number"),
    "imei1": _("IMEI 1"),
    "imei2": _("IMEI 2"),
    "asset_tag": _("Donor's asset tag"),
    "cpu": _("Processor"),
    "ram_gb": _("RAM (GB)"),
    "storage_gb": _("Storage (GB)"),
    "storage_type": _("Storage type"),
    "operating_system": _("Operating system"),
    "screen_inches": _("Screen (inches)"),
    "notes": _("Notes"),
}

# Words donors use for a category, folded, mapped to category codes. Used only when that code
# exists; the categories' own codes and French and English names always match.
CATEGORY_SYNONYMS = {
    "laptop": (
        "PC portable", "Portable", "Ordinateur portable", "Notebook", "Ultrabook", "Laptop",
        "Chromebook", "MacBook",
    ),
    "desktop": ("PC fixe", "Unité centrale", "UC", "Tour", "Ordinateur de bureau", "Desktop"),
    "all_in_one": ("Tout-en-un", "All in one", "AIO", "iMac"),
    "screen": ("Écran", "Moniteur", "Monitor", "Display"),
    "tablet": ("Tablette", "Tablet", "iPad"),
    "smartphone": (
        "Smartphone", "Téléphone", "Téléphone portable", "Mobile", "iPhone", "Phone",
        "Mobile phone",
    ),
    "feature_phone": ("Téléphone simple", "Feature phone", "Basic phone"),
    "printer": ("Imprimante", "Printer"),
    "mfp": ("Multifonction", "Imprimante multifonction", "MFP", "Copieur"),
    "network_box": ("Box", "Box internet", "Routeur", "Router"),
    "accessory": ("Accessoire", "Accessory", "Clavier", "Souris", "Chargeur", "Keyboard", "Mouse"),
}  # fmt: skip

STORAGE_TYPES = {
    "hdd": ("HDD", "Disque dur", "Hard disk", "Hard drive", "Mécanique"),
    "ssd": ("SSD", "NVMe", "M.2"),
    "emmc": ("eMMC", "Flash", "UFS"),
    "none": ("Aucun", "None", "Sans", "Sans disque", "No disk"),
}
_STORAGE_BY_FOLD = {
    fold(alias): code for code, aliases in STORAGE_TYPES.items() for alias in aliases
}

MAX_LENGTHS = {
    "manufacturer": 80,
    "model_name": 120,
    "serial_number": 80,
    "asset_tag": 80,
    "cpu": 120,
    "operating_system": 120,
    "notes": 2000,
}
INTEGER_RANGES = {"ram_gb": (0, 4096), "storage_gb": (0, 10_000_000)}
SCREEN_MAX = Decimal("999.9")

# Control characters (a NUL above all) are refused by PostgreSQL text columns and mean nothing
# in a device's description; line breaks and tabs are kept in notes only.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPREADSHEET_EXPONENT = re.compile(r"^\d+(?:[.,]\d+)?[eE]\+?\d+$")
_NUMBER_WITH_UNIT = re.compile(
    r"^(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>go|gb|g|to|tb|t|gio|gib|tio|tib|)$", re.IGNORECASE
)
_INCHES = re.compile(r"^(?P<number>\d+(?:[.,]\d+)?)\s*(?:\"|''|pouces?|inch(?:es)?|in|po)?$")


@dataclass(frozen=True)
class CategoryRef:
    code: str
    name_fr: str
    name_en: str
    has_imei: bool


@dataclass(frozen=True)
class RowError:
    """One problem; row 1 is the header, None a problem of the whole file."""

    row: int | None
    column: str
    code: str  # stable, for programs and tests; `reason` is for people
    reason: str


@dataclass
class ParsedRow:
    row: int
    values: dict[str, object]
    raw: dict[str, str] = field(default_factory=dict)  # the cells as the file has them

    def __getitem__(self, name: str):
        return self.values.get(name, "")


@dataclass
class ParseResult:
    columns: list[tuple[str, str]] = field(default_factory=list)  # (as in the file, field)
    ignored: list[str] = field(default_factory=list)
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_format: str = ""
    refusal: RowError | None = None  # the file as a whole could not be read

    @property
    def column_of(self) -> dict[str, str]:
        return {name: header for header, name in self.columns}


class FileProblem(Exception):
    """The file as a whole cannot be read; the message says why, for the person importing."""

    def __init__(self, code: str, reason, row: int | None = None, column: str = ""):
        super().__init__(code)
        self.code = code
        self.reason = reason
        self.row = row
        self.column = column


class TooManyRows(FileProblem):
    pass


# Reading: bytes → (row number, cells)


ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


def file_format(content: bytes, file_name: str = "") -> str:
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if content.startswith(OLE_MAGIC) or file_name.lower().endswith(".xls"):
        return "xls"
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"  # not a zip archive: reading it says so
    return "csv"


_SURROGATE = re.compile("[\udc80-\udcff]")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class DecodedText:
    text: str
    # The bytes are UTF-8 except in some rows (their bytes kept as lone surrogates, so that
    # the CSV reader can say which row): a file pasted together from two exports.
    mixed: bool = False


def decode_text(content: bytes) -> str:
    return _decode(content).text


def _decode(content: bytes) -> DecodedText:
    """A BOM says the encoding; else UTF-8 when every byte is, else Windows-1252 (Latin-1).

    A file that is UTF-8 in places and not in others is mixed: decoding all of it as
    Windows-1252 would garble the UTF-8 rows (the header's "Catégorie" among them) and the
    person would be told about a missing column instead of the row that is wrong.
    """
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return DecodedText(content.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise FileProblem("unreadable", _("The file is not readable text.")) from exc
    if b"\x00" in content:
        raise FileProblem(
            "unreadable",
            _("The file is not a spreadsheet: save it as CSV or Excel (.xlsx) and try again."),
        )
    bom = content.startswith(_UTF8_BOM)
    body = content[len(_UTF8_BOM) :] if bom else content
    try:
        return DecodedText(body.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", errors="surrogateescape")
    # Some real UTF-8 beyond ASCII (or a BOM saying so) besides the undecodable bytes: mixed.
    if bom or any(ord(char) > 127 for char in _SURROGATE.sub("", text)):
        return DecodedText(text, mixed=True)
    try:
        return DecodedText(body.decode("cp1252"))
    except UnicodeDecodeError:
        return DecodedText(body.decode("latin-1"))


def _as_windows_text(cell: str) -> str:
    """A cell of a mixed file as the Windows-1252 row most likely meant it: "Écran fêlé"."""
    raw = cell.encode("utf-8", errors="surrogateescape")
    return raw.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: semicolons (French Excel), commas or tabs."""
    first = next((line for line in io.StringIO(text, newline=None) if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


# No donor's row is this long; the CSV reader would split such a line into millions of cells.
MAX_LINE_CHARS = 100_000
_LONG_LINE = re.compile(f"[^\n]{{{MAX_LINE_CHARS + 1}}}")


def csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    decoded = _decode(content)
    text = decoded.text
    long_line = _LONG_LINE.search(text)
    if long_line:
        line = text.count("\n", 0, long_line.start()) + 1
        raise FileProblem(
            "too_much_data",
            _("Line %(line)s is longer than %(count)s characters: this is no list of devices.")
            % {"line": line, "count": _count(MAX_LINE_CHARS)},
            row=line,
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    # One record is one row once the file is opened in a spreadsheet, even with a line break
    # inside a quoted cell: that is the number the person will look for.
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if decoded.mixed:
                _check_row_encoding(number, record)
            yield number, record[:MAX_COLUMNS]
    except csv.Error as exc:
        raise FileProblem(
            "unreadable",
            _("The file could not be read as CSV near row %(row)s.") % {"row": number + 1},
        ) from exc


def _check_row_encoding(number: int, record: list[str]) -> None:
    for cell in record:
        if _SURROGATE.search(cell):
            raise FileProblem(
                "mixed_encoding",
                _(
                    "Row %(row)s: unreadable encoding (“%(value)s”): this row is not in UTF-8 "
                    "like the rest of the file. Save the file again as “CSV UTF-8” and import "
                    "it again."
                )
                % {"row": number, "value": _clean(_as_windows_text(cell))[:60]},
                row=number,
            )


# XLSX: the archive is checked from its directory, then the first sheet is streamed row by row
# with openpyxl's cell parser, reading only the cells of the columns the import uses.


def _not_a_workbook() -> FileProblem:
    return FileProblem(
        "unreadable",
        _("This file is not a valid Excel (.xlsx) file: save it again as .xlsx or as CSV."),
    )


def _encrypted() -> FileProblem:
    return FileProblem(
        "encrypted",
        _(
            "This file is protected by a password: open it, save a copy without a password "
            "(or as CSV) and import that copy."
        ),
    )


def _count(number: int) -> str:
    """A count grouped as the reader's language writes it: "250 000" in French."""
    return number_format(number, force_grouping=True)


def _megabytes(size: int) -> str:
    return number_format(round(size / 1024 / 1024, 1))


def _too_much_data(what, size: int, limit: int) -> FileProblem:
    return FileProblem(
        "too_much_data",
        _(
            "This Excel file holds too much data for one import (%(what)s: %(size)s MB once "
            "unpacked, at most %(limit)s MB): keep only the devices' rows and columns, or save "
            "it as CSV."
        )
        % {"what": what, "size": _megabytes(size), "limit": _megabytes(limit)},
    )


def _suspicious(reason) -> FileProblem:
    return FileProblem(
        "suspicious_archive",
        _(
            "This Excel file is built in an unusual way (%(reason)s) and is not read: open it "
            "in Excel or LibreOffice and save it again as .xlsx, or as CSV."
        )
        % {"reason": reason},
    )


def _odd_name(name: str) -> bool:
    if not name or name.startswith("/") or "\\" in name or ":" in name:
        return True
    if any(ord(char) < 32 for char in name):
        return True
    return any(part in ("", ".", "..") for part in name.rstrip("/").split("/"))


def _part_label(name: str):
    """A part of the archive as the person knows it: the sheet, its texts, else its name."""
    lowered = name.lower()
    if lowered.startswith("xl/worksheets/"):
        return _("the sheet")
    if "sharedstrings" in lowered:
        return _("the sheet's texts")
    return name[:80]


def check_archive(archive: zipfile.ZipFile) -> None:
    """Refuse, from what the zip directory declares alone, an archive too big to parse.

    Python's zipfile never hands out more bytes than a member declares (a member that holds
    more fails its checksum), so these declared sizes bound what the XML reader will see.
    """
    members = archive.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise _suspicious(_("%(count)s parts") % {"count": _count(len(members))})
    total = 0
    names = set()
    for member in members:
        if member.flag_bits & 0x1:
            raise _encrypted()
        name = member.filename
        if _odd_name(name) or name in names:
            raise _suspicious(_("a part named “%(name)s”") % {"name": name[:80]})
        names.add(name)
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _suspicious(_("an unusual compression"))
        lowered = name.lower()
        if lowered.endswith(_ARCHIVE_EXTENSIONS) and not lowered.startswith("xl/embeddings/"):
            raise _suspicious(_("an archive inside the archive: “%(name)s”") % {"name": name[:80]})
        size = member.file_size
        total += size
        if size > 1024 * 1024 and size > max(member.compress_size, 1) * XLSX_MAX_RATIO:
            raise FileProblem(
                "too_much_data",
                _(
                    "This Excel file unpacks to far more than it weighs (“%(name)s”: %(ratio)s "
                    "times its size) and is not read: save it again from Excel or LibreOffice, "
                    "or as CSV."
                )
                % {
                    "name": _part_label(name),
                    "ratio": _count(size // max(member.compress_size, 1)),
                },
            )
        if lowered.endswith((".xml", ".rels")) and not lowered.startswith(_UNREAD_PARTS):
            large = "sharedstrings" in lowered or lowered.endswith("styles.xml")
            limit = XLSX_MAX_STRINGS_BYTES if large else XLSX_MAX_PART_BYTES
            if size > limit:
                raise _too_much_data(_part_label(name), size, limit)
    if total > XLSX_MAX_TOTAL_BYTES:
        raise _too_much_data(_("the whole file"), total, XLSX_MAX_TOTAL_BYTES)


class UncomputedFormula(str):
    """A formula cell saved without its result (a file written by a program, never opened)."""


class _SheetParser:
    """openpyxl's cell parser driven over one sheet, row by row, skipping what is not read.

    openpyxl's own read-only worksheet walks the whole sheet once to find its size when the
    file has no <dimension>, and parses every cell of every row: a million rows or 16,384
    columns hold a worker for half a minute. Here nothing is read ahead, the sheet's other
    parts (formatting, validation, links) are dropped unparsed, and once the header is known
    only its columns' cells are parsed.
    """

    def __init__(self, source, strings: list[str], epoch, dates: set[int], durations: set[int]):
        from openpyxl.worksheet._reader import WorkSheetParser

        self.source = source
        self.cells = WorkSheetParser(
            source,
            strings,
            data_only=True,
            epoch=epoch,
            date_formats=dates,
            timedelta_formats=durations,
        )
        self.columns: frozenset[int] | None = None  # 1-based; None: the first MAX_COLUMNS
        self.cells_met = 0

    def only_columns(self, positions: Iterable[int]) -> None:
        self.columns = frozenset(position + 1 for position in positions)

    def rows(self) -> Iterator[tuple[int, list]]:
        from openpyxl.worksheet import _reader as tags

        skipped = {getattr(tags, name) for name in dir(tags) if name.endswith("_TAG")} - {
            tags.ROW_TAG,
            tags.CELL_TAG,
            tags.VALUE_TAG,
            tags.FORMULA_TAG,
            tags.DATA_TAG,
        }
        number = 0
        for _event, element in iterparse(self.source):
            tag = element.tag
            if tag == tags.ROW_TAG:
                number = self._row_number(element, number)
                yield number, self._cells(element)
                element.clear()
            elif tag in skipped:
                element.clear()

    @staticmethod
    def _row_number(element, previous: int) -> int:
        text = element.get("r")
        if text is None:
            return previous + 1
        try:
            return int(text)
        except ValueError:
            return previous + 1

    def _cells(self, row) -> list:
        from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG

        self.cells_met += len(row)
        if self.cells_met > XLSX_MAX_CELLS:
            raise FileProblem(
                "too_much_data",
                _(
                    "This Excel sheet holds more than %(count)s cells: keep only the devices' "
                    "rows and columns, or save it as CSV."
                )
                % {"count": _count(XLSX_MAX_CELLS)},
            )
        wanted = self.columns
        last = max(wanted) if wanted else MAX_COLUMNS
        values: list = []
        column = 0
        for element in row:
            reference = element.get("r")
            column = _column_number(reference) if reference else column + 1
            if column > last:
                break  # a row's cells come in column order
            if wanted is not None and column not in wanted:
                continue
            if column > len(values):
                values.extend([None] * (column - len(values)))
            value = self.cells.parse_cell(element)["value"]
            formula = element.find(FORMULA_TAG) if value is None else None
            # No result, or an empty one that is no text (Excel writes t="str" for "").
            computed = element.findtext(VALUE_TAG) or element.get("t") == "str"
            if formula is not None and not computed:
                value = UncomputedFormula(formula.text or "")
            values[column - 1] = value
        return values


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_COLUMN_NUMBERS = {_column_letters(number): number for number in range(1, MAX_COLUMNS + 1)}


def _column_number(reference: str) -> int:
    """ "B7" → 2; any column past MAX_COLUMNS (or no letters) counts as beyond it."""
    return _COLUMN_NUMBERS.get(reference.rstrip("0123456789"), MAX_COLUMNS + 1)


_STRING_ITEM = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si[\s/>]")


def _shared_strings(archive: zipfile.ZipFile, path: str) -> list[str]:
    """The workbook's shared strings, counted before they are parsed."""
    from openpyxl.xml.constants import SHEET_MAIN_NS

    data = archive.read(path)  # at most XLSX_MAX_STRINGS_BYTES: check_archive saw to it
    if len(_STRING_ITEM.findall(data)) > XLSX_MAX_SHARED_STRINGS:
        raise FileProblem(
            "too_much_data",
            _(
                "This Excel file holds more than %(count)s different texts: keep only the "
                "devices' rows and columns, or save it as CSV."
            )
            % {"count": _count(XLSX_MAX_SHARED_STRINGS)},
        )
    item, text, run = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("si", "t", "r"))
    strings: list[str] = []
    for element in fromstring(data).iterfind(item):
        # Plain text, or rich-text runs; phonetic guides (rPh) are not the cell's text.
        parts = [element.findtext(text) or ""]
        parts += [part.findtext(text) or "" for part in element.iterfind(run)]
        strings.append("".join(parts).replace("x005F_", ""))
    return strings


class XlsxRows:
    """The rows of the first worksheet; `only_columns` narrows the cells read once the header
    is known."""

    def __init__(self, content: bytes):
        self.content = content
        self.parser: _SheetParser | None = None

    def only_columns(self, positions: Iterable[int]) -> None:
        if self.parser is not None:
            self.parser.only_columns(positions)

    def __iter__(self) -> Iterator[tuple[int, list]]:
        try:
            archive = zipfile.ZipFile(io.BytesIO(self.content))
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise _not_a_workbook() from exc
        with archive:
            check_archive(archive)
            try:
                strings, styles, sheet_path = self._open(archive)
            except FileProblem:
                raise
            except Exception as exc:  # noqa: BLE001 — any failure of a reader on untrusted bytes
                raise _not_a_workbook() from exc
            size = archive.getinfo(sheet_path).file_size
            if size > XLSX_MAX_SHEET_BYTES:
                raise _too_much_data(_("the sheet"), size, XLSX_MAX_SHEET_BYTES)
            try:
                with archive.open(sheet_path) as source:
                    self.parser = _SheetParser(source, strings, *styles)
                    yield from self.parser.rows()
            except FileProblem:
                raise
            except Exception as exc:  # noqa: BLE001 — a malformed sheet is the file's fault
                raise FileProblem(
                    "unreadable", _("The Excel sheet could not be read to the end.")
                ) from exc

    def _open(self, archive: zipfile.ZipFile):
        """(shared strings, (epoch, date styles, duration styles), path of the first sheet)."""
        from openpyxl.reader.excel import ExcelReader
        from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS

        reader = ExcelReader(
            io.BytesIO(self.content), read_only=True, data_only=True, keep_links=False
        )
        reader.read_manifest()
        reader.read_workbook()
        dates, durations = _date_styles(archive, ARC_STYLE)
        sheet_path = next(
            (
                relation.target
                for _sheet, relation in reader.parser.find_sheets()
                if relation.target in reader.valid_files and "chartsheet" not in relation.Type
            ),
            None,
        )
        if sheet_path is None:
            raise FileProblem("unreadable", _("This Excel file has no sheet."))
        strings: list[str] = []
        part = reader.package.find(SHARED_STRINGS)
        if part is not None and part.PartName[1:] in reader.valid_files:
            strings = _shared_strings(archive, part.PartName[1:])
        return strings, (reader.wb.epoch, dates, durations), sheet_path


def _date_styles(archive: zipfile.ZipFile, path: str) -> tuple[set[int], set[int]]:
    """The cell styles that show a date, and those that show a duration.

    openpyxl's own stylesheet reader builds an object per style: a style-bloated workbook
    (tens of thousands of formats) costs seconds. The number formats are all a reader needs.
    """
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format, is_timedelta_format
    from openpyxl.xml.constants import SHEET_MAIN_NS

    if path not in archive.namelist():
        return set(), set()
    root = fromstring(archive.read(path))
    formats = dict(BUILTIN_FORMATS)
    for element in root.iterfind(f"{{{SHEET_MAIN_NS}}}numFmts/{{{SHEET_MAIN_NS}}}numFmt"):
        formats[int(element.get("numFmtId", -1))] = element.get("formatCode") or ""
    dates: set[int] = set()
    durations: set[int] = set()
    kinds: dict[int, tuple[bool, bool]] = {}
    for index, style in enumerate(
        root.iterfind(f"{{{SHEET_MAIN_NS}}}cellXfs/{{{SHEET_MAIN_NS}}}xf")
    ):
        number = int(style.get("numFmtId", 0))
        if number not in kinds:
            code = formats.get(number, "")
            kinds[number] = (is_date_format(code), is_timedelta_format(code))
        is_date, is_duration = kinds[number]
        if is_date:
            dates.add(index)
        if is_duration:
            durations.add(index)
    return dates, durations


def table_rows(content: bytes, file_name: str) -> Iterable[tuple[int, list]]:
    kind = file_format(content, file_name)
    if kind == "xls":
        if ENCRYPTED_MARK in content[:1_000_000]:
            raise _encrypted()
        raise FileProblem(
            "old_excel",
            _("The old Excel format (.xls) is not read: save the file as .xlsx or as CSV."),
        )
    if kind == "xlsx":
        return XlsxRows(content)
    return csv_rows(content)


# Cells → values


def cell_text(value) -> str:
    """A cell as text: numbers without a spurious ".0", dates as ISO, no control characters."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()  # a date cell: Excel keeps dates as midnight
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _clean(text: str, *, keep_lines: bool = False) -> str:
    text = _CONTROL.sub("", text)
    if not keep_lines:
        text = re.sub(r"\s+", " ", text)
    return text.strip()


def category_index(categories: Iterable[CategoryRef]) -> dict[str, CategoryRef]:
    by_code = {category.code: category for category in categories}
    index: dict[str, CategoryRef] = {}
    for code, words in CATEGORY_SYNONYMS.items():
        if code in by_code:
            for word in words:
                index[fold(word)] = by_code[code]
    # The reference data wins over synonyms: a category named "Écran" is the screen one.
    for category in by_code.values():
        for word in (category.code, category.name_fr, category.name_en):
            index[fold(word)] = category
    return index


def parse_integer(text: str, name: str) -> int:
    match = _NUMBER_WITH_UNIT.match(text.replace("\u00a0", " ").strip())
    if not match:
        raise ValueError(_("Give a whole number of gigabytes, such as 8."))
    number = Decimal(match["number"].replace(",", "."))
    if match["unit"].lower() in {"to", "tb", "t", "tio", "tib"}:
        number *= 1000
    if number != number.to_integral_value():
        raise ValueError(_("Give a whole number of gigabytes, such as 8."))
    low, high = INTEGER_RANGES[name]
    if not low <= number <= high:
        raise ValueError(_("Between %(low)s and %(high)s.") % {"low": low, "high": f"{high:,}"})
    return int(number)


def parse_screen(text: str) -> Decimal:
    match = _INCHES.match(text.replace("\u00a0", " ").strip().lower())
    if not match:
        raise ValueError(_("Give the diagonal in inches, such as 15.6."))
    try:
        inches = Decimal(match["number"].replace(",", ".")).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
    except InvalidOperation as exc:
        raise ValueError(_("Give the diagonal in inches, such as 15.6.")) from exc
    if inches > SCREEN_MAX:
        raise ValueError(_("Give the diagonal in inches, such as 15.6."))
    return inches


# The header


def map_columns(
    header: Sequence,
) -> tuple[list[tuple[str, str]], list[str], list[RowError], list[tuple[int, str, str]]]:
    """(mapped columns, ignored titles, header errors, (position, title, field) per column)."""
    columns: list[tuple[str, str]] = []
    ignored: list[str] = []
    errors: list[RowError] = []
    seen: dict[str, str] = {}
    positions: list[tuple[int, str, str]] = []
    for position, cell in enumerate(header):
        title = _clean(cell_text(cell))
        if not title:
            continue
        name = _COLUMN_BY_FOLD.get(fold(title))
        if name is None:
            ignored.append(title)
            continue
        if name in seen:
            errors.append(
                RowError(
                    1,
                    title,
                    "duplicate_column",
                    _("The column “%(other)s” already gives this information (%(what)s).")
                    % {"other": seen[name], "what": COLUMN_LABELS[name]},
                )
            )
            continue
        seen[name] = title
        columns.append((title, name))
        positions.append((position, title, name))
    for name in REQUIRED:
        if name not in seen:
            errors.append(
                RowError(
                    1,
                    str(COLUMN_LABELS[name]),
                    "missing_column",
                    _("The column “%(what)s” is missing (for example “%(example)s”).")
                    % {"what": COLUMN_LABELS[name], "example": COLUMN_ALIASES[name][0]},
                )
            )
    return columns, ignored, errors, positions


# Rows


class _RowChecker:
    """Per-row checks and the duplicates within the file; knows nothing of the database."""

    def __init__(self, categories: Iterable[CategoryRef], column_of: dict[str, str]):
        categories = list(categories)
        self.categories = category_index(categories)
        self.accepted = categories
        self.column_of = column_of
        self.serials: dict[tuple[str, str], int] = {}
        self.imeis: dict[str, int] = {}

    def check(self, number: int, raw: dict[str, str]) -> tuple[dict, list[RowError]]:
        errors: list[RowError] = []
        values: dict[str, object] = {}

        def error(name: str, code: str, reason) -> None:
            errors.append(RowError(number, self.column_of.get(name, ""), code, reason))

        for name in ("model_name", "cpu", "operating_system", "asset_tag", "notes"):
            values[name] = _clean(raw.get(name, ""), keep_lines=name == "notes")
        values["manufacturer"] = normalize_manufacturer(_clean(raw.get("manufacturer", "")))
        values["serial_number"] = normalize_serial(_clean(raw.get("serial_number", "")))
        for name, limit in MAX_LENGTHS.items():
            if len(values[name]) > limit:
                error(name, "too_long", _("At most %(count)s characters.") % {"count": limit})

        category = None
        category_text = _clean(raw.get("category", ""))
        if not category_text:
            error("category", "category_missing", _("Give the category of the device."))
        else:
            category = self.categories.get(fold(category_text))
            if category is None:
                error(
                    "category",
                    "category_unknown",
                    _("Unknown category “%(value)s”. Accepted categories: %(accepted)s.")
                    % {"value": category_text[:80], "accepted": self._accepted_names()},
                )
        values["category"] = category.code if category else ""
        imeis = {name: normalize_imei(_clean(raw.get(name, ""))) for name in IMEI_FIELDS}
        problems = identity_problems(
            manufacturer=values["manufacturer"],
            imei1=imeis["imei1"],
            imei2=imeis["imei2"],
            has_imei=category.has_imei if category is not None else None,
        )
        for problem in problems:
            if problem.field == "manufacturer":
                error(problem.field, problem.code, problem.message)
        shortened = set()
        for name in IMEI_FIELDS:
            text = _clean(raw.get(name, ""))
            if imeis[name] and _SPREADSHEET_EXPONENT.match(text):
                shortened.add(name)
                error(
                    name,
                    "imei_shortened",
                    _(
                        "The spreadsheet shortened this number (%(value)s): format the column "
                        "as text and type the 15 digits again."
                    )
                    % {"value": text[:30]},
                )
        for problem in problems:
            if problem.field == "manufacturer" or (
                # A shortened number is reported as such, not also as an invalid IMEI.
                problem.field in shortened and problem.code in ("imei_invalid", "imei_not_allowed")
            ):
                continue
            error(problem.field, problem.code, problem.message)
        values |= imeis

        for name in ("ram_gb", "storage_gb"):
            text = _clean(raw.get(name, ""))
            values[name] = None
            if text:
                try:
                    values[name] = parse_integer(text, name)
                except ValueError as exc:
                    error(name, "number_invalid", exc.args[0])
        text = _clean(raw.get("screen_inches", ""))
        values["screen_inches"] = None
        if text:
            try:
                values["screen_inches"] = parse_screen(text)
            except ValueError as exc:
                error("screen_inches", "number_invalid", exc.args[0])
        text = _clean(raw.get("storage_type", ""))
        values["storage_type"] = ""
        if text:
            storage_type = _STORAGE_BY_FOLD.get(fold(text))
            if storage_type is None:
                error(
                    "storage_type",
                    "storage_type_unknown",
                    _("Unknown storage type “%(value)s”: HDD, SSD, eMMC or none.")
                    % {"value": text[:40]},
                )
            else:
                values["storage_type"] = storage_type

        self._duplicates(number, values, error)
        return values, errors

    def _accepted_names(self) -> str:
        english = (get_language() or "").startswith("en")
        names = [category.name_en if english else category.name_fr for category in self.accepted]
        return ", ".join(sorted(names, key=fold))

    def _duplicates(self, number: int, values: dict, error) -> None:
        serial = values["serial_number"]
        if serial and values["manufacturer"]:
            key = serial_key(str(values["manufacturer"]), serial)
            first = self.serials.setdefault(key, number)
            if first != number:
                error(
                    "serial_number",
                    "duplicate_in_file",
                    _("Same manufacturer and serial number as row %(row)s.") % {"row": first},
                )
        for name in IMEI_FIELDS:
            imei = values[name]
            if imei and is_valid_imei(imei):
                first = self.imeis.setdefault(imei, number)
                if first != number:
                    error(
                        name, "duplicate_in_file", _("Same IMEI as row %(row)s.") % {"row": first}
                    )


def parse_spreadsheet(
    content: bytes,
    *,
    file_name: str = "",
    categories: Iterable[CategoryRef],
    max_rows: int = DEFAULT_MAX_ROWS,
) -> ParseResult:
    """Every row checked; the file's size must have been checked by the caller already.

    A file that cannot be read as a whole (or not to its end) ends with one error, also kept
    as `refusal`: the caller refuses the file rather than previewing part of it.
    """
    result = ParseResult(file_format=file_format(content, file_name))
    try:
        if not content.strip():
            raise FileProblem("empty_file", _("The file is empty."))
        rows = table_rows(content, file_name)
        iterator = iter(rows)
        header_number, header = _header(iterator)
        columns, ignored, errors, positions = map_columns(header)
        result.columns, result.ignored, result.errors = columns, ignored, errors
        if errors:
            return result
        if isinstance(rows, XlsxRows):
            rows.only_columns(position for position, _title, _name in positions)
        checker = _RowChecker(categories, result.column_of)
        empty_run = 0
        seen = header_number
        for number, cells in iterator:
            seen += 1
            raw = {}
            uncomputed = []
            for position, title, name in positions:
                cell = cells[position] if position < len(cells) else None
                if isinstance(cell, UncomputedFormula):
                    uncomputed.append(title)
                raw[name] = cell_text(cell)
            if not any(raw.values()):
                empty_run += 1
                if empty_run > MAX_EMPTY_RUN:
                    break
                if seen > max_rows + ROW_SLACK:
                    raise _too_many_rows(max_rows, number)
                continue
            empty_run = 0
            if len(result.rows) >= max_rows or seen > max_rows + ROW_SLACK:
                raise _too_many_rows(max_rows, number)
            values, row_errors = checker.check(number, raw)
            result.rows.append(ParsedRow(number, values, raw))
            result.errors.extend(
                RowError(number, title, "formula_not_computed", _FORMULA_NOT_COMPUTED)
                for title in uncomputed
            )
            result.errors.extend(row_errors)
        if not result.rows:
            result.errors.append(
                RowError(
                    header_number + 1,
                    "",
                    "no_rows",
                    _("The file has a header but no device: one device per row under it."),
                )
            )
    except FileProblem as problem:
        result.refusal = RowError(problem.row, problem.column, problem.code, problem.reason)
        result.errors.append(result.refusal)
    return result


_FORMULA_NOT_COMPUTED = _(
    "This cell holds a formula that was never computed: open the file in Excel or "
    "LibreOffice, save it, and import it again (or paste the values instead of the formulas)."
)


def _too_many_rows(max_rows: int, number: int) -> TooManyRows:
    return TooManyRows(
        "too_many_rows",
        _("More than %(count)s devices in one file: split it into several files.")
        % {"count": _count(max_rows)},
        row=number,
    )


HEADER_SEARCH_ROWS = 10
# Rows looked at, blank ones included, to find the header: it sits near the top.
HEADER_SEARCH_LIMIT = 100


def _header(rows: Iterator[tuple[int, list]]) -> tuple[int, list]:
    """The row naming the required columns among the first non-empty ones, else the first.

    A title line or a blank row above the header is a common sight in donors' files.
    """
    first = None
    seen = 0
    for looked, (number, cells) in enumerate(rows, start=1):
        if looked > HEADER_SEARCH_LIMIT:
            break
        if not any(cell_text(cell) for cell in cells):
            continue
        if first is None:
            first = (number, cells)
        names = {_COLUMN_BY_FOLD.get(fold(cell_text(cell))) for cell in cells}
        if names.issuperset(REQUIRED):
            return number, cells
        seen += 1
        if seen >= HEADER_SEARCH_ROWS:
            break
    if first is None:
        raise FileProblem("empty_file", _("The file is empty."))
    return first
