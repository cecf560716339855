"""Web screens of a donation's documents: erasure certificates, the donor summary, and the
public page that checks a certificate's verification code.

Coordinators see every donation; a donor's people see their own (the donor's portal); anyone
else gets the same 404 as for a missing donation.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from inventory import permissions, selectors
from inventory.documents.content import (
    certificate_content,
    donor_summary,
    impact_figures,
    impact_note,
    outcome_lines,
    privacy_note,
    verification_code_display,
    verification_code_normalize,
)
from inventory.documents.selectors import (
    certificate_by_code,
    certificate_states,
    certificates_of,
    donations_visible_to,
)
from inventory.documents.services import (
    certificate_issue,
    certificate_pdf,
    summary_pdf,
)
from inventory.errors import DomainError
from inventory.states import OrgKind


def _donation(request, pk: int):
    return get_object_or_404(donations_visible_to(request.user), pk=pk)


def _pdf(body: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    response = HttpResponse(body, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Donor documents are not for shared caches.
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def donor_donations(request):
    """The donor's portal: their donations, each with its certificates and summary."""
    if selectors.user_scope(request.user).kind != OrgKind.DONOR:
        raise Http404
    visible = donations_visible_to(request.user)
    donations = list(
        visible.annotate(
            device_count=Count("devices", distinct=True),
            certificate_count=Count("certificates", distinct=True),
        )
    )
    # Why each certificate is still pending, read for all the donations at once.
    states = certificate_states(visible)
    for donation in donations:
        donation.certificate_state = states[donation.pk]
    return render(request, "documents/donor_donations.html", {"donations": donations})


@login_required
@require_http_methods(["GET", "POST"])
def donation_certificate(request, pk: int):
    donation = _donation(request, pk)
    may_issue = permissions.may_issue_certificates(request.user)
    status = 200
    if request.method == "POST":
        if not may_issue:
            raise PermissionDenied(_("Only the coordination issues erasure certificates."))
        try:
            certificate = certificate_issue(actor=request.user, donation_id=donation.pk)
        except DomainError as err:
            if err.status == 403:
                raise PermissionDenied(err.message) from err
            messages.error(request, err.message)
            status = err.status
        else:
            return redirect(
                "inventory:donation_certificate_pdf", pk=donation.pk, cert_pk=certificate.pk
            )
    # What a new certificate would say now: only the coordination, who issues, needs it.
    current = certificate_content(donation) if may_issue else None
    return render(
        request,
        "documents/certificate.html",
        {
            "donation": donation,
            "certificates": certificates_of(donation),
            "may_issue": may_issue,
            "current": current,
        },
        status=status,
    )


@login_required
@require_GET
def donation_certificate_pdf(request, pk: int, cert_pk: int):
    donation = _donation(request, pk)
    certificate = get_object_or_404(donation.certificates.select_related("donation"), pk=cert_pk)
    body = certificate_pdf(certificate)
    if body is None:
        return render(
            request,
            "documents/certificate_missing.html",
            {"donation": donation, "certificate": certificate},
            status=410,
        )
    filename = f"erasure-certificate-{donation.reference}-{certificate.verification_code}.pdf"
    return _pdf(body, filename)


@login_required
@require_GET
def donation_summary(request, pk: int):
    donation = _donation(request, pk)
    summary = donor_summary(donation)
    return render(
        request,
        "documents/summary.html",
        {
            "donation": donation,
            "summary": summary,
            "outcomes": outcome_lines(summary),
            "privacy_note": privacy_note(),
            "impact_figures": impact_figures(summary),
            "impact_note": impact_note(),
        },
    )


@login_required
@require_GET
def donation_summary_pdf(request, pk: int):
    donation = _donation(request, pk)
    body = summary_pdf(donor_summary(donation), issued_at=timezone.now())
    return _pdf(body, f"donation-summary-{donation.reference}.pdf")


@require_GET
def certificate_verify(request):
    """Public: the form; a submitted code goes to its own address."""
    raw = request.GET.get("code", "").strip()
    if raw:
        code = verification_code_normalize(raw)
        if code is not None:
            return redirect("inventory:certificate_verify_code", code=code)
        return render(
            request,
            "documents/verify.html",
            {"code": raw[:40], "not_found": True, "malformed": True},
            status=404,
        )
    return render(request, "documents/verify.html", {})


@require_GET
def certificate_verify_code(request, code: str):
    """Public: the facts of a valid certificate, and nothing more (no contact, no device)."""
    certificate = certificate_by_code(code)
    if certificate is None:
        malformed = verification_code_normalize(code) is None
        return render(
            request,
            "documents/verify.html",
            {"code": code[:40], "not_found": True, "malformed": malformed},
            status=404,
        )
    return render(
        request,
        "documents/verify.html",
        {
            "certificate": certificate,
            "code": verification_code_display(certificate.verification_code),
            "reference": certificate.donation.reference,
            "donor_name": certificate.donation.donor.name,
        },
    )
