"""Reading donors' spreadsheets: pure functions over bytes, no database."""

import io
from decimal import Decimal

import pytest
from openpyxl import Workbook

from inventory.intake import spreadsheets as imports
from inventory.intake.spreadsheets import (
    CategoryRef,
    csv_rows,
    decode_text,
    fold,
    parse_spreadsheet,
    sniff_delimiter,
)
from tests.builders import valid_imei
from tests.inventory.intake import hostile_files as hostile

CATEGORIES = [
    CategoryRef("laptop", "Ordinateur portable", "Laptop", False),
    CategoryRef("desktop", "Ordinateur fixe (unité centrale)", "Desktop computer", False),
    CategoryRef("screen", "Écran", "Screen", False),
    CategoryRef("tablet", "Tablette", "Tablet", False),
    CategoryRef("smartphone", "Smartphone", "Smartphone", True),
]


def parse(content: bytes, **kwargs):
    kwargs.setdefault("categories", CATEGORIES)
    return parse_spreadsheet(content, **kwargs)


def csv_bytes(lines, *, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    text = "\r\n".join(delimiter.join(cells) for cells in lines) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def codes(result):
    return [(error.row, error.column, error.code) for error in result.errors]


def xlsx_bytes(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_column_names_fold_case_accents_and_punctuation():
    assert fold("N° de série") == fold("n° DE SERIE") == "ndeserie"
    assert fold("RAM (Go)") == fold("ram go")


def test_french_headers_with_semicolons_and_bom_are_read():
    content = csv_bytes(
        [
            ["Catégorie", "Marque", "Modèle", "N° de série", "RAM (Go)", "Stockage (Go)"],
            ["PC portable", "Lenovo", "ThinkPad T480", "pf1abcde", "8 Go", "256"],
            ["Écran", "Dell", "P2419H", "CN0ABC", "", ""],
        ],
        delimiter=";",
        bom=True,
    )
    result = parse(content, file_name="don.csv")
    assert result.errors == []
    assert [name for _title, name in result.columns] == [
        "category",
        "manufacturer",
        "model_name",
        "serial_number",
        "ram_gb",
        "storage_gb",
    ]
    first, second = result.rows
    assert (first.row, first["category"], first["serial_number"]) == (2, "laptop", "PF1ABCDE")
    assert (first["ram_gb"], first["storage_gb"]) == (8, 256)
    assert (second.row, second["category"], second["ram_gb"]) == (3, "screen", None)


def test_english_headers_with_commas_are_read():
    content = csv_bytes(
        [
            ["Type", "Brand", "Model", "S/N", "Asset tag", "CPU", "Screen", "OS", "Remarks"],
            ["Notebook", "HP", "EliteBook 840", "5CG1", "INV-1", "i5", "14,0", "Win 11", "ok"],
        ]
    )
    result = parse(content)
    assert result.errors == []
    assert result.ignored == ["Remarks"]
    [row] = result.rows
    assert row["category"] == "laptop"
    assert row["asset_tag"] == "INV-1"
    assert row["screen_inches"] == Decimal("14.0")


def test_latin1_and_windows_1252_files_are_decoded():
    lines = [["Catégorie", "Fabricant", "Remarques"], ["Tablette", "Samsung", "écran fêlé – œuvre"]]
    for encoding in ("cp1252", "latin-1"):
        text = "écran fêlé" if encoding == "latin-1" else "écran fêlé – œuvre"
        content = csv_bytes([lines[0], [*lines[1][:2], text]], delimiter=";", encoding=encoding)
        result = parse(content)
        assert result.errors == [], encoding
        assert result.rows[0]["notes"] == text
        assert result.rows[0]["category"] == "tablet"


def test_delimiter_is_the_one_of_the_header_line():
    assert sniff_delimiter("a;b;c\n1,5;2;3") == ";"
    assert sniff_delimiter("a,b\n") == ","
    assert sniff_delimiter("a\tb\n") == "\t"
    assert sniff_delimiter("only\n") == ","


def test_utf16_with_bom_is_decoded():
    assert decode_text("Catégorie\tMarque".encode("utf-16")) == "Catégorie\tMarque"


def test_an_xlsx_file_is_read_with_numbers_kept_as_text():
    imei = valid_imei(7)
    content = xlsx_bytes(
        [
            ["Liste du matériel donné"],
            [],
            ["Catégorie", "Fabricant", "Numéro de série", "IMEI", "RAM (Go)", "Écran (pouces)"],
            ["Smartphone", "Samsung", 123456, int(imei), 4.0, 6.1],
            ["Ordinateur portable", "Dell", "ABC 123", None, 16, 15.6],
        ]
    )
    result = parse(content, file_name="don.xlsx")
    assert result.file_format == "xlsx"
    assert result.errors == []
    phone, laptop = result.rows
    assert (phone.row, phone["serial_number"], phone["imei1"], phone["ram_gb"]) == (
        4,
        "123456",
        imei,
        4,
    )
    assert phone["screen_inches"] == Decimal("6.1")
    assert (laptop.row, laptop["serial_number"], laptop["screen_inches"]) == (
        5,
        "ABC 123",
        Decimal("15.6"),
    )


def test_unknown_columns_are_listed_as_ignored():
    content = csv_bytes(
        [["Category", "Manufacturer", "Couleur", "Prix"], ["Laptop", "Dell", "", ""]]
    )
    result = parse(content)
    assert result.errors == []
    assert result.ignored == ["Couleur", "Prix"]


def test_a_missing_required_column_is_an_error_of_the_header():
    result = parse(csv_bytes([["Category", "Model"], ["Laptop", "T480"]]))
    assert [(error.row, error.code) for error in result.errors] == [(1, "missing_column")]
    assert result.rows == []


def test_two_columns_for_the_same_field_are_an_error():
    result = parse(csv_bytes([["Category", "Marque", "Brand"], ["Laptop", "Dell", "Dell"]]))
    assert codes(result) == [(1, "Brand", "duplicate_column")]


def test_row_errors_name_the_spreadsheet_row_and_the_files_column():
    content = csv_bytes(
        [
            ["Catégorie", "Marque", "IMEI", "RAM (Go)", "Écran (pouces)", "Type de stockage"],
            ["Laptop", "Dell", "", "8", "", "SSD"],
            ["Grille-pain", "", "", "huit", "grand", "disquette"],
        ]
    )
    result = parse(content)
    assert codes(result) == [
        (3, "Catégorie", "category_unknown"),
        (3, "Marque", "manufacturer_missing"),
        (3, "RAM (Go)", "number_invalid"),
        (3, "Écran (pouces)", "number_invalid"),
        (3, "Type de stockage", "storage_type_unknown"),
    ]
    assert result.rows[0]["storage_type"] == "ssd"


def test_imei_must_be_valid_and_only_on_categories_that_have_one():
    good = valid_imei(1)
    wrong_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    content = csv_bytes(
        [
            ["Category", "Manufacturer", "IMEI", "IMEI 2"],
            ["Smartphone", "Apple", good[:8] + " " + good[8:], ""],
            ["Smartphone", "Apple", wrong_check, ""],
            ["Laptop", "Dell", valid_imei(2), ""],
            ["Smartphone", "Apple", "", valid_imei(3)],
            ["Smartphone", "Apple", valid_imei(4), valid_imei(4)],
            ["Smartphone", "Apple", "3,52099E+14", ""],
        ],
        delimiter=";",
    )
    result = parse(content)
    assert result.rows[0]["imei1"] == good
    assert codes(result) == [
        (3, "IMEI", "imei_invalid"),
        (4, "IMEI", "imei_not_allowed"),
        (5, "IMEI 2", "imei2_without_imei1"),
        (6, "IMEI 2", "imei2_same"),
        (7, "IMEI", "imei_shortened"),
    ]


def test_duplicates_within_the_file_name_the_first_row():
    imei = valid_imei(9)
    content = csv_bytes(
        [
            ["Category", "Manufacturer", "Serial", "IMEI", "IMEI 2"],
            ["Laptop", "Dell", "abc1", "", ""],
            ["Smartphone", "Apple", "", imei, ""],
            ["Laptop", "HP", "ABC1", "", ""],  # another manufacturer: not a duplicate
            ["Laptop", "DELL", " ABC1 ", "", ""],
            ["Smartphone", "Samsung", "", valid_imei(10), imei],
        ]
    )
    result = parse(content)
    assert codes(result) == [(5, "Serial", "duplicate_in_file"), (6, "IMEI 2", "duplicate_in_file")]
    assert "2" in str(result.errors[0].reason)
    assert "3" in str(result.errors[1].reason)


def test_a_bad_row_at_the_end_of_a_long_file_is_named():
    lines = [["Category", "Manufacturer", "Serial"]]
    lines += [["Laptop", "Dell", f"SN{i:05d}"] for i in range(4000)]
    lines[3999 - 1][0] = "Frigo"  # lines[0] is the header, spreadsheet row 1
    result = parse(csv_bytes(lines))
    assert codes(result) == [(3999, "Category", "category_unknown")]
    assert len(result.rows) == 4000


def test_parsing_stops_as_soon_as_the_row_limit_is_passed(monkeypatch):
    checked = []
    original = imports._RowChecker.check

    def counting(self, number, raw):
        checked.append(number)
        return original(self, number, raw)

    monkeypatch.setattr(imports._RowChecker, "check", counting)
    result = parse(
        csv_bytes([["Category", "Manufacturer"]] + [["Laptop", "Dell"]] * 50), max_rows=10
    )
    assert codes(result) == [(12, "", "too_many_rows")]
    assert len(checked) == 10


def test_blank_lines_are_skipped_but_keep_the_numbering():
    content = csv_bytes([["Category", "Manufacturer"], ["Laptop", "Dell"], [], ["Tablet", "x"]])
    result = parse(content)
    assert [row.row for row in result.rows] == [2, 4]


@pytest.mark.parametrize(
    ("content", "file_name", "code"),
    [
        (b"", "empty.csv", "empty_file"),
        (b"  \r\n \n", "blank.csv", "empty_file"),
        (b"Category,Manufacturer\r\n", "header-only.csv", "no_rows"),
        (b"Category;Manufacturer\r\n;\r\n", "header-and-blank.csv", "no_rows"),
        (b"PK\x03\x04 not really a zip", "broken.xlsx", "unreadable"),
        (b"plain text, not a workbook", "named.xlsx", "unreadable"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", "old_excel"),
        (bytes(range(256)) * 20, "garbage.csv", "unreadable"),
        (b'Category,Manufacturer\r\n"Laptop,Dell\r\n', "open-quote.csv", "category_unknown"),
        (b"Category,Manufacturer\r\nLaptop,Dell\x00\r\n", "nul.csv", "unreadable"),
    ],
)
def test_bad_files_give_an_error_not_an_exception(content, file_name, code):
    result = parse(content, file_name=file_name)
    assert [error.code for error in result.errors][:1] == [code]


def test_a_zip_that_unpacks_to_far_more_than_it_weighs_is_refused_unread():
    out = io.BytesIO()
    with __import__("zipfile").ZipFile(out, "w", compression=8) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 5_000_000)
    result = parse(out.getvalue(), file_name="bomb.xlsx")
    assert codes(result) == [(None, "", "too_much_data")]


def test_an_xlsx_with_a_header_only_has_no_rows():
    result = parse(xlsx_bytes([["Catégorie", "Marque"]]), file_name="x.xlsx")
    assert codes(result) == [(2, "", "no_rows")]


def test_values_over_their_length_are_errors_and_control_characters_are_dropped():
    content = csv_bytes([["Category", "Manufacturer", "Model"], ["Laptop", "Dell\x07", "M" * 121]])
    result = parse(content)
    assert codes(result) == [(2, "Model", "too_long")]
    assert result.rows[0]["manufacturer"] == "Dell"


def test_category_synonyms_and_names_match_in_any_case():
    lines = [["Catégorie", "Marque"]] + [
        [word, "X"] for word in ("pc PORTABLE", "laptop", "Téléphone", "TABLETTE", "desktop")
    ]
    result = parse(csv_bytes(lines))
    assert result.errors == []
    assert [row["category"] for row in result.rows] == [
        "laptop",
        "laptop",
        "smartphone",
        "tablet",
        "desktop",
    ]


def test_csv_rows_count_records_not_lines():
    content = b'Category,Notes\r\nLaptop,"two\nlines"\r\nTablet,x\r\n'
    assert [number for number, _cells in csv_rows(content)] == [1, 2, 3]


# Hostile files: refused from what the archive declares, or stopped early, never read through.
# Their timings are in bench/hostile_imports.py; here, what is refused and why.


@pytest.mark.parametrize(
    ("build", "code"),
    [
        (hostile.million_rows, "too_much_data"),  # a million rows, no <dimension>
        (hostile.many_shared_strings, "too_much_data"),  # two million shared strings
        (lambda: hostile.many_shared_strings(100_001, distinct=True), "too_much_data"),
        (lambda: hostile.zip_bomb(64), "too_much_data"),
        (lambda: hostile.zip_bomb(64, member="xl/media/image1.png"), "too_much_data"),
        (hostile.lying_sizes, "too_much_data"),
        (lambda: hostile.long_cell(5_000_000), "too_much_data"),
        (lambda: hostile.many_members(1001), "suspicious_archive"),
        (hostile.nested_archive, "suspicious_archive"),
        (lambda: hostile.odd_member("../../etc/passwd"), "suspicious_archive"),
        (lambda: hostile.odd_member("/xl/absolute.xml"), "suspicious_archive"),
        (hostile.zip_encrypted, "encrypted"),
        (hostile.encrypted_xlsx, "encrypted"),
    ],
)
def test_a_hostile_workbook_is_refused_as_a_whole_with_its_reason(build, code, monkeypatch):
    # Not one row element may reach the XML parser for the files refused from their sizes.
    result = parse(build(), file_name="don.xlsx")
    assert result.refusal is not None
    assert (result.refusal.row, result.refusal.code) == (None, code)
    assert result.errors == [result.refusal]
    assert result.rows == []
    assert str(result.refusal.reason)


def test_sizes_are_refused_before_any_xml_is_parsed(monkeypatch):
    def must_not_parse(*args, **kwargs):
        raise AssertionError("the XML of a refused archive was parsed")

    monkeypatch.setattr(imports, "iterparse", must_not_parse)
    monkeypatch.setattr(imports, "fromstring", must_not_parse)
    for content in (hostile.million_rows(), hostile.many_shared_strings(), hostile.zip_bomb(16)):
        assert parse(content, file_name="don.xlsx").refusal.code == "too_much_data"


def test_a_sheet_of_scattered_rows_stops_at_the_row_cap_without_reading_the_rest():
    content = hostile.scattered_rows(megabytes=2)
    result = parse(content, file_name="don.xlsx", max_rows=50)
    assert result.refusal.code == "too_many_rows"
    # 50 devices and the blank rows allowed between them: the reader stopped there.
    assert result.refusal.row <= 2 + (50 + imports.ROW_SLACK)


def test_a_sheet_of_empty_cells_far_to_the_right_is_stopped_at_the_cell_budget(monkeypatch):
    monkeypatch.setattr(imports, "XLSX_MAX_CELLS", 20_000)
    result = parse(hostile.wide_empty_cells(megabytes=1), file_name="don.xlsx")
    assert result.refusal.code == "too_much_data"


def test_rows_gapped_far_apart_are_read_without_walking_the_gaps():
    result = parse(hostile.sparse_rows(count=30, gap=100_000), file_name="don.xlsx")
    assert result.errors == []
    assert [row.row for row in result.rows][:2] == [2, 100_003]
    assert len(result.rows) == 30


def test_a_file_named_xlsx_that_is_no_archive_is_unreadable():
    result = parse(b"Category;Manufacturer\r\nLaptop;Dell\r\n", file_name="renamed.xlsx")
    assert result.refusal.code == "unreadable"


def test_formulas_give_their_computed_values_and_an_uncomputed_one_is_named():
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Catégorie", "Marque", "Modèle"])
    sheet.append(["Laptop", "Dell", '="Lat"&"itude"'])
    out = io.BytesIO()
    workbook.save(out)  # openpyxl saves formulas without their values, as programs do
    result = parse(out.getvalue(), file_name="don.xlsx")
    assert codes(result) == [(2, "Modèle", "formula_not_computed")]
    cached = hostile.xlsx_with(
        sheet=[
            b'<?xml version="1.0"?><worksheet ' + hostile.MAIN + b"><sheetData>",
            hostile.HEADER_ROW,
            b'<row r="2"><c r="A2" t="str"><f>"Lap"&amp;"top"</f><v>Laptop</v></c>'
            b'<c r="B2" t="inlineStr"><is><t>Dell</t></is></c></row>',
            b"</sheetData></worksheet>",
        ]
    )
    result = parse(cached, file_name="don.xlsx")
    assert result.errors == []
    assert result.rows[0]["category"] == "laptop"


def test_dates_very_long_cells_and_many_columns_are_read_or_named():
    import datetime

    header = ["Catégorie", "Marque", "Remarques"] + [f"Colonne {index}" for index in range(300)]
    workbook_rows = [
        header,
        ["Laptop", "Dell", datetime.datetime(2024, 3, 1)] + ["x"] * 300,
        ["Laptop", "HP", "y" * 50_000] + ["x"] * 300,
    ]
    result = parse(xlsx_bytes(workbook_rows), file_name="don.xlsx")
    assert result.rows[0]["notes"] == "2024-03-01"
    assert codes(result) == [(3, "Remarques", "too_long")]
    assert len(result.ignored) == imports.MAX_COLUMNS - 3


# CSV files mixing UTF-8 and Windows-1252 rows


def test_a_csv_mixing_utf8_and_windows_1252_names_the_first_unreadable_row():
    result = parse(hostile.csv_mixed_encoding(rows=20, bad_row=7), file_name="don.csv")
    assert codes(result) == [(7, "", "mixed_encoding")]
    assert result.refusal is not None
    assert "7" in str(result.refusal.reason)
    assert "Écran fêlé" in str(result.refusal.reason)  # the row's text, as it was meant


def test_a_bom_says_utf8_so_a_windows_1252_row_is_named_too():
    content = csv_bytes([["Catégorie", "Marque"], ["Laptop", "Dell"]], bom=True)
    content += "Écran;Asus\r\n".encode("cp1252")
    assert codes(parse(content)) == [(3, "", "mixed_encoding")]


def test_a_wholly_windows_1252_or_wholly_utf8_file_is_never_mixed():
    lines = [["Catégorie", "Marque", "Remarques"], ["Écran", "Dell", "fêlé"]]
    for encoding in ("utf-8", "cp1252"):
        result = parse(csv_bytes(lines, delimiter=";", encoding=encoding))
        assert result.errors == [], encoding
        assert result.rows[0]["notes"] == "fêlé"


def test_a_csv_line_of_millions_of_separators_is_refused_unsplit():
    result = parse(hostile.csv_one_wide_line(size=300_000), file_name="don.csv")
    assert result.refusal.code == "too_much_data"


def test_a_sheet_declaring_more_than_the_sheet_limit_is_refused_unread(monkeypatch):
    monkeypatch.setattr(imports, "XLSX_MAX_SHEET_BYTES", 200_000)
    monkeypatch.setattr(imports, "iterparse", None)  # never reached
    result = parse(hostile.scattered_rows(megabytes=1), file_name="don.xlsx")
    assert result.refusal.code == "too_much_data"
    assert "0,2" in str(result.refusal.reason)  # the limit, in megabytes
