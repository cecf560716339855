"""The bench record page: a few taps per section, errors shown with what was typed, scoping."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import (
    ErasureRecord,
    LockCheck,
    LockKind,
    Reconditioning,
    Repair,
    StorageMedium,
)
from inventory.models import TestItem as ChecklistItem
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, make_user, record_reconditioning, reload, valid_imei, walk


def url(device, section: str = "") -> str:
    return f"/devices/{device.pk}/bench/{section + '/' if section else ''}"


def test_the_page_lists_what_ready_still_needs(login, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    response = login(workshop_staff).get(url(at_workshop))
    assert response.status_code == 200
    codes = [problem.code for problem in response.context["missing"]]
    assert codes == ["locks_unchecked", "tests_incomplete", "media_missing", "grade_missing"]
    assert 'data-code="media_missing"' in response.text
    assert "Marquer disponible" not in response.text


def test_lock_checks_are_saved_in_one_post(login, workshop_staff, at_workshop):
    data = {f"lock_{kind}": "not_applicable" for kind in LockKind.values}
    data["lock_mdm"] = "cleared"
    response = login(workshop_staff).post(url(at_workshop, "locks"), data)
    assert response.status_code == 302
    # Back to the top of the record, where the message and what is still missing are.
    assert response["Location"] == url(at_workshop)
    assert LockCheck.objects.count() == len(LockKind.values)
    assert LockCheck.objects.get(kind="mdm").checked_by == workshop_staff
    assert reload(at_workshop).status == Status.IN_RECONDITIONING


def test_an_empty_lock_form_says_so_and_writes_nothing(login, workshop_staff, at_workshop):
    response = login(workshop_staff).post(url(at_workshop, "locks"), {"lock_mdm": "maybe"})
    assert response.status_code == 400
    assert response.context["lock_form"].errors
    assert not LockCheck.objects.exists()
    assert not Reconditioning.objects.exists()


def test_an_erasure_form_error_keeps_what_was_typed(login, workshop_staff, at_workshop):
    client = login(workshop_staff)
    client.post(url(at_workshop, "media"), {"kind": "ssd", "interface": "nvme", "capacity_gb": 256})
    medium = StorageMedium.objects.get()
    now = timezone.localtime()
    data = {
        "medium": medium.pk,
        "level": "purge",
        "method": "nvme_sanitize",
        "tool": "Blancco Drive Eraser",
        "tool_version": "7.11",
        "verification": "none",
        "result": "passed",
        "started_at": (now - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
        "ended_at": now.strftime("%Y-%m-%dT%H:%M"),
    }
    response = client.post(url(at_workshop, "erasure"), data)
    assert response.status_code == 400
    form = response.context["erasure_form"]
    assert "result" in form.errors
    assert 'value="Blancco Drive Eraser"' in response.text
    assert not ErasureRecord.objects.exists()
    data["verification"] = "full"
    response = client.post(url(at_workshop, "erasure"), data)
    assert response.status_code == 302
    assert ErasureRecord.objects.get().operator == workshop_staff


def test_a_phone_is_erased_in_one_tap(login, coordinator, workshop_org, workshop_staff):
    phone = make_device(
        actor=coordinator, category="smartphone", manufacturer="Samsung", imei1=valid_imei(3)
    )
    device_transition(
        actor=coordinator, device_id=phone.pk, action="send_to_workshop", target=workshop_org
    )
    walk(actor=workshop_staff, device=phone, actions=("receive_at_workshop",))
    client = login(workshop_staff)
    page = client.get(url(phone))
    assert f'action="{url(phone, "reset")}"' in page.text
    response = client.post(url(phone, "reset"))
    assert response.status_code == 302
    erasure = ErasureRecord.objects.get()
    assert (erasure.method, erasure.medium.interface) == ("factory_reset", "embedded")


def test_checklist_grade_and_repair_then_ready(login, workshop_staff, at_workshop):
    client = login(workshop_staff)
    items = ChecklistItem.objects.filter(category_id="laptop")
    answers = {f"item_{item.pk}": "passed" for item in items}
    answers[f"item_{items[1].pk}"] = "not_applicable"
    assert client.post(url(at_workshop, "tests"), answers).status_code == 302
    assert (
        client.post(
            url(at_workshop, "assessment"),
            {"grade": "B", "battery_health": "86", "os_installed": "Linux Mint 22"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            url(at_workshop, "repairs"), {"part": "Batterie", "cost": "39.90", "minutes": "25"}
        ).status_code
        == 302
    )
    assert str(Repair.objects.get().cost) == "39.90"
    record_reconditioning(actor=workshop_staff, device=at_workshop)  # locks and erasure
    page = client.get(url(at_workshop))
    assert page.context["missing"] == []
    response = client.post(
        f"/devices/{at_workshop.pk}/move/", {"action": "mark_ready"}, follow=True
    )
    assert reload(at_workshop).status == Status.READY
    assert reload(at_workshop).operating_system == "Linux Mint 22"
    assert response.status_code == 200


def test_a_checklist_answer_for_another_category_is_refused(login, workshop_staff, at_workshop):
    phone_item = ChecklistItem.objects.filter(category_id="smartphone").first()
    response = login(workshop_staff).post(
        url(at_workshop, "tests"), {f"item_{phone_item.pk}": "passed"}
    )
    # The form only knows the laptop's items: nothing to save, said plainly.
    assert response.status_code == 400
    assert not reload(at_workshop).reconditionings.exists()


def test_other_organisations_and_structures_cannot_open_the_record(
    login, at_workshop, other_workshop_org, structure_staff, fund_reader
):
    outsider = make_user(organisation=other_workshop_org)
    assert login(outsider).get(url(at_workshop)).status_code == 404
    assert (
        login(outsider).post(url(at_workshop, "locks"), {"lock_mdm": "cleared"}).status_code == 404
    )
    assert login(structure_staff).get(url(at_workshop)).status_code == 403
    assert login(fund_reader).get(url(at_workshop)).status_code == 403
    assert not LockCheck.objects.exists()


def test_a_device_in_stock_shows_its_record_read_only(login, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("mark_ready",))
    response = login(workshop_staff).get(url(at_workshop))
    assert response.status_code == 200
    assert not response.context["recordable"]
    assert "Enregistrer les contrôles" not in response.text
    assert (
        login(workshop_staff).post(url(at_workshop, "repairs"), {"part": "Clavier"}).status_code
        == 400
    )
    assert not Repair.objects.exists()


def test_the_scan_card_opens_the_bench_record(login, workshop_staff, at_workshop):
    response = login(workshop_staff).post("/scan/", {"raw": at_workshop.label_code_id})
    assert url(at_workshop) in response.text


def test_the_device_page_says_what_is_missing(login, workshop_staff, at_workshop):
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    response = login(workshop_staff).get(f"/devices/{at_workshop.pk}/")
    assert [p.code for p in response.context["missing"]] == [
        "locks_unchecked",
        "tests_incomplete",
        "media_missing",
        "grade_missing",
    ]


@pytest.mark.slow
def test_the_record_page_costs_the_same_queries_for_short_and_long_records(
    login, workshop_staff, at_workshop, coordinator, workshop_org
):
    other = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=other.pk, action="send_to_workshop", target=workshop_org
    )
    walk(actor=workshop_staff, device=other, actions=("receive_at_workshop",))
    record_reconditioning(actor=workshop_staff, device=other)
    for _ in range(3):
        client = login(workshop_staff)
        client.post(url(other, "repairs"), {"part": "Clavier"})
        client.post(url(other, "media"), {"kind": "hdd", "interface": "sata"})
    walk(actor=workshop_staff, device=at_workshop, actions=("start_reconditioning",))
    record_reconditioning(actor=workshop_staff, device=at_workshop)
    client = login(workshop_staff)
    counts = []
    for device in (at_workshop, other):
        client.get(url(device))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url(device)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_a_report_lost_from_storage_answers_404_not_500(
    login, workshop_staff, at_workshop, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inventory.reconditioning import services as bench

    settings.MEDIA_ROOT = tmp_path
    medium = bench.medium_add(
        actor=workshop_staff, device_id=at_workshop.pk, kind="ssd", interface="nvme"
    )
    now = timezone.now()
    erasure = bench.erasure_record(
        actor=workshop_staff,
        medium_id=medium.pk,
        level="purge",
        method="nvme_sanitize",
        verification="full",
        result="passed",
        started_at=now - timedelta(minutes=5),
        ended_at=now,
        report=SimpleUploadedFile("r.pdf", b"%PDF-1.4 report", "application/pdf"),
    )
    client = login(workshop_staff)
    web = f"/devices/{at_workshop.pk}/erasures/{erasure.pk}/report/"
    assert client.get(web).status_code == 200
    (tmp_path / erasure.report.name).unlink()
    assert client.get(web).status_code == 404
    assert client.get(f"/api/erasures/{erasure.pk}/report/").status_code == 404


def test_an_error_is_summed_up_with_links_to_its_fields_and_a_title_that_says_so(
    login, workshop_staff, at_workshop
):
    response = login(workshop_staff).post(url(at_workshop, "repairs"), {"cost": "-5"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "data-error-summary" in text
    assert 'href="#id_part"' in text
    assert 'value="-5"' in text
    assert "<title>Erreur" in text
    # Each form warns before its unsaved choices are left (static/js/page.js).
    assert text.count("data-warn-unsaved") >= 5


def test_an_erasure_shown_again_asks_for_its_report_file_again(login, workshop_staff, at_workshop):
    client = login(workshop_staff)
    client.post(url(at_workshop, "media"), {"kind": "ssd", "interface": "nvme", "capacity_gb": 256})
    medium = StorageMedium.objects.get()
    report = SimpleUploadedFile("report.pdf", b"%PDF-1.4 report", "application/pdf")
    response = client.post(
        url(at_workshop, "erasure"),
        {"medium": medium.pk, "level": "purge", "method": "nvme_sanitize", "report": report},
    )
    assert response.status_code == 400
    # A browser cannot fill a file input again: the page says so instead of losing it silently.
    assert "report" in response.context["erasure_form"].errors
    assert "fichier du rapport" in response.text
    assert not ErasureRecord.objects.exists()
