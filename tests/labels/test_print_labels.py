"""The print_labels command: codes checked before anything is written."""

import pypdfium2 as pdfium
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from inventory.codes import check_symbol, group_label_code
from tests.builders import wrong_check
from tests.labels.decoding import page_texts


@pytest.fixture(autouse=True)
def english():
    # The messages below are matched on their English source text.
    with translation.override("en"):
        yield


def test_writes_a_pdf_for_codes_typed_in_any_case_with_dashes(devices, tmp_path):
    output = tmp_path / "labels.pdf"
    codes = [group_label_code(device.label_code_id).lower() for device in devices]
    call_command("print_labels", *codes, format="avery-l7160", output=str(output))
    pdf = output.read_bytes()
    assert len(pdfium.PdfDocument(pdf)) == 1
    text = page_texts(pdf)[0]
    for device in devices:
        assert group_label_code(device.label_code_id) in text
    assert "Dell Latitude 5490" in text


def test_start_fills_a_half_used_sheet_then_a_new_one(devices, tmp_path):
    output = tmp_path / "labels.pdf"
    codes = [device.label_code_id for device in devices]
    call_command("print_labels", *codes, format="avery-l7160", output=str(output), start=20)
    assert len(pdfium.PdfDocument(output.read_bytes())) == 2


def test_a_code_with_a_wrong_check_symbol_fails_and_writes_nothing(devices, tmp_path):
    output = tmp_path / "labels.pdf"
    bad = wrong_check(devices[1].label_code_id)
    with pytest.raises(CommandError, match="check symbol"):
        call_command(
            "print_labels",
            devices[0].label_code_id,
            bad,
            format="avery-l7160",
            output=str(output),
        )
    assert not output.exists()


def test_an_unknown_code_is_named(devices, tmp_path):
    output = tmp_path / "labels.pdf"
    payload = "ZZZZZZZZ"
    unknown = payload + check_symbol(payload)
    with pytest.raises(CommandError, match=group_label_code(unknown)):
        call_command(
            "print_labels",
            devices[0].label_code_id,
            unknown,
            format="zebra-2x1in",
            output=str(output),
        )
    assert not output.exists()


def test_no_codes_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="at least one"):
        call_command("print_labels", format="avery-l7160", output=str(tmp_path / "x.pdf"))


def test_an_unknown_format_lists_the_valid_ones(db, tmp_path):
    with pytest.raises(CommandError, match="avery-l7651"):
        call_command("print_labels", "X", format="a4", output=str(tmp_path / "x.pdf"))


def test_zebra_labels_can_be_written_as_zpl(devices, tmp_path):
    output = tmp_path / "labels.zpl"
    call_command("print_labels", devices[0].label_code_id, format="zebra-2x1in", output=str(output))
    zpl = output.read_text(encoding="utf-8")
    assert zpl.startswith("^XA") and zpl.count("^XZ") == 1
    assert f"/D/{devices[0].label_code_id}" in zpl


def test_zpl_is_refused_for_a_non_zebra_format(devices, tmp_path):
    with pytest.raises(CommandError, match="ZPL"):
        call_command(
            "print_labels",
            devices[0].label_code_id,
            format="avery-l7160",
            output=str(tmp_path / "x.pdf"),
            zpl=True,
        )


def test_start_is_counted_from_one_and_must_be_on_the_sheet(devices, tmp_path):
    with pytest.raises(CommandError, match="between 1 and 21"):
        call_command(
            "print_labels",
            devices[0].label_code_id,
            format="avery-l7160",
            output=str(tmp_path / "x.pdf"),
            start=22,
        )
