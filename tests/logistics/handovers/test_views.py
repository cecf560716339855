"""Hand-overs on the web: who sees which, a hand-over recorded and signed (on the screen or on
paper), the refusals shown on the form, the receipt PDF, and the public check of a receipt."""

import base64

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from inventory.documents.content import verification_code_display, verification_code_new
from inventory.states import OrgKind
from logistics.deliveries import services as deliveries
from logistics.handovers import services as handovers
from logistics.models import AllocationStatus, HandOver, SignatureKind
from tests.builders import PNG_1PX, allocated, make_organisation, make_user
from tests.logistics.handovers.test_receipt import signature_png
from tests.test_csp import assert_strict

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_user(login):
    def client_for(user) -> Client:
        client = login(user)
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
        return client

    return client_for


@pytest.fixture
def gifts(coordinator, structure_staff, workshop_org):
    return allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )


@pytest.fixture
def hand_over(coordinator, gifts) -> HandOver:
    return handovers.hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in gifts],
        received_by_name="Awa Diallo",
        received_by_role="Médiatrice",
    )


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


def upload(content: bytes, name: str = "scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "application/pdf")


def sign_url(hand_over) -> str:
    return reverse("logistics:hand_over_sign", args=[hand_over.pk])


def detail_url(hand_over) -> str:
    return reverse("logistics:hand_over_detail", args=[hand_over.pk])


def page_urls(hand_over) -> list[str]:
    return [
        reverse("logistics:hand_over_list"),
        reverse("logistics:hand_over_create"),
        detail_url(hand_over),
        sign_url(hand_over),
        reverse("logistics:hand_over_receipt_pdf", args=[hand_over.pk]),
    ]


# Who sees what --------------------------------------------------------------------------------


def test_the_fund_and_donors_get_the_403_page(as_user, fund_reader, donor_user, hand_over):
    for user in (fund_reader, donor_user):
        for url in page_urls(hand_over):
            assert as_user(user).get(url).status_code == 403, url


def test_another_organisations_hand_over_is_not_found(
    as_user, hand_over, other_workshop_staff, workshop_staff
):
    neighbour = make_user(
        organisation=make_organisation(kind=OrgKind.STRUCTURE, name="Centre social Clamart")
    )
    # The coordination handed these over: the workshop that reconditioned them did not.
    for user in (neighbour, other_workshop_staff, workshop_staff):
        client = as_user(user)
        for url in page_urls(hand_over)[2:]:
            assert client.get(url).status_code == 404, (user, url)
        assert hand_over.reference not in client.get(page_urls(hand_over)[0]).text


def test_the_structure_and_the_coordination_see_the_hand_over(
    as_user, coordinator, structure_staff, hand_over
):
    for user in (coordinator, structure_staff):
        client = as_user(user)
        listed = client.get(reverse("logistics:hand_over_list"))
        assert hand_over.reference in listed.text
        page = client.get(detail_url(hand_over))
        assert page.status_code == 200
        assert "Awa Diallo" in page.text and "Not signed yet" in page.text


def test_a_reader_sees_but_does_not_sign(as_user, coordinator_org, hand_over):
    reader = make_user(organisation=coordinator_org, role="reader")
    client = as_user(reader)
    page = client.get(detail_url(hand_over))
    assert page.status_code == 200 and sign_url(hand_over) not in page.text
    assert client.get(sign_url(hand_over)).status_code == 403
    assert client.get(reverse("logistics:hand_over_create")).status_code == 403


def test_the_list_filters_the_receipts_to_sign_within_a_query_budget(
    as_user, coordinator, structure_staff, hand_over, workshop_org, django_assert_max_num_queries
):
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=1
    )
    signed = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[made[0].pk], received_by_name="Jean Martin"
    )
    handovers.hand_over_sign(
        actor=coordinator, hand_over_id=signed.pk, signer_name="Jean", image=signature_png()
    )
    client = as_user(coordinator)
    url = reverse("logistics:hand_over_list")
    with django_assert_max_num_queries(6):
        everything = client.get(url)
    assert hand_over.reference in everything.text and signed.reference in everything.text
    to_sign = client.get(url, {"to_sign": "1"})
    assert hand_over.reference in to_sign.text and signed.reference not in to_sign.text
    handovers.hand_over_sign(
        actor=coordinator, hand_over_id=hand_over.pk, signer_name="Awa", image=signature_png()
    )
    assert "No receipt waits for a signature." in client.get(url, {"to_sign": "1"}).text


@pytest.mark.parametrize("count", [1, 8])
def test_the_pages_read_a_fixed_number_of_queries_whatever_the_devices(
    as_user, coordinator, structure_staff, workshop_org, count, django_assert_max_num_queries
):
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=count
    )
    client = as_user(coordinator)
    with django_assert_max_num_queries(5):
        assert client.get(reverse("logistics:hand_over_create")).status_code == 200
    hand_over = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], received_by_name="Awa"
    )
    for url in (detail_url(hand_over), sign_url(hand_over)):
        with django_assert_max_num_queries(6):
            assert client.get(url).status_code == 200


def test_the_list_is_empty_before_the_first_hand_over(as_user, structure_staff):
    page = as_user(structure_staff).get(reverse("logistics:hand_over_list"))
    assert page.status_code == 200 and "No hand-over recorded yet." in page.text


# A new hand-over ------------------------------------------------------------------------------


def test_create_then_sign_on_screen_then_read_the_detail(
    as_user, coordinator, structure_org, gifts
):
    client = as_user(coordinator)
    url = reverse("logistics:hand_over_create")
    page = client.get(url)
    assert page.status_code == 200
    assert structure_org.name in page.text
    for allocation in gifts:
        assert f'value="{allocation.pk}"' in page.text
    assert 'name="due_on"' not in page.text  # no loan in the list
    response = client.post(
        url,
        {
            "token": "t1",
            "allocations": [a.pk for a in gifts],
            "received_by_name": "Awa Diallo",
            "received_by_role": "Médiatrice",
            "note": "Avec chargeurs",
        },
    )
    hand_over = HandOver.objects.get()
    assert response.status_code == 302 and response["Location"] == sign_url(hand_over)
    assert hand_over.items.count() == 2 and hand_over.note == "Avec chargeurs"

    sign_page = client.get(sign_url(hand_over))
    assert sign_page.status_code == 200
    assert "data-signature-canvas" in sign_page.text and 'type="file"' in sign_page.text
    assert 'value="Awa Diallo"' in sign_page.text  # the signer's name, prefilled
    assert_strict(sign_page)
    png = signature_png()
    signed = client.post(
        sign_url(hand_over),
        {"method": "drawn", "drawn-signer_name": "Awa Diallo", "drawn-signature": data_url(png)},
    )
    assert signed.status_code == 302 and signed["Location"] == detail_url(hand_over)
    hand_over.refresh_from_db()
    assert hand_over.signature_kind == SignatureKind.DRAWN
    with default_storage.open(hand_over.signature_file, "rb") as handle:
        assert handle.read() == png
    detail = client.get(detail_url(hand_over))
    assert "Signed on screen: Awa Diallo" in detail.text
    assert "Signed receipt (PDF)" in detail.text
    assert_strict(detail)


def test_a_repeated_submission_finds_the_first_hand_over(as_user, coordinator, gifts):
    client = as_user(coordinator)
    form = {"token": "same", "allocations": [gifts[0].pk], "received_by_name": "Awa"}
    first = client.post(reverse("logistics:hand_over_create"), form)
    again = client.post(reverse("logistics:hand_over_create"), form)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert HandOver.objects.count() == 1


def test_a_refusal_is_shown_on_the_form_with_what_was_typed(as_user, coordinator, gifts):
    handovers.hand_over_create(
        actor=coordinator, allocation_ids=[gifts[0].pk], received_by_name="Someone else"
    )
    response = as_user(coordinator).post(
        reverse("logistics:hand_over_create"),
        {
            "token": "t2",
            "allocations": [a.pk for a in gifts],
            "received_by_name": "Awa Diallo",
            "note": "Avec chargeurs",
        },
    )
    assert response.status_code == 409
    assert "Nothing was handed over" in response.text
    assert "no longer reserved" in response.text
    assert 'value="Awa Diallo"' in response.text and "Avec chargeurs" in response.text
    # The device still allocated stays ticked; the one handed over left the list.
    assert f'value="{gifts[1].pk}" id="allocation-{gifts[1].pk}" checked' in response.text
    assert f'value="{gifts[0].pk}"' not in response.text
    assert HandOver.objects.count() == 1


def test_field_mistakes_are_listed_without_a_500(as_user, coordinator, gifts):
    client = as_user(coordinator)
    url = reverse("logistics:hand_over_create")
    for form in (
        {"allocations": [], "received_by_name": "Awa"},
        {"allocations": ["x"], "received_by_name": "Awa"},
        {"allocations": [gifts[0].pk], "received_by_name": ""},
        {"allocations": [gifts[0].pk], "received_by_name": "A\x00"},
        {"allocations": [gifts[0].pk], "received_by_name": "Awa", "due_on": "yesterday"},
        {"allocations": [999999], "received_by_name": "Awa"},
    ):
        response = client.post(url, form)
        assert response.status_code == 400, form
        assert "error-summary" in response.text
    assert HandOver.objects.count() == 0


def test_a_loan_asks_for_its_due_date_with_a_default(
    as_user, coordinator, structure_staff, workshop_org
):
    lent = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=1,
        mode="loan",
    )
    client = as_user(coordinator)
    page = client.get(reverse("logistics:hand_over_create"))
    default = handovers.default_due_on(lent, timezone.localdate())
    assert 'name="due_on"' in page.text
    assert f'value="{default.isoformat()}"' in page.text
    past = client.post(
        reverse("logistics:hand_over_create"),
        {"allocations": [lent[0].pk], "received_by_name": "Awa", "due_on": "2000-01-01"},
    )
    assert past.status_code == 400 and "after today" in past.text


def test_each_role_is_offered_what_it_may_hand_over(
    as_user, coordinator, structure_staff, workshop_staff, workshop_org, structure_org
):
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )
    delivery = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    deliveries.delivery_receive(
        actor=structure_staff, delivery_id=delivery.pk, raw=made[0].device.label_code_id
    )
    url = reverse("logistics:hand_over_create")
    # The workshop holds both; the structure has received one only.
    workshop_page = as_user(workshop_staff).get(url)
    assert all(f'value="{a.pk}"' in workshop_page.text for a in made)
    structure_page = as_user(structure_staff).get(url)
    assert f'value="{made[0].pk}"' in structure_page.text
    assert f'value="{made[1].pk}"' not in structure_page.text
    assert f'value="{structure_staff.username}"' in structure_page.text  # they receive
    # From the delivery's page, its devices come ticked.
    from_delivery = as_user(coordinator).get(url, {"delivery": delivery.pk})
    for allocation in made:
        assert f'id="allocation-{allocation.pk}" checked' in from_delivery.text
    other = as_user(coordinator).get(url, {"structure": 999999, "delivery": "x"})
    assert other.status_code == 200 and "No allocated device waits" in other.text
    response = as_user(structure_staff).post(
        url, {"token": "s", "allocations": [made[0].pk], "received_by_name": "Awa"}
    )
    assert response.status_code == 302
    made[0].refresh_from_db()
    assert made[0].status == AllocationStatus.HANDED_OVER


# The signature --------------------------------------------------------------------------------


def test_a_second_signature_is_refused_with_a_message(as_user, coordinator, hand_over):
    client = as_user(coordinator)
    form = {
        "method": "drawn",
        "drawn-signer_name": "Awa",
        "drawn-signature": data_url(signature_png()),
    }
    client.post(sign_url(hand_over), form)
    again = client.post(sign_url(hand_over), form, follow=True)
    assert again.redirect_chain[-1][0] == detail_url(hand_over)
    assert "is already signed (signed on screen)" in again.text
    paper = {"method": "paper", "paper-signer_name": "Awa"}
    paper["paper-file"] = upload(b"%PDF-1.4 scan")
    third = client.post(sign_url(hand_over), paper, follow=True)
    assert "is already signed" in third.text
    # Opening the pad again leads to the hand-over.
    assert client.get(sign_url(hand_over))["Location"] == detail_url(hand_over)


@pytest.mark.parametrize(
    "signature",
    [
        "",
        "not a data url",
        "data:image/png;base64,@@@",
        "data:image/jpeg;base64,AAAA",
        "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode(),
        "data:image/png;base64," + "A" * 800_000,
    ],
)
def test_a_bad_drawing_is_a_form_error(as_user, coordinator, hand_over, signature):
    response = as_user(coordinator).post(
        sign_url(hand_over),
        {"method": "drawn", "drawn-signer_name": "Awa", "drawn-signature": signature},
    )
    assert response.status_code == 400
    assert "The receipt was not signed" in response.text
    assert 'id="signature-error"' in response.text
    hand_over.refresh_from_db()
    assert not hand_over.is_signed


def test_a_drawing_without_a_name_keeps_the_pad(as_user, coordinator, hand_over):
    response = as_user(coordinator).post(
        sign_url(hand_over),
        {"method": "drawn", "drawn-signer_name": " ", "drawn-signature": data_url(PNG_1PX)},
    )
    assert response.status_code == 400
    assert "data-signature-canvas" in response.text


def test_a_signed_paper_copy_is_accepted_by_its_content(as_user, coordinator, hand_over):
    client = as_user(coordinator)
    fake = client.post(
        sign_url(hand_over),
        {
            "method": "paper",
            "paper-signer_name": "Awa Diallo",
            "paper-file": upload(b"MZ\x90\x00 a program", "setup.pdf"),
        },
    )
    assert fake.status_code == 400 and "Send a PDF, PNG or JPEG file." in fake.text
    missing = client.post(sign_url(hand_over), {"method": "paper", "paper-signer_name": "Awa"})
    assert missing.status_code == 400 and "Choose the scan" in missing.text
    scan = b"%PDF-1.4 the signed receipt"
    done = client.post(
        sign_url(hand_over),
        {"method": "paper", "paper-signer_name": "Awa Diallo", "paper-file": upload(scan)},
    )
    assert done.status_code == 302
    hand_over.refresh_from_db()
    assert hand_over.signature_kind == SignatureKind.PAPER
    assert hand_over.signature_file.endswith(".pdf")


def test_a_paper_copy_over_the_cap_is_refused_before_it_is_read(
    as_user, coordinator, hand_over, monkeypatch
):
    monkeypatch.setattr(handovers, "MAX_PAPER_BYTES", 1024)
    response = as_user(coordinator).post(
        sign_url(hand_over),
        {
            "method": "paper",
            "paper-signer_name": "Awa",
            "paper-file": upload(b"%PDF-1.4 " + b"x" * 4096),
        },
    )
    assert response.status_code == 413
    assert "larger than" in response.text
    hand_over.refresh_from_db()
    assert not hand_over.is_signed


# The receipt PDF ------------------------------------------------------------------------------


def test_the_receipt_pdf_is_the_stored_copy(as_user, coordinator, structure_staff, hand_over):
    url = reverse("logistics:hand_over_receipt_pdf", args=[hand_over.pk])
    for user in (coordinator, structure_staff):
        response = as_user(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
        assert response["Cache-Control"] == "private, no-store"
        with default_storage.open(hand_over.receipt_file, "rb") as handle:
            assert response.content == handle.read()


def test_a_lost_receipt_is_not_drawn_again(as_user, coordinator, hand_over):
    default_storage.delete(hand_over.receipt_file)
    response = as_user(coordinator).get(
        reverse("logistics:hand_over_receipt_pdf", args=[hand_over.pk])
    )
    assert response.status_code == 404
    assert "file is missing" in response.text


def test_a_receipt_never_stored_is_drawn_on_demand(as_user, coordinator, hand_over):
    HandOver.objects.filter(pk=hand_over.pk).update(receipt_file="", receipt_sha256="")
    response = as_user(coordinator).get(
        reverse("logistics:hand_over_receipt_pdf", args=[hand_over.pk])
    )
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


# Public check ---------------------------------------------------------------------------------


def test_a_valid_code_shows_the_receipts_facts_and_no_names(hand_over, structure_org):
    shown = verification_code_display(hand_over.verification_code)
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("logistics:receipt_verify_code", args=[shown])
    )
    assert response.status_code == 200
    for fact in (hand_over.reference, structure_org.name, hand_over.receipt_sha256, shown):
        assert fact in response.text
    assert "<dd>2</dd>" in response.text and "<dd>Gift</dd>" in response.text
    assert "Not signed" in response.text
    for secret in ("Awa", "Diallo", "Médiatrice", "coord", "Dell", "SN0"):
        assert secret not in response.text, secret
    assert_strict(response)


def test_an_unknown_or_mistyped_code_is_not_found(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for code, hint in (
        (verification_code_new(), "typed exactly"),
        ("ABCD-EFGH", "not a valid verification code"),
        ("x" * 500, "not a valid verification code"),
    ):
        response = client.get(reverse("logistics:receipt_verify_code", args=[code]))
        assert response.status_code == 404
        assert "Not found:" in response.text and hint in response.text
        if code.startswith("x"):  # shown back cut to the input's length
            assert 'id="id_code" value="' + "x" * 40 + '"' in response.text
    assert client.get(reverse("logistics:receipt_verify"), {"code": "ABCD"}).status_code == 404


def test_the_form_takes_the_code_as_people_type_it(hand_over):
    typed = verification_code_display(hand_over.verification_code).lower().replace("-", " ")
    response = Client().get(reverse("logistics:receipt_verify"), {"code": typed})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "logistics:receipt_verify_code", args=[hand_over.verification_code]
    )
    assert Client().get(reverse("logistics:receipt_verify")).status_code == 200
