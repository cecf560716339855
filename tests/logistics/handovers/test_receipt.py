"""The hand-over receipt (bon de remise): what it says for a gift, a loan, a public body's
devices, and each state of its signature; the PDF drawn from it, read back as text."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import formats, translation
from PIL import Image, ImageDraw

from inventory.codes import group_label_code
from inventory.documents.content import verification_code_display
from inventory.errors import DomainError
from logistics.handovers import services as handovers
from logistics.handovers.conditions import SOLIDARITY_PRICE_CEILINGS, solidarity_ceilings
from logistics.handovers.pdf import render_receipt
from logistics.handovers.receipt import receipt_content, receipt_pdf
from logistics.models import HandOver
from tests.builders import PNG_1PX, allocated, make_organisation
from tests.labels.decoding import page_texts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.SITE_URL = "https://reemploi.example.org"
    settings.NETWORK_NAME = "Réseau inclusion numérique 92"
    with translation.override("en"):
        yield


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(pdf: bytes) -> str:
    return flat(" ".join(page_texts(pdf)))


def signature_png(width: int = 600, height: int = 240) -> bytes:
    """A signature as the pad sends it: dark strokes on white."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.line([(40, 180), (120, 60), (200, 170), (300, 70), (420, 160)], fill="#111", width=6)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def hand_over_of(coordinator, made, **fields) -> HandOver:
    arguments = {"received_by_name": "Awa Diallo", "received_by_role": "Médiatrice"} | fields
    return handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], **arguments
    )


@pytest.fixture
def gifts(coordinator, structure_staff, workshop_org):
    return allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )


@pytest.fixture
def lent(coordinator, structure_staff, workshop_org):
    return allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )


# The prix solidaires: pure data ---------------------------------------------------------------


def test_the_ceilings_are_the_decrees():
    assert SOLIDARITY_PRICE_CEILINGS == {
        "laptop": 180,
        "desktop": 150,
        "all_in_one": 150,
        "tablet": 100,
        "smartphone": 100,
        "screen": 30,
        "printer": 30,
        "mfp": 170,
    }


def test_ceilings_name_each_category_once_and_none_where_the_decree_is_silent():
    codes = ["tablet", "laptop", "tablet", "accessory"]
    assert solidarity_ceilings(codes) == [("tablet", 100), ("laptop", 180), ("accessory", None)]


# Content --------------------------------------------------------------------------------------


def test_a_gift_transfers_ownership_and_asks_for_weee_at_end_of_life(
    coordinator, coordinator_org, gifts, structure_org
):
    hand_over = hand_over_of(coordinator, gifts, note="Avec chargeurs")
    content = receipt_content(hand_over)
    assert content.reference == hand_over.reference
    assert content.verification_code == verification_code_display(hand_over.verification_code)
    assert content.verify_url == (
        "https://reemploi.example.org/receipts/verify/" + content.verification_code + "/"
    )
    assert content.structure_name == structure_org.name
    assert content.structure_identifier == f"SIRET {structure_org.siret}"
    assert structure_org.commune.name in content.structure_address
    assert content.handed_by_organisation == coordinator_org.name
    assert content.handed_by_person == coordinator.username
    assert (content.received_by_name, content.received_by_role) == ("Awa Diallo", "Médiatrice")
    assert [device.label_code for device in content.devices] == [
        group_label_code(a.device.label_code_id) for a in gifts
    ]
    first = content.devices[0]
    assert (first.category, first.make_model, first.grade) == ("Laptop", "Dell Latitude 5490", "B")
    assert first.serial == gifts[0].device.serial_number
    assert (content.gift_count, content.loan_count) == (2, 0)
    assert content.due_on is None and content.loan_conditions == ()
    conditions = " ".join(content.gift_conditions)
    assert "Ownership" in conditions and "WEEE" in conditions
    assert "prix solidaires" not in conditions and content.ceilings == ()
    assert content.note == "Avec chargeurs"
    assert not content.is_signed and content.signature.image is None


def test_the_category_follows_the_active_language(coordinator, gifts):
    hand_over = hand_over_of(coordinator, gifts)
    with translation.override("fr"):
        assert receipt_content(hand_over).devices[0].category == "Ordinateur portable"


def test_a_public_bodys_gift_carries_the_prix_solidaires(coordinator, gifts):
    town = make_organisation(kind="donor", name="Ville d'Antony", is_public_body=True)
    device = gifts[0].device
    device.donor = town
    device.save(update_fields=["donor"])
    hand_over = hand_over_of(coordinator, gifts)
    content = receipt_content(hand_over)
    assert [device.public_donor for device in content.devices] == [True, False]
    assert content.ceilings == (("Laptop", 180),)
    assert "prix solidaires" in " ".join(content.gift_conditions)
    text = pdf_text(render_receipt(hand_over))
    assert "public donor" in text and "180 €" in text and "Highest resale price" in text


def test_a_loan_has_its_due_date_and_return_conditions(coordinator, lent):
    hand_over = hand_over_of(coordinator, lent)
    content = receipt_content(hand_over)
    assert content.loan_reference == hand_over.loan.reference
    assert content.due_on == hand_over.loan.due_on
    assert (content.gift_count, content.loan_count) == (0, 2)
    assert content.gift_conditions == ()
    conditions = " ".join(content.loan_conditions)
    assert formats.date_format(content.due_on, "DATE_FORMAT") in conditions
    assert "accessories" in conditions and "erases" in conditions and "at once" in conditions


def test_the_content_is_read_in_a_few_queries_whatever_the_devices(
    coordinator, structure_staff, workshop_org, django_assert_max_num_queries
):
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=12
    )
    hand_over = HandOver.objects.get(pk=hand_over_of(coordinator, made).pk)
    with django_assert_max_num_queries(6):
        content = receipt_content(hand_over)
    assert len(content.devices) == 12


# Signature states -----------------------------------------------------------------------------


def test_an_unsigned_receipt_says_so_and_leaves_room_to_sign_on_paper(coordinator, gifts):
    hand_over = hand_over_of(coordinator, gifts)
    text = pdf_text(render_receipt(hand_over))
    assert "Not signed." in text
    assert "print it, sign below, and upload the scan" in text
    assert "Name, date and signature" in text


def test_a_drawn_signature_is_embedded_with_the_name_and_time(coordinator, structure_staff, gifts):
    hand_over = hand_over_of(coordinator, gifts)
    png = signature_png()
    handovers.hand_over_sign(
        actor=structure_staff, hand_over_id=hand_over.pk, signer_name="Awa Diallo", image=png
    )
    hand_over = HandOver.objects.get(pk=hand_over.pk)
    content = receipt_content(hand_over)
    assert content.signature.kind == "drawn" and content.signature.image == png
    assert content.signature.sha256 == hashlib.sha256(png).hexdigest()
    pdf = render_receipt(hand_over)
    text = pdf_text(pdf)
    assert "Signed on screen by Awa Diallo on" in text
    assert "Not signed" not in text
    assert b"/Subtype /Image" in pdf


def test_a_signature_image_that_cannot_be_read_is_said_in_words(
    coordinator, structure_staff, gifts
):
    hand_over = hand_over_of(coordinator, gifts)
    # A PNG header over data no decoder reads is refused as a signature…
    with pytest.raises(DomainError) as caught:
        handovers.hand_over_sign(
            actor=structure_staff,
            hand_over_id=hand_over.pk,
            signer_name="Awa Diallo",
            image=PNG_1PX[:33] + b"\x00" * 40,
        )
    assert caught.value.code == "invalid"
    handovers.hand_over_sign(
        actor=structure_staff, hand_over_id=hand_over.pk, signer_name="Awa Diallo", image=PNG_1PX
    )
    # …and a stored image damaged since is said in words: the receipt is still drawn.
    hand_over = HandOver.objects.get(pk=hand_over.pk)
    default_storage.delete(hand_over.signature_file)
    default_storage.save(hand_over.signature_file, ContentFile(PNG_1PX[:40]))
    text = pdf_text(render_receipt(hand_over))
    assert "Signed on screen by Awa Diallo" in text
    assert "could not be drawn" in text


def test_a_paper_copy_is_named_with_its_date_and_fingerprint(coordinator, gifts):
    hand_over = hand_over_of(coordinator, gifts)
    scan = b"%PDF-1.4 a scanned receipt"
    handovers.hand_over_attach_paper(
        actor=coordinator, hand_over_id=hand_over.pk, signer_name="Awa Diallo", content=scan
    )
    hand_over = HandOver.objects.get(pk=hand_over.pk)
    content = receipt_content(hand_over)
    assert content.signature.kind == "paper" and content.signature.image is None
    text = pdf_text(render_receipt(hand_over))
    assert "Signed paper copy uploaded on" in text
    assert hashlib.sha256(scan).hexdigest() in text.replace(" ", "")


# The PDF --------------------------------------------------------------------------------------


def test_the_pdf_tells_who_what_and_how_to_check_it(coordinator, structure_org, gifts, lent):
    hand_over = hand_over_of(coordinator, gifts + lent)
    text = pdf_text(render_receipt(hand_over))
    code = verification_code_display(hand_over.verification_code)
    for fact in (
        "Hand-over receipt",
        "Réseau inclusion numérique 92",
        hand_over.reference,
        structure_org.name,
        f"SIRET {structure_org.siret}",
        "Awa Diallo",
        "Médiatrice",
        "4 devices · 2 given · 2 lent",
        "Conditions of the gift",
        "Conditions of the loan",
        hand_over.loan.reference,
        f"Verification code: {code}",
        "Check this receipt at https://reemploi.example.org/receipts/verify/",
        "Page 1 / 1",
    ):
        assert fact in text, fact
    for allocation in gifts + lent:
        assert group_label_code(allocation.device.label_code_id) in text
        assert allocation.device.serial_number in text


def test_a_long_receipt_repeats_its_header_and_footer_on_every_page(
    coordinator, structure_staff, workshop_org
):
    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=40
    )
    hand_over = hand_over_of(coordinator, made)
    pages = [flat(page) for page in page_texts(render_receipt(hand_over))]
    assert len(pages) >= 2
    code = verification_code_display(hand_over.verification_code)
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} / {len(pages)}" in page
        assert f"Verification code: {code}" in page
        assert "Label code" in page  # the table's header row
    assert f"Hand-over receipt · {hand_over.reference}" in pages[1]


def test_the_receipt_is_stored_as_issued_then_again_once_signed(
    coordinator, structure_staff, gifts
):
    hand_over = hand_over_of(coordinator, gifts)
    issued = hand_over.receipt_file
    assert default_storage.exists(issued) and not issued.endswith("-signed.pdf")
    assert hand_over.receipt_sha256 == hashlib.sha256(receipt_pdf(hand_over)).hexdigest()
    handovers.hand_over_sign(
        actor=structure_staff,
        hand_over_id=hand_over.pk,
        signer_name="Awa Diallo",
        image=signature_png(),
    )
    hand_over = HandOver.objects.get(pk=hand_over.pk)
    assert hand_over.receipt_file.endswith("-signed.pdf")
    assert default_storage.exists(issued)  # the first issue is kept
    assert hand_over.receipt_sha256 == hashlib.sha256(receipt_pdf(hand_over)).hexdigest()


def test_the_stored_receipt_is_in_french_whoever_recorded_it(coordinator, gifts):
    hand_over = hand_over_of(coordinator, gifts)  # recorded in English (autouse override)
    text = pdf_text(receipt_pdf(hand_over))
    assert "Bon de remise" in text and "Ordinateur portable" in text
    assert "Hand-over receipt" not in text


def test_the_receipt_is_drawn_in_the_active_language(coordinator, gifts):
    hand_over = hand_over_of(coordinator, gifts)
    with translation.override("fr"):
        text = pdf_text(render_receipt(hand_over))
    assert "Ordinateur portable" in text
