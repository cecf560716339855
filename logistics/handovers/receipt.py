"""The hand-over receipt (bon de remise): its content, its PDF, and the stored copy kept as
evidence with the media files (issued at the hand-over, issued again once signed)."""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from logistics.models import HandOver


def receipt_file_name(hand_over: HandOver) -> str:
    suffix = "-signed" if hand_over.is_signed else ""
    return f"receipts/{hand_over.verification_code}{suffix}.pdf"


def receipt_pdf_render(hand_over: HandOver) -> bytes:
    from logistics.handovers.pdf import render_receipt

    return render_receipt(hand_over)


def receipt_store(hand_over: HandOver) -> None:
    """Inside the caller's transaction: draw the receipt as the hand-over stands and store it;
    if the file cannot be written, the transaction fails and no row claims it exists."""
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
