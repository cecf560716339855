"""Label stock as data: the format file, its checks and the geometry it gives."""

import pytest

from labels.formats import (
    FORMATS_CSV,
    FormatError,
    UnknownFormat,
    all_formats,
    get_format,
    load_formats,
)

SHEETS = ["avery-l7160", "avery-l7163", "avery-l7651", "zweckform-3474"]
ROLLS = ["brother-dk11209", "brother-dk22205", "zebra-2x1in"]
HEADER = (
    "name,kind,page_w_mm,page_h_mm,label_w_mm,label_h_mm,columns,rows,first_x_mm,first_y_mm,"
    "pitch_x_mm,pitch_y_mm,dpi,note,margin_x_mm,margin_y_mm,page_margin_mm,length_mm,"
    "printer_language\n"
)


def write_csv(tmp_path, *rows):
    path = tmp_path / "formats.csv"
    path.write_text(HEADER + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_network_formats_are_all_loaded():
    assert list(all_formats()) == SHEETS + ROLLS
    assert all(get_format(name).is_sheet for name in SHEETS)
    assert all(get_format(name).is_roll for name in ROLLS)


def test_unknown_format_error_lists_the_valid_names():
    with pytest.raises(UnknownFormat) as raised:
        get_format("avery-l9999")
    message = str(raised.value)
    assert "avery-l9999" in message
    for name in SHEETS + ROLLS:
        assert name in message


@pytest.mark.parametrize("name", SHEETS + ROLLS)
def test_every_label_lies_on_its_page_and_labels_do_not_overlap(name):
    fmt = get_format(name)
    page = fmt.page_box
    boxes = [fmt.label_box(position) for position in range(fmt.per_page)]
    for box in boxes:
        assert page.contains(box, tolerance=0.05)
        assert fmt.safe_box(boxes.index(box)).w > 0
    for index, box in enumerate(boxes):
        for other in boxes[index + 1 :]:
            overlap = box.intersect(other)
            assert overlap.w * overlap.h < 0.01


def test_sheet_counts_match_the_published_stock():
    assert {name: get_format(name).per_page for name in SHEETS} == {
        "avery-l7160": 21,
        "avery-l7163": 14,
        "avery-l7651": 65,
        "zweckform-3474": 24,
    }


def test_edge_to_edge_sheet_keeps_ink_five_mm_inside_the_sheet():
    fmt = get_format("zweckform-3474")
    for position in range(fmt.per_page):
        safe = fmt.safe_box(position)
        assert safe.x >= 5 - 1e-9 and safe.y >= 5 - 1e-9
        assert safe.right <= 210 - 5 + 1e-9 and safe.bottom <= 297 - 5 + 1e-9


def test_continuous_roll_gets_its_chosen_length():
    fmt = get_format("brother-dk22205")
    assert fmt.continuous
    assert fmt.label_h_mm == fmt.page_h_mm == 31


def test_roll_pages_are_whole_printer_dots():
    for name in ROLLS:
        fmt = get_format(name)
        for mm in (fmt.page_box.w, fmt.page_box.h):
            dots = mm * fmt.dpi / 25.4
            assert dots == pytest.approx(round(dots), abs=1e-6)
    assert get_format("zebra-2x1in").page_box.w * 203 / 25.4 == pytest.approx(406)
    assert get_format("brother-dk11209").page_box.w * 300 / 25.4 == pytest.approx(732)


def test_only_zebra_formats_take_zpl():
    assert [name for name, fmt in all_formats().items() if fmt.supports_zpl] == ["zebra-2x1in"]


def test_a_new_format_is_one_row(tmp_path):
    path = write_csv(
        tmp_path,
        "avery-l7159,sheet,210,297,63.5,33.9,3,8,7.21,12.99,66.04,33.9,,24 per sheet,1.5,1.5,,,",
    )
    fmt = load_formats(path)["avery-l7159"]
    assert fmt.per_page == 24
    assert fmt.label_box(23).bottom == pytest.approx(12.99 + 8 * 33.9)


@pytest.mark.parametrize(
    ("row", "complaint"),
    [
        ("x,sheet,210,297,63.5,38.1,3,7,7.21,15.15,66.04,38.1,,,,,,,", None),
        ("x,box,210,297,63.5,38.1,3,7,7.21,15.15,66.04,38.1,,,,,,,", "kind"),
        ("x,sheet,210,297,63.5,38.1,4,7,7.21,15.15,66.04,38.1,,,,,,,", "off the page"),
        ("x,sheet,210,297,63.5,38.1,3,7,7.21,15.15,50,38.1,,,,,,,", "overlap"),
        ("x,sheet,210,297,abc,38.1,3,7,7.21,15.15,66.04,38.1,,,,,,,", "not a number"),
        ("x,roll,62,,62,,1,1,0,0,62,,300,,,,,,", "length_mm"),
        ("x,roll,62,29,62,29,1,1,0,0,62,29,,,,,,,zpl", "dpi"),
        ("x,sheet,210,297,63.5,38.1,3,7,7.21,15.15,66.04,38.1,,,40,1.5,,,", "no room"),
    ],
)
def test_impossible_rows_are_refused_with_a_reason(tmp_path, row, complaint):
    path = write_csv(tmp_path, row)
    if complaint is None:
        assert "x" in load_formats(path)
        return
    with pytest.raises(FormatError, match=complaint):
        load_formats(path)


def test_a_name_listed_twice_is_refused(tmp_path):
    row = "x,sheet,210,297,63.5,38.1,3,7,7.21,15.15,66.04,38.1,,,,,,,"
    with pytest.raises(FormatError, match="twice"):
        load_formats(write_csv(tmp_path, row, row))


def test_the_shipped_file_keeps_the_shared_columns_first():
    header = FORMATS_CSV.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(
        "name,kind,page_w_mm,page_h_mm,label_w_mm,label_h_mm,columns,rows,first_x_mm,"
        "first_y_mm,pitch_x_mm,pitch_y_mm,dpi,note"
    )
