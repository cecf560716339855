"""ZPL for Zebra printers: one ^XA…^XZ block per label, the printer draws the QR."""

import re

import pytest

from inventory.codes import group_label_code
from labels.qr import qr_payload
from labels.render import LabelItem, layout_pages
from labels.zpl import render_zpl, zpl_field
from tests.labels.decoding import RENDER, SITE_URL


def test_one_block_per_label_with_its_payload_and_grouped_code(items):
    zpl = render_zpl(items, "zebra-2x1in", **RENDER)
    blocks = re.findall(r"\^XA.*?\^XZ", zpl, flags=re.DOTALL)
    assert len(blocks) == len(items) == zpl.count("^XA") == zpl.count("^XZ")
    for block, item in zip(blocks, items, strict=True):
        assert f"^FDQA,{qr_payload(item.code, SITE_URL)}^FS" in block
        assert f"^FD{group_label_code(item.code)}^FS" in block
        assert "^PW406" in block and "^LL203" in block


def test_qr_magnification_is_the_pdf_module_size_in_dots(items):
    zpl = render_zpl(items[:1], "zebra-2x1in", **RENDER)
    [page] = layout_pages(items[:1], "zebra-2x1in", **RENDER)
    qr = page.labels[0].qr
    assert f"^FO{qr.x_dots},{qr.y_dots}^BQN,2,{qr.module_dots}^" in zpl


def test_command_characters_in_free_text_are_escaped(items):
    item = LabelItem(items[0].code, "Tablette ~JA", "Model ^XZ^XA under_score")
    zpl = render_zpl([item], "zebra-2x1in", site_url=SITE_URL, network_name="Net~work^")
    assert zpl.count("^XA") == zpl.count("^XZ") == 1
    assert "~" not in zpl
    assert "_7EJA" in zpl and "_5EXZ_5EXA" in zpl and "under_5Fscore" in zpl
    assert zpl_field("a^b~c_d") == "a_5Eb_7Ec_5Fd"


def test_a_non_zebra_format_is_refused(items):
    with pytest.raises(ValueError, match="not a ZPL"):
        render_zpl(items, "brother-dk11209", **RENDER)
