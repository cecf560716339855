"""Funding programmes: the coordination records them; an allocation is attributed to one when
it is approved, after its eligibility is checked (logistics.allocations.services calls
`programme_check` inside the approval's transaction, with the rows locked)."""

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Organisation, Territory
from inventory.models.organisations import StructureType
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.models import Allocation, AllocationStatus, FundingProgramme, Public, Purpose

NAME_MAX = 200
MAX_TARGET_DEVICES = 10_000_000
MAX_BUDGET = Decimal("9999999999.99")
FIELDS = (
    "funder",
    "name",
    "starts_on",
    "ends_on",
    "target_devices",
    "target_budget",
    "territories",
    "structure_types",
    "publics",
    "purposes",
    "is_active",
)


def _stale() -> DomainError:
    return DomainError(
        "stale",
        _("This programme was changed since you opened it. Reload it and apply your change again."),
        status=412,
    )


def _date(value, name: str, errors: dict) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors[name] = [_("Give a date as YYYY-MM-DD.")]
        return None


def _choices(value, allowed: Iterable[str], name: str, errors: dict) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        errors[name] = [_("Give a list of values.")]
        return []
    allowed = set(allowed)
    values = []
    for item in value:
        if not isinstance(item, str) or item not in allowed:
            errors[name] = [_("Unknown value: %(value)s.") % {"value": str(item)[:40]}]
            return []
        if item not in values:
            values.append(item)
    return sorted(values)


def _clean(data: Mapping, errors: dict) -> dict:
    cleaned: dict = {}
    if "funder" in data:
        funder = data["funder"]
        if not isinstance(funder, Organisation):
            try:
                funder = Organisation.objects.filter(pk=int(funder), kind=OrgKind.FUND).first()
            except (TypeError, ValueError, OverflowError):
                funder = None
        if funder is None or funder.kind != OrgKind.FUND:
            errors["funder"] = [_("Choose a fund among the organisations.")]
        cleaned["funder"] = funder
    if "name" in data:
        name = str(data["name"] or "").strip()
        if not name:
            errors["name"] = [_("Give the programme a name.")]
        elif len(name) > NAME_MAX or "\x00" in name:
            errors["name"] = [_("At most %(max)s characters.") % {"max": NAME_MAX}]
        cleaned["name"] = name
    for name in ("starts_on", "ends_on"):
        if name in data:
            cleaned[name] = _date(data[name], name, errors)
    if "target_devices" in data:
        value = data["target_devices"]
        if value in (None, ""):
            cleaned["target_devices"] = None
        else:
            try:
                number = int(value)
                if isinstance(value, bool) or not 1 <= number <= MAX_TARGET_DEVICES:
                    raise ValueError
                cleaned["target_devices"] = number
            except (TypeError, ValueError, OverflowError):
                errors["target_devices"] = [
                    _("Give a whole number of devices between 1 and %(max)s.")
                    % {"max": MAX_TARGET_DEVICES}
                ]
    if "target_budget" in data:
        value = data["target_budget"]
        if value in (None, ""):
            cleaned["target_budget"] = None
        else:
            try:
                amount = Decimal(str(value).replace(",", ".").replace(" ", "")).quantize(
                    Decimal("0.01")
                )
                if isinstance(value, bool) or not Decimal(0) < amount <= MAX_BUDGET:
                    raise InvalidOperation
                cleaned["target_budget"] = amount
            except (InvalidOperation, ValueError, TypeError):
                errors["target_budget"] = [_("Give an amount in euros, such as 25000 or 25000.50.")]
    if "territories" in data:
        cleaned["territories"] = _choices(
            data["territories"],
            Territory.objects.values_list("code", flat=True),
            "territories",
            errors,
        )
    if "structure_types" in data:
        cleaned["structure_types"] = _choices(
            data["structure_types"], StructureType.values, "structure_types", errors
        )
    if "publics" in data:
        cleaned["publics"] = _choices(data["publics"], Public.values, "publics", errors)
    if "purposes" in data:
        cleaned["purposes"] = _choices(data["purposes"], Purpose.values, "purposes", errors)
    if "is_active" in data:
        cleaned["is_active"] = data["is_active"] in (True, "true", "on", "1", 1)
    return cleaned


def _check_period(programme: FundingProgramme, errors: dict) -> None:
    if programme.starts_on and programme.ends_on and programme.ends_on < programme.starts_on:
        errors["ends_on"] = [_("The programme cannot end before it starts.")]


def programme_create(*, actor, note: str = "", **data) -> FundingProgramme:
    require(
        permissions.may_manage_programmes(user_scope(actor)),
        _("Only the coordination records funding programmes."),
    )
    errors: dict[str, list] = {}
    for required in ("funder", "name", "starts_on", "ends_on"):
        if data.get(required) in (None, ""):
            errors[required] = [_("This field is required.")]
    cleaned = _clean({k: v for k, v in data.items() if k in FIELDS}, errors)
    programme = FundingProgramme(**{k: v for k, v in cleaned.items() if k not in errors})
    _check_period(programme, errors)
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        tracked_save(programme, actor=actor, reason="programme_create", note=note)
    return programme


def programme_update(
    *, actor, programme_id: int, version=None, note: str = "", **data
) -> FundingProgramme:
    require(
        permissions.may_manage_programmes(user_scope(actor)),
        _("Only the coordination records funding programmes."),
    )
    errors: dict[str, list] = {}
    cleaned = _clean({k: v for k, v in data.items() if k in FIELDS}, errors)
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        programme = FundingProgramme.objects.select_for_update().filter(pk=programme_id).first()
        if programme is None:
            raise DomainError("not_found", _("No such programme."), status=404)
        if version is not None and str(version) != str(programme.version):
            raise _stale()
        changed = [k for k, v in cleaned.items() if getattr(programme, k) != v]
        if not changed:
            return programme
        for k in changed:
            setattr(programme, k, cleaned[k])
        _check_period(programme, errors)
        if ("starts_on" in changed or "ends_on" in changed) and Allocation.objects.filter(
            programme=programme
        ).exclude(
            created_at__date__gte=programme.starts_on,
            created_at__date__lte=programme.ends_on,
        ).exists():
            errors["starts_on"] = [
                _(
                    "Allocations approved outside these dates count in this programme: keep "
                    "its period around them."
                )
            ]
        if errors:
            raise invalid(errors)
        programme.version += 1
        tracked_save(programme, actor=actor, reason="programme_update", note=note)
    return programme


# --- eligibility --------------------------------------------------------------------------


def eligibility_problems(
    programme: FundingProgramme, *, structure, need, day: dt.date
) -> list[str]:
    """Why an allocation of `need` (for `structure`, approved on `day`) cannot count in the
    programme; empty when it can."""
    problems = []
    if not programme.is_active:
        problems.append(str(_("the programme is closed to new allocations")))
    if not programme.starts_on <= day <= programme.ends_on:
        problems.append(
            str(
                _("the programme runs from %(start)s to %(end)s")
                % {"start": programme.starts_on.isoformat(), "end": programme.ends_on.isoformat()}
            )
        )
    territory = structure.commune.territory_id if structure.commune_id else None
    if programme.territories and territory not in programme.territories:
        problems.append(str(_("the structure's territory is not eligible")))
    if programme.structure_types and structure.structure_type not in programme.structure_types:
        problems.append(str(_("the structure's type is not eligible")))
    if programme.publics and need.public not in programme.publics:
        problems.append(str(_("the public served is not eligible")))
    if programme.purposes and need.purpose not in programme.purposes:
        problems.append(str(_("the purpose is not eligible")))
    return problems


def programme_check(*, programme_id, allocations: list[Allocation]) -> FundingProgramme | None:
    """Inside the approval's transaction: the programme the new allocations count in, after
    checking each one's eligibility and that none of their devices already counts in another
    programme. Refuses the whole approval (409 `programme_not_eligible`) with the reasons."""
    if programme_id in (None, ""):
        return None
    try:
        # Locked: an edit that closes the programme or narrows it waits for the approval,
        # or the approval for it, never a half of each.
        programme = (
            FundingProgramme.objects.select_for_update().filter(pk=int(programme_id)).first()
        )
    except (TypeError, ValueError, OverflowError):
        programme = None
    if programme is None:
        raise invalid({"programme": [_("No such programme.")]})
    day = timezone.localdate()
    reasons: dict[str, list[str]] = {}
    for allocation in allocations:
        need = allocation.need_line.need
        problems = eligibility_problems(
            programme, structure=allocation.structure, need=need, day=day
        )
        if problems:
            reasons.setdefault(need.reference, problems)
    # A device counts in one programme only: one handed over under another programme (and
    # come back from a loan since) cannot be claimed again by a second funder.
    elsewhere = (
        Allocation.objects.filter(device_id__in=[a.device_id for a in allocations])
        .exclude(programme__isnull=True)
        .exclude(programme=programme)
        .exclude(status=AllocationStatus.CANCELLED)
        .select_related("device", "programme")
    )
    for previous in elsewhere:
        reasons.setdefault(previous.device.label_display, []).append(
            str(
                _("this device already counts in the programme “%(name)s”")
                % {"name": previous.programme.name}
            )
        )
    if reasons:
        detail = "; ".join(f"{key}: {', '.join(problems)}" for key, problems in reasons.items())
        raise DomainError(
            "programme_not_eligible",
            _("Nothing was approved: not eligible to “%(name)s” (%(detail)s).")
            % {"name": programme.name, "detail": detail},
            status=409,
            reasons=reasons,
        )
    return programme
