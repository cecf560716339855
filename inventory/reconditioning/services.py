"""Reconditioning records written at the bench: lock checks, storage media and their erasure,
the functional-test checklist, repairs, grade. The only code that writes them.

Each record belongs to the device's open reconditioning cycle, opened by the first record;
every write locks the device row first, so two benches recording at once are serialised.
"""

import hashlib
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from inventory import permissions
from inventory.documents.services import donation_todo_refresh
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import (
    DESTRUCTION_METHODS,
    Device,
    ErasureLevel,
    ErasureMethod,
    ErasureRecord,
    ErasureResult,
    Grade,
    HiddenAreas,
    LockCheck,
    LockKind,
    LockOutcome,
    MediumInterface,
    MediumKind,
    MediumState,
    Reconditioning,
    Repair,
    StorageMedium,
    TestItem,
    TestOutcome,
    TestResult,
    Verification,
)
from inventory.selectors import devices_visible_to, user_scope
from inventory.services import device_transition
from inventory.states import OrgKind, Status

# Records are written while the device is with the coordinator at intake or at a workshop.
RECORDABLE = frozenset(
    {Status.REGISTERED, Status.RETURNED, Status.AT_WORKSHOP, Status.IN_RECONDITIONING}
)
REPORT_MAX_BYTES = 10 * 1024 * 1024


def erased_by_factory_reset(category) -> bool:
    """Phones and tablets: their erasure is an encrypted factory reset of built-in storage."""
    return category.has_imei or category.code == "tablet"


REPORT_TYPES = {".pdf": b"%PDF", ".xml": b"<"}


def _lock_device(actor, device_id: int) -> Device:
    """The device, row-locked, after checking that this user may record on it now."""
    scope = user_scope(actor)
    # Locking the device row serialises every record of one device (PostgreSQL); on SQLite the
    # IMMEDIATE transaction holds the write lock already. No join: see device_transition.
    device = devices_visible_to(actor).select_for_update().filter(pk=device_id).first()
    if device is None:
        raise DomainError("not_found", _("No such device."), status=404)
    permissions.require(
        permissions.may_record_bench(scope),
        _("Only workshop and coordination staff record reconditioning."),
    )
    if device.status not in RECORDABLE:
        raise DomainError(
            "not_at_bench",
            _("Records are written at intake or at a workshop; this device is: %(status)s.")
            % {"status": Status(device.status).label},
        )
    return device


def _open_cycle(actor, device: Device) -> Reconditioning:
    """The device's open cycle, opened now if needed; a device at a workshop starts its
    reconditioning with its first record (one tap fewer at the bench)."""
    cycle = Reconditioning.objects.filter(device=device, completed_at__isnull=True).first()
    if cycle is None:
        scope = user_scope(actor)
        workshop = scope.organisation if scope.kind == OrgKind.WORKSHOP else None
        if workshop is None and device.custodian.kind == OrgKind.WORKSHOP:
            # The coordination records for a device at a workshop: the cycle is that
            # workshop's (its turnaround and yield in the fund's figures).
            workshop = device.custodian
        # A device at the workshop entered that status when the workshop received it.
        received_at = (
            device.status_changed_at if device.status == Status.AT_WORKSHOP else timezone.now()
        )
        cycle = Reconditioning(device=device, workshop=workshop, received_at=received_at)
        tracked_save(cycle, actor=actor, reason="open")
    elif cycle.workshop_id is None and user_scope(actor).kind == OrgKind.WORKSHOP:
        cycle.workshop = user_scope(actor).organisation
        tracked_save(cycle, actor=actor, reason="workshop")
    if device.status == Status.AT_WORKSHOP:
        device_transition(actor=actor, device_id=device.pk, action="start_reconditioning")
    return cycle


def _organisation(actor):
    return user_scope(actor).organisation


def _choice(value: str, choices, field_name: str, errors: dict) -> str:
    if value not in choices.values:
        errors[field_name] = [_("Choose one of the options.")]
    return value


def lock_checks_record(*, actor, device_id: int, outcomes: dict[str, str], note: str = ""):
    """Record lock checks, one outcome per lock kind; kinds left out are not touched."""
    errors: dict[str, list] = {}
    for kind, outcome in outcomes.items():
        if kind not in LockKind.values:
            errors[kind] = [_("Unknown lock.")]
        elif outcome not in LockOutcome.values:
            errors[kind] = [_("Choose cleared, blocked or not applicable.")]
    if not outcomes:
        errors["__all__"] = [_("Give at least one lock check.")]
    if errors:
        raise invalid(errors)
    now = timezone.now()
    changed = []
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        cycle = _open_cycle(actor, device)
        existing = {check.kind: check for check in cycle.lock_checks.all()}
        for kind, outcome in outcomes.items():
            check = existing.get(kind) or LockCheck(reconditioning=cycle, kind=kind)
            if check.pk and check.outcome == outcome:
                continue  # the same answer again changes nothing and writes no history
            check.outcome = outcome
            check.checked_by = actor
            check.organisation = _organisation(actor)
            check.checked_at = now
            check.note = note.strip()[:300]
            tracked_save(check, actor=actor, reason="lock_check")
            changed.append(check)
    return changed


def medium_add(
    *,
    actor,
    device_id: int,
    kind: str,
    interface: str,
    manufacturer: str = "",
    model_name: str = "",
    serial_number: str = "",
    capacity_gb: int | None = None,
    hidden_areas: str = "",
    is_new: bool = False,
) -> StorageMedium:
    """A medium found in the device, or fitted at the workshop: `is_new` says it is
    factory-new (it held no one's data, so it needs no erasure before ready)."""
    errors: dict[str, list] = {}
    _choice(kind, MediumKind, "kind", errors)
    _choice(interface, MediumInterface, "interface", errors)
    _choice(hidden_areas, HiddenAreas, "hidden_areas", errors)
    if capacity_gb is not None and not 0 < capacity_gb <= 1_000_000:
        errors["capacity_gb"] = [_("Give the capacity in GB, between 1 and 1,000,000.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        _open_cycle(actor, device)
        serial = serial_number.strip().upper()
        if serial and device.media.filter(serial_number=serial).exists():
            raise DomainError(
                "duplicate",
                _("This device already has a medium with this serial number."),
                fields={"serial_number": [_("Already recorded on this device.")]},
            )
        medium = StorageMedium(
            device=device,
            kind=kind,
            interface=interface,
            manufacturer=manufacturer.strip(),
            model_name=model_name.strip(),
            serial_number=serial,
            capacity_gb=capacity_gb,
            hidden_areas=hidden_areas,
            is_new=bool(is_new),
            added_by=actor,
        )
        tracked_save(medium, actor=actor, reason="medium_add")
        donation_todo_refresh(device.donation_id)
    return medium


def _report_check(report) -> tuple[str, str]:
    """The report's kind and SHA-256; a tool report is a PDF or an XML file of sane size."""
    name = (report.name or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    if suffix not in REPORT_TYPES:
        raise invalid({"report": [_("The report must be a PDF or XML file.")]})
    if report.size > REPORT_MAX_BYTES:
        raise invalid({"report": [_("The report is larger than 10 MB.")]})
    digest = hashlib.sha256()
    head = b""
    for chunk in report.chunks():
        if not head:
            head = chunk[:64]
        digest.update(chunk)
    report.seek(0)
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(REPORT_TYPES[suffix]):
        raise invalid({"report": [_("The file's content does not match its type (PDF or XML).")]})
    return suffix, digest.hexdigest()


def _erasure_errors(
    *, level, method, verification, verification_percent, result, started_at, ended_at
) -> dict[str, list]:
    errors: dict[str, list] = {}
    _choice(level, ErasureLevel, "level", errors)
    _choice(method, ErasureMethod, "method", errors)
    _choice(verification, Verification, "verification", errors)
    _choice(result, ErasureResult, "result", errors)
    destructive = method in DESTRUCTION_METHODS
    known = method in ErasureMethod.values and level in ErasureLevel.values
    if known and destructive != (level == ErasureLevel.DESTRUCT):
        errors["method"] = [_("Physical destruction goes with the Destruct level, and only it.")]
    if verification == Verification.SAMPLE and not (
        verification_percent is not None and 0 < verification_percent < 100
    ):
        errors["verification_percent"] = [_("Give the share verified, between 1 and 99 %.")]
    if verification == Verification.NONE and result == ErasureResult.PASSED and not destructive:
        errors["result"] = [
            _("An erasure without verification cannot be recorded as passed: mark it unverifiable.")
        ]
    if started_at is None:
        errors["started_at"] = [_("Give the start time.")]
    if ended_at is None:
        errors["ended_at"] = [_("Give the end time.")]
    if started_at and ended_at:
        if ended_at < started_at:
            errors["ended_at"] = [_("The end comes after the start.")]
        elif ended_at > timezone.now() + timedelta(minutes=5):
            errors["ended_at"] = [_("The end time is in the future.")]
    return errors


def erasure_record(
    *,
    actor,
    medium_id: int,
    level: str,
    method: str,
    verification: str,
    result: str,
    started_at,
    ended_at,
    tool: str = "",
    tool_version: str = "",
    verification_percent: int | None = None,
    report=None,
) -> ErasureRecord:
    """Record one erasure or the destruction of a medium.

    After a failed or unverifiable erasure only a destruction is accepted for that medium in
    this cycle: the data may still be there, and the medium must not be reused.
    """
    if verification == Verification.FULL:
        verification_percent = 100
    elif verification == Verification.NONE:
        verification_percent = None
    errors = _erasure_errors(
        level=level,
        method=method,
        verification=verification,
        verification_percent=verification_percent,
        result=result,
        started_at=started_at,
        ended_at=ended_at,
    )
    if errors:
        raise invalid(errors)
    digest = ""
    if report:
        _suffix, digest = _report_check(report)
    medium = StorageMedium.objects.filter(pk=medium_id).only("device_id").first()
    if medium is None:
        raise DomainError("not_found", _("No such storage medium."), status=404)
    with transaction.atomic():
        device = _lock_device(actor, medium.device_id)
        medium = StorageMedium.objects.get(pk=medium_id)
        cycle = _open_cycle(actor, device)
        if medium.state != MediumState.IN_DEVICE:
            raise DomainError(
                "medium_not_in_device",
                _("This medium was destroyed or removed: it cannot be erased again."),
            )
        failed = medium.erasures.filter(
            reconditioning=cycle, result__in=[ErasureResult.FAILED, ErasureResult.UNVERIFIABLE]
        ).exists()
        if failed and level != ErasureLevel.DESTRUCT:
            raise DomainError(
                "destruction_required",
                _("An erasure of this medium failed or was not verified: it must be destroyed."),
            )
        record = ErasureRecord(
            medium=medium,
            reconditioning=cycle,
            level=level,
            method=method,
            tool=tool.strip(),
            tool_version=tool_version.strip(),
            verification=verification,
            verification_percent=verification_percent,
            result=result,
            started_at=started_at,
            ended_at=ended_at,
            operator=actor,
            organisation=_organisation(actor),
            report_sha256=digest,
        )
        if report:
            # Saved under its hash: the name cannot collide or be guessed from the device.
            record.report.save(f"{digest}{_suffix}", report, save=False)
        tracked_save(record, actor=actor, reason="erasure")
        if level == ErasureLevel.DESTRUCT and result == ErasureResult.PASSED:
            medium.state = MediumState.DESTROYED
            tracked_save(medium, actor=actor, reason="destroyed")
        donation_todo_refresh(device.donation_id)
    return record


def factory_reset_record(
    *, actor, device_id: int, tool: str = "", tool_version: str = "", started_at=None
):
    """A phone's or tablet's erasure in one tap: an encrypted factory reset of its built-in
    storage, verified on the set-up screen. Adds the built-in medium if none is recorded."""
    now = timezone.now()
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        if not erased_by_factory_reset(device.category):
            raise DomainError(
                "factory_reset_not_applicable",
                _(
                    "A factory reset erases phones and tablets; record this device's erasure per "
                    "storage medium."
                ),
                status=400,
            )
        medium = device.media.filter(state=MediumState.IN_DEVICE).first()
        if medium is None:
            medium = medium_add(
                actor=actor,
                device_id=device.pk,
                kind=MediumKind.FLASH,
                interface=MediumInterface.EMBEDDED,
                capacity_gb=device.storage_gb,
            )
        return erasure_record(
            actor=actor,
            medium_id=medium.pk,
            level=ErasureLevel.PURGE,
            method=ErasureMethod.FACTORY_RESET,
            verification=Verification.FULL,
            result=ErasureResult.PASSED,
            started_at=started_at or now,
            ended_at=now,
            tool=tool,
            tool_version=tool_version,
        )


def test_results_record(
    *,
    actor,
    device_id: int,
    outcomes: dict[int | str, str],
    notes: dict[int, str] | None = None,
) -> list[TestResult]:
    """Set checklist results; items left out keep their result. An item is named by its id
    (an int) or by its code in the device's checklist (a str, e.g. "keyboard")."""
    notes = notes or {}
    errors: dict[str, list] = {}
    for item_id, outcome in outcomes.items():
        if outcome not in TestOutcome.values:
            errors[f"item_{item_id}"] = [_("Choose passed, failed or not applicable.")]
    if not outcomes:
        errors["__all__"] = [_("Give at least one test result.")]
    if errors:
        raise invalid(errors)
    now = timezone.now()
    changed = []
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        ids = [key for key in outcomes if isinstance(key, int)]
        codes = [key for key in outcomes if isinstance(key, str)]
        found = list(
            TestItem.objects.filter(category_id=device.category_id).filter(
                Q(pk__in=ids) | Q(code__in=codes)
            )
        )
        by_id = {item.pk: item for item in found}
        by_code = {item.code: item for item in found}
        resolved: dict[int, str] = {}
        unknown_keys, twice = [], []
        for key, outcome in outcomes.items():
            item = by_id.get(key) if isinstance(key, int) else by_code.get(key)
            if item is None:
                unknown_keys.append(key)
            elif item.pk in resolved and resolved[item.pk] != outcome:
                twice.append(key)
            else:
                resolved[item.pk] = outcome
        if unknown_keys or twice:
            problems = {
                f"item_{key}": [_("This test is not on this device's checklist.")]
                for key in unknown_keys
            }
            problems |= {
                f"item_{key}": [_("This test is named twice, by its id and its code.")]
                for key in twice
            }
            raise invalid(problems)
        items = {pk: by_id[pk] for pk in resolved}
        outcomes = resolved
        cycle = _open_cycle(actor, device)
        existing = {result.item_id: result for result in cycle.test_results.all()}
        for item_id, outcome in outcomes.items():
            result = existing.get(item_id) or TestResult(reconditioning=cycle, item=items[item_id])
            note = notes.get(item_id, "").strip()[:300]
            if result.pk and result.outcome == outcome and result.note == note:
                continue
            result.outcome = outcome
            result.note = note
            result.tested_by = actor
            result.organisation = _organisation(actor)
            result.tested_at = now
            tracked_save(result, actor=actor, reason="test")
            changed.append(result)
    return changed


def repair_record(
    *, actor, device_id: int, part: str, cost=None, minutes: int | None = None
) -> Repair:
    errors: dict[str, list] = {}
    part = (part or "").strip()
    if not part:
        errors["part"] = [_("Say which part was replaced or what was done.")]
    if cost not in (None, ""):
        try:
            cost = Decimal(str(cost)).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            errors["cost"] = [_("Give the cost in euros, e.g. 12.50.")]
        else:
            if not Decimal(0) <= cost < Decimal(1_000_000):
                errors["cost"] = [_("Give the cost in euros, e.g. 12.50.")]
    else:
        cost = None
    if minutes is not None and not 0 <= minutes <= 100_000:
        errors["minutes"] = [_("Give the time in minutes.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        cycle = _open_cycle(actor, device)
        repair = Repair(
            reconditioning=cycle,
            part=part[:200],
            cost=cost,
            minutes=minutes,
            performed_by=actor,
            organisation=_organisation(actor),
            performed_at=timezone.now(),
        )
        tracked_save(repair, actor=actor, reason="repair")
    return repair


_UNSET = object()


def assessment_record(
    *,
    actor,
    device_id: int,
    grade=_UNSET,
    battery_health=_UNSET,
    os_installed=_UNSET,
) -> Reconditioning:
    """Grade (cosmetic only), battery health and the operating system installed."""
    errors: dict[str, list] = {}
    if grade is not _UNSET and grade not in ("", *Grade.values):
        errors["grade"] = [_("Choose a grade: A, B, C or D.")]
    if battery_health not in (_UNSET, None) and not 0 <= battery_health <= 100:
        errors["battery_health"] = [_("Battery health is a percentage, 0 to 100.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        device = _lock_device(actor, device_id)
        cycle = _open_cycle(actor, device)
        before = (cycle.grade, cycle.battery_health, cycle.os_installed)
        if grade is not _UNSET:
            cycle.grade = grade
        if battery_health is not _UNSET:
            cycle.battery_health = battery_health
        if os_installed is not _UNSET:
            cycle.os_installed = (os_installed or "").strip()[:120]
        if (cycle.grade, cycle.battery_health, cycle.os_installed) != before:
            tracked_save(cycle, actor=actor, reason="assessment")
    return cycle


def checklist_item_save(
    *,
    actor,
    category_id: str,
    label_fr: str,
    label_en: str,
    sort_order: int | None = None,
    is_active: bool = True,
    item_id: int | None = None,
) -> TestItem:
    """Add or change one line of a category's checklist (coordination only).

    Lines are never deleted: results of past reconditionings point to them; a line no longer
    in use is retired and leaves the checklist of the next reconditionings.
    """
    scope = user_scope(actor)
    permissions.require(
        permissions.may_coordinate(scope), _("Only the coordination edits the checklists.")
    )
    label_fr, label_en = (label_fr or "").strip(), (label_en or "").strip()
    errors: dict[str, list] = {}
    if not label_fr:
        errors["label_fr"] = [_("Give the French label.")]
    if not label_en:
        errors["label_en"] = [_("Give the English label.")]
    if sort_order is not None and not 0 <= sort_order <= 32767:
        errors["sort_order"] = [_("Give an order between 0 and 32767.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        if item_id is None:
            item = TestItem(category_id=category_id)
            base = slugify(label_en)[:34] or "item"
            taken = set(
                TestItem.objects.filter(category_id=category_id).values_list("code", flat=True)
            )
            code, suffix = base, 2
            while code in taken:
                code, suffix = f"{base}-{suffix}", suffix + 1
            item.code = code
            if sort_order is None:
                last = TestItem.objects.filter(category_id=category_id).order_by("-sort_order")
                sort_order = (last.values_list("sort_order", flat=True).first() or 0) + 10
        else:
            item = (
                TestItem.objects.select_for_update()
                .filter(pk=item_id, category_id=category_id)
                .first()
            )
            if item is None:
                raise DomainError("not_found", _("No such checklist line."), status=404)
        before = (item.label_fr, item.label_en, item.sort_order, item.is_active)
        item.label_fr, item.label_en, item.is_active = label_fr[:120], label_en[:120], is_active
        if sort_order is not None:
            item.sort_order = sort_order
        if item.pk is None or before != (
            item.label_fr,
            item.label_en,
            item.sort_order,
            item.is_active,
        ):
            tracked_save(item, actor=actor, reason="checklist")
    return item
