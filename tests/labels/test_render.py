"""Layout and PDF rendering: pure tests on positioned boxes, then on the PDF itself."""

import re
import zlib

import pypdfium2 as pdfium
import pytest

from inventory.codes import generate_label_code, group_label_code
from inventory.pdf import clean_text
from labels.formats import Box, all_formats, get_format
from labels.qr import dark_runs
from labels.render import (
    ELLIPSIS,
    PT_PER_MM,
    LabelItem,
    LayoutError,
    as_label_item,
    layout_pages,
    render_pdf,
)
from tests.labels.decoding import RENDER, crop_mm, page_texts, rasterise

FORMATS = list(all_formats())
ROLLS = [name for name, fmt in all_formats().items() if fmt.dpi is not None]
SHEETS = [name for name, fmt in all_formats().items() if fmt.is_sheet]
LONG_MODEL = "Lenovo ThinkPad " + " ".join(["X1-Carbon-Gen11"] * 12) + "W" * 20
LONG_CATEGORY = "Ordinateur portable reconditionné avec station d'accueil"


def boxes_overlap(a: Box, b: Box) -> bool:
    overlap = a.intersect(b)
    return overlap.w > 1e-6 and overlap.h > 1e-6


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_renders_a_pdf(name, items):
    pdf = render_pdf(items, name, **RENDER)
    assert pdf.startswith(b"%PDF-")
    fmt = get_format(name)
    expected_pages = -(-len(items) // fmt.per_page)
    assert len(pdfium.PdfDocument(pdf)) == expected_pages


@pytest.mark.parametrize("name", FORMATS)
def test_layout_keeps_qr_and_text_inside_the_label(name, items):
    tricky = [
        LabelItem(items[0].code, LONG_CATEGORY, LONG_MODEL),
        LabelItem(items[1].code, "Smartphone", "x" * 200),
        LabelItem(items[2].code, "", ""),
        *items[3:8],
    ]
    for page in layout_pages(tricky, name, **RENDER):
        for label in page.labels:
            qr = label.qr
            assert label.safe.contains(qr.symbol_box)
            assert label.label.contains(qr.quiet_box)
            assert label.safe.contains(label.text_box)
            for run in label.texts:
                assert label.text_box.contains(run.box), (run.role, run.text, run.box)
                assert run.width <= label.text_box.w + 1e-9
                assert not boxes_overlap(run.box, qr.quiet_box)
            for index, run in enumerate(label.texts):
                for other in label.texts[index + 1 :]:
                    assert not boxes_overlap(run.box, other.box), (run.text, other.text)


@pytest.mark.parametrize("name", FORMATS)
def test_the_code_is_printed_whole_and_grouped_in_the_largest_text(name, items):
    for page in layout_pages(items, name, **RENDER):
        for label in page.labels:
            code = label.texts[0]
            assert code.role == "code"
            assert code.text == group_label_code(label.item.code)
            assert not code.truncated
            assert all(code.size >= run.size for run in label.texts)


@pytest.mark.parametrize("name", FORMATS)
def test_a_200_character_model_name_is_shrunk_then_cut_with_an_ellipsis(name):
    model = ("Samsung Galaxy Tab S9 FE+ 5G SM-X616B " * 6)[:200]
    [page] = layout_pages([LabelItem(generate_label_code(), "Tablette", model)], name, **RENDER)
    [label] = page.labels
    model_runs = [run for run in label.texts if run.role == "model"]
    assert model_runs and model_runs[-1].truncated
    assert model_runs[-1].text.endswith(ELLIPSIS)
    for run in model_runs:
        assert run.width <= label.text_box.w + 1e-9
        assert run.size >= 4.5


@pytest.mark.parametrize("name", FORMATS)
def test_a_short_model_is_not_cut(name):
    [page] = layout_pages([LabelItem(generate_label_code(), "Écran", "HP E24")], name, **RENDER)
    [label] = page.labels
    model = [run for run in label.texts if run.role == "model"]
    assert [run.text for run in model] == ["HP E24"]
    assert not any(run.truncated for run in label.texts)


@pytest.mark.parametrize("name", ROLLS)
def test_roll_modules_are_whole_printer_dots_on_the_dot_grid(name, items):
    fmt = get_format(name)
    dot = 25.4 / fmt.dpi
    for page in layout_pages(items, name, **RENDER):
        qr = page.labels[0].qr
        assert isinstance(qr.module_dots, int) and qr.module_dots >= 3
        assert qr.module == pytest.approx(qr.module_dots * dot, abs=1e-12)
        assert qr.x == pytest.approx(qr.x_dots * dot, abs=1e-12)
        assert qr.y == pytest.approx(qr.y_dots * dot, abs=1e-12)


@pytest.mark.parametrize("name", ROLLS)
def test_roll_qr_rasterises_at_the_printer_dpi_without_a_grey_pixel(name, items):
    # Anti-aliased rendering leaves every pixel black or white only if each module edge
    # falls on a pixel boundary: the proof that modules are whole dots on the dot grid.
    fmt = get_format(name)
    pdf = render_pdf(items[:3], name, **RENDER)
    pages = layout_pages(items[:3], name, **RENDER)
    for image, page in zip(rasterise(pdf, fmt.dpi, binary=False), pages, strict=True):
        symbol = crop_mm(image, page.labels[0].qr.symbol_box, fmt.dpi)
        values = set(symbol.get_flattened_data())
        assert values <= {0, 1, 2, 253, 254, 255}


def test_module_sizes_on_the_smallest_label_and_the_zebra(items):
    [sheet] = layout_pages(items[:1], "avery-l7651", **RENDER)
    [zebra] = layout_pages(items[:1], "zebra-2x1in", **RENDER)
    # A 33-module symbol (version 4, Q) with its quiet zone fills the 21.2 mm label height.
    assert sheet.labels[0].qr.module == pytest.approx(21.2 / 41)
    assert zebra.labels[0].qr.module_dots == 4


def test_sheet_start_position_skips_used_positions(items):
    pages = layout_pages(items[:5], "avery-l7651", start_position=62, **RENDER)
    assert [[label.position for label in page.labels] for page in pages] == [
        [62, 63, 64],
        [0, 1],
    ]
    assert [label.item for page in pages for label in page.labels] == items[:5]


def test_sheet_start_position_leaves_used_positions_blank(items):
    pdf = render_pdf(items[:2], "avery-l7160", start_position=4, **RENDER)
    [image] = rasterise(pdf, 100)
    fmt = get_format("avery-l7160")
    for position in range(fmt.per_page):
        ink = crop_mm(image, fmt.label_box(position), 100).getextrema()[0] < 128
        assert ink == (position in {4, 5})


def test_more_sheets_are_added_as_needed(items):
    pages = layout_pages(items, "avery-l7163", **RENDER)
    assert [len(page.labels) for page in pages] == [14, 14, 2]


@pytest.mark.parametrize(("name", "start"), [("avery-l7160", 21), ("avery-l7160", -1)])
def test_start_position_must_be_on_the_sheet(name, start, items):
    with pytest.raises(ValueError, match="first free position"):
        layout_pages(items, name, start_position=start, **RENDER)


def test_a_roll_has_no_start_position(items):
    with pytest.raises(ValueError, match="first free position"):
        layout_pages(items, "zebra-2x1in", start_position=1, **RENDER)


def test_nothing_to_render_is_an_error():
    with pytest.raises(ValueError, match="no labels"):
        render_pdf([], "avery-l7160", **RENDER)


def test_items_may_be_dicts_or_objects_and_codes_are_normalised():
    code = generate_label_code()

    class Plain:
        def __init__(self):
            self.code = group_label_code(code).lower()
            self.category = "Tablette"
            self.model = "iPad"

    expected = LabelItem(code, "Tablette", "iPad")
    assert as_label_item({"code": code.lower(), "category": "Tablette", "model": "iPad"}) == (
        expected
    )
    assert as_label_item(Plain()) == expected


def test_text_outside_the_pdf_fonts_is_replaced_not_dropped():
    assert clean_text("Réseau\tœuvre  ő 漢 😀\x07") == "Réseau œuvre o ? ?"


def test_a_label_too_small_for_a_legible_qr_is_refused(tmp_path):
    from labels.formats import load_formats

    path = tmp_path / "tiny.csv"
    path.write_text(
        "name,kind,page_w_mm,page_h_mm,label_w_mm,label_h_mm,columns,rows,first_x_mm,"
        "first_y_mm,pitch_x_mm,pitch_y_mm,dpi,note\n"
        "tiny,roll,20,8,20,8,1,1,0,0,20,8,203,\n",
        encoding="utf-8",
    )
    fmt = load_formats(path)["tiny"]
    with pytest.raises(LayoutError, match="mm modules"):
        layout_pages([LabelItem(generate_label_code())], fmt, **RENDER)


@pytest.mark.parametrize("name", FORMATS)
def test_pdf_text_layer_holds_every_grouped_code(name, items):
    pdf = render_pdf(items, name, **RENDER)
    text = "\n".join(page_texts(pdf))
    for item in items:
        assert group_label_code(item.code) in text
    assert "Ordinateur portable" in text.replace("\r\n", " ").replace("\n", " ")


@pytest.mark.parametrize("name", FORMATS)
def test_every_glyph_drawn_in_the_pdf_stays_inside_its_label(name, items):
    # End to end: PDFium's boxes of the characters actually drawn, long model names included.
    tricky = [LabelItem(item.code, LONG_CATEGORY, LONG_MODEL) for item in items[:6]]
    pdf = render_pdf(tricky + items[6:12], name, **RENDER)
    pages = layout_pages(tricky + items[6:12], name, **RENDER)
    document = pdfium.PdfDocument(pdf)
    for page, layout in zip(document, pages, strict=True):
        height = page.get_height()
        textpage = page.get_textpage()
        safes = [label.safe for label in layout.labels]
        checked = 0
        for index in range(textpage.count_chars()):
            left, bottom, right, top = textpage.get_charbox(index)
            if right - left <= 0:  # spaces and generated line breaks have no ink
                continue
            glyph = Box(
                left / PT_PER_MM,
                (height - top) / PT_PER_MM,
                (right - left) / PT_PER_MM,
                (top - bottom) / PT_PER_MM,
            )
            assert any(safe.contains(glyph, tolerance=0.1) for safe in safes), glyph
            checked += 1
        assert checked > 0


def test_the_same_labels_give_the_same_bytes(items):
    assert render_pdf(items, "avery-l7651", **RENDER) == render_pdf(items, "avery-l7651", **RENDER)


def test_the_qr_is_drawn_as_one_rectangle_per_run_of_dark_modules(items):
    pdf = render_pdf(items[:1], "zebra-2x1in", **RENDER)
    [page] = layout_pages(items[:1], "zebra-2x1in", **RENDER)
    # Page streams are /FlateDecode only: no ASCII85 (slow to write, a fifth larger).
    assert b"ASCII85Decode" not in pdf
    streams = re.findall(rb"stream\r?\n(.*?)endstream", pdf, flags=re.DOTALL)
    content = b"".join(zlib.decompressobj().decompress(s) for s in streams)
    rectangles = re.findall(rb"\d+ \d+ \d+ 1 re", content)
    assert len(rectangles) == len(dark_runs(page.labels[0].qr.matrix))
