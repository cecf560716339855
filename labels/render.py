"""Label layout as a pure function of (item, format, position), and its drawing to PDF.

`layout_label` returns positioned boxes in millimetres (page top-left origin), which tests
check without a PDF; `render_pdf` only draws them with reportlab. The QR takes the left of
each label, as large as the label allows, with its 4-module quiet zone on blank paper; on
roll formats (known dpi) each module is a whole number of printer dots and the symbol's
origin sits on the dot grid (the page itself is a whole number of dots, see
LabelFormat.page_box, so the grid is the same from either edge). The text column to the
right holds the grouped code, the category, the model and the network's name, each shrunk
to fit and cut with an ellipsis as a last resort.
"""

import io
import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from inventory.codes import group_label_code, normalize_label_code
from inventory.pdf import MONO_BOLD, SANS, SANS_BOLD, SANS_ITALIC, clean_text
from labels.formats import MM_PER_INCH, Box, LabelFormat, get_format
from labels.qr import QUIET_ZONE_MODULES, QrMatrix, dark_runs, qr_matrix, qr_payload
from labels.stock import START_MIN, start_allowed, start_max

PT_PER_MM = 72 / MM_PER_INCH

CODE_FONT = MONO_BOLD
CATEGORY_FONT = SANS_BOLD
MODEL_FONT = SANS
NETWORK_FONT = SANS_ITALIC
# Extent of a line above and below its baseline, in em. The code is capitals, digits and
# hyphens (Courier's cap height and a margin); the rest may hold accented capitals (É reaches
# 0.93 em in Helvetica) and descenders, so the Helvetica font box is used.
_EXTENT = {CODE_FONT: (0.66, 0.16), SANS: (0.93, 0.23)}

CODE_MAX_PT = 22.0
CODE_MIN_PT = 5.0
BODY_MAX_PT = 11.0
BODY_MIN_PT = 4.5
NETWORK_RATIO = 0.75
SHRINK_LIMIT = 0.6
MODEL_MAX_LINES = 2
NETWORK_MAX_LINES = 2
LINE_GAP_EM = 0.08
BLOCK_GAP_EM = 0.3
# The QR with its quiet zone takes at most this share of a label's width: the text needs room.
QR_MAX_WIDTH_SHARE = 0.6
# Below this a phone camera at arm's length and a 203 dpi head (3 dots) stop being dependable.
MIN_MODULE_MM = 0.33
ELLIPSIS = "…"


class LayoutError(ValueError):
    """The format cannot carry a legible label for this payload."""


@dataclass(frozen=True)
class LabelItem:
    code: str
    category: str = ""
    model: str = ""


def item_from_device(device) -> LabelItem:
    model = " ".join(part for part in (device.manufacturer, device.model_name) if part)
    return LabelItem(code=device.label_code_id, category=str(device.category.name), model=model)


def as_label_item(obj) -> LabelItem:
    if isinstance(obj, LabelItem):
        item = obj
    elif isinstance(obj, Mapping):
        item = LabelItem(obj["code"], obj.get("category") or "", obj.get("model") or "")
    else:
        item = LabelItem(obj.code, getattr(obj, "category", ""), getattr(obj, "model", ""))
    return LabelItem(normalize_label_code(item.code), str(item.category), str(item.model))


@dataclass(frozen=True)
class QrPlacement:
    matrix: QrMatrix
    x: float  # top-left corner of the symbol, quiet zone excluded (mm)
    y: float
    module: float  # mm
    module_dots: int | None  # whole printer dots per module on roll formats
    x_dots: int | None = None
    y_dots: int | None = None

    @property
    def size(self) -> float:
        return self.matrix.size * self.module

    @property
    def symbol_box(self) -> Box:
        return Box(self.x, self.y, self.size, self.size)

    @property
    def quiet_box(self) -> Box:
        quiet = QUIET_ZONE_MODULES * self.module
        return Box(self.x - quiet, self.y - quiet, self.size + 2 * quiet, self.size + 2 * quiet)


@dataclass(frozen=True)
class TextRun:
    role: str  # "code", "category", "model" or "network"
    text: str
    font: str
    size: float  # points
    x: float  # left end of the baseline (mm)
    baseline: float  # mm from the page top
    truncated: bool = False

    @property
    def width(self) -> float:
        return stringWidth(self.text, self.font, self.size) / PT_PER_MM

    @property
    def box(self) -> Box:
        above, below = _extent(self.font)
        top = self.baseline - above * self.size / PT_PER_MM
        return Box(self.x, top, self.width, (above + below) * self.size / PT_PER_MM)


@dataclass(frozen=True)
class LabelLayout:
    item: LabelItem
    page: int
    position: int
    label: Box
    safe: Box
    qr: QrPlacement
    text_box: Box
    texts: tuple[TextRun, ...]


@dataclass(frozen=True)
class PageLayout:
    width: float
    height: float
    labels: tuple[LabelLayout, ...]


def _extent(font: str) -> tuple[float, float]:
    return _EXTENT.get(font, _EXTENT[SANS])


def label_text(text: str) -> str:
    # Without the fallback letters: "Ł" prints "?" here and "L" in the documents. Labels print
    # as they always have; taking the fallback too would change printed labels.
    return clean_text(text, fallback=False)


# Text fitting -----------------------------------------------------------------------------


def _fits(text: str, font: str, size: float, width_pt: float) -> bool:
    return stringWidth(text, font, size) <= width_pt


def ellipsize(text: str, font: str, size: float, width_pt: float) -> str:
    if _fits(text, font, size, width_pt):
        return text
    low, high = 0, len(text)  # longest prefix that fits with the ellipsis: binary search
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(text[:middle].rstrip() + ELLIPSIS, font, size, width_pt):
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + ELLIPSIS if low else ""


def wrap(text: str, font: str, size: float, width_pt: float, max_lines: int):
    """Greedy word wrap into at most max_lines; returns (lines, truncated)."""
    words = text.split()
    lines: list[str] = []
    current = ""
    index = 0
    broken = False
    while index < len(words):
        word = words[index]
        candidate = f"{current} {word}" if current else word
        if _fits(candidate, font, size, width_pt):
            current = candidate
            index += 1
            continue
        joiner = " "
        if not current:
            # A word wider than the line: break it where it overflows.
            cut = len(ellipsize(word, font, size, width_pt).removesuffix(ELLIPSIS))
            if cut == 0:
                return [], True
            current, words[index] = word[:cut], word[cut:]
            joiner = ""
            broken = True
        lines.append(current)
        current = ""
        if len(lines) == max_lines:
            rest = lines.pop() + joiner + " ".join(words[index:])
            lines.append(ellipsize(rest, font, size, width_pt))
            return lines, True
    if current:
        lines.append(current)
    if len(lines) == 2 and not broken:
        lines = _balanced(text.split(), font, size, width_pt) or lines
    return lines, False


def _balanced(words: list[str], font: str, size: float, width_pt: float) -> list[str] | None:
    """Two lines of the most even widths, rather than a lone word on the second line."""
    best, best_width = None, None
    for cut in range(1, len(words)):
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        widest = max(stringWidth(first, font, size), stringWidth(second, font, size))
        if widest <= width_pt and (best_width is None or widest < best_width):
            best, best_width = [first, second], widest
    return best


@lru_cache(maxsize=4096)
def _largest_fitting(text, font, max_size, min_size, width_pt, max_lines):
    """The largest size (0.25 pt steps) at which the text fits; at min_size it is cut.

    Cached: a sheet of a thousand labels repeats its categories, models and the network's
    name in the same boxes, and measuring them again was a third of the rendering time."""
    size = max_size
    while size >= min_size:
        lines, truncated = wrap(text, font, size, width_pt, max_lines)
        if not truncated:
            return size, tuple(lines), False
        size = _step_down(size)
    lines, truncated = wrap(text, font, min_size, width_pt, max_lines)
    return min_size, tuple(lines), truncated


def _step_down(size: float) -> float:
    return math.floor(size * 4 - 1e-9) / 4


def _block_height(font: str, size: float, lines: int) -> float:
    above, below = _extent(font)
    return size * ((above + below) * lines + LINE_GAP_EM * (lines - 1))


def layout_text(item: LabelItem, network_name: str, box: Box) -> tuple[TextRun, ...]:
    width = box.w * PT_PER_MM
    height = box.h * PT_PER_MM
    code_text = group_label_code(item.code)
    code_size = min(CODE_MAX_PT, height * 0.3, width / stringWidth(code_text, CODE_FONT, 1))
    code_size = max(CODE_MIN_PT, math.floor(code_size * 20) / 20)
    code_height = _block_height(CODE_FONT, code_size, 1)
    if not _fits(code_text, CODE_FONT, code_size, width) or code_height > height:
        # A cut code is no use to anyone typing it: refuse rather than print it.
        raise LayoutError(f"the code does not fit a {box.w:.1f} × {box.h:.1f} mm text area")

    blocks = [
        ("category", label_text(item.category), CATEGORY_FONT, 2, 1.0),
        ("model", label_text(item.model), MODEL_FONT, MODEL_MAX_LINES, 1.0),
        ("network", label_text(network_name), NETWORK_FONT, NETWORK_MAX_LINES, NETWORK_RATIO),
    ]
    blocks = [block for block in blocks if block[1]]

    def fit(body: float, line_limit: int | None):
        fitted = []
        for role, text, font, max_lines, ratio in blocks:
            lines_allowed = max_lines if line_limit is None else min(max_lines, line_limit)
            nominal = body * ratio
            # Shrink to 60 % of the nominal size at most: past that a cut line stays legible
            # where a whole one in tiny type would not.
            floor = max(BODY_MIN_PT, _step_down(nominal * SHRINK_LIMIT + 0.25))
            size, lines, cut = _largest_fitting(text, font, nominal, floor, width, lines_allowed)
            if lines:
                fitted.append((role, font, size, lines, cut))
        return fitted, _stack_height(code_height, fitted)

    body = max(BODY_MIN_PT, min(code_size * 0.8, BODY_MAX_PT))
    fitted, total = fit(body, None)
    while total > height and body > BODY_MIN_PT:
        body = max(BODY_MIN_PT, _step_down(body))
        fitted, total = fit(body, None)
    if total > height:
        fitted, total = fit(BODY_MIN_PT, 1)
    while total > height and fitted:
        # Still too tall at the smallest size on one line each: drop blocks from the end
        # (the network's name first, then the model) rather than overflow the label.
        fitted.pop()
        total = _stack_height(code_height, fitted)

    runs = []
    above, _ = _extent(CODE_FONT)
    y = box.y + above * code_size / PT_PER_MM
    runs.append(TextRun("code", code_text, CODE_FONT, code_size, box.x, y))
    y = box.y + code_height / PT_PER_MM
    network = fitted.pop() if fitted and fitted[-1][0] == "network" else None
    # Spare height opens up the gaps under the code and the category a little (at most
    # half a line each); the rest stays between them and the network's name at the bottom.
    spare = (height - total) / PT_PER_MM
    for role, font, size, lines, cut in fitted:
        extra = min(spare / 3, 0.5 * size / PT_PER_MM)
        spare -= extra
        gap = BLOCK_GAP_EM * size / PT_PER_MM + extra
        y = _place_lines(runs, role, font, size, lines, cut, box.x, y + gap)
    if network is not None:
        role, font, size, lines, cut = network
        top = box.bottom - _block_height(font, size, len(lines)) / PT_PER_MM
        _place_lines(runs, role, font, size, lines, cut, box.x, max(y, top))
    return tuple(runs)


def _stack_height(code_height: float, blocks) -> float:
    """Height in points of the code line and the blocks under it, with their gaps."""
    return code_height + sum(
        _block_height(font, size, len(lines)) + BLOCK_GAP_EM * size
        for _, font, size, lines, _ in blocks
    )


def _place_lines(runs, role, font, size, lines, cut, x, top) -> float:
    """Appends the lines from `top` (mm) downwards; returns the bottom of the block."""
    above, below = _extent(font)
    pitch = (above + below + LINE_GAP_EM) * size / PT_PER_MM
    for index, line in enumerate(lines):
        baseline = top + index * pitch + above * size / PT_PER_MM
        runs.append(TextRun(role, line, font, size, x, baseline, cut and index == len(lines) - 1))
    return top + _block_height(font, size, len(lines)) / PT_PER_MM


# QR placement -----------------------------------------------------------------------------


def _span(label_lo, label_hi, safe_lo, safe_hi, symbol, quiet):
    """The interval of valid symbol origins on one axis: ink in safe, quiet zone on the label."""
    return max(safe_lo, label_lo + quiet), min(safe_hi, label_hi - quiet) - symbol


def _max_module(matrix: QrMatrix, label: Box, safe: Box) -> float:
    n, q = matrix.size, QUIET_ZONE_MODULES
    share = QR_MAX_WIDTH_SHARE * label.w
    return min(
        safe.h / n,
        (label.bottom - safe.y) / (n + q),
        (safe.bottom - label.y) / (n + q),
        label.h / (n + 2 * q),
        safe.w / n,
        share / (n + 2 * q),
        (share - (safe.x - label.x)) / (n + q),
    )


def place_qr(matrix: QrMatrix, fmt: LabelFormat, label: Box, safe: Box) -> QrPlacement:
    module = _max_module(matrix, label, safe)
    n, q = matrix.size, QUIET_ZONE_MODULES
    if fmt.dpi is None:
        if module < MIN_MODULE_MM:
            raise _too_small(matrix, fmt, module)
        x_lo, _ = _span(label.x, label.right, safe.x, safe.right, n * module, q * module)
        y_lo, y_hi = _span(label.y, label.bottom, safe.y, safe.bottom, n * module, q * module)
        return QrPlacement(matrix, x_lo, (y_lo + y_hi) / 2, module, None)

    dot = MM_PER_INCH / fmt.dpi
    dots = math.floor(module / dot + 1e-9)
    while dots * dot >= MIN_MODULE_MM:
        module = dots * dot
        x_lo, x_hi = _span(label.x, label.right, safe.x, safe.right, n * module, q * module)
        y_lo, y_hi = _span(label.y, label.bottom, safe.y, safe.bottom, n * module, q * module)
        x = math.ceil(x_lo / dot - 1e-9)
        y_first, y_last = math.ceil(y_lo / dot - 1e-9), math.floor(y_hi / dot + 1e-9)
        if x * dot <= x_hi + 1e-9 and y_first <= y_last:
            y = (y_first + y_last) // 2
            return QrPlacement(matrix, x * dot, y * dot, module, dots, x, y)
        dots -= 1
    raise _too_small(matrix, fmt, module)


def _too_small(matrix: QrMatrix, fmt: LabelFormat, module: float) -> LayoutError:
    return LayoutError(
        f"{fmt.name}: a {matrix.size}-module QR would get {module:.2f} mm modules "
        f"(at least {MIN_MODULE_MM} mm needed); shorten SITE_URL or choose a larger label"
    )


# Layout and drawing -----------------------------------------------------------------------


def layout_label(
    item: LabelItem, fmt: LabelFormat, position: int, *, page: int, site_url: str, network_name: str
) -> LabelLayout:
    label = fmt.label_box(position)
    safe = fmt.safe_box(position)
    qr = place_qr(qr_matrix(qr_payload(item.code, site_url)), fmt, label, safe)
    left = qr.symbol_box.right + QUIET_ZONE_MODULES * qr.module
    text_box = Box(left, safe.y, max(0.0, safe.right - left), safe.h)
    texts = layout_text(item, network_name, text_box)
    return LabelLayout(item, page, position, label, safe, qr, text_box, texts)


def _resolve(fmt: LabelFormat | str) -> LabelFormat:
    return get_format(fmt) if isinstance(fmt, str) else fmt


def layout_pages(
    items: Iterable,
    fmt: LabelFormat | str,
    *,
    start_position: int = 0,
    site_url: str,
    network_name: str,
) -> list[PageLayout]:
    fmt = _resolve(fmt)
    labels = [as_label_item(item) for item in items]
    if not labels:
        raise ValueError("no labels to render")
    # start_position counts from 0 where the stock's positions count from START_MIN.
    if not start_allowed(fmt, start_position + START_MIN):
        last = start_max(fmt) - START_MIN
        raise ValueError(f"{fmt.name}: the first free position must be between 0 and {last}")
    pages: list[list[LabelLayout]] = []
    for index, item in enumerate(labels):
        page, position = divmod(start_position + index, fmt.per_page)
        if page == len(pages):
            pages.append([])
        pages[page].append(
            layout_label(
                item, fmt, position, page=page, site_url=site_url, network_name=network_name
            )
        )
    page_box = fmt.page_box
    return [PageLayout(page_box.w, page_box.h, tuple(page)) for page in pages]


def _draw_label(canvas: Canvas, layout: LabelLayout, page_h: float) -> None:
    qr = layout.qr
    # In module units, y down from the symbol's top-left corner, each run of dark modules is
    # one rectangle with integer coordinates: short to write (and quick: reportlab's float
    # formatting dominated the time), and one fill for the whole symbol, since adjacent
    # modules filled separately can show hairline seams in anti-aliasing viewers.
    module = qr.module * PT_PER_MM
    canvas.saveState()
    canvas.transform(module, 0, 0, -module, qr.x * PT_PER_MM, page_h - qr.y * PT_PER_MM)
    runs = dark_runs(qr.matrix)
    canvas.addLiteral(" ".join(f"{col} {row} {length} 1 re" for row, col, length in runs) + " f")
    canvas.restoreState()
    for run in layout.texts:
        canvas.setFont(run.font, run.size)
        canvas.drawString(run.x * PT_PER_MM, page_h - run.baseline * PT_PER_MM, run.text)


def render_pdf(
    items: Iterable,
    fmt: LabelFormat | str,
    *,
    start_position: int = 0,
    site_url: str,
    network_name: str,
) -> bytes:
    fmt = _resolve(fmt)
    pages = layout_pages(
        items, fmt, start_position=start_position, site_url=site_url, network_name=network_name
    )
    buffer = io.BytesIO()
    page_w, page_h = fmt.page_box.w * PT_PER_MM, fmt.page_box.h * PT_PER_MM
    # invariant: no creation date or random id, so the same labels give the same bytes.
    canvas = Canvas(buffer, pagesize=(page_w, page_h), invariant=1, pageCompression=1)
    canvas.setTitle(f"Réemploi labels ({fmt.name})")
    canvas.setCreator("Réemploi")
    for page in pages:
        canvas.setFillColorRGB(0, 0, 0)
        for layout in page.labels:
            _draw_label(canvas, layout, page_h)
        canvas.showPage()
    _save_binary(canvas)
    return buffer.getvalue()


_A85 = threading.Lock()


def _save_binary(canvas: Canvas) -> None:
    """Saves with the page streams compressed but not ASCII85-encoded: reportlab's encoder is
    pure Python here (no C accelerator), a third of the time of a thousand roll labels, for a
    PDF a fifth larger. The setting is global and read while saving, hence the lock; another
    PDF saved meanwhile in another thread is valid either way."""
    with _A85:
        previous, rl_config.useA85 = rl_config.useA85, 0
        try:
            canvas.save()
        finally:
            rl_config.useA85 = previous
