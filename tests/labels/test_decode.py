"""Every label, rasterised as printers print it, decodes to its own URL (zxing-cpp)."""

import pytest

from inventory.codes import generate_label_code
from labels.formats import all_formats
from labels.qr import qr_payload
from labels.render import LabelItem, layout_pages, render_pdf
from tests.labels.decoding import RENDER, SITE_URL, decode, decode_labels, rasterise


@pytest.mark.parametrize("dpi", [203, 300])
@pytest.mark.parametrize("name", list(all_formats()))
def test_every_label_decodes_to_its_own_url(name, dpi, items):
    pdf = render_pdf(items, name, **RENDER)
    pages = layout_pages(items, name, **RENDER)
    results = decode_labels(pdf, pages, dpi)
    payloads = {qr_payload(item.code, SITE_URL) for item in items}
    assert len(results) == len(items)
    failures = [(payload, found) for payload, found in results if found != [payload]]
    assert not failures
    assert {found[0] for _, found in results} == payloads


@pytest.mark.parametrize("name", ["avery-l7651", "avery-l7160", "zweckform-3474"])
def test_a_whole_sheet_decodes_to_the_set_of_its_payloads(name, items):
    pdf = render_pdf(items, name, **RENDER)
    pages = layout_pages(items, name, **RENDER)
    found = []
    for image in rasterise(pdf, 203):
        found += decode(image)
    assert sorted(found) == sorted(label.qr.matrix.payload for p in pages for label in p.labels)


def test_a_lower_case_path_prefix_still_decodes_on_the_smallest_label():
    site_url = "https://reseau-inclusion.example.org/reemploi"
    items = [LabelItem(generate_label_code(), "Smartphone", "Fairphone 4") for _ in range(10)]
    render = {"site_url": site_url, "network_name": "Réseau"}
    pdf = render_pdf(items, "avery-l7651", **render)
    results = decode_labels(pdf, layout_pages(items, "avery-l7651", **render), 203)
    assert all(found == [payload] for payload, found in results)
    assert all("/reemploi/D/" in payload for payload, _ in results)
