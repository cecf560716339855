"""A label code reads on every screen as on the label: three groups of three (ABC-DEF-GHJ)."""

import re

from django.urls import reverse

from inventory.codes import generate_label_code as make_code
from inventory.codes import group_label_code, label_code_for_display
from inventory.models import LabelCode
from tests.builders import make_device


def visible(html: str) -> str:
    """The page's text, without tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def shows_grouped(html: str, code: str) -> bool:
    text = visible(html)
    return group_label_code(code) in text and not re.search(rf"\b{code}\b", text)


def test_a_device_and_a_label_code_name_themselves_grouped(coordinator):
    device = make_device(actor=coordinator)
    grouped = group_label_code(device.label_code_id)
    assert device.label_display == grouped
    assert str(device).startswith(grouped + " ")
    assert str(LabelCode.objects.get(code=device.label_code_id)) == grouped


def test_the_scan_pages_recent_scans_show_grouped_codes(login, coordinator):
    device = make_device(actor=coordinator)
    client = login(coordinator)
    client.post("/scan/", {"raw": device.label_code_id})
    assert shows_grouped(client.get("/scan/").text, device.label_code_id)


def test_the_batch_summary_shows_grouped_codes(login, coordinator):
    device = make_device(actor=coordinator)
    client = login(coordinator)
    start = client.post("/scan/batch/", {"action": "declare_lost", "confirm": "1"})
    client.post(start["Location"], {"raw": device.label_code_id})
    summary = client.get(start["Location"] + "&finished=1")
    assert shows_grouped(summary.text, device.label_code_id)


def test_the_print_page_lists_grouped_codes(login, coordinator):
    device = make_device(actor=coordinator)
    page = login(coordinator).get(f"/labels/print/?device={device.pk}")
    assert shows_grouped(page.text, device.label_code_id)


def test_a_code_typed_any_way_is_shown_as_the_label_prints_it():
    code = make_code()
    assert label_code_for_display(code.lower()) == group_label_code(code)
    assert label_code_for_display(group_label_code(code)) == group_label_code(code)
    assert label_code_for_display("not a code") == "not a code"


def test_registering_a_scanned_preprinted_code_shows_it_grouped(login, coordinator, donation):
    code = make_code()
    client = login(coordinator)
    for url in (
        reverse("inventory:device_register"),
        reverse("inventory:donation_device_register", args=[donation.pk]),
    ):
        page = client.get(url, {"label_code": code})
        assert f'value="{group_label_code(code)}"' in page.text, url
