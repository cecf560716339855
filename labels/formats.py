"""Label stock as data: A4 sheets and printer rolls, loaded from data/label_formats.csv.

Adding a format is one CSV row. The first fourteen columns are those of the network's shared
format list; the last five are ours:
- margin_x_mm, margin_y_mm: ink stays this far inside each label's edges (office printers
  register sheets to about 1 mm; Brother QL rolls have unprintable ends and sides, e.g.
  696 × 271 of 732 × 342 dots on a 62 × 29 mm label). A QR's quiet zone may lie in that margin:
  it is blank paper, not ink.
- page_margin_mm: ink stays this far inside the sheet edge (edge-to-edge sheets).
- length_mm: the label length chosen for a continuous roll (its page_h_mm is empty).
- printer_language: "zpl" when the printer also takes ZPL (the printer then draws the QR).
"""

import csv
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

FORMATS_CSV = Path(__file__).resolve().parent / "data" / "label_formats.csv"
MM_PER_INCH = 25.4
# Labels may touch the sheet edge or their neighbours to within rounding of the published sizes.
_TOLERANCE_MM = 0.05


class UnknownFormat(KeyError):
    def __init__(self, name: str, valid: list[str]):
        super().__init__(name)
        self.name = name
        self.valid = valid

    def __str__(self) -> str:
        return f"unknown label format {self.name!r}; valid formats: {', '.join(self.valid)}"


class FormatError(ValueError):
    """A row of the format file that cannot describe real label stock."""


@dataclass(frozen=True)
class Box:
    """A rectangle in millimetres, origin at the page's top-left corner, y growing downwards."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def inset(self, dx: float, dy: float) -> "Box":
        return Box(self.x + dx, self.y + dy, self.w - 2 * dx, self.h - 2 * dy)

    def intersect(self, other: "Box") -> "Box":
        x, y = max(self.x, other.x), max(self.y, other.y)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Box(x, y, max(0.0, right - x), max(0.0, bottom - y))

    def contains(self, other: "Box", tolerance: float = 1e-6) -> bool:
        return (
            other.x >= self.x - tolerance
            and other.y >= self.y - tolerance
            and other.right <= self.right + tolerance
            and other.bottom <= self.bottom + tolerance
        )


@dataclass(frozen=True)
class LabelFormat:
    name: str
    kind: str  # "sheet" or "roll"
    page_w_mm: float
    page_h_mm: float  # for a continuous roll: the chosen label length
    label_w_mm: float
    label_h_mm: float
    columns: int
    rows: int
    first_x_mm: float
    first_y_mm: float
    pitch_x_mm: float
    pitch_y_mm: float
    dpi: int | None
    note: str
    margin_x_mm: float = 0.0
    margin_y_mm: float = 0.0
    page_margin_mm: float = 0.0
    continuous: bool = False
    printer_language: str = ""

    @property
    def is_sheet(self) -> bool:
        return self.kind == "sheet"

    @property
    def is_roll(self) -> bool:
        return self.kind == "roll"

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def supports_zpl(self) -> bool:
        return self.printer_language == "zpl" and self.dpi is not None

    @property
    def page_box(self) -> Box:
        """The page of the PDF. With a known dpi it is a whole number of dots (62 mm at
        300 dpi is 732.28 dots: 732 are kept), so that the dot grid starts at the same place
        whether a driver counts from the top or the bottom edge, and nothing is stretched."""
        if self.dpi is None:
            return Box(0, 0, self.page_w_mm, self.page_h_mm)
        dot = MM_PER_INCH / self.dpi
        return Box(
            0,
            0,
            math.floor(self.page_w_mm / dot + 1e-6) * dot,
            math.floor(self.page_h_mm / dot + 1e-6) * dot,
        )

    def label_box(self, position: int) -> Box:
        """Position 0 is the top-left label; positions run across, then down."""
        if not 0 <= position < self.per_page:
            raise IndexError(f"{self.name} has positions 0 to {self.per_page - 1}")
        row, column = divmod(position, self.columns)
        box = Box(
            self.first_x_mm + column * self.pitch_x_mm,
            self.first_y_mm + row * self.pitch_y_mm,
            self.label_w_mm,
            self.label_h_mm,
        )
        return box.intersect(self.page_box) if self.dpi is not None else box

    def safe_box(self, position: int) -> Box:
        """Where ink may go on that label: inside its margins and the sheet's margin."""
        box = self.label_box(position).inset(self.margin_x_mm, self.margin_y_mm)
        page = self.page_box.inset(self.page_margin_mm, self.page_margin_mm)
        return box.intersect(page)

    def mm_to_dots(self, mm: float) -> float:
        assert self.dpi is not None
        return mm * self.dpi / MM_PER_INCH


def _number(row: dict, column: str, *, default: float | None = None) -> float:
    raw = (row.get(column) or "").strip()
    if not raw:
        if default is None:
            raise FormatError(f"{row.get('name')!r}: {column} is required")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise FormatError(f"{row.get('name')!r}: {column} is not a number: {raw!r}") from None
    if value < 0:
        raise FormatError(f"{row.get('name')!r}: {column} is negative")
    return value


def parse_format(row: dict) -> LabelFormat:
    name = (row.get("name") or "").strip()
    if not name:
        raise FormatError("a format has no name")
    kind = (row.get("kind") or "").strip()
    if kind not in {"sheet", "roll"}:
        raise FormatError(f"{name!r}: kind must be 'sheet' or 'roll', not {kind!r}")
    continuous = not (row.get("page_h_mm") or "").strip()
    if continuous and kind != "roll":
        raise FormatError(f"{name!r}: only a roll can be continuous (page_h_mm is empty)")
    length = _number(row, "length_mm", default=0.0)
    if continuous and not length:
        raise FormatError(f"{name!r}: a continuous roll needs length_mm, the label length")
    dpi_raw = (row.get("dpi") or "").strip()
    label_h = length if continuous else _number(row, "label_h_mm")
    fmt = LabelFormat(
        name=name,
        kind=kind,
        page_w_mm=_number(row, "page_w_mm"),
        page_h_mm=length if continuous else _number(row, "page_h_mm"),
        label_w_mm=_number(row, "label_w_mm"),
        label_h_mm=label_h,
        columns=int(_number(row, "columns")),
        rows=int(_number(row, "rows")),
        first_x_mm=_number(row, "first_x_mm"),
        first_y_mm=_number(row, "first_y_mm"),
        pitch_x_mm=_number(row, "pitch_x_mm"),
        pitch_y_mm=label_h if continuous else _number(row, "pitch_y_mm"),
        dpi=int(dpi_raw) if dpi_raw else None,
        note=(row.get("note") or "").strip(),
        margin_x_mm=_number(row, "margin_x_mm", default=0.0),
        margin_y_mm=_number(row, "margin_y_mm", default=0.0),
        page_margin_mm=_number(row, "page_margin_mm", default=0.0),
        continuous=continuous,
        printer_language=(row.get("printer_language") or "").strip().lower(),
    )
    _check_geometry(fmt)
    return fmt


def _check_geometry(fmt: LabelFormat) -> None:
    if fmt.label_w_mm <= 0 or fmt.label_h_mm <= 0 or fmt.columns < 1 or fmt.rows < 1:
        raise FormatError(f"{fmt.name!r}: labels need a size and at least one row and column")
    if fmt.is_roll and fmt.per_page != 1:
        raise FormatError(f"{fmt.name!r}: a roll has one label per page")
    if fmt.columns > 1 and fmt.pitch_x_mm < fmt.label_w_mm - _TOLERANCE_MM:
        raise FormatError(f"{fmt.name!r}: labels overlap across (pitch_x_mm < label_w_mm)")
    if fmt.rows > 1 and fmt.pitch_y_mm < fmt.label_h_mm - _TOLERANCE_MM:
        raise FormatError(f"{fmt.name!r}: labels overlap down (pitch_y_mm < label_h_mm)")
    last = fmt.label_box(fmt.per_page - 1)
    if last.right > fmt.page_w_mm + _TOLERANCE_MM or last.bottom > fmt.page_h_mm + _TOLERANCE_MM:
        raise FormatError(f"{fmt.name!r}: the last label runs off the page")
    safe = fmt.safe_box(0)
    if safe.w <= 0 or safe.h <= 0:
        raise FormatError(f"{fmt.name!r}: the margins leave no room on the label")
    if fmt.printer_language not in {"", "zpl"}:
        raise FormatError(f"{fmt.name!r}: unknown printer_language {fmt.printer_language!r}")
    if fmt.printer_language == "zpl" and fmt.dpi is None:
        raise FormatError(f"{fmt.name!r}: a ZPL printer needs its dpi")


def load_formats(path: Path | str = FORMATS_CSV) -> dict[str, LabelFormat]:
    formats: dict[str, LabelFormat] = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            fmt = parse_format(row)
            if fmt.name in formats:
                raise FormatError(f"{fmt.name!r} is listed twice")
            formats[fmt.name] = fmt
    return formats


@cache
def all_formats() -> Mapping[str, LabelFormat]:
    return MappingProxyType(load_formats())


def format_names() -> list[str]:
    return list(all_formats())


def get_format(name: str) -> LabelFormat:
    formats = all_formats()
    try:
        return formats[name]
    except KeyError:
        raise UnknownFormat(name, list(formats)) from None
