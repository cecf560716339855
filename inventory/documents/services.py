"""Issuing erasure certificates, the one write of a donation's documents (a row, a
verification code, the stored PDF), and the documents' files as served.
"""

from datetime import datetime

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from inventory import permissions
from inventory.documents.content import (
    CertificateContent,
    DonorSummary,
    certificate_content,
    verification_code_display,
    verification_code_new,
)
from inventory.documents.pdf import render_certificate, render_summary
from inventory.documents.selectors import (
    TODO_FLAGS,
    certificate_states,
    donations_visible_to,
    todo_flags,
)
from inventory.errors import DomainError
from inventory.models import Donation, ErasureCertificate


def certificate_file_name(certificate: ErasureCertificate) -> str:
    return f"certificates/{certificate.verification_code}.pdf"


def verify_url() -> str:
    return settings.SITE_URL + reverse("inventory:certificate_verify")


def _render(certificate: ErasureCertificate, content: CertificateContent) -> bytes:
    return render_certificate(
        content,
        code=verification_code_display(certificate.verification_code),
        content_sha256=certificate.content_sha256,
        issued_at=certificate.issued_at,
        network_name=settings.NETWORK_NAME,
        verify_url=verify_url(),
    )


def _store(certificate: ErasureCertificate, pdf: bytes) -> None:
    name = certificate_file_name(certificate)
    if default_storage.exists(name):
        # Left by an issue whose transaction rolled back after writing: the code is ours now.
        default_storage.delete(name)
    default_storage.save(name, ContentFile(pdf))


def certificate_issue(*, actor, donation_id: int) -> ErasureCertificate:
    """Issue a certificate of the donation's erasures as they stand now, and store its PDF.

    The PDF is written once, at issue, and served as stored: a certificate says what was true
    when it was issued. Re-issuing makes a new row with a new code (the content may have grown).
    """
    if not permissions.may_issue_certificates(actor):
        raise DomainError(
            "action_forbidden", _("Only the coordination issues erasure certificates."), status=403
        )
    donation = donations_visible_to(actor).filter(pk=donation_id).first()
    if donation is None:
        raise DomainError("not_found", _("No such donation."), status=404)
    content = certificate_content(donation)
    if not content.erased:
        raise DomainError(
            "nothing_to_certify",
            _("No storage medium of this donation has been erased or destroyed yet."),
        )
    digest = content.sha256
    with transaction.atomic():
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    certificate = ErasureCertificate.objects.create(
                        donation=donation,
                        verification_code=verification_code_new(),
                        issued_by=actor,
                        media_count=content.media_count,
                        content_sha256=digest,
                    )
                break
            except IntegrityError:
                continue  # a code drawn twice (1 in 2^75): draw again
        else:
            raise DomainError("code_exhausted", _("Could not draw a free code."), status=500)
        # Inside the transaction: if the file cannot be written, no row claims it exists.
        _store(certificate, _render(certificate, content))
        donation_todo_refresh(donation.pk)
    return certificate


def certificate_pdf(certificate: ErasureCertificate) -> bytes | None:
    """The PDF as issued. If the stored copy is lost, it is drawn again only when the
    donation's records still give the same content (same SHA-256); otherwise None: a new
    drawing would certify something other than what was issued."""
    name = certificate_file_name(certificate)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    content = certificate_content(certificate.donation)
    if content.sha256 != certificate.content_sha256:
        return None
    pdf = _render(certificate, content)
    _store(certificate, pdf)
    return pdf


# Donor summary --------------------------------------------------------------------------------


def summary_pdf(summary: DonorSummary, *, issued_at: datetime) -> bytes:
    return render_summary(summary, issued_at=issued_at, network_name=settings.NETWORK_NAME)


def donation_todo_refresh(donation_id: int | None) -> None:
    """Inside the caller's transaction, after a write that may change what the donation still
    needs (its counts or attestation, a device registered into it, a medium added or erased,
    a certificate issued): whether the coordination's to-do counts it (`todo_open`) and on
    which of its lines (`todo_certificate`, `todo_attestation`, `todo_counts`).

    The donation's row is locked first, so that two writes on one donation (two erasures at
    two benches) recount one after the other, the second seeing the first's rows. Four
    queries over this donation's devices and media, and an update when a flag changes."""
    if donation_id is None:
        return
    rows = Donation.objects.filter(pk=donation_id)
    current = rows.select_for_update().values(*TODO_FLAGS).first()
    if current is None:
        return
    flags = todo_flags(certificate_states(rows)[donation_id])
    if flags != current:
        # Derived flags, outside the donation's history: no history row for them.
        rows.update(**flags)
