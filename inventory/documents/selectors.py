"""Reads of a donation's documents: which donations a user may see, and issued certificates
by donation or by verification code."""

from django.db.models import QuerySet

from inventory.documents.content import (
    person_name,
    verification_code_display,
    verification_code_normalize,
)
from inventory.models import Donation, ErasureCertificate
from inventory.selectors import user_scope
from inventory.states import OrgKind


def donations_visible_to(user) -> QuerySet[Donation]:
    """Coordinators: every donation. A donor's people: their own (the donor's portal). A
    workshop: the donations it collected and recorded itself. Everyone else: none, so their
    requests are answered like a missing page."""
    scope = user_scope(user)
    donations = Donation.objects.select_related("donor")
    if scope.sees_all:
        return donations
    if scope.kind == OrgKind.DONOR and scope.organisation is not None:
        return donations.filter(donor=scope.organisation)
    if scope.kind == OrgKind.WORKSHOP and scope.organisation is not None:
        return donations.filter(collected_by=scope.organisation)
    return donations.none()


def certificate_by_code(raw: str) -> ErasureCertificate | None:
    code = verification_code_normalize(raw)
    if code is None:
        return None
    return (
        ErasureCertificate.objects.select_related("donation", "donation__donor")
        .filter(verification_code=code)
        .first()
    )


def certificates_of(donation: Donation) -> list[ErasureCertificate]:
    certificates = list(donation.certificates.select_related("issued_by"))
    for certificate in certificates:
        certificate.code_display = verification_code_display(certificate.verification_code)
        certificate.issuer_name = person_name(certificate.issued_by)
    return certificates
