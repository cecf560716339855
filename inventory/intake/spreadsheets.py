"""Donors' spreadsheets read into plain rows: CSV or XLSX, columns named in French or English.

Pure: no ORM. The caller hands in the categories as plain values and asks the database about
duplicates itself; everything found wrong is a RowError (row as the spreadsheet shows it,
column as the file names it, reason), so an import can be refused as a whole and explained.
"""

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

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
# Zip archives (XLSX) are small on the wire and may unpack to anything: refuse more than this
# many bytes of content per byte of file before handing the archive to the XML reader.
MAX_UNZIP_RATIO = 40
# Trailing rows that only carry formatting are common in XLSX files; past this many empty rows
# in a row, the sheet is taken as ended (an archive of empty rows is no reason to spin).
MAX_EMPTY_RUN = 1000
MAX_COLUMNS = 200
PREVIEW_ROWS = 20

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


def file_format(content: bytes, file_name: str = "") -> str:
    if content.startswith(XLSX_MAGIC):
        return "xlsx"
    if content.startswith(OLE_MAGIC) or file_name.lower().endswith(".xls"):
        return "xls"
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        return "xlsx"  # not a zip archive: reading it says so
    return "csv"


def decode_text(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else Windows-1252, else Latin-1."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise FileProblem("unreadable", _("The file is not readable text.")) from exc
    if b"\x00" in content:
        raise FileProblem(
            "unreadable",
            _("The file is not a spreadsheet: save it as CSV or Excel (.xlsx) and try again."),
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


def sniff_delimiter(text: str) -> str:
    """The separator of the header line: semicolons (French Excel), commas or tabs."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in (";", ",", "\t")}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def csv_rows(content: bytes) -> Iterator[tuple[int, list]]:
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    # One record is one row once the file is opened in a spreadsheet, even with a line break
    # inside a quoted cell: that is the number the person will look for.
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, record[:MAX_COLUMNS]
    except csv.Error as exc:
        raise FileProblem(
            "unreadable",
            _("The file could not be read as CSV near row %(row)s.") % {"row": number + 1},
        ) from exc


def xlsx_rows(content: bytes, max_bytes: int) -> Iterator[tuple[int, list]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise FileProblem(
            "unreadable",
            _("This file is not a valid Excel (.xlsx) file: save it again as .xlsx or as CSV."),
        ) from exc
    if unpacked > max(max_bytes, len(content)) * MAX_UNZIP_RATIO:
        raise FileProblem("too_much_data", _("This Excel file holds too much data for one import."))

    from openpyxl import load_workbook

    try:
        # Read-only streams the sheet's XML; data_only gives formulas' last computed values.
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — any failure of a third-party reader on untrusted bytes
        raise FileProblem(
            "unreadable",
            _("This file is not a valid Excel (.xlsx) file: save it again as .xlsx or as CSV."),
        ) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise FileProblem("unreadable", _("This Excel file has no sheet."))
        # The <dimension> a file declares may be wrong; read what is there instead.
        sheet.reset_dimensions()
        try:
            for number, values in enumerate(
                sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1
            ):
                yield number, list(values)
        except FileProblem:
            raise
        except Exception as exc:  # noqa: BLE001 — as above: a malformed sheet is the file's fault
            raise FileProblem(
                "unreadable", _("The Excel sheet could not be read to the end.")
            ) from exc
    finally:
        workbook.close()


def table_rows(content: bytes, file_name: str, max_bytes: int) -> Iterator[tuple[int, list]]:
    kind = file_format(content, file_name)
    if kind == "xls":
        raise FileProblem(
            "old_excel",
            _("The old Excel format (.xls) is not read: save the file as .xlsx or as CSV."),
        )
    if kind == "xlsx":
        return xlsx_rows(content, max_bytes)
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
        self.categories = category_index(categories)
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
                    _("Unknown category “%(value)s”.") % {"value": category_text[:80]},
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
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ParseResult:
    """Every row checked; the file's size must have been checked by the caller already."""
    result = ParseResult(file_format=file_format(content, file_name))
    if not content.strip():
        result.errors.append(RowError(None, "", "empty_file", _("The file is empty.")))
        return result
    try:
        rows = table_rows(content, file_name, max_bytes)
        header_number, header = _header(rows)
        columns, ignored, errors, positions = map_columns(header)
        result.columns, result.ignored, result.errors = columns, ignored, errors
        if errors:
            return result
        checker = _RowChecker(categories, result.column_of)
        empty_run = 0
        for number, cells in rows:
            raw = {
                name: cell_text(cells[position]) if position < len(cells) else ""
                for position, _title, name in positions
            }
            if not any(raw.values()):
                empty_run += 1
                if empty_run > MAX_EMPTY_RUN:
                    break
                continue
            empty_run = 0
            if len(result.rows) >= max_rows:
                raise TooManyRows(
                    "too_many_rows",
                    _("More than %(count)s devices in one file: split it into several files.")
                    % {"count": f"{max_rows:,}"},
                    row=number,
                )
            values, row_errors = checker.check(number, raw)
            result.rows.append(ParsedRow(number, values, raw))
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
        result.errors.append(RowError(problem.row, problem.column, problem.code, problem.reason))
    return result


HEADER_SEARCH_ROWS = 10


def _header(rows: Iterator[tuple[int, list]]) -> tuple[int, list]:
    """The row naming the required columns among the first non-empty ones, else the first.

    A title line or a blank row above the header is a common sight in donors' files.
    """
    first = None
    seen = 0
    for number, cells in rows:
        if not any(cell_text(cell) for cell in cells):
            if number > MAX_EMPTY_RUN and first is None:
                break
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
