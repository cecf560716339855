"""The only code that writes devices, organisations and memberships.

Every write takes the acting user, runs in one transaction and leaves history rows that name
that user; `device_transition` is the one door through which a device's status changes.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory import identity, permissions
from inventory.codes import (
    InvalidCode,
    generate_label_code,
    normalize_imei,
    normalize_label_code,
)
from inventory.counts import device_counts_shift
from inventory.documents.services import donation_todo_refresh
from inventory.errors import DomainError, invalid
from inventory.guards import GuardContext, check_guards
from inventory.history import tracked_save
from inventory.models import (
    Category,
    Device,
    LabelCode,
    Membership,
    Organisation,
    Reconditioning,
    Role,
)
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.selectors import devices_visible_to, user_scope
from inventory.signals import device_moved
from inventory.states import EXITS, MOVES, Custody, OrgKind, Status, actor_may, needs_target

CUSTODIAN_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE})


@dataclass(frozen=True)
class TransitionResult:
    device: Device
    changed: bool
    action: str


def label_code_issue() -> LabelCode:
    """A fresh code, unique in the database; a collision (1 in 2^40 per pair) draws again."""
    for _attempt in range(10):
        code = generate_label_code()
        try:
            with transaction.atomic():
                return LabelCode.objects.create(code=code)
        except IntegrityError:
            continue
    raise DomainError("label_code_exhausted", _("Could not draw a free label code."), status=500)


DEVICE_SPEC_FIELDS = (
    "model_name",
    "asset_tag",
    "cpu",
    "ram_gb",
    "storage_gb",
    "storage_type",
    "screen_inches",
    "operating_system",
    "notes",
)


def _label_code_bind(raw: str) -> LabelCode:
    """A pre-printed code for a new device; locked so two registrations cannot share it."""
    try:
        code = normalize_label_code(raw)
    except InvalidCode as exc:
        raise invalid({"label_code": [SCAN_MESSAGES[f"code_{exc.reason}"]]}) from exc
    label = LabelCode.objects.select_for_update().filter(code=code).first()
    if label is None:
        raise invalid({"label_code": [_("This label code was never issued.")]})
    if Device.objects.filter(label_code=label).exists():
        raise DomainError(
            "label_code_in_use",
            _("This label is already on another device."),
            fields={"label_code": [_("This label is already on another device.")]},
        )
    return label


def label_codes_preprint(*, actor, count: int) -> list[LabelCode]:
    """Issue `count` fresh codes for sheets printed ahead; scanning one binds it later.
    How many one request may issue is a rule of label stock: the screens and the API come
    through labels.services.preprint_issue, which checks it."""
    scope = user_scope(actor)
    permissions.require(
        permissions.may_register(scope), _("Your role does not allow printing labels.")
    )
    with transaction.atomic():
        run = (LabelCode.objects.aggregate(run=Max("preprint_run"))["run"] or 0) + 1
        codes = []
        for _index in range(count):
            label = label_code_issue()
            label.preprint_run = run
            label.issued_by = actor
            label.save(update_fields=["preprint_run", "issued_by"])
            codes.append(label)
    return codes


def device_register(
    *,
    actor,
    category: Category | None,
    manufacturer: str,
    serial_number: str = "",
    imei1: str = "",
    imei2: str = "",
    donor: Organisation | None = None,
    custodian: Organisation | None = None,
    label_code: str = "",
    donation=None,
    **specs,
) -> Device:
    scope = user_scope(actor)
    permissions.require(
        permissions.may_register(scope), _("Your role does not allow registering devices.")
    )
    unknown = set(specs) - set(DEVICE_SPEC_FIELDS)
    if unknown:
        raise TypeError(f"unknown device fields: {sorted(unknown)}")
    manufacturer = identity.normalize_manufacturer(manufacturer)
    serial = identity.normalize_serial(serial_number)
    imei1, imei2 = normalize_imei(imei1), normalize_imei(imei2)
    errors: dict[str, list] = {}
    if category is None:
        errors["category"] = [_("Choose a category.")]
    for problem in identity.identity_problems(
        manufacturer=manufacturer,
        imei1=imei1,
        imei2=imei2,
        has_imei=category.has_imei if category is not None else None,
    ):
        errors[problem.field] = [problem.message]
    if donation is not None:
        if donor is not None and donor.pk != donation.donor_id:
            errors["donor"] = [_("The donor must be the donation's donor.")]
        donor = donation.donor
    if donor is not None and donor.kind != OrgKind.DONOR:
        errors["donor"] = [_("The donor must be an organisation of kind donor.")]
    if scope.kind == OrgKind.WORKSHOP:
        # Workshop staff register into their own custody only.
        custodian = scope.organisation
    if custodian is None:
        custodian = scope.organisation
    if custodian is None:
        errors["custodian"] = [_("Choose the organisation that has the device.")]
    elif custodian.kind not in CUSTODIAN_KINDS or not custodian.is_active:
        errors["custodian"] = [_("Custody goes to an active coordinator, workshop or structure.")]
    if errors:
        raise invalid(errors)
    for key, value in specs.items():
        if isinstance(value, str):
            specs[key] = value.strip()
    if isinstance(specs.get("screen_inches"), float):
        specs["screen_inches"] = Decimal(str(specs["screen_inches"]))

    try:
        with transaction.atomic():
            values = {
                "manufacturer": manufacturer,
                "serial_number": serial,
                "imei1": imei1,
                "imei2": imei2,
            }
            holders = identity.registered_holders(
                serials=[identity.serial_key(manufacturer, serial)], imeis=[imei1, imei2]
            )
            errors = {
                problem.field: [problem.message]
                for problem in identity.duplicate_problems(values, holders, name_holder=False)
            }
            if errors:
                raise DomainError(
                    "duplicate", _("This device is already registered."), fields=errors
                )
            device = Device(
                label_code=_label_code_bind(label_code) if label_code else label_code_issue(),
                category=category,
                manufacturer=manufacturer,
                serial_number=serial,
                imei1=imei1,
                imei2=imei2,
                donor=donor,
                donation=donation,
                custodian=custodian,
                status=Status.REGISTERED,
                **specs,
            )
            tracked_save(device, actor=actor, reason="register")
            # Issue 10: the home pages' counters (inventory.counts) and the donation's place on
            # the coordination's to-do, in this transaction.
            device_counts_shift(before=None, after=(device.custodian_id, device.status))
            donation_todo_refresh(device.donation_id)
    except IntegrityError as exc:
        # Two registrations of the same serial raced past the check: the constraint decided.
        raise DomainError(
            "duplicate",
            _("This device is already registered."),
            fields={"__all__": [_("Another registration of the same device was saved first.")]},
        ) from exc
    return device


def _resolve_custody(move, device: Device, scope, target: Organisation | None):
    """The organisation that has custody after the move, or None to keep the current one."""
    if move.custody == Custody.KEEP:
        return None
    if move.custody == Custody.DONOR:
        return device.donor
    if move.custody == Custody.ACTOR_OR_TARGET and target is None:
        if not needs_target(move, scope.kind):
            return scope.organisation
        if move.target_kind is not None and device.custodian.kind == move.target_kind:
            return None  # already with an organisation of the right kind: it stays there
    if target is None:
        raise DomainError(
            "target_required", _("Choose the organisation that receives the device."), status=400
        )
    _check_target(move, target)
    return target


def _check_target(move, target: Organisation) -> None:
    if move.target_kind is not None and target.kind != move.target_kind:
        raise DomainError(
            "target_wrong_kind",
            _("This move sends the device to a %(kind)s.")
            % {"kind": OrgKind(move.target_kind).label},
            status=400,
        )
    if not target.is_active:
        raise DomainError("target_inactive", _("That organisation is no longer active."))


def scan_move_check(*, actor, action: str, target: Organisation | None = None) -> None:
    """What a whole batch of scans can be refused for, checked once before any scan is
    recorded: otherwise every scan would be stored as refused under its client id, and the
    corrected upload would only replay the refusals."""
    move = MOVES.get(action)
    if move is None:
        raise DomainError("unknown_action", _("Unknown action."), status=400)
    scope = user_scope(actor)
    if not scope.can_write or not actor_may(scope.kind, action):
        raise DomainError("action_forbidden", _("Your role does not allow this move."), status=403)
    if move.custody == Custody.TARGET and target is None:
        raise DomainError(
            "target_required", _("Choose the organisation that receives the device."), status=400
        )
    if target is not None and move.custody in (Custody.TARGET, Custody.ACTOR_OR_TARGET):
        _check_target(move, target)


def device_transition(
    *,
    actor,
    device_id: int,
    action: str,
    target: Organisation | None = None,
    note: str = "",
) -> TransitionResult:
    """Apply one lifecycle move; the same move repeated is a no-op (changed=False)."""
    move = MOVES.get(action)
    if move is None:
        raise DomainError("unknown_action", _("Unknown action."), status=400)
    scope = user_scope(actor)
    with transaction.atomic():
        # The row lock serialises concurrent scans of one device on PostgreSQL, so that
        # exactly one of them moves it and the others see the new status (a no-op).
        # On SQLite the IMMEDIATE transaction already holds the write lock. No join here:
        # PostgreSQL re-checks a waiting FOR UPDATE against the new row version, and a join
        # on the old custodian would make the device vanish instead of showing its new state.
        device = devices_visible_to(actor).select_for_update().filter(pk=device_id).first()
        if device is None:
            raise DomainError("not_found", _("No such device."), status=404)
        if not scope.can_write or not actor_may(scope.kind, action):
            raise DomainError(
                "action_forbidden", _("Your role does not allow this move."), status=403
            )
        new_custodian = _resolve_custody(move, device, scope, target)
        if device.status == move.target and (
            new_custodian is None or new_custodian.pk == device.custodian_id
        ):
            return TransitionResult(device, changed=False, action=action)
        if device.status not in move.sources:
            raise DomainError(
                "transition_not_allowed",
                _("“%(action)s” is not possible for a device whose status is “%(status)s”.")
                % {"action": move.label, "status": Status(device.status).label},
            )
        check_guards(GuardContext(device=device, move=move, actor=actor, target=target))
        before = (device.custodian_id, device.status)  # Issue 10: for device_counts_shift
        if device.status != move.target:
            device.status_changed_at = timezone.now()
        device.status = move.target
        if new_custodian is not None:
            device.custodian = new_custodian
        cycle = None
        if move.target == Status.READY or move.target in EXITS:
            cycle = Reconditioning.objects.filter(device=device, completed_at__isnull=True).first()
        if cycle is not None and move.target == Status.READY and cycle.os_installed:
            device.operating_system = cycle.os_installed
        tracked_save(device, actor=actor, reason=action, note=note.strip()[:1000])
        if cycle is not None:
            # The pass through the workshop ends here; a loan coming back opens a new one.
            cycle.completed_at = timezone.now()
            cycle.outcome = action
            tracked_save(cycle, actor=actor, reason=action)
        device_moved.send(sender=Device, device=device, action=action, actor=actor)
        # Issue 10: the home pages' counters, last, so that the shared counter rows are held
        # for the shortest time (inventory.counts explains the lock order).
        device_counts_shift(before=before, after=(device.custodian_id, device.status))
    return TransitionResult(device, changed=True, action=action)


def organisation_save(*, actor, organisation: Organisation) -> Organisation:
    """Create or update an organisation after its single-row checks."""
    organisation.full_clean()
    with transaction.atomic():
        tracked_save(organisation, actor=actor, reason="save")
    return organisation


def membership_set(*, actor, user, organisation: Organisation, role: str = Role.MEMBER):
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(user=user).first()
        if membership is None:
            membership = Membership(user=user)
        if membership.pk and (membership.organisation_id, membership.role) == (
            organisation.pk,
            role,
        ):
            return membership
        membership.organisation = organisation
        membership.role = role
        membership.full_clean(exclude=["user"])
        tracked_save(membership, actor=actor, reason="membership")
    return membership
