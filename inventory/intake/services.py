"""Intake: donors, their donations, and the devices a donation brings, one by one or by file.

Writes only, each in one transaction with history rows that name the acting user. A
spreadsheet import is all or nothing: any row wrong and nothing is written; the same file twice
is refused by the unique digest in the database, not by a check that could race.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from inventory import identity, permissions
from inventory.codes import generate_label_code
from inventory.counts import device_counts_add
from inventory.documents.services import donation_todo_refresh
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.intake import spreadsheets as imports
from inventory.intake.selectors import DONATION_FIELDS, category_refs, donation_version
from inventory.models import Device, DeviceImport, Donation, LabelCode, Organisation
from inventory.selectors import user_scope
from inventory.services import device_register, organisation_save
from inventory.states import OrgKind, Status

# IN lists stay well under SQLite's and PostgreSQL's bound-parameter limits.
CHUNK = 500
LABEL_CODE_ATTEMPTS = 5

MAX_COUNT = 100_000


def import_max_bytes() -> int:
    return getattr(settings, "REEMPLOI_IMPORT_MAX_BYTES", imports.DEFAULT_MAX_BYTES)


def import_max_rows() -> int:
    return getattr(settings, "REEMPLOI_IMPORT_MAX_ROWS", imports.DEFAULT_MAX_ROWS)


def _validation_to_domain(exc: ValidationError) -> DomainError:
    if hasattr(exc, "error_dict"):
        return invalid({name: list(messages) for name, messages in exc.message_dict.items()})
    return invalid({"__all__": list(exc.messages)})


# Donors


def donor_create(
    *,
    actor,
    name: str,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    address: str = "",
    is_public_body: bool = False,
) -> Organisation:
    """A donor with the little the network needs to reach it; names are unique, any case. A
    public body's gifts carry the "prix solidaires" ceilings onto the hand-over receipts."""
    permissions.require(
        permissions.may_record_donations(user_scope(actor)),
        _("Only the coordination and the workshops record donors."),
    )
    name = " ".join((name or "").split())
    if not name:
        raise invalid({"name": [_("Give the donor's name.")]})
    donor = Organisation(
        name=name,
        kind=OrgKind.DONOR,
        contact_name=contact_name.strip(),
        contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
        address=address.strip(),
        is_public_body=bool(is_public_body),
    )
    try:
        with transaction.atomic():
            if Organisation.objects.filter(kind=OrgKind.DONOR, name__iexact=name).exists():
                raise invalid({"name": [_("A donor with this name already exists.")]})
            organisation_save(actor=actor, organisation=donor)
    except ValidationError as exc:
        raise _validation_to_domain(exc) from exc
    except IntegrityError as exc:
        # The same name saved by someone else in between: the unique constraint decided.
        raise invalid({"name": [_("A donor with this name already exists.")]}) from exc
    return donor


# Donations


def _donation_check(donation: Donation) -> None:
    errors: dict[str, list] = {}
    donor = donation.donor if donation.donor_id else None
    if donor is None:
        errors["donor"] = [_("Choose the donor.")]
    elif donor.kind != OrgKind.DONOR or not donor.is_active:
        errors["donor"] = [_("The donor must be an active organisation of kind donor.")]
    if donation.received_on is None:
        errors["received_on"] = [_("Give the date of the donation.")]
    for name in ("expected_count", "received_count"):
        value = getattr(donation, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            errors[name] = [_("Between 0 and %(max)s.") % {"max": f"{MAX_COUNT:,}"}]
    if donation.attested_on and not donation.attested_by:
        errors["attested_by"] = [_("Give the name of who signed the attestation.")]
    if donation.attested_by and not donation.attested_on:
        errors["attested_on"] = [_("Give the date of the attestation.")]
    if donation.attested_on and donation.attested_on > timezone.localdate():
        errors["attested_on"] = [_("The attestation cannot be dated in the future.")]
    if errors:
        raise invalid(errors)
    try:
        donation.full_clean(exclude=["donor", "created_by"])
    except ValidationError as exc:
        raise _validation_to_domain(exc) from exc


def _require_own(scope, donation: Donation | None) -> Donation:
    """A workshop writes only into the donations it collected: any other one is answered like
    a missing donation, as on the screens."""
    if donation is None or (
        not scope.sees_all
        and (scope.organisation is None or donation.collected_by_id != scope.organisation.pk)
    ):
        raise DomainError("not_found", _("No such donation."), status=404)
    return donation


def _donation_assign(donation: Donation, values: dict) -> None:
    unknown = set(values) - set(DONATION_FIELDS)
    if unknown:
        raise TypeError(f"unknown donation fields: {sorted(unknown)}")
    for name, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(donation, name, value)


def donation_create(*, actor, donor: Organisation, received_on: date, **details) -> Donation:
    """Record a donation; `details` are the other fields of DONATION_FIELDS. A workshop that
    collected the devices itself records it as its own (`collected_by`)."""
    scope = user_scope(actor)
    permissions.require(
        permissions.may_record_donations(scope),
        _("Only the coordination and the workshops record donations."),
    )
    donation = Donation(created_by=actor)
    if scope.kind == OrgKind.WORKSHOP:
        donation.collected_by = scope.organisation
    _donation_assign(donation, {"donor": donor, "received_on": received_on, **details})
    _donation_check(donation)
    with transaction.atomic():
        tracked_save(donation, actor=actor, reason="create")
        donation_todo_refresh(donation.pk)
    return donation


def donation_update(*, actor, donation_id: int, version: str | None = None, **changes) -> Donation:
    """Change a donation's fields; with `version`, refused if someone saved in between."""
    scope = user_scope(actor)
    permissions.require(
        permissions.may_record_donations(scope),
        _("Only the coordination and the workshops change donations."),
    )
    with transaction.atomic():
        # Locked: two coordinators saving the same donation are serialised, and the version
        # compared below is the one the second of them actually overwrites.
        # No join: FOR UPDATE would lock the donor's row as well.
        donation = _require_own(
            scope, Donation.objects.select_for_update().filter(pk=donation_id).first()
        )
        if version is not None and version != donation_version(donation):
            raise DomainError(
                "stale",
                _("Someone else changed this donation in the meantime: read it again."),
                status=412,
            )
        before = donation_version(donation)
        _donation_assign(donation, changes)
        _donation_check(donation)
        if donation_version(donation) != before:
            tracked_save(donation, actor=actor, reason="update")
            donation_todo_refresh(donation.pk)
    return donation


def donation_device_register(*, actor, donation: Donation, **device_fields) -> Device:
    """One device into a donation: device_register with the donation's donor, one transaction."""
    scope = user_scope(actor)
    permissions.require(
        permissions.may_record_donations(scope),
        _("Only the coordination and the workshops register a donation's devices."),
    )
    _require_own(scope, donation)
    device_fields.pop("donor", None)
    return device_register(actor=actor, donation=donation, **device_fields)


# Spreadsheet imports


@dataclass
class ImportResult:
    donation: Donation
    file_name: str
    sha256: str
    file_format: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows: list[imports.ParsedRow] = field(default_factory=list)
    errors: list[imports.RowError] = field(default_factory=list)
    dry_run: bool = True
    record: DeviceImport | None = None
    devices: list[Device] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def preview(self) -> list[imports.ParsedRow]:
        return self.rows[: imports.PREVIEW_ROWS]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def imported(self) -> bool:
        return self.record is not None


def database_duplicates(
    rows: list[imports.ParsedRow], column_of: dict[str, str]
) -> list[imports.RowError]:
    """Rows naming a device already registered: a few IN queries, never one per row."""
    holders = identity.registered_holders(
        serials=[
            identity.serial_key(str(row["manufacturer"]), row["serial_number"]) for row in rows
        ],
        imeis=[row[name] for row in rows for name in identity.IMEI_FIELDS],
    )
    return [
        imports.RowError(row.row, column_of.get(problem.field, ""), problem.code, problem.message)
        for row in rows
        for problem in identity.duplicate_problems(row, holders, name_holder=True)
    ]


def _already_imported(sha256: str) -> DomainError | None:
    earlier = DeviceImport.objects.select_related("donation").filter(sha256=sha256).first()
    if earlier is None:
        return None
    return DomainError(
        "already_imported",
        _("This file was already imported on %(date)s into donation %(donation)s.")
        % {
            "date": date_format(timezone.localdate(earlier.imported_at), "SHORT_DATE_FORMAT"),
            "donation": earlier.donation.reference,
        },
        status=409,
        donation=earlier.donation,
    )


def _label_codes_issue(*, actor, count: int) -> list[str]:
    """`count` fresh codes in one insert; a collision (1 in 2^40 per pair) draws them again."""
    for _attempt in range(LABEL_CODE_ATTEMPTS):
        codes: set[str] = set()
        while len(codes) < count:
            codes.add(generate_label_code())
        try:
            with transaction.atomic():
                LabelCode.objects.bulk_create(
                    [LabelCode(code=code, issued_by=actor) for code in codes], batch_size=CHUNK
                )
        except IntegrityError:
            continue
        return sorted(codes)
    raise DomainError("label_code_exhausted", _("Could not draw free label codes."), status=500)


def _import_custodian(scope) -> Organisation:
    if scope.organisation is not None:
        return scope.organisation
    # An administrator without an organisation imports on behalf of the coordination.
    custodian = (
        Organisation.objects.filter(kind=OrgKind.COORDINATOR, is_active=True).order_by("pk").first()
    )
    if custodian is None:
        raise DomainError(
            "no_custodian",
            _("No active coordination organisation to hold the imported devices."),
            status=400,
        )
    return custodian


def devices_import(
    *, actor, donation: Donation, file_name: str, content: bytes, dry_run: bool = False
) -> ImportResult:
    """Check a donor's spreadsheet and, unless `dry_run`, register every row of it.

    A dry run returns the result with its errors. A real run with any error raises
    DomainError "import_invalid" (params: errors, result) and writes nothing. Refused either
    way: "file_too_large" (before any parsing), "already_imported" (the same bytes went into
    a donation before), "duplicate" (another import or registration took a device first), and
    a file that cannot be read as a whole, with the parser's code ("unreadable", "encrypted",
    "too_much_data", "suspicious_archive", "too_many_rows", "mixed_encoding", ...; params:
    errors, result).
    """
    scope = user_scope(actor)
    permissions.require(
        permissions.may_record_donations(scope),
        _("Only the coordination and the workshops import spreadsheets."),
    )
    _require_own(scope, donation)
    max_bytes = import_max_bytes()
    if len(content) > max_bytes:
        raise DomainError(
            "file_too_large",
            _("The file is larger than %(size)s MB: split it into several files.")
            % {"size": f"{max_bytes / 1024 / 1024:g}"},
            status=413,
        )
    file_name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "import"
    sha256 = hashlib.sha256(content).hexdigest()
    earlier = _already_imported(sha256)
    if earlier is not None:
        raise earlier

    parsed = imports.parse_spreadsheet(
        content,
        file_name=file_name,
        categories=category_refs(),
        max_rows=import_max_rows(),
    )
    result = ImportResult(
        donation=donation,
        file_name=file_name,
        sha256=sha256,
        file_format=parsed.file_format,
        columns=parsed.columns,
        ignored_columns=parsed.ignored,
        rows=parsed.rows,
        errors=list(parsed.errors),
        dry_run=dry_run,
    )
    if parsed.refusal is not None:
        # A file that cannot be read (to its end) has no preview worth showing: refused with
        # the reason's own code, preview or not.
        raise DomainError(
            parsed.refusal.code,
            parsed.refusal.reason,
            status=400,
            errors=result.errors,
            result=result,
        )
    if not result.errors:
        result.errors = database_duplicates(parsed.rows, parsed.column_of)
    if dry_run:
        return result
    if result.errors:
        raise DomainError(
            "import_invalid",
            _("The file has errors: nothing was imported. Correct them and import it again."),
            status=400,
            errors=result.errors,
            result=result,
        )
    custodian = _import_custodian(scope)
    try:
        with transaction.atomic():
            # The import's record first: a concurrent import of the same bytes stops on its
            # unique digest here, before either has written a device.
            result.record = DeviceImport.objects.create(
                donation=donation,
                file_name=file_name,
                sha256=sha256,
                row_count=len(parsed.rows),
                imported_by=actor,
            )
            # Checked again inside the transaction: on SQLite it holds the write lock, so
            # this sees every import committed before it; on PostgreSQL the unique
            # constraints settle what still races past it.
            conflicts = database_duplicates(parsed.rows, parsed.column_of)
            if conflicts:
                result.errors = conflicts
                raise _import_conflict(result)
            codes = _label_codes_issue(actor=actor, count=len(parsed.rows))
            devices = [
                Device(
                    label_code_id=code,
                    category_id=row["category"],
                    manufacturer=row["manufacturer"],
                    model_name=row["model_name"],
                    serial_number=row["serial_number"],
                    imei1=row["imei1"],
                    imei2=row["imei2"],
                    asset_tag=row["asset_tag"],
                    cpu=row["cpu"],
                    ram_gb=row["ram_gb"],
                    storage_gb=row["storage_gb"],
                    storage_type=row["storage_type"],
                    screen_inches=row["screen_inches"],
                    operating_system=row["operating_system"],
                    notes=row["notes"],
                    donor_id=donation.donor_id,
                    donation=donation,
                    custodian=custodian,
                    status=Status.REGISTERED,
                )
                for code, row in zip(codes, parsed.rows, strict=True)
            ]
            result.devices = bulk_create_with_history(
                devices,
                Device,
                batch_size=CHUNK,
                default_user=actor,
                default_change_reason="import",
            )
            # Issue 10: the home pages' counters, in this transaction (inventory.counts).
            device_counts_add((custodian.pk, Status.REGISTERED) for _device in devices)
            donation_todo_refresh(donation.pk)
    except IntegrityError as exc:
        result.record = None
        earlier = _already_imported(sha256)
        if earlier is not None:
            raise earlier from exc
        message = _("Another registration of one of these devices was saved first.")
        result.errors = [imports.RowError(None, "", "registered_meanwhile", message)]
        raise _import_conflict(result) from exc
    except DomainError:
        result.record = None
        raise
    return result


def _import_conflict(result: ImportResult) -> DomainError:
    return DomainError(
        "duplicate",
        _("Some devices of this file were registered in the meantime: nothing was imported."),
        status=409,
        errors=result.errors,
        result=result,
    )
