"""What Réemploi's PDFs share: the fonts, text those fonts can show, the colours and the data
tables' style. Drawn by a donation's documents (inventory.documents.pdf) and the labels
(labels.render); the fund's reports will draw with them too.

The standard Type-1 fonts need no embedding and give the same bytes everywhere. Their WinAnsi
encoding covers French; any other character is reduced to its Latin base ("ő" → "o") or "?"
rather than drawn as a missing glyph.
"""

import unicodedata

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Table, TableStyle

SANS = "Helvetica"
SANS_BOLD = "Helvetica-Bold"
SANS_ITALIC = "Helvetica-Oblique"
MONO = "Courier"
MONO_BOLD = "Courier-Bold"

RULE = colors.HexColor("#9aa5b1")
HEAD_FILL = colors.HexColor("#e6ebf0")
MUTED = colors.HexColor("#4f5963")

# Letters with no decomposition to a Latin base, and dashes WinAnsi lacks.
_FALLBACK = str.maketrans(
    {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Ħ": "H", "ħ": "h", "‐": "-", "‑": "-"}
)


def clean_text(text, *, fallback: bool = True) -> str:
    """One line of text the standard fonts can show (WinAnsi), without control characters.

    fallback=False leaves the letters and dashes of _FALLBACK to become "?", as the labels
    have always printed them.
    """
    line = unicodedata.normalize("NFC", " ".join(str(text).split()))
    if fallback:
        line = line.translate(_FALLBACK)
    out = []
    for char in line:
        if unicodedata.category(char).startswith("C"):
            continue
        try:
            char.encode("cp1252")
        except UnicodeEncodeError:
            # "ő" becomes "o"; what has no Latin base (CJK, emoji) becomes "?".
            base = unicodedata.normalize("NFKD", char)[:1]
            try:
                base.encode("cp1252")
                char = base if base.strip() else "?"
            except UnicodeEncodeError:
                char = "?"
        out.append(char)
    return "".join(out)


def data_table(
    rows: list[list], widths_mm: tuple[float, ...], *, numeric_from: int | None = None
) -> Table:
    """A table of records: a shaded header row repeated on every page, a rule under each row;
    columns from `numeric_from` on are aligned right."""
    table = Table(rows, colWidths=[w * mm for w in widths_mm], repeatRows=1, hAlign="LEFT")
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if numeric_from is not None:
        commands.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    table.setStyle(TableStyle(commands))
    return table
