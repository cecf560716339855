"""Donation documents on the web: who sees them, issuing a certificate, the public check of a
verification code, and a donor summary that never names a structure."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.documents.content import (
    certificate_content,
    verification_code_display,
    verification_code_new,
)
from inventory.documents.services import (
    certificate_file_name,
    certificate_issue,
)
from inventory.models import Commune, ErasureCertificate
from inventory.reconditioning import services as bench
from inventory.states import OrgKind
from tests.builders import (
    erase,
    hand_over,
    make_device,
    make_donation,
    make_organisation,
    make_user,
    reconditioned,
)
from tests.labels.decoding import page_texts


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def as_user(login):
    def client_for(user) -> Client:
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return client_for


@pytest.fixture
def issued(coordinator, donation, certified):
    return certificate_issue(actor=coordinator, donation_id=donation.pk)


def page_urls(donation, certificate) -> list[str]:
    return [
        reverse("inventory:donation_certificate", args=[donation.pk]),
        reverse("inventory:donation_certificate_pdf", args=[donation.pk, certificate.pk]),
        reverse("inventory:donation_summary", args=[donation.pk]),
        reverse("inventory:donation_summary_pdf", args=[donation.pk]),
    ]


# Who sees what --------------------------------------------------------------------------------


def test_coordinator_issues_a_certificate_and_gets_its_pdf(
    as_user, coordinator, donation, certified
):
    client = as_user(coordinator)
    url = reverse("inventory:donation_certificate", args=[donation.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Issue a new certificate" in page.text
    assert "3 storage media erased or destroyed" in page.text
    assert reverse("inventory:donation_detail", args=[donation.pk]) in page.text
    response = client.post(url)
    certificate = ErasureCertificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "inventory:donation_certificate_pdf", args=[donation.pk, certificate.pk]
    )
    pdf = client.get(response["Location"])
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert certificate.verification_code[:4] in client.get(url).text
    client.post(url)
    assert ErasureCertificate.objects.count() == 2  # re-issuing adds a certificate


def test_nothing_erased_shows_why_and_issues_nothing(as_user, coordinator, donation):
    make_device(actor=coordinator, donation=donation)
    client = as_user(coordinator)
    url = reverse("inventory:donation_certificate", args=[donation.pk])
    assert "nothing to certify" in client.get(url).text
    response = client.post(url)
    assert response.status_code == 409
    assert not ErasureCertificate.objects.exists()


def test_donor_reads_its_own_documents_but_does_not_issue(as_user, donor_user, donation, issued):
    client = as_user(donor_user)
    for url in page_urls(donation, issued):
        assert client.get(url).status_code == 200, url
    page = client.get(reverse("inventory:donation_certificate", args=[donation.pk]))
    assert "Issue a new certificate" not in page.text
    assert client.post(page.request["PATH_INFO"]).status_code == 403
    assert ErasureCertificate.objects.count() == 1


def test_another_donor_sees_nothing(as_user, coordinator, donation, issued):
    other = make_organisation(kind=OrgKind.DONOR, name="Autre donateur")
    client = as_user(make_user(organisation=other))
    for url in page_urls(donation, issued):
        assert client.get(url).status_code == 404, url
    own = make_donation(donor=other, actor=coordinator)
    assert client.get(reverse("inventory:donation_summary", args=[own.pk])).status_code == 200


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "fund_reader"])
def test_other_organisations_get_404(request, as_user, persona, donation, issued):
    client = as_user(request.getfixturevalue(persona))
    for url in page_urls(donation, issued):
        assert client.get(url).status_code == 404, url
    url = reverse("inventory:donation_certificate", args=[donation.pk])
    assert client.post(url).status_code == 404


def test_anonymous_is_sent_to_login(donation, issued):
    for url in page_urls(donation, issued):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_a_lost_copy_of_changed_content_is_not_redrawn(
    as_user, coordinator, workshop_staff, donation, certified, issued, settings
):
    (settings.MEDIA_ROOT / certificate_file_name(issued)).unlink()
    erase(workshop_staff, certified["waiting"].media.get(), method="overwrite", level="clear")
    url = reverse("inventory:donation_certificate_pdf", args=[donation.pk, issued.pk])
    response = as_user(coordinator).get(url)
    assert response.status_code == 410
    assert "issue a new certificate" in response.text


# Public check of a verification code ----------------------------------------------------------


def test_valid_code_shows_the_certificates_facts_and_nothing_more(donor_org, donation, issued):
    donor_org.contact_name = "Marie Dupont"
    donor_org.contact_email = "marie.dupont@example.com"
    donor_org.contact_phone = "01 23 45 67 89"
    donor_org.address = "12 rue de la Paix"
    donor_org.save()
    shown = verification_code_display(issued.verification_code)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("inventory:certificate_verify_code", args=[shown])
    )
    assert response.status_code == 200
    for fact in (donation.reference, donor_org.name, issued.content_sha256, shown):
        assert fact in response.text
    assert "<dd>3</dd>" in response.text  # media certified
    for secret in ("Marie", "example.com", "45 67", "rue de la Paix", "S4EWNX0R123456", "bench"):
        assert secret not in response.text


def test_unknown_or_mistyped_code_is_not_found(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    unknown = verification_code_new()
    for code, hint in ((unknown, "typed exactly"), ("ABCD-EFGH", "not a valid verification code")):
        response = client.get(reverse("inventory:certificate_verify_code", args=[code]))
        assert response.status_code == 404
        assert "Not found:" in response.text
        assert hint in response.text
    response = client.get(reverse("inventory:certificate_verify"), {"code": "ABCD"})
    assert response.status_code == 404


def test_the_form_accepts_the_code_as_people_type_it(issued):
    typed = verification_code_display(issued.verification_code).lower().replace("-", " ")
    response = Client().get(reverse("inventory:certificate_verify"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "inventory:certificate_verify_code", args=[issued.verification_code]
    )
    assert Client().get(reverse("inventory:certificate_verify")).status_code == 200


# Donor summary --------------------------------------------------------------------------------


def test_summary_counts_by_territory_and_never_names_a_structure(
    as_user, donor_user, summarised, structures
):
    client = as_user(donor_user)
    page = client.get(reverse("inventory:donation_summary", args=[summarised.pk]))
    assert page.status_code == 200
    outcomes = dict(page.context["outcomes"])
    assert outcomes["Received"] == 7
    assert outcomes["Reconditioned (ready for reuse at least once)"] == 4
    assert outcomes["Given or lent to structures of the network"] == 2
    assert outcomes["Returned to you"] == 1
    assert "Vallée Sud Grand Paris" in page.text
    assert "Grand Paris Seine Ouest" in page.text
    pdf = client.get(reverse("inventory:donation_summary_pdf", args=[summarised.pk]))
    assert pdf["Content-Type"] == "application/pdf"
    pdf_text = " ".join(page_texts(pdf.content))
    assert "Vallée Sud Grand Paris" in pdf_text
    for structure in structures:
        assert structure.name not in page.text
        assert structure.name not in pdf_text


@pytest.mark.slow
def test_summary_queries_do_not_grow_with_devices(
    as_user, coordinator, workshop_org, donation, structures
):
    antony, boulogne = structures
    nanterre = make_organisation(
        kind=OrgKind.STRUCTURE, commune=Commune.objects.get(insee_code="92050")
    )
    client = as_user(coordinator)
    url = reverse("inventory:donation_summary", args=[donation.pk])

    def add(count: int, start: int) -> None:
        for index in range(start, start + count):
            category = ("laptop", "screen", "desktop")[index % 3]
            device = make_device(actor=coordinator, category=category, donation=donation)
            if index % 3 == 0:
                reconditioned(coordinator, device, workshop_org)
                target = (antony, boulogne, nanterre)[index // 3 % 3]
                hand_over(coordinator, device, "hand_over_gift", target)

    add(3, 0)
    client.get(url)  # warm the session and the scope
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    add(27, 3)
    with CaptureQueriesContext(connection) as thirty:
        page = client.get(url)
    assert page.context["summary"].received == 30
    assert len(page.context["summary"].territories) == 3
    assert len(thirty) == len(three)


def test_donor_portal_lists_only_the_donors_own_donations(
    as_user, coordinator, donor_user, donation, issued
):
    other = make_organisation(kind=OrgKind.DONOR, name="Autre donateur")
    theirs = make_donation(donor=other, actor=coordinator)
    url = reverse("inventory:donor_donations")
    page = as_user(donor_user).get(url)
    assert page.status_code == 200
    assert list(page.context["donations"]) == [donation]
    assert page.context["donations"][0].certificate_count == 1
    assert reverse("inventory:donation_summary", args=[donation.pk]) in page.text
    assert reverse("inventory:donation_summary", args=[theirs.pk]) not in page.text
    assert as_user(coordinator).get(url).status_code == 404


# A donation a workshop collected and recorded itself -------------------------------------------


def test_a_collected_donation_reaches_its_certificate_and_the_donors_summary(
    as_user, coordinator, workshop_staff, other_workshop_staff, donor_user, collected
):
    donation, laptop = collected["donation"], collected["laptop"]
    disk = bench.medium_add(
        actor=workshop_staff, device_id=laptop.pk, kind="ssd", interface="nvme", serial_number="D1"
    )
    erase(workshop_staff, disk)
    certificate_url = reverse("inventory:donation_certificate", args=[donation.pk])
    # The workshop reads its donation's documents but, like a donor, does not issue.
    workshop = as_user(workshop_staff)
    assert workshop.get(certificate_url).status_code == 200
    assert workshop.post(certificate_url).status_code == 403
    assert as_user(coordinator).post(certificate_url).status_code == 302
    certificate = ErasureCertificate.objects.get(donation=donation)
    content = certificate_content(donation)
    assert [row.device_code for row in content.erased] == [laptop.label_code_id]
    assert certificate.media_count == 1
    # The donor finds it on its portal, with its summary.
    portal = as_user(donor_user).get(reverse("inventory:donor_donations"))
    assert list(portal.context["donations"]) == [donation]
    summary = as_user(donor_user).get(reverse("inventory:donation_summary", args=[donation.pk]))
    assert summary.context["summary"].received == 1
    # Another workshop: as for any donation outside its share.
    for url in page_urls(donation, certificate):
        assert as_user(other_workshop_staff).get(url).status_code == 404, url


def test_the_donors_page_says_why_each_certificate_is_pending(
    as_user, donor_user, donation, certified
):
    page = as_user(donor_user).get(reverse("inventory:donor_donations"))
    assert page.status_code == 200
    assert "2 devices not erased yet" in page.text
    assert "Release attestation incomplete" in page.text
