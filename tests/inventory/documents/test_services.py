"""A donation's documents: the erasure certificate's content and PDF, verification codes, and
the donor summary's counts (never a structure's name)."""

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pypdfium2 as pdfium
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from inventory.codes import group_label_code
from inventory.documents.content import (
    PENDING_DESTRUCTION,
    PENDING_NO_MEDIUM,
    PENDING_NOT_ERASED,
    CertificateContent,
    ErasedRow,
    certificate_content,
    donor_summary,
    impact_figures,
    verification_code_display,
    verification_code_new,
    verification_code_normalize,
)
from inventory.documents.pdf import render_certificate, render_summary
from inventory.documents.services import (
    certificate_file_name,
    certificate_issue,
    certificate_pdf,
)
from inventory.errors import DomainError
from inventory.models import ErasureCertificate
from inventory.reconditioning import services as bench
from tests.builders import (
    erase,
    hand_over,
    make_device,
    reconditioned,
    to_bench,
    valid_imei,
)
from tests.labels.decoding import page_texts


@pytest.fixture(autouse=True)
def english_and_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with translation.override("en"):
        yield


def flat(text: str) -> str:
    return " ".join(text.split())


# Content --------------------------------------------------------------------------------------


def test_content_lists_passed_erasures_and_destructions_only(donation, certified):
    content = certificate_content(donation)
    methods = sorted(row.method for row in content.erased)
    assert methods == ["factory_reset", "nvme_sanitize", "shred"]
    assert all(row.result == "passed" for row in content.erased)
    assert content.media_count == 3
    pending = {row.device_code: row.reason for row in content.pending}
    assert pending == {
        certified["waiting"].label_code_id: PENDING_NOT_ERASED,
        certified["intake"].label_code_id: PENDING_NO_MEDIUM,
    }
    assert content.devices_erased == 3


def test_failed_erasure_without_destruction_is_pending_destruction(
    coordinator, workshop_staff, workshop_org, donation
):
    device = make_device(actor=coordinator, donation=donation)
    to_bench(coordinator, device, workshop_org)
    medium = bench.medium_add(
        actor=workshop_staff, device_id=device.pk, kind="ssd", interface="sata"
    )
    erase(workshop_staff, medium, method="ata_secure_erase", result="failed")
    content = certificate_content(donation)
    assert content.erased == ()
    [row] = content.pending
    assert row.reason == PENDING_DESTRUCTION


def test_a_laptop_with_one_of_two_disks_erased_is_pending(
    coordinator, workshop_staff, workshop_org, donation
):
    device = make_device(actor=coordinator, donation=donation)
    to_bench(coordinator, device, workshop_org)
    first = bench.medium_add(
        actor=workshop_staff, device_id=device.pk, kind="ssd", interface="nvme"
    )
    bench.medium_add(actor=workshop_staff, device_id=device.pk, kind="hdd", interface="sata")
    erase(workshop_staff, first)
    content = certificate_content(donation)
    assert content.media_count == 1
    [row] = content.pending
    assert (row.media_pending, row.media_total) == (1, 2)
    assert content.devices_erased == 0


def test_content_hash_is_canonical_json_of_the_rows(donation, certified):
    content = certificate_content(donation)
    parsed = json.loads(content.canonical())
    assert parsed["donation"] == donation.reference
    assert len(parsed["erased"]) == 3
    assert parsed["erased"][0]["ended_at"].endswith("+00:00")
    assert content.sha256 == hashlib.sha256(content.canonical()).hexdigest()
    # The same records read again, in another language, give the same hash.
    with translation.override("fr"):
        assert certificate_content(donation).sha256 == content.sha256


def test_content_query_count_does_not_grow_with_devices(
    coordinator, workshop_staff, workshop_org, donation, certified
):
    with CaptureQueriesContext(connection) as before:
        certificate_content(donation)
    for _index in range(3):
        device = make_device(
            actor=coordinator,
            donation=donation,
            category="smartphone",
            manufacturer="Samsung",
            imei1=valid_imei(40 + _index),
        )
        to_bench(coordinator, device, workshop_org)
        bench.factory_reset_record(actor=workshop_staff, device_id=device.pk)
    with CaptureQueriesContext(connection) as after:
        certificate_content(donation)
    assert len(after) == len(before)


# Verification codes ---------------------------------------------------------------------------


def test_verification_codes_are_random_checked_and_forgiving_to_type():
    codes = {verification_code_new() for _index in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 16
    shown = verification_code_display(code)
    assert len(shown.split("-")) == 4
    assert verification_code_normalize(f"  {shown.lower()} ") == code
    # One symbol changed: the check symbol refuses it rather than finding another certificate.
    wrong = ("1" if code[3] != "1" else "2").join((code[:3], code[4:]))
    assert verification_code_normalize(wrong) is None
    assert verification_code_normalize("ABC") is None


# Issue ----------------------------------------------------------------------------------------


def test_only_the_coordination_issues(workshop_staff, donor_org, donation, certified):
    from tests.builders import make_user

    for user in (workshop_staff, make_user(organisation=donor_org)):
        with pytest.raises(DomainError) as excinfo:
            certificate_issue(actor=user, donation_id=donation.pk)
        assert excinfo.value.code == "action_forbidden"
    assert not ErasureCertificate.objects.exists()


def test_nothing_erased_nothing_to_certify(coordinator, donation):
    make_device(actor=coordinator, donation=donation)
    with pytest.raises(DomainError) as excinfo:
        certificate_issue(actor=coordinator, donation_id=donation.pk)
    assert excinfo.value.code == "nothing_to_certify"


def test_issue_records_the_row_and_stores_the_pdf(coordinator, donation, certified, settings):
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    content = certificate_content(donation)
    assert certificate.media_count == 3
    assert certificate.issued_by == coordinator
    assert certificate.content_sha256 == content.sha256
    stored = settings.MEDIA_ROOT / certificate_file_name(certificate)
    assert stored.read_bytes().startswith(b"%PDF-")
    assert certificate_pdf(certificate) == stored.read_bytes()
    again = certificate_issue(actor=coordinator, donation_id=donation.pk)
    assert again.pk != certificate.pk
    assert again.verification_code != certificate.verification_code
    assert list(donation.certificates.all()) == [again, certificate]


def test_lost_copy_is_redrawn_only_if_the_content_is_unchanged(
    coordinator, workshop_staff, donation, certified, settings
):
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    stored = settings.MEDIA_ROOT / certificate_file_name(certificate)
    stored.unlink()
    assert certificate_pdf(certificate).startswith(b"%PDF-")
    assert stored.exists()
    stored.unlink()
    medium = certified["waiting"].media.get()
    erase(workshop_staff, medium, method="overwrite", level="clear")
    assert certificate_pdf(certificate) is None


# The PDF, read back ---------------------------------------------------------------------------


def test_certificate_pdf_shows_every_medium_and_the_code_on_every_page(
    coordinator, donor_org, donation, certified
):
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    pages = page_texts(certificate_pdf(certificate))
    text = flat(" ".join(pages))
    code = verification_code_display(certificate.verification_code)
    for index, page in enumerate(pages, start=1):
        assert code in flat(page)
        assert f"Page {index} / {len(pages)}" in flat(page)
    assert donor_org.name in text
    assert donation.reference in text
    assert certificate.content_sha256 in text
    for serial in ("S4EWNX0R123456", "WD-WCC4N7XY1234", "LAPTOP-ERASED", "DESKTOP-SHRED"):
        assert serial in text
    for method in ("NVMe Sanitize", "Physical destruction: shredding", "Encrypted factory reset"):
        assert method in text
    assert "Level: Purge" in text
    assert "Level: Destruct" in text
    report = certified["laptop"].media.get().erasures.get()
    assert report.report_sha256[:16] in text
    assert report.report_sha256 not in text  # shortened


def test_destroyed_medium_shows_the_destruction_not_the_failed_erasure(
    coordinator, donation, certified
):
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    text = flat(" ".join(page_texts(certificate_pdf(certificate))))
    erased, _sep, pending = text.partition("Devices pending")
    assert "WD-WCC4N7XY1234" in erased
    assert "Physical destruction: shredding" in erased
    assert "nwipe" not in text  # the failed overwrite's tool
    assert "Failed" not in text


def test_devices_not_erased_are_pending_not_certified(coordinator, donation, certified):
    certificate = certificate_issue(actor=coordinator, donation_id=donation.pk)
    text = flat(" ".join(page_texts(certificate_pdf(certificate))))
    erased, _sep, pending = text.partition("Devices pending")
    for key in ("waiting", "intake"):
        code = group_label_code(certified[key].label_code_id)
        assert code in pending
        assert code not in erased
    assert "NOT-ERASED-DISK" not in text
    assert "Not erased yet" in pending
    assert "No storage medium recorded yet" in pending
    screen = group_label_code(certified["screen"].label_code_id)
    assert screen not in text
    assert "SCREEN-1" not in text


def synthetic_content(rows: int, *, serial: str = "") -> CertificateContent:
    ended = datetime(2025, 4, 2, 9, 30, tzinfo=UTC)
    erased = tuple(
        ErasedRow(
            device_code="7K3M9QTV2",
            device_make="Lenovo",
            device_model="ThinkPad T480s avec station d'accueil",
            device_serial=f"PF1{index:05d}",
            medium_kind="ssd",
            medium_interface="nvme",
            medium_make="Samsung",
            medium_model="MZVLB512HAJQ-000L7",
            medium_serial=serial or f"S4EWNX0R{index:06d}",
            capacity_gb=512,
            level="purge",
            method="nvme_sanitize",
            tool="Blancco Drive Eraser",
            tool_version="7.9.1",
            verification="sample",
            verification_percent=10,
            result="passed",
            ended_at=ended,
            operator="Élodie Grégoire-Łukasiewicz",
            organisation="ECODAIR Saclay",
            report_sha256="ab" * 32,
            medium_id=index,
        )
        for index in range(rows)
    )
    return CertificateContent(
        donation_id=1,
        reference="DON-00001",
        donor_name="Société Générale d'Équipement",
        received_on=date(2025, 3, 12),
        erased=erased,
        pending=(),
    )


def render(content) -> bytes:
    return render_certificate(
        content,
        code="7K3M-Q9TV-2XHD-W4RB",
        content_sha256=content.sha256,
        issued_at=datetime(2025, 4, 3, 10, 0, tzinfo=UTC),
        network_name="Réseau inclusion numérique 92",
        verify_url="https://reemploi.example.fr/certificates/verify/",
    )


def test_long_tables_repeat_their_header_on_every_page():
    pdf = render(synthetic_content(60))
    pages = page_texts(pdf)
    assert len(pages) > 2
    for index, page in enumerate(pages, start=1):
        assert "Storage medium" in page
        assert "7K3M-Q9TV-2XHD-W4RB" in page
        assert f"Page {index} / {len(pages)}" in flat(page)
    text = flat(" ".join(pages))
    for index in range(60):
        assert f"S4EWNX0R{index:06d}" in text
    # Accents survive; what WinAnsi lacks comes out as its Latin base letter.
    assert "Élodie Grégoire-Lukasiewicz" in text
    assert "Société Générale d'Équipement" in text


def test_no_text_leaves_the_margins_even_with_a_very_long_serial():
    pdf = render(synthetic_content(3, serial="X" * 70 + "-LONG-SERIAL-NUMBER-" + "9" * 30))
    margin = 11 * 72 / 25.4  # the page margin is 12 mm
    document = pdfium.PdfDocument(pdf)
    try:
        for page in document:
            width, height = page.get_size()
            textpage = page.get_textpage()
            for index in range(textpage.count_chars()):
                left, bottom, right, top = textpage.get_charbox(index)
                if right - left <= 0:
                    continue
                assert left >= margin and right <= width - margin, (left, right, width)
                assert bottom >= margin and top <= height - margin
    finally:
        document.close()


# Donor summary --------------------------------------------------------------------------------


def test_summary_counts(summarised):
    summary = donor_summary(summarised)
    assert summary.received == 7
    assert summary.reconditioned == 4  # given, lent, back from loan, ready
    assert summary.distributed == 2
    assert summary.in_stock == 1
    assert summary.in_progress == 2  # back from loan, the screen at intake
    assert summary.recycled == 1
    assert summary.returned_to_donor == 1
    assert summary.lost == 0
    by_category = {line.code: line for line in summary.categories}
    assert (by_category["laptop"].received, by_category["laptop"].reconditioned) == (4, 3)
    assert by_category["laptop"].recycled == 1
    assert (by_category["smartphone"].received, by_category["smartphone"].distributed) == (2, 1)
    assert by_category["screen"].received == 1
    assert [(line.code, line.devices) for line in summary.territories] == [("T2", 1), ("T3", 1)]
    assert summary.territories[1].name == "Grand Paris Seine Ouest"


def test_reconditioned_counts_a_cycle_that_reached_ready_even_without_history(
    coordinator, workshop_org, donation
):
    device = make_device(actor=coordinator, donation=donation)
    reconditioned(coordinator, device, workshop_org)
    device.history.filter(history_change_reason="mark_ready").delete()
    assert donor_summary(donation).reconditioned == 1


def test_summary_pdf_names_no_structure(summarised, structures):
    summary = donor_summary(summarised)
    pdf = render_summary(
        summary, issued_at=timezone.now(), network_name="Réseau inclusion numérique 92"
    )
    text = flat(" ".join(page_texts(pdf)))
    assert "Vallée Sud Grand Paris" in text
    assert "Grand Paris Seine Ouest" in text
    assert summarised.donor.name in text
    for structure in structures:
        assert structure.name not in text
        assert structure.commune.name not in text


def test_summary_impact_counts_each_device_given_or_lent_once(summarised):
    """Given laptop, lent smartphone, laptop lent and back: 2 laptops × 3 years and 1
    smartphone × 2 years of the ADEME factors (the smartphone has no e-waste figure)."""
    summary = donor_summary(summarised)
    impact = summary.impact
    assert {line.category: line.devices for line in impact.lines} == {"laptop": 2, "smartphone": 1}
    assert impact.totals == {
        "co2e_kg": Decimal("211.20"),
        "materials_kg": Decimal("915.80"),
        "ewaste_kg": Decimal("1.88"),
    }
    assert impact.devices_not_estimated == 0
    pdf = render_summary(summary, issued_at=timezone.now(), network_name="Réseau 92")
    text = flat(" ".join(page_texts(pdf)))
    assert "Environmental impact" in text and "211.2" in text and "ADEME" in text


def test_summary_impact_says_not_estimated_without_a_published_factor(
    coordinator, workshop_org, donation, structures
):
    tablet = make_device(actor=coordinator, category="tablet", donation=donation)
    reconditioned(coordinator, tablet, workshop_org)
    hand_over(coordinator, tablet, "hand_over_gift", structures[0])
    summary = donor_summary(donation)
    assert summary.impact.devices_not_estimated == 1
    assert dict(impact_figures(summary))["Greenhouse gases avoided (kg CO₂e)"] == "not estimated"
