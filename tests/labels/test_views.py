"""Printing labels from the screens: one device, a selection, pre-printed sheets."""

import pypdfium2 as pdfium

from inventory.codes import group_label_code
from inventory.models import LabelCode
from tests.builders import make_device


def pdf_text(body: bytes) -> str:
    document = pdfium.PdfDocument(body)
    return "\n".join(page.get_textpage().get_text_range() for page in document)


def test_a_devices_label_downloads_as_a_pdf_carrying_its_code(login, coordinator, device):
    client = login(coordinator)
    page = client.get(f"/devices/{device.pk}/")
    assert f"/labels/print/?device={device.pk}" in page.text
    response = client.post(
        "/labels/print/",
        {"device": [device.pk], "label_format": "avery-l7160", "start": 4, "output": "pdf"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert group_label_code(device.label_code_id) in pdf_text(response.content)


def test_a_selection_prints_only_the_devices_the_user_may_see(
    login, coordinator, workshop_staff, workshop_device
):
    hidden = make_device(actor=coordinator)
    response = login(workshop_staff).post(
        "/labels/print/",
        {
            "device": [workshop_device.pk, hidden.pk],
            "label_format": "avery-l7651",
            "start": 1,
            "output": "pdf",
        },
    )
    text = pdf_text(response.content)
    assert group_label_code(workshop_device.label_code_id) in text
    assert group_label_code(hidden.label_code_id) not in text


def test_a_zebra_label_comes_as_zpl(login, coordinator, device):
    response = login(coordinator).post(
        "/labels/print/",
        {"device": [device.pk], "label_format": "zebra-2x1in", "start": 1, "output": "zpl"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("^XA") == 1 and device.label_code_id in body


def test_bad_choices_come_back_as_form_errors(login, coordinator, device):
    client = login(coordinator)
    response = client.post(
        "/labels/print/",
        {"device": [device.pk], "label_format": "avery-l7160", "start": 99, "output": "zpl"},
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"start", "output"}
    nothing = client.get("/labels/print/")
    assert nothing.status_code == 200 and nothing.context["devices"] == []


def test_preprinted_sheets_issue_fresh_codes(login, coordinator):
    response = login(coordinator).post(
        "/labels/preprint/",
        {"quantity": 2, "label_format": "avery-l7160", "start": 1, "output": "pdf"},
    )
    assert response.status_code == 200
    codes = list(LabelCode.objects.values_list("code", flat=True))
    assert len(codes) == 2 * 21
    text = pdf_text(response.content)
    assert all(group_label_code(code) in text for code in codes)


def test_readers_and_structures_cannot_print(login, fund_reader, structure_staff, device):
    for user in (fund_reader, structure_staff):
        assert login(user).get(f"/labels/print/?device={device.pk}").status_code == 403
        assert login(user).post("/labels/preprint/", {"quantity": 1}).status_code == 403
    assert LabelCode.objects.count() == 1


def test_an_intake_batch_is_found_by_donor_and_day_and_printed_at_once(
    login, coordinator, donor_org
):
    from django.utils import timezone

    batch = [make_device(actor=coordinator, donor=donor_org) for _ in range(3)]
    other = make_device(actor=coordinator)
    client = login(coordinator)
    day = timezone.localdate().isoformat()
    listing = client.get(f"/devices/?donor={donor_org.pk}&registered_on={day}")
    assert listing.context["page"].count == 3
    assert "all=1" in listing.text
    page = client.get(f"/labels/print/?donor={donor_org.pk}&registered_on={day}&all=1")
    assert {device.pk for device in page.context["devices"]} == {d.pk for d in batch}
    response = client.post(
        "/labels/print/",
        {
            "device": [d.pk for d in page.context["devices"]],
            "label_format": "avery-l7160",
            "start": 1,
            "output": "pdf",
        },
    )
    text = pdf_text(response.content)
    assert all(group_label_code(d.label_code_id) in text for d in batch)
    assert group_label_code(other.label_code_id) not in text


def test_a_selection_of_a_thousand_devices_posts_in_one_form(login, coordinator, device):
    # 1,000 device ids plus the form's own fields: over Django's default field limit.
    ids = [device.pk] + [10_000_000 + n for n in range(999)]
    response = login(coordinator).post(
        "/labels/print/",
        {"device": ids, "label_format": "avery-l7160", "start": 1, "output": "pdf"},
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_the_cap_warning_states_the_cap(login, coordinator, monkeypatch):
    monkeypatch.setattr("labels.views.MAX_LABELS", 2)
    devices = [make_device(actor=coordinator) for _ in range(2)]
    response = login(coordinator).get("/labels/print/", {"device": [d.pk for d in devices]})
    assert response.status_code == 200
    assert "2 étiquettes au plus à la fois" in response.text
