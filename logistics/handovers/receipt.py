"""The hand-over receipt (bon de remise): its content, its PDF, and the stored copy kept as
evidence with the media files (issued at the hand-over, issued again once signed).

`receipt_content` gathers what the receipt says, in the active language, as plain dataclasses:
the PDF (`pdf.render_receipt`) draws them and the tests read them without parsing a PDF.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from inventory.codes import group_label_code
from inventory.documents.content import person_name, verification_code_display
from logistics.handovers.conditions import solidarity_ceilings
from logistics.models import HandOver, HandOverItem, Loan, Mode, SignatureKind


@dataclass(frozen=True)
class ReceiptDevice:
    """One row of the receipt, from the item's snapshot (the device as it was handed over)."""

    label_code: str  # grouped for reading aloud: ABC-DEF-GHJ
    category_code: str
    category: str  # in the active language
    manufacturer: str
    model: str
    serial: str
    grade: str
    mode: str
    public_donor: bool

    @property
    def make_model(self) -> str:
        return " ".join(part for part in (self.manufacturer, self.model) if part)


@dataclass(frozen=True)
class ReceiptSignature:
    kind: str  # a SignatureKind value, "" when not signed
    signer_name: str
    signed_at: datetime | None
    sha256: str
    # The drawn signature's PNG as stored; None for a paper copy, or when the file is lost.
    image: bytes | None


@dataclass(frozen=True)
class ReceiptContent:
    reference: str
    verification_code: str  # as printed: four groups of four
    verify_url: str  # the public check of this receipt's code
    verify_form_url: str  # the public check's form, where the code is typed
    network_name: str
    handed_at: datetime
    structure_name: str
    structure_identifier: str  # "SIRET …" or "RNA …", or ""
    structure_address: str
    handed_by_organisation: str
    handed_by_person: str
    received_by_name: str
    received_by_role: str
    devices: tuple[ReceiptDevice, ...]
    loan_reference: str
    due_on: date | None
    # Categories of the devices a public body gave, with their "prix solidaires" ceiling.
    ceilings: tuple[tuple[str, int | None], ...]
    gift_conditions: tuple[str, ...]
    loan_conditions: tuple[str, ...]
    note: str
    signature: ReceiptSignature

    @property
    def gift_count(self) -> int:
        return sum(1 for device in self.devices if device.mode == Mode.GIFT)

    @property
    def loan_count(self) -> int:
        return sum(1 for device in self.devices if device.mode == Mode.LOAN)

    @property
    def is_signed(self) -> bool:
        return bool(self.signature.kind)


def _category(snapshot: dict) -> str:
    english = (get_language() or settings.LANGUAGE_CODE).startswith("en")
    name = snapshot.get("category_en" if english else "category_fr") or ""
    return name or snapshot.get("category", "")


def receipt_device(item: HandOverItem) -> ReceiptDevice:
    snapshot = item.snapshot or {}
    return ReceiptDevice(
        label_code=group_label_code(snapshot.get("label_code") or ""),
        category_code=snapshot.get("category") or "",
        category=_category(snapshot),
        manufacturer=snapshot.get("manufacturer") or "",
        model=snapshot.get("model") or "",
        serial=snapshot.get("serial") or "",
        grade=snapshot.get("grade") or "",
        mode=item.mode,
        public_donor=bool(snapshot.get("public_donor")),
    )


def _identifier(structure) -> str:
    if structure.siret:
        return _("SIRET %(number)s") % {"number": structure.siret}
    if structure.rna:
        return _("RNA %(number)s") % {"number": structure.rna}
    return ""


def _address(structure) -> str:
    commune = structure.commune
    place = f"{commune.postal_code} {commune.name}" if commune is not None else ""
    if place and place.casefold() in structure.address.casefold():
        place = ""  # the address already ends with its postcode and town
    return ", ".join(part for part in (structure.address, place) if part)


def _gift_conditions(devices: tuple[ReceiptDevice, ...]) -> tuple[str, ...]:
    if not any(device.mode == Mode.GIFT for device in devices):
        return ()
    conditions = [
        _(
            "Ownership of the devices given is transferred to the structure, which uses them "
            "for the people it helps."
        )
    ]
    if any(device.mode == Mode.GIFT and device.public_donor for device in devices):
        conditions.append(
            _(
                "The devices marked “public donor” were given by a public body (loi 3DS): they "
                "may be resold only to people in precarity or to associations helping them, and "
                "never above the “prix solidaires” set by the décret of 7 November 2022 (prices "
                "including VAT, listed below)."
            )
        )
    conditions.append(
        _(
            "At the end of their life, the devices are returned to the network, which has them "
            "recycled as WEEE through an eco-organisation: they are never thrown away."
        )
    )
    return tuple(conditions)


def _loan_conditions(devices: tuple[ReceiptDevice, ...], due_on: date | None) -> tuple[str, ...]:
    if not any(device.mode == Mode.LOAN for device in devices):
        return ()
    due = formats.date_format(due_on, "DATE_FORMAT") if due_on else "—"
    return (
        _(
            "The devices lent remain the network's property. Return every device lent, with its "
            "accessories, by %(date)s, to the coordination or to a partner workshop."
        )
        % {"date": due},
        _("Report a loss, a theft or a breakage to the coordination at once."),
        _(
            "On their return, the workshop erases the users' data from the devices before they "
            "are lent again."
        ),
        _("The coordination may extend the loan before its due date."),
    )


def _signature(hand_over: HandOver) -> ReceiptSignature:
    image = None
    if hand_over.signature_kind == SignatureKind.DRAWN and hand_over.signature_file:
        try:
            with default_storage.open(hand_over.signature_file, "rb") as handle:
                image = handle.read()
        except OSError:
            image = None  # the receipt then says the signature was drawn, without the image
    return ReceiptSignature(
        kind=hand_over.signature_kind,
        signer_name=hand_over.signer_name,
        signed_at=hand_over.signed_at,
        sha256=hand_over.signature_sha256,
        image=image,
    )


def verify_form_url() -> str:
    return settings.SITE_URL + reverse("logistics:receipt_verify")


def verify_url(hand_over: HandOver) -> str:
    code = verification_code_display(hand_over.verification_code)
    return settings.SITE_URL + reverse("logistics:receipt_verify_code", args=[code])


def receipt_content(hand_over: HandOver) -> ReceiptContent:
    """What the receipt says, in the active language: three or four queries whatever the number
    of devices (the items, the loan, the people and organisations if not already read)."""
    items = HandOverItem.objects.filter(hand_over=hand_over).order_by("id")
    devices = tuple(receipt_device(item) for item in items)
    loan = Loan.objects.filter(hand_over=hand_over).first()
    due_on = loan.due_on if loan is not None else None
    structure = hand_over.structure
    public_gifts = [d for d in devices if d.mode == Mode.GIFT and d.public_donor]
    names = {d.category_code: d.category for d in public_gifts}
    ceilings = tuple(
        (names[code], euros)
        for code, euros in solidarity_ceilings(d.category_code for d in public_gifts)
    )
    return ReceiptContent(
        reference=hand_over.reference,
        verification_code=verification_code_display(hand_over.verification_code),
        verify_url=verify_url(hand_over),
        verify_form_url=verify_form_url(),
        network_name=settings.NETWORK_NAME,
        handed_at=hand_over.handed_at,
        structure_name=structure.name,
        structure_identifier=_identifier(structure),
        structure_address=_address(structure),
        handed_by_organisation=(
            hand_over.handed_by_organisation.name if hand_over.handed_by_organisation else ""
        ),
        handed_by_person=person_name(hand_over.handed_by),
        received_by_name=hand_over.received_by_name,
        received_by_role=hand_over.received_by_role,
        devices=devices,
        loan_reference=loan.reference if loan is not None else "",
        due_on=due_on,
        ceilings=ceilings,
        gift_conditions=_gift_conditions(devices),
        loan_conditions=_loan_conditions(devices, due_on),
        note=hand_over.note,
        signature=_signature(hand_over),
    )


# The stored receipt -----------------------------------------------------------------------------


def receipt_file_name(hand_over: HandOver) -> str:
    suffix = "-signed" if hand_over.is_signed else ""
    return f"receipts/{hand_over.verification_code}{suffix}.pdf"


def receipt_pdf_render(hand_over: HandOver) -> bytes:
    from logistics.handovers.pdf import render_receipt

    return render_receipt(hand_over)


def receipt_store(hand_over: HandOver) -> None:
    """Inside the caller's transaction: draw the receipt as the hand-over stands and store it;
    if the file cannot be written, the transaction fails and no row claims it exists. The
    stored evidence is in the site's language (French), whoever recorded it."""
    with translation.override(settings.LANGUAGE_CODE):
        pdf = receipt_pdf_render(hand_over)
    name = receipt_file_name(hand_over)
    if default_storage.exists(name):
        default_storage.delete(name)  # left by a write whose transaction rolled back
    hand_over.receipt_file = default_storage.save(name, ContentFile(pdf))
    hand_over.receipt_sha256 = hashlib.sha256(pdf).hexdigest()
    # Pointers to the stored evidence, derived from the row's own history: no history row.
    HandOver.objects.filter(pk=hand_over.pk).update(
        receipt_file=hand_over.receipt_file, receipt_sha256=hand_over.receipt_sha256
    )


def receipt_pdf(hand_over: HandOver) -> bytes | None:
    """The receipt as last stored (None if the file is lost; it is then drawn again only by a
    new signature: a fresh drawing would not be the evidence that was issued)."""
    if hand_over.receipt_file and default_storage.exists(hand_over.receipt_file):
        with default_storage.open(hand_over.receipt_file, "rb") as handle:
            return handle.read()
    return None
