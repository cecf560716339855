"""Reads of a donation's documents: which donations a user may see, and issued certificates
by donation or by verification code."""

from dataclasses import dataclass

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from inventory.documents.content import (
    person_name,
    verification_code_display,
    verification_code_normalize,
)
from inventory.models import (
    Device,
    Donation,
    ErasureCertificate,
    ErasureRecord,
    ErasureResult,
    StorageMedium,
)
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


# Where each donation's certificate stands --------------------------------------------------


@dataclass(frozen=True)
class CertificateState:
    """Why a donation's erasure certificate is still pending, or that it can be issued.

    Counts match what the certificate itself would say (content.certificate_content): devices
    of a category that holds data, media with a passed erasure or destruction, factory-new
    media left out.
    """

    donation_id: int
    announced: int | None
    counted: int | None
    registered: int
    data_devices: int
    devices_not_erased: int
    media_erased: int
    media_certified: int
    certificates: int
    attestation_complete: bool

    @property
    def registration_incomplete(self) -> int:
        """Devices counted on arrival and not registered yet."""
        return max((self.counted or 0) - self.registered, 0)

    @property
    def counts_differ(self) -> bool:
        """The announced, counted and registered figures do not agree."""
        if self.counted is None:
            return False
        announced_differs = self.announced is not None and self.announced != self.counted
        return announced_differs or self.registered != self.counted

    @property
    def complete(self) -> bool:
        """Everything a full certificate needs: every data-holding device erased, the
        release attested, the registration finished."""
        return (
            self.media_erased > 0
            and not self.devices_not_erased
            and self.attestation_complete
            and not self.registration_incomplete
        )

    @property
    def to_issue(self) -> bool:
        """Complete, and no certificate issued yet lists every medium erased now."""
        return self.complete and self.media_erased > self.media_certified

    @property
    def on_coordination_todo(self) -> bool:
        """Counted by the coordination's to-do (coordination_todo): kept on the donation's
        row as `todo_open` by the services that change it."""
        return self.to_issue or not self.attestation_complete or self.counts_differ

    @property
    def up_to_date(self) -> bool:
        return self.certificates > 0 and self.media_erased <= self.media_certified

    @property
    def status(self) -> str:
        """pending (with reasons), to_issue, up_to_date, or not_needed (no data to erase)."""
        if self.reasons():
            return "pending"
        if not self.data_devices or not self.media_erased:
            return "not_needed"
        return "to_issue" if self.to_issue else "up_to_date"

    def reasons(self) -> list[str]:
        """Why the certificate is still pending, in the donor's words; empty when it is not."""
        if self.registered and not self.data_devices:
            return []
        reasons = []
        if not self.registered:
            reasons.append(_("no device registered yet"))
        elif self.registration_incomplete:
            reasons.append(
                ngettext(
                    "%(count)s device counted on arrival not registered yet",
                    "%(count)s devices counted on arrival not registered yet",
                    self.registration_incomplete,
                )
                % {"count": self.registration_incomplete}
            )
        if self.devices_not_erased:
            reasons.append(
                ngettext(
                    "%(count)s device not erased yet",
                    "%(count)s devices not erased yet",
                    self.devices_not_erased,
                )
                % {"count": self.devices_not_erased}
            )
        if not self.attestation_complete:
            reasons.append(_("release attestation incomplete"))
        return reasons


def certificate_states(donations: QuerySet[Donation]) -> dict[int, CertificateState]:
    """The CertificateState of each donation of `donations`, in four queries whatever their
    number and the number of their devices."""
    ids = donations.values("pk")
    passed = ErasureRecord.objects.filter(medium=OuterRef("pk"), result=ErasureResult.PASSED)
    any_record = ErasureRecord.objects.filter(medium=OuterRef("pk"))
    # A medium the certificate would list as pending: no passed erasure, and not a factory-new
    # medium that nobody had to erase.
    pending_media = (
        StorageMedium.objects.filter(device=OuterRef("pk"))
        .exclude(Exists(passed))
        .exclude(Q(is_new=True) & ~Q(Exists(any_record)))
    )
    holds_data = Q(category__holds_data=True)
    not_erased = holds_data & (
        ~Q(Exists(StorageMedium.objects.filter(device=OuterRef("pk")))) | Q(Exists(pending_media))
    )
    devices = {
        row["donation_id"]: row
        for row in Device.objects.filter(donation_id__in=ids)
        .values("donation_id")
        .annotate(
            registered=Count("id"),
            data_devices=Count("id", filter=holds_data),
            not_erased=Count("id", filter=not_erased),
        )
        .order_by()
    }
    erased = dict(
        StorageMedium.objects.filter(device__donation_id__in=ids, device__category__holds_data=True)
        .filter(Exists(passed))
        .values("device__donation_id")
        .annotate(media=Count("id", distinct=True))
        .order_by()
        .values_list("device__donation_id", "media")
    )
    certified = {
        row["donation_id"]: row
        for row in ErasureCertificate.objects.filter(donation_id__in=ids)
        .values("donation_id")
        .annotate(media=Max("media_count"), count=Count("id"))
        .order_by()
    }
    states = {}
    fields = (
        "pk",
        "expected_count",
        "received_count",
        "released_accounts",
        "released_management",
        "released_firmware",
        "attested_by",
        "attested_on",
    )
    for donation in donations.select_related(None).order_by().only(*fields):
        row = devices.get(donation.pk, {})
        issued = certified.get(donation.pk, {})
        states[donation.pk] = CertificateState(
            donation_id=donation.pk,
            announced=donation.expected_count,
            counted=donation.received_count,
            registered=row.get("registered", 0),
            data_devices=row.get("data_devices", 0),
            devices_not_erased=row.get("not_erased", 0),
            media_erased=erased.get(donation.pk, 0),
            media_certified=issued.get("media") or 0,
            certificates=issued.get("count", 0),
            attestation_complete=donation.attestation_complete,
        )
    return states


# The to-do's flags on each donation's row, kept by documents.services.donation_todo_refresh.
TODO_FLAGS = ("todo_open", "todo_certificate", "todo_attestation", "todo_counts")


def todo_flags(state: CertificateState) -> dict[str, bool]:
    """The to-do's flags of a donation in this state: open, and on which lines."""
    return {
        "todo_open": state.on_coordination_todo,
        "todo_certificate": state.to_issue,
        "todo_attestation": not state.attestation_complete,
        "todo_counts": state.counts_differ,
    }


# The donation lists the coordination's home links to (?todo=<key>): the flag each one reads.
TODO_LINES = {
    "certificate": "todo_certificate",
    "attestation": "todo_attestation",
    "counts": "todo_counts",
}


@dataclass(frozen=True)
class CoordinationTodo:
    """What waits for the coordination among its donations (the home's to-do)."""

    certificates_to_issue: int
    first_to_issue: list[Donation]
    attestations_incomplete: int
    counts_differ: int


def coordination_todo(listed: int) -> CoordinationTodo:
    """Two queries whatever the number of donations and devices: each line's count over the
    open donations' own rows (`todo_open`, a partial index; the flags say which lines count
    each one, as documents.services.donation_todo_refresh keeps them), and the first `listed`
    donations whose certificate can be issued, oldest first (a partial index in that order)."""
    counts = Donation.objects.filter(todo_open=True).aggregate(
        **{line: Count("pk", filter=Q(**{flag: True})) for line, flag in TODO_LINES.items()}
    )
    first = list(
        Donation.objects.filter(todo_certificate=True)
        .select_related("donor")
        .order_by("received_on", "id")[:listed]
    )
    return CoordinationTodo(
        certificates_to_issue=counts["certificate"],
        first_to_issue=first,
        attestations_incomplete=counts["attestation"],
        counts_differ=counts["counts"],
    )
