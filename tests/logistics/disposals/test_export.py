"""The safe CSV writer: no cell runs as a formula (R14), and the file reads back unchanged."""

import csv
import datetime
import io
from decimal import Decimal

import pytest

from logistics.disposals.export import (
    DELIMITER,
    ENCODING,
    cell,
    csv_bytes,
    csv_response,
    neutralise,
)

DANGEROUS = [
    '=HYPERLINK("http://evil.example","Cliquez")',
    "+33 1 23 45 67 89",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
]
# What a spreadsheet, or a person, may still take for one: look-alike signs (full-width, small
# forms, superscript, the minus sign) and triggers behind invisible or blank characters.
LOOK_ALIKES = [
    '\uff1dHYPERLINK("http://evil.example")',  # ＝
    "\uff0b33 1 23",  # ＋
    "\uff0d2+3",  # －
    "\uff20SUM(A1)",  # ＠
    "\ufe66cmd",  # ﹦
    "\ufe62cmd",  # ﹢
    "\ufe63cmd",  # ﹣
    "\ufe6bcmd",  # ﹫
    "\u207c1",  # ⁼
    "\u22121+1",  # − (minus sign)
    *(f"{unseen}={{1+1}}" for unseen in "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"),
    "\ufeff\u200b+1",  # a BOM then a zero-width space
    "\u00a0=1",  # no-break space
    "\u3000=1",  # ideographic space
    "\u202f@1",  # narrow no-break space
    " \u200b\uff1d1",
    " \t1",  # a tab behind a space: the space is trimmed, the tab stays first
    "\u200b\r1",
    "\u0301=1",  # a lone combining accent
]


def read_back(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(ENCODING)), delimiter=DELIMITER))


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_that_a_spreadsheet_would_run_gets_a_leading_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_and_hidden_triggers_get_a_leading_quote_too(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize(
    "text",
    ["ecosystem", "BSD 2025-0042", "Envie 92 = partenaire", "", "'déjà cité", "3 kg"]
    + ["\u200b", " ", "\ufeffEnvie", "\u00a0Envie 92", "– tiret demi-cadratin", "Ｅｎｖｉｅ"],
)
def test_plain_text_is_left_alone(text):
    assert neutralise(text) == text


def test_numbers_and_dates_are_written_as_values_not_as_text():
    assert cell(Decimal("-1.50")) == "-1,50"  # a number, the French way, not neutralised
    assert cell(Decimal("1E+2")) == "100"
    assert cell(12) == "12"
    assert cell(datetime.date(2025, 3, 14)) == "2025-03-14"
    assert cell(None) == ""


def test_every_dangerous_cell_is_neutralised_and_the_file_reads_back():
    header = ["Éco-organisme", "Collecteur", "Poids (kg)"]
    texts = DANGEROUS + LOOK_ALIKES
    rows = [[text, f'{text};"quoted"\nsecond line', Decimal("12.5")] for text in texts]
    data = csv_bytes(header, rows)
    assert data.startswith("\ufeff".encode())  # the BOM: Excel then reads UTF-8
    parsed = read_back(data)
    assert parsed[0] == header
    assert len(parsed) == len(texts) + 1
    for text, line in zip(texts, parsed[1:], strict=True):
        assert line == ["'" + text, f'\'{text};"quoted"\nsecond line', "12,5"]
    for line in parsed[1:]:
        for value in line[:2]:
            assert value.startswith("'")


def test_the_download_is_named_and_typed():
    response = csv_response("register.csv", ["a"], [["=1"]])
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="register.csv"'
    assert read_back(response.content) == [["a"], ["'=1"]]
