"""The needs register's writes: a structure declares, edits, submits and cancels its needs; the
coordination accepts (adjusting quantities) or declines; the daily expiry closes what nobody
answered. Every write locks the need's row, checks the lifecycle (logistics.needs.lifecycle)
and the version the client read, and records history with the user and the action.
"""

import datetime
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Category, Organisation
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.states import OrgKind
from logistics import permissions
from logistics.models import MAX_QUANTITY, Mode, Need, NeedLine, OsFamily, Public, Purpose, Urgency
from logistics.models.needs import MAX_RAM_GB, MAX_STORAGE_GB
from logistics.needs.lifecycle import EDITABLE, MOVES, OPEN, NeedStatus, served_status

MAX_LINES = 20
MAX_TEXT = 1000
MAX_LOAN_WEEKS = 104
NEED_FIELDS = ("purpose", "public", "mode", "loan_weeks", "urgency", "justification")
LINE_FIELDS = (
    "category",
    "quantity",
    "min_ram_gb",
    "min_storage_gb",
    "min_screen_inches",
    "os_family",
    "min_grade",
)
GRADES = ("", "A", "B", "C")


# Checks of plain values


def _int_or_none(value, *, low: int, high: int) -> tuple[int | None, bool]:
    """(value, valid): blank is None and valid; anything else must be a whole number in range."""
    if value is None or value == "":
        return None, True
    if isinstance(value, bool):
        return None, False
    text = str(value).strip()
    # Digits only: int() would also read "1_000" or full-width digits.
    if not text.isascii() or not re.fullmatch(r"[+-]?\d{1,19}", text):
        return None, False
    number = int(text)
    return (number, True) if low <= number <= high else (None, False)


def _clean_fields(fields: Mapping) -> tuple[dict, dict]:
    """The need's own fields, checked: (values, errors by field)."""
    values: dict = {}
    errors: dict[str, list] = {}
    for name, choices, message in (
        ("purpose", Purpose, _("Choose what the devices are for.")),
        ("public", Public, _("Choose the public served.")),
        ("mode", Mode, _("Choose gift or loan.")),
        ("urgency", Urgency, _("Choose the urgency.")),
    ):
        value = fields.get(name)
        if value not in choices.values:
            errors[name] = [message]
        else:
            values[name] = value
    weeks, ok = _int_or_none(fields.get("loan_weeks"), low=1, high=MAX_LOAN_WEEKS)
    if values.get("mode") == Mode.LOAN:
        if not ok or weeks is None:
            errors["loan_weeks"] = [
                _("A loan needs its length: from 1 to %(max)s weeks.") % {"max": MAX_LOAN_WEEKS}
            ]
        values["loan_weeks"] = weeks
    else:
        # A gift has no length: a value sent with it is dropped, not kept out of sight.
        values["loan_weeks"] = None
    text = fields.get("justification") or ""
    if not isinstance(text, str):
        errors["justification"] = [_("Write the justification as text.")]
    elif len(text.strip()) > MAX_TEXT:
        errors["justification"] = [_("At most %(max)s characters.") % {"max": MAX_TEXT}]
    else:
        values["justification"] = text.strip()
    return values, errors


def _clean_line(line: Mapping, categories: Mapping[str, Category]) -> tuple[dict, dict]:
    values: dict = {}
    errors: dict[str, list] = {}
    code = line.get("category")
    code = code.code if isinstance(code, Category) else code
    if not isinstance(code, str) or code not in categories:
        errors["category"] = [_("Choose a category.")]
    else:
        values["category"] = categories[code]
    quantity, ok = _int_or_none(line.get("quantity"), low=1, high=MAX_QUANTITY)
    if not ok or quantity is None:
        errors["quantity"] = [_("A quantity from 1 to %(max)s devices.") % {"max": MAX_QUANTITY}]
    values["quantity"] = quantity
    for name, high, message in (
        ("min_ram_gb", MAX_RAM_GB, _("RAM in whole gigabytes, from 1 to %(max)s.")),
        ("min_storage_gb", MAX_STORAGE_GB, _("Storage in whole gigabytes, from 1 to %(max)s.")),
    ):
        number, ok = _int_or_none(line.get(name), low=1, high=high)
        if not ok:
            errors[name] = [message % {"max": high}]
        values[name] = number
    screen = line.get("min_screen_inches")
    values["min_screen_inches"] = None
    if screen not in (None, ""):
        try:
            inches = Decimal(str(screen).strip().replace(",", "."))
        except InvalidOperation:
            inches = None
        if (
            inches is None
            or not inches.is_finite()
            or not Decimal("1") <= inches <= Decimal("99.9")
            or inches != inches.quantize(Decimal("0.1"))
        ):
            errors["min_screen_inches"] = [_("A screen size in inches, from 1 to 99.9.")]
        else:
            values["min_screen_inches"] = inches
    os_family = line.get("os_family") or ""
    if os_family not in OsFamily.values:
        errors["os_family"] = [_("Choose an operating system, or any.")]
    values["os_family"] = os_family
    grade = line.get("min_grade") or ""
    if grade not in GRADES:
        errors["min_grade"] = [_("The lowest acceptable grade is A, B or C, or any.")]
    values["min_grade"] = grade
    return values, errors


def _clean_lines(lines) -> tuple[list[dict], dict]:
    errors: dict[str, list] = {}
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        return [], {"lines": [_("Give the lines of the need as a list.")]}
    lines = list(lines)
    if not lines:
        return [], {"lines": [_("A need has at least one line: a category and a quantity.")]}
    if len(lines) > MAX_LINES:
        return [], {"lines": [_("At most %(max)s lines per need.") % {"max": MAX_LINES}]}
    categories = Category.objects.in_bulk()
    cleaned = []
    for index, line in enumerate(lines):
        if not isinstance(line, Mapping):
            errors[f"lines.{index}"] = [_("Each line is an object.")]
            continue
        values, line_errors = _clean_line(line, categories)
        cleaned.append(values)
        for name, messages in line_errors.items():
            errors[f"lines.{index}.{name}"] = messages
    return cleaned, errors


# Locks and checks


def _stale() -> DomainError:
    return DomainError(
        "stale", _("Someone else changed this need in the meantime: read it again."), status=412
    )


def _locked(scope, need_id) -> Need:
    """The need's row, locked; another structure's need is answered as a missing one."""
    need = Need.objects.select_for_update().filter(pk=need_id).first()
    if need is None or not (
        scope.sees_all
        or (scope.organisation is not None and need.structure_id == scope.organisation.pk)
    ):
        raise DomainError("not_found", _("No such need."), status=404)
    return need


def _check_version(need: Need, version) -> None:
    if version is not None and str(version) != str(need.version):
        raise _stale()


def _check_move(need: Need, name: str) -> None:
    move = MOVES[name]
    if need.status not in move.sources:
        raise DomainError(
            "need_transition_not_allowed",
            _("A need that is “%(status)s” cannot be changed this way (%(action)s).")
            % {"status": NeedStatus(need.status).label, "action": move.label},
            status=409,
        )


def _save(need: Need, *, actor, reason: str, note: str = "") -> None:
    need.version += 1
    tracked_save(need, actor=actor, reason=reason, note=note)


def _open_cap_check(structure: Organisation) -> None:
    cap = settings.REEMPLOI_NEEDS_OPEN_CAP
    if Need.objects.filter(structure=structure, status__in=OPEN).count() >= cap:
        raise DomainError(
            "too_many_open_needs",
            _(
                "%(structure)s already has %(cap)s open needs: cancel one, or wait until the "
                "coordination answers, before declaring another."
            )
            % {"structure": structure.name, "cap": cap},
            status=409,
        )


def _structure_for(scope, structure) -> Organisation:
    """A structure's staff declare for their structure; the coordination names one."""
    if scope.kind == OrgKind.STRUCTURE:
        return scope.organisation
    structure_id = structure.pk if isinstance(structure, Organisation) else structure
    found = (
        Organisation.objects.filter(pk=structure_id, kind=OrgKind.STRUCTURE, is_active=True).first()
        if isinstance(structure_id, int) and not isinstance(structure_id, bool)
        else None
    )
    if found is None:
        raise invalid({"structure": [_("Choose an active structure.")]})
    return found


# Services


def need_create(
    *,
    actor,
    lines,
    submit: bool = False,
    structure: Organisation | int | None = None,
    note: str = "",
    **fields,
) -> Need:
    """Declare a need with its lines, as a draft or submitted at once: all, or nothing."""
    scope = user_scope(actor)
    require(
        permissions.may_declare_needs(scope),
        _("Needs are declared by the structures' staff and the coordination."),
    )
    values, errors = _clean_fields(fields)
    line_values, line_errors = _clean_lines(lines)
    if errors or line_errors:
        raise invalid(errors | line_errors)
    structure = _structure_for(scope, structure)
    with transaction.atomic():
        # The structure's row is locked: two needs declared at once by its staff are counted
        # one after the other against the cap, not both under it.
        Organisation.objects.select_for_update().filter(pk=structure.pk).first()
        _open_cap_check(structure)
        now = timezone.now()
        need = Need(
            structure=structure,
            created_by=actor,
            status=NeedStatus.SUBMITTED if submit else NeedStatus.DRAFT,
            submitted_at=now if submit else None,
            **values,
        )
        tracked_save(need, actor=actor, reason="need_submit" if submit else "need_create",
                     note=note)  # fmt: skip
        for line in line_values:
            tracked_save(NeedLine(need=need, **line), actor=actor, reason="need_create")
    return need


def need_update(*, actor, need_id: int, version=None, lines=None, note: str = "", **fields) -> Need:
    """Change a draft or submitted need: the fields given, and its lines when `lines` is given
    (they replace the old ones). Refused once the coordination decided."""
    scope = user_scope(actor)
    require(
        permissions.may_declare_needs(scope),
        _("Needs are changed by the structures' staff and the coordination."),
    )
    with transaction.atomic():
        need = _locked(scope, need_id)
        _check_version(need, version)
        if need.status not in EDITABLE:
            raise DomainError(
                "need_not_editable",
                _("A need that is “%(status)s” can no longer be changed.")
                % {"status": NeedStatus(need.status).label},
            )
        merged = {name: getattr(need, name) for name in NEED_FIELDS} | {
            name: value for name, value in fields.items() if name in NEED_FIELDS
        }
        values, errors = _clean_fields(merged)
        line_values, line_errors = _clean_lines(lines) if lines is not None else ([], {})
        if errors or line_errors:
            raise invalid(errors | line_errors)
        for name, value in values.items():
            setattr(need, name, value)
        _save(need, actor=actor, reason="need_update", note=note)
        if lines is not None:
            for old in need.lines.all():
                old._history_user = actor
                old._change_reason = "need_update"
                old.delete()
            for line in line_values:
                tracked_save(NeedLine(need=need, **line), actor=actor, reason="need_update")
    return need


def need_submit(*, actor, need_id: int, version=None, note: str = "") -> Need:
    scope = user_scope(actor)
    require(
        permissions.may_declare_needs(scope),
        _("Needs are submitted by the structures' staff and the coordination."),
    )
    with transaction.atomic():
        need = _locked(scope, need_id)
        _check_version(need, version)
        _check_move(need, "submit")
        need.status = NeedStatus.SUBMITTED
        need.submitted_at = timezone.now()
        _save(need, actor=actor, reason="need_submit", note=note)
    return need


def need_accept(
    *, actor, need_id: int, quantities: Mapping | None = None, version=None, note: str = ""
) -> Need:
    """Accept a submitted need. `quantities` maps a line's id to the units accepted (0 to the
    units asked); a line not named is accepted as asked. At least one unit must remain."""
    scope = user_scope(actor)
    require(permissions.may_decide_needs(scope), _("Only the coordination accepts needs."))
    quantities = dict(quantities or {})
    with transaction.atomic():
        need = _locked(scope, need_id)
        _check_version(need, version)
        _check_move(need, "accept")
        lines = list(need.lines.select_for_update().order_by("id"))
        by_id = {line.pk: line for line in lines}
        errors: dict[str, list] = {}
        accepted: dict[int, int] = {}
        for key, value in quantities.items():
            line_id, ok = _int_or_none(key, low=1, high=2**63 - 1)
            if not ok or line_id not in by_id:
                errors[f"quantities.{key}"] = [_("This need has no such line.")]
                continue
            number, ok = _int_or_none(value, low=0, high=by_id[line_id].quantity)
            if not ok or number is None:
                errors[f"quantities.{key}"] = [
                    _("From 0 to the %(asked)s units asked.") % {"asked": by_id[line_id].quantity}
                ]
                continue
            accepted[line_id] = number
        if errors:
            raise invalid(errors)
        if not any(accepted.get(line.pk, line.quantity) for line in lines):
            raise invalid(
                {"quantities": [_("Accept at least one unit, or decline the need with a reason.")]}
            )
        for line in lines:
            line.quantity_accepted = accepted.get(line.pk, line.quantity)
            tracked_save(line, actor=actor, reason="need_accept")
        need.status = NeedStatus.ACCEPTED
        need.decided_at = timezone.now()
        _save(need, actor=actor, reason="need_accept", note=note)
    return need


def need_decline(*, actor, need_id: int, reason: str, version=None) -> Need:
    scope = user_scope(actor)
    require(permissions.may_decide_needs(scope), _("Only the coordination declines needs."))
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise invalid({"reason": [_("Tell the structure why its need is declined.")]})
    if len(reason) > MAX_TEXT:
        raise invalid({"reason": [_("At most %(max)s characters.") % {"max": MAX_TEXT}]})
    with transaction.atomic():
        need = _locked(scope, need_id)
        _check_version(need, version)
        _check_move(need, "decline")
        need.status = NeedStatus.DECLINED
        need.decided_at = timezone.now()
        need.reason = reason
        _save(need, actor=actor, reason="need_decline", note=reason)
    return need


def need_cancel(*, actor, need_id: int, reason: str = "", version=None) -> Need:
    """The structure withdraws its need (the coordination may do it for it)."""
    scope = user_scope(actor)
    require(
        permissions.may_declare_needs(scope),
        _("Needs are cancelled by the structures' staff and the coordination."),
    )
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if len(reason) > MAX_TEXT:
        raise invalid({"reason": [_("At most %(max)s characters.") % {"max": MAX_TEXT}]})
    with transaction.atomic():
        need = _locked(scope, need_id)
        _check_version(need, version)
        _check_move(need, "cancel")
        need.status = NeedStatus.CANCELLED
        need.reason = reason
        _save(need, actor=actor, reason="need_cancel", note=reason)
    return need


def needs_expire(*, now: datetime.datetime | None = None, days: int | None = None) -> int:
    """Close the submitted needs nobody answered for `days` (the setting by default); run
    daily. Each need is locked and checked again, so that an answer given meanwhile wins."""
    now = now or timezone.now()
    days = settings.REEMPLOI_NEEDS_EXPIRY_DAYS if days is None else days
    limit = now - datetime.timedelta(days=days)
    ids = list(
        Need.objects.filter(status=NeedStatus.SUBMITTED, submitted_at__lt=limit)
        .order_by("submitted_at")
        .values_list("pk", flat=True)
    )
    expired = 0
    for need_id in ids:
        with transaction.atomic():
            need = Need.objects.select_for_update().filter(pk=need_id).first()
            if need is None or need.status != NeedStatus.SUBMITTED or need.submitted_at >= limit:
                continue
            need.status = NeedStatus.EXPIRED
            need.decided_at = now
            need.reason = str(
                _("No answer within %(days)s days of its submission.") % {"days": days}
            )
            _save(need, actor=None, reason="need_expire")
            expired += 1
    return expired


def need_served_refresh(*, actor, need: Need) -> Need:
    """After allocations changed the served units of a locked need's lines: its status."""
    lines = list(need.lines.values_list("quantity_accepted", "quantity_served"))
    status = served_status(need.status, [(accepted or 0, served) for accepted, served in lines])
    if status != need.status:
        need.status = status
        _save(need, actor=actor, reason="need_served")
    return need
