"""What a donation's documents say: the erasure certificate's rows, its verification code, and
the donor's summary with its wording.

Plain dataclasses built with a fixed number of queries, whatever the number of devices; no
write. `pdf` draws them, the web pages show them, `services` issues certificates from them.
"""

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from inventory.codes import ALPHABET, check_symbol
from inventory.impact import Impact, assumptions, factors, impact_of
from inventory.models import (
    Category,
    Device,
    Donation,
    ErasureRecord,
    ErasureResult,
    MediumState,
    Reconditioning,
    StorageMedium,
)
from inventory.states import IN_STOCK, WITH_STRUCTURES, Status

# Erasure certificate: content -----------------------------------------------------------------


@dataclass(frozen=True)
class ErasedRow:
    """One passed erasure or destruction of one medium; raw values, so the hash does not
    depend on the reader's language (the PDF translates them)."""

    device_code: str
    device_make: str
    device_model: str
    device_serial: str
    medium_kind: str
    medium_interface: str
    medium_make: str
    medium_model: str
    medium_serial: str
    capacity_gb: int | None
    level: str
    method: str
    tool: str
    tool_version: str
    verification: str
    verification_percent: int | None
    result: str
    ended_at: datetime
    operator: str
    organisation: str
    report_sha256: str
    medium_id: int


PENDING_NO_MEDIUM = "no_medium"  # no storage medium recorded yet
PENDING_NOT_ERASED = "not_erased"  # a medium without a passed erasure
PENDING_DESTRUCTION = "destruction_required"  # an erasure failed: the medium awaits destruction
PENDING_REMOVED = "removed"  # taken out of the device without a recorded erasure


@dataclass(frozen=True)
class PendingRow:
    """A device that holds data and has a medium with no passed erasure (or none recorded):
    listed so that the certificate claims nothing for it."""

    device_code: str
    device_make: str
    device_model: str
    device_serial: str
    status: str
    reason: str
    media_total: int
    media_pending: int


@dataclass(frozen=True)
class CertificateContent:
    donation_id: int
    reference: str
    donor_name: str
    received_on: date
    erased: tuple[ErasedRow, ...]
    pending: tuple[PendingRow, ...]

    @property
    def media_count(self) -> int:
        return len({row.medium_id for row in self.erased})

    @property
    def devices_erased(self) -> int:
        pending = {row.device_code for row in self.pending}
        return len({row.device_code for row in self.erased} - pending)

    def canonical(self) -> bytes:
        """The rows listed, as canonical JSON: sorted keys, no spaces, UTF-8, UTC times."""

        def plain(row) -> dict:
            data = asdict(row)
            for key, value in data.items():
                if isinstance(value, datetime):
                    data[key] = value.astimezone(UTC).isoformat(timespec="seconds")
            return data

        document = {
            "donation": self.reference,
            "erased": [plain(row) for row in self.erased],
            "pending": [plain(row) for row in self.pending],
        }
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()


def person_name(user) -> str:
    return (user.get_full_name() or user.get_username()).strip()


def certificate_content(donation: Donation) -> CertificateContent:
    """Every medium of the donation's devices that hold data, in four queries."""
    erasures = ErasureRecord.objects.select_related("operator", "organisation").order_by(
        "ended_at", "id"
    )
    devices = (
        Device.objects.filter(donation=donation, category__holds_data=True)
        .prefetch_related(
            Prefetch(
                "media",
                queryset=StorageMedium.objects.order_by("id").prefetch_related(
                    Prefetch("erasures", queryset=erasures)
                ),
            )
        )
        .order_by("label_code_id")
    )
    erased: list[ErasedRow] = []
    pending: list[PendingRow] = []
    for device in devices:
        media = list(device.media.all())
        not_erased: list[str] = []
        for medium in media:
            records = list(medium.erasures.all())
            # Only what succeeded is certified: a passed erasure, or a passed destruction.
            passed = [r for r in records if r.result == ErasureResult.PASSED]
            for record in passed:
                erased.append(
                    ErasedRow(
                        device_code=device.label_code_id,
                        device_make=device.manufacturer,
                        device_model=device.model_name,
                        device_serial=device.serial_number,
                        medium_kind=medium.kind,
                        medium_interface=medium.interface,
                        medium_make=medium.manufacturer,
                        medium_model=medium.model_name,
                        medium_serial=medium.serial_number,
                        capacity_gb=medium.capacity_gb,
                        level=record.level,
                        method=record.method,
                        tool=record.tool,
                        tool_version=record.tool_version,
                        verification=record.verification,
                        verification_percent=record.verification_percent,
                        result=record.result,
                        ended_at=record.ended_at,
                        operator=person_name(record.operator),
                        organisation=record.organisation.name if record.organisation else "",
                        report_sha256=record.report_sha256,
                        medium_id=medium.pk,
                    )
                )
            if passed or (medium.is_new and not records):
                # A factory-new medium held no one's data: nothing to certify, nothing pending.
                continue
            if records:
                not_erased.append(PENDING_DESTRUCTION)
            elif medium.state == MediumState.REMOVED:
                not_erased.append(PENDING_REMOVED)
            else:
                not_erased.append(PENDING_NOT_ERASED)
        if media and not not_erased:
            continue
        reason = PENDING_NO_MEDIUM
        for candidate in (PENDING_DESTRUCTION, PENDING_REMOVED, PENDING_NOT_ERASED):
            if candidate in not_erased:
                reason = candidate
                break
        pending.append(
            PendingRow(
                device_code=device.label_code_id,
                device_make=device.manufacturer,
                device_model=device.model_name,
                device_serial=device.serial_number,
                status=device.status,
                reason=reason,
                media_total=len(media),
                media_pending=len(not_erased),
            )
        )
    return CertificateContent(
        donation_id=donation.pk,
        reference=donation.reference,
        donor_name=donation.donor.name,
        received_on=donation.received_on,
        erased=tuple(erased),
        pending=tuple(pending),
    )


# Erasure certificate: verification code -------------------------------------------------------

# 15 random symbols of the label codes' alphabet (Crockford base 32: 75 bits, far beyond
# guessing) plus one Luhn mod 32 check symbol, so a mistyped code reads "mistyped", not
# "unknown". Grouped by four when shown.
CODE_RANDOM_LENGTH = 15
CODE_LENGTH = CODE_RANDOM_LENGTH + 1
_CODE_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def verification_code_new() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _index in range(CODE_RANDOM_LENGTH))
    return payload + check_symbol(payload)


def verification_code_normalize(raw: str) -> str | None:
    """The canonical code for typed input (case, spaces, dashes, look-alikes), or None when it
    cannot be a code: wrong length, foreign symbol, or a check symbol that does not match."""
    code = "".join(ch for ch in (raw or "").upper() if ch.isalnum()).translate(_CODE_ALIASES)
    if len(code) != CODE_LENGTH or any(ch not in ALPHABET for ch in code):
        return None
    if check_symbol(code[:-1]) != code[-1]:
        return None
    return code


def verification_code_display(code: str) -> str:
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))


# Donor summary --------------------------------------------------------------------------------

RECYCLED = frozenset({Status.RECYCLED, Status.DISMANTLED})


@dataclass(frozen=True)
class CategoryLine:
    code: str
    name: str
    received: int
    reconditioned: int
    distributed: int
    recycled: int


@dataclass(frozen=True)
class TerritoryLine:
    code: str
    name: str
    devices: int


@dataclass(frozen=True)
class DonorSummary:
    """What became of a donation, in counts only. Where devices went is told by territory
    (EPT), never by structure: the donor was promised that, and beneficiaries stay unnamed."""

    reference: str
    donor_name: str
    received_on: date
    received: int
    reconditioned: int
    distributed: int  # given or lent to the network's structures
    in_stock: int  # ready or reserved, waiting for a structure
    in_progress: int  # at intake, on the way to or at a workshop, back from a loan
    recycled: int  # recycled as WEEE or dismantled for parts
    returned_to_donor: int
    lost: int
    categories: tuple[CategoryLine, ...]
    territories: tuple[TerritoryLine, ...]
    # The environmental impact of the donation's devices given or lent at least once, from
    # the ADEME factors (inventory.impact), as in the fund's reports.
    impact: Impact | None = None
    impact_lines: tuple[tuple[str, object], ...] = ()  # (category name, ImpactLine)


# The moves that hand a device to a structure (logistics' hand-over workflow applies them).
HANDED_OVER = ("hand_over_gift", "lend")


def _handed_over_once():
    """A device was given or lent at least once: its history says so."""
    return Exists(
        Device.history.model.objects.filter(
            id=OuterRef("pk"), history_change_reason__in=HANDED_OVER
        )
    )


def _reached_ready():
    """A device was ready at least once: its history or a completed cycle says so."""
    history = Device.history.model.objects.filter(
        id=OuterRef("pk"), history_change_reason="mark_ready"
    )
    cycles = Reconditioning.objects.filter(device=OuterRef("pk"), outcome="mark_ready")
    return Q(Exists(history)) | Q(Exists(cycles))


def donor_summary(donation: Donation) -> DonorSummary:
    """Two aggregate queries, whatever the number of devices."""
    devices = Device.objects.filter(donation=donation)
    english = (get_language() or "fr").startswith("en")
    rows = list(
        devices.values("category_id", "category__name_fr", "category__name_en")
        .annotate(
            received=Count("id"),
            reconditioned=Count("id", filter=_reached_ready()),
            distributed=Count("id", filter=Q(status__in=WITH_STRUCTURES)),
            in_stock=Count("id", filter=Q(status__in=IN_STOCK)),
            recycled=Count("id", filter=Q(status__in=RECYCLED)),
            returned_to_donor=Count("id", filter=Q(status=Status.RETURNED_TO_DONOR)),
            lost=Count("id", filter=Q(status=Status.LOST)),
            handed_over=Count("id", filter=Q(_handed_over_once())),
        )
        .order_by("category__sort_order", "category_id")
    )
    categories = tuple(
        CategoryLine(
            code=row["category_id"],
            name=row["category__name_en" if english else "category__name_fr"],
            received=row["received"],
            reconditioned=row["reconditioned"],
            distributed=row["distributed"],
            recycled=row["recycled"],
        )
        for row in rows
    )
    territory_rows = (
        devices.filter(status__in=WITH_STRUCTURES)
        .values("custodian__commune__territory_id", "custodian__commune__territory__name")
        .annotate(devices=Count("id"))
        .order_by("custodian__commune__territory_id")
    )
    territories = tuple(
        TerritoryLine(
            code=row["custodian__commune__territory_id"] or "",
            name=row["custodian__commune__territory__name"] or _("Territory not recorded"),
            devices=row["devices"],
        )
        for row in territory_rows
    )

    def total(key: str) -> int:
        return sum(row[key] for row in rows)

    received = total("received")
    settled = sum(
        total(key) for key in ("distributed", "in_stock", "recycled", "returned_to_donor", "lost")
    )
    impact = impact_of({row["category_id"]: row["handed_over"] for row in rows})
    names = {line.code: line.name for line in categories}
    return DonorSummary(
        impact=impact,
        impact_lines=tuple(
            (names.get(line.category, line.category), line) for line in impact.lines
        ),
        reference=donation.reference,
        donor_name=donation.donor.name,
        received_on=donation.received_on,
        received=received,
        reconditioned=total("reconditioned"),
        distributed=total("distributed"),
        in_stock=total("in_stock"),
        in_progress=received - settled,
        recycled=total("recycled"),
        returned_to_donor=total("returned_to_donor"),
        lost=total("lost"),
        categories=categories,
        territories=territories,
    )


def outcome_lines(summary: DonorSummary) -> list[tuple[str, int]]:
    """The summary's counts with their wording, shared by the PDF and the web page."""
    return [
        (_("Received"), summary.received),
        (_("Reconditioned (ready for reuse at least once)"), summary.reconditioned),
        (_("Given or lent to structures of the network"), summary.distributed),
        (_("In stock, waiting for a structure"), summary.in_stock),
        (_("Still in progress (intake, workshop)"), summary.in_progress),
        (_("Recycled (WEEE) or dismantled for parts"), summary.recycled),
        (_("Returned to you"), summary.returned_to_donor),
        (_("Lost or stolen"), summary.lost),
    ]


def privacy_note() -> str:
    return _(
        "To protect the people helped, this summary names no structure and no beneficiary: "
        "devices given or lent are counted by the territory (EPT of the Métropole du Grand "
        "Paris) of the structure that received them."
    )


def impact_figures(summary: DonorSummary) -> list[tuple[str, str]]:
    """The impact's totals with their wording (kg, French number format), for the PDF and the
    page; "not estimated" where no device had a published factor."""
    impact = summary.impact
    if impact is None or not impact.lines:
        return []
    labels = {
        "co2e_kg": _("Greenhouse gases avoided (kg CO₂e)"),
        "materials_kg": _("Raw materials avoided (kg)"),
        "ewaste_kg": _("E-waste avoided (kg)"),
    }
    figures = []
    for measure, label in labels.items():
        estimated = any(line.figures.get(measure) is not None for line in impact.lines)
        value = impact.totals.get(measure)
        figures.append(
            (
                label,
                formats.number_format(value, decimal_pos=1, use_l10n=True, force_grouping=True)
                if estimated
                else _("not estimated"),
            )
        )
    figures.append((_("Devices without an estimate"), str(impact.devices_not_estimated)))
    return figures


def impact_note() -> str:
    """Where the impact figures come from, and what they assume."""
    sources = sorted({factor.source for factor in factors().values() if factor.published})
    names = {c.code: c.name for c in Category.objects.filter(code__in=list(assumptions()))}
    published = {t for t, factor in factors().items() if factor.published}
    years = ", ".join(
        _("%(category)s %(years)s years")
        % {"category": names.get(code, code), "years": a.extra_years}
        for code, a in assumptions().items()
        if a.device_type in published
    )
    return _(
        "Impact of the devices given or lent at least once: the avoided impact per year of use "
        "(%(source)s) times the assumed years of extra use (%(years)s). Categories without a "
        "published absolute figure (tablets, desktops, screens…) are not estimated."
    ) % {"source": "; ".join(sources), "years": years}
