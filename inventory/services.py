"""The only code that writes devices, organisations and memberships.

Every write takes the acting user, runs in one transaction and leaves history rows that name
that user; `device_transition` is the one door through which a device's status changes.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, connection, transaction
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
from inventory.compiled import prepared_cursor
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
from inventory.selectors import (
    devices_visible_to,
    returning_device,
    the_one,
    user_scope,
    visible_device,
)
from inventory.signals import device_moved
from inventory.states import EXITS, MOVES, Custody, OrgKind, Status, actor_may, needs_target

# Any number of this application's own: the advisory lock that serialises pre-print runs.
PREPRINT_LOCK_KEY = 0x52454D50  # "REMP"
CUSTODIAN_KINDS = frozenset({OrgKind.COORDINATOR, OrgKind.WORKSHOP, OrgKind.STRUCTURE})


@dataclass(frozen=True)
class TransitionResult:
    device: Device
    changed: bool
    action: str


# Rows per INSERT: 4 parameters each stays under SQLite's 32,766 and PostgreSQL's 65,535.
_LABEL_INSERT_ROWS = 5000


def _label_codes_insert(codes: list[str], *, issued_at, run: int | None, issued_by) -> set[str]:
    """Insert the codes not issued yet, in one statement per 5,000; the codes inserted.

    `INSERT … ON CONFLICT DO NOTHING RETURNING` (PostgreSQL, SQLite ≥ 3.35): a code drawn
    twice is skipped instead of failing the statement, so neither a savepoint around each
    code nor a read before it is needed. The ORM's bulk_create(ignore_conflicts=True) does not
    say which rows it inserted."""
    if not codes:
        return set()
    ops = connection.ops
    table = ops.quote_name(LabelCode._meta.db_table)
    columns = ", ".join(
        ops.quote_name(LabelCode._meta.get_field(name).column)
        for name in ("code", "issued_at", "preprint_run", "issued_by")
    )
    issued_at = ops.adapt_datetimefield_value(issued_at)
    user_id = getattr(issued_by, "pk", None)
    key = ops.quote_name("code")
    inserted: set[str] = set()
    # A registration's one code: a statement prepared once per connection
    # (inventory.compiled.prepared_cursor); a pre-print's runs of any length are not.
    with prepared_cursor(connection, prepare=len(codes) == 1) as cursor:
        for start in range(0, len(codes), _LABEL_INSERT_ROWS):
            chunk = codes[start : start + _LABEL_INSERT_ROWS]
            rows = ", ".join(["(%s, %s, %s, %s)"] * len(chunk))
            params = [value for code in chunk for value in (code, issued_at, run, user_id)]
            # Names quoted from the model's meta, values as parameters.
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES {rows} "  # noqa: S608
                f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
            )
            cursor.execute(sql, params)
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted


def _label_codes_draw(count: int, *, run: int | None = None, issued_by=None) -> list[LabelCode]:
    """`count` fresh codes, inserted: one INSERT per 5,000, and one more for the collisions
    (1 in 2^40 per pair), drawn again."""
    issued_at = timezone.now()
    issued: list[str] = []
    for _attempt in range(10):
        drawn: set[str] = set()
        while len(drawn) < count - len(issued):
            drawn.add(generate_label_code())
        drawn -= set(issued)
        ordered = sorted(drawn)
        inserted = _label_codes_insert(ordered, issued_at=issued_at, run=run, issued_by=issued_by)
        issued += [code for code in ordered if code in inserted]
        if len(issued) == count:
            labels = [
                LabelCode(code=code, issued_at=issued_at, preprint_run=run, issued_by=issued_by)
                for code in issued
            ]
            for label in labels:
                label._state.adding = False  # saved by the INSERT above
            return labels
    raise DomainError("label_code_exhausted", _("Could not draw a free label code."), status=500)


def label_code_issue() -> LabelCode:
    """A fresh code, unique in the database: one INSERT."""
    [label] = _label_codes_draw(1)
    return label


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
        _preprint_lock()
        run = (LabelCode.objects.aggregate(run=Max("preprint_run"))["run"] or 0) + 1
        return _label_codes_draw(count, run=run, issued_by=actor)


def _preprint_lock() -> None:
    """Serialise pre-prints until commit, so that two at once cannot both read the same last
    run and share its successor. SQLite's IMMEDIATE transaction already holds the write lock;
    PostgreSQL takes a transaction-scoped advisory lock, which only pre-prints ask for
    (registrations issuing a code do not wait on it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PREPRINT_LOCK_KEY])


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
    savepoint: bool = True,
    **specs,
) -> Device:
    """Register one device with a fresh (or the given pre-printed) label code.

    Inside a caller's transaction the registration is a savepoint, so that a caller that
    catches its refusal keeps no half device; `savepoint=False` when the caller's transaction
    fails as a whole with it (the API's idempotent create: api.idempotency), which saves the
    SAVEPOINT and RELEASE round trips.

    Statements, besides its transaction (BEGIN/COMMIT, or a savepoint inside a caller's):
    the duplicate check (it names the field and the device holding the serial or IMEI; the
    unique constraints stay the last guard against a race); the label code's INSERT … ON
    CONFLICT DO NOTHING (a pre-printed code instead: its locked read and whether a device
    has it); the device's INSERT; its history row; the counters' upsert (inventory.counts).
    Registering into a donation also recounts that donation's place on the coordination's
    to-do (donation_todo_refresh: its locked row, four reads over its devices, an update when
    the flag changes). The caller's objects (category, donor, custodian) are the device's
    relations: nothing is read again for the reply.
    """
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
        with transaction.atomic(savepoint=savepoint):
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
            # The home pages' counters (inventory.counts) and the donation's place on the
            # coordination's to-do, in this transaction.
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


def _owned_by_workflow(move) -> DomainError:
    return DomainError(
        "move_owned_by_workflow",
        _(
            "“%(action)s” is done through the allocations: a coordinator approves a matching "
            "run to reserve devices for needs, and cancels an allocation to release one."
        )
        % {"action": move.label},
    )


def scan_move_check(*, actor, action: str, target: Organisation | None = None) -> None:
    """What a whole batch of scans can be refused for, checked once before any scan is
    recorded: otherwise every scan would be stored as refused under its client id, and the
    corrected upload would only replay the refusals."""
    move = MOVES.get(action)
    if move is None:
        raise DomainError("unknown_action", _("Unknown action."), status=400)
    if move.workflow:
        raise _owned_by_workflow(move)
    scope = user_scope(actor)
    if not scope.can_write or not actor_may(scope.kind, action):
        raise DomainError("action_forbidden", _("Your role does not allow this move."), status=403)
    if move.custody == Custody.TARGET and target is None:
        raise DomainError(
            "target_required", _("Choose the organisation that receives the device."), status=400
        )
    if target is not None and move.custody in (Custody.TARGET, Custody.ACTOR_OR_TARGET):
        _check_target(move, target)


def _device_lock(actor, device_id: int, *, workflow: bool = False) -> Device | None:
    """The device, row-locked, with its category, custodian and donor; None if not visible.

    The row lock serialises concurrent moves of one device on PostgreSQL, so that exactly one
    of them moves it and the others see the new status (a no-op). On SQLite the IMMEDIATE
    transaction already holds the write lock. Only the device row is locked (`of=("self",)`):
    locking the joined rows would serialise every move of every laptop on their category row.

    PostgreSQL re-checks a waiting FOR UPDATE against the new version of the device row but
    the old version of the joined rows: when the move it waited for changed the custodian, the
    join no longer matches and the device would vanish (404) instead of showing its new state.
    Only then (a read of nothing) is it read again without a join, which sees the committed
    move; the device still visible is the one the other transaction left.
    """
    if workflow:
        # A workflow's service (an allocation, a hand-over) decided who may act on its own
        # record (a structure confirming a delivered device's hand-over does not hold the
        # device yet): the device is the one that record names.
        rows = Device.objects.select_for_update(of=("self",)).filter(pk=device_id)
        # Read again without the join when it found nothing, as below: a concurrent move that
        # changed the custodian makes PostgreSQL's re-check of the join miss the row.
        return the_one(rows.select_related("category", "custodian", "donor")) or the_one(rows)
    device = visible_device(actor, pk=device_id, lock=True)
    if device is None:
        visible = devices_visible_to(actor).select_for_update(of=("self",))
        device = the_one(visible.filter(pk=device_id))
    if device is None:
        # A lent or given device brought back to a workshop's bench (selectors.COMING_BACK).
        device = returning_device(actor, pk=device_id, lock=True)
    return device


def device_transition(
    *,
    actor,
    device_id: int,
    action: str,
    target: Organisation | None = None,
    note: str = "",
    workflow: bool = False,
) -> TransitionResult:
    """Apply one lifecycle move; the same move repeated is a no-op (changed=False).

    A move owned by a workflow (states.WORKFLOW_MOVES: reserve, release, give, lend) is
    refused unless that workflow's service applies it (`workflow=True`), with its record.

    A move costs, besides its transaction (BEGIN/COMMIT, or SAVEPOINT/RELEASE inside a
    caller's):
    1. SELECT … FOR UPDATE of the device joined to its category, custodian and donor: the lock
       that serialises moves of one device, and every relation the checks, guards and the
       reply read (a device not found is read once more, see _device_lock);
    2. UPDATE of the fields the move changed (status, custody, status date, updated_at, the
       disposal flag);
    3. INSERT of the history row (user, action as change reason, note);
    4. the counters' upsert (inventory.counts): the home pages' counts move with the device,
       in the same transaction, instead of counting every device on each visit;
    plus, only for some moves: the open reconditioning cycle (SELECT and its history UPDATE
    + INSERT) when the move ends a pass at the workshop (ready or an exit), and what the
    receivers of `device_moved` need (a receipt closes the device's open shipment item, read
    only when the device was sent). The user's scope is read once per request and cached.
    """
    move = MOVES.get(action)
    if move is None:
        raise DomainError("unknown_action", _("Unknown action."), status=400)
    if move.workflow and not workflow:
        raise _owned_by_workflow(move)
    scope = user_scope(actor)
    # All or nothing by itself: inside a caller's transaction (a scan, a shipment, a bench
    # record) this is a savepoint, so that a caller that catches a fault keeps no half move.
    with transaction.atomic():
        device = _device_lock(actor, device_id, workflow=workflow)
        if device is None:
            raise DomainError("not_found", _("No such device."), status=404)
        if not scope.can_write or not actor_may(scope.kind, action, workflow=workflow):
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
        previous_status = device.status
        before = (device.custodian_id, device.status)  # where the counters held it
        changed = ["status", "updated_at"]
        if device.status != move.target:
            device.status_changed_at = timezone.now()
            changed.append("status_changed_at")
        device.status = move.target
        # Entering "recycled" puts the device on the WEEE disposal list; any other status takes
        # it off. A device that left in a batch never moves again (recycled is terminal), so a
        # move into "recycled" finds it in no batch. The same UPDATE carries it.
        awaiting_disposal = move.target == Status.RECYCLED
        if device.awaiting_disposal != awaiting_disposal:
            device.awaiting_disposal = awaiting_disposal
            changed.append("awaiting_disposal")
        if new_custodian is not None and new_custodian.pk != device.custodian_id:
            device.custodian = new_custodian
            changed.append("custodian")
        cycle = None
        if move.target == Status.READY or move.target in EXITS:
            cycle = Reconditioning.objects.filter(device=device, completed_at__isnull=True).first()
        if cycle is not None and move.target == Status.READY and cycle.os_installed:
            device.operating_system = cycle.os_installed
            changed.append("operating_system")
        # The history row copies the whole row in memory, which the locked read loaded whole.
        tracked_save(
            device, actor=actor, reason=action, note=note.strip()[:1000], update_fields=changed
        )
        if cycle is not None:
            # The pass through the workshop ends here; a loan coming back opens a new one.
            cycle.completed_at = timezone.now()
            cycle.outcome = action
            tracked_save(cycle, actor=actor, reason=action)
        device_moved.send(
            sender=Device,
            device=device,
            action=action,
            actor=actor,
            previous_status=previous_status,
        )
        # The home pages' counters, last, so that the shared counter rows are held for the
        # shortest time (inventory.counts explains the lock order).
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
