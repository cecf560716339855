"""ZPL II for Zebra printers: the same layout as the PDF, but the printer draws the QR itself.

Positions come from `render.layout_label` in whole dots. The QR is ^BQN (model 2) with the
layout's dots per module as magnification and the same error-correction level; text is
font 0 (CG Triumvirate, narrower than the Helvetica used to fit it, so nothing overflows)
placed by baseline with ^FT. Field data goes through ^FH hex escapes, so a ^ or ~ in a
model name can never start a command (~ commands act even inside a field).
"""

from collections.abc import Iterable

from labels.formats import MM_PER_INCH, LabelFormat, get_format
from labels.render import ELLIPSIS, LabelLayout, as_label_item, layout_label

# ^FH's escape character: each of these is written as _XX, its hexadecimal byte.
_ESCAPE = "_"
_SPECIAL = {"^", "~", _ESCAPE}
_MAX_MAGNIFICATION = 10


def zpl_field(text: str) -> str:
    """Field data with ZPL's command characters hex-escaped (for use after ^FH)."""
    return "".join(f"{_ESCAPE}{ord(char):02X}" if char in _SPECIAL else char for char in text)


def _dots(fmt: LabelFormat, mm: float) -> int:
    return round(mm * fmt.dpi / MM_PER_INCH)


def _label_zpl(layout: LabelLayout, fmt: LabelFormat) -> str:
    qr = layout.qr
    matrix = qr.matrix
    magnification = min(_MAX_MAGNIFICATION, qr.module_dots or 1)
    lines = [
        "^XA",
        "^CI28",  # field data is UTF-8
        f"^PW{_dots(fmt, fmt.label_w_mm)}",
        f"^LL{_dots(fmt, fmt.label_h_mm)}",
        "^LH0,0",
        f"^FO{qr.x_dots},{qr.y_dots}^BQN,2,{magnification}"
        f"^FH^FD{matrix.error_correction}A,{zpl_field(matrix.payload)}^FS",
    ]
    for run in layout.texts:
        height = round(run.size * fmt.dpi / 72)  # points to dots
        text = run.text.replace(ELLIPSIS, "...")
        lines.append(
            f"^FT{_dots(fmt, run.x)},{_dots(fmt, run.baseline)}^A0N,{height}"
            f"^FH^FD{zpl_field(text)}^FS"
        )
    lines.append("^XZ")
    return "\n".join(lines)


def render_zpl(items: Iterable, fmt: LabelFormat | str, *, site_url: str, network_name: str) -> str:
    fmt = get_format(fmt) if isinstance(fmt, str) else fmt
    if not fmt.supports_zpl:
        raise ValueError(f"{fmt.name} is not a ZPL (Zebra) format")
    labels = [as_label_item(item) for item in items]
    if not labels:
        raise ValueError("no labels to render")
    blocks = [
        _label_zpl(
            layout_label(item, fmt, 0, page=index, site_url=site_url, network_name=network_name),
            fmt,
        )
        for index, item in enumerate(labels)
    ]
    return "\n".join(blocks) + "\n"
