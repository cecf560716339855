"""Matching runs and allocations: the coordination runs the optimiser (logistics.matching) over
the accepted needs and the ready stock, trims the proposal, and approves it; approving creates
the allocations and reserves their devices, all or nothing; cancelling an allocation releases
its device. These services are the only ones that apply the allocations' moves (reserve,
release_reservation): the generic door refuses them (inventory.states.WORKFLOW_MOVES)."""

import time
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.codes import InvalidCode, group_label_code, normalize_label_code
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Category, Device, Organisation, Reconditioning, Territory
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.services import device_transition
from inventory.states import Status
from logistics import matching, permissions
from logistics.allocations.explain import CONSTRAINT_LABELS
from logistics.deliveries.services import delivery_item_drop_for
from logistics.funding.services import programme_check
from logistics.models import (
    Allocation,
    AllocationStatus,
    MatchingPolicy,
    MatchingRun,
    Need,
    NeedLine,
    RunLine,
    RunStatus,
    RunUnserved,
)
from logistics.needs.lifecycle import TO_SERVE
from logistics.needs.services import need_served_refresh

MAX_REASON = 1000
# One approval reserves at most this many devices: a bigger proposal is approved in parts.
MAX_APPROVAL = 2000

_OS_WORDS = (
    ("windows", "windows"),
    ("macos", "macos"),
    ("mac os", "macos"),
    ("os x", "macos"),
    ("chrome", "chromeos"),
    ("ipados", "ios"),
    ("ios", "ios"),
    ("android", "android"),
    ("ubuntu", "linux"),
    ("debian", "linux"),
    ("mint", "linux"),
    ("fedora", "linux"),
    ("linux", "linux"),
    ("primtux", "linux"),
    ("emmabuntüs", "linux"),
)


def os_family_of(text: str) -> str:
    """The family of a device's operating system as typed at the bench ("" when unknown)."""
    folded = (text or "").casefold()
    for word, family in _OS_WORDS:
        if word in folded:
            return family
    return ""


# Weights


def policy_weights() -> matching.Weights:
    policy = MatchingPolicy.objects.order_by("pk").first()
    if policy is None or not policy.weights:
        return matching.Weights()
    return matching.Weights.from_dict(policy.weights)


def policy_update(*, actor, weights: Mapping) -> matching.Weights:
    """Replace the weights and limits of the next runs; refused whole if one value is wrong."""
    require(
        permissions.may_decide_needs(user_scope(actor)),
        _("Only the coordination sets the matching's weights."),
    )
    try:
        checked = matching.Weights.from_dict(dict(weights))
    except (TypeError, ValueError) as exc:
        raise invalid({"weights": [str(exc)]}) from exc
    with transaction.atomic():
        policy = MatchingPolicy.objects.select_for_update().order_by("pk").first()
        policy = policy or MatchingPolicy()
        policy.weights = checked.to_dict()
        policy.updated_by = actor
        tracked_save(policy, actor=actor, reason="policy_update")
    return checked


# Inputs of a run, read from the database


def _line_inputs() -> list[matching.NeedLineIn]:
    now = timezone.now()
    lines = NeedLine.objects.filter(
        need__status__in=TO_SERVE, quantity_accepted__gt=0
    ).select_related("need", "need__structure", "need__structure__commune")
    inputs = []
    for line in lines:
        units = line.units_to_serve
        if units <= 0:
            continue
        need = line.need
        structure = need.structure
        since = need.decided_at or need.created_at
        inputs.append(
            matching.NeedLineIn(
                id=line.pk,
                need_id=need.pk,
                structure_id=structure.pk,
                structure_type=structure.structure_type,
                territory=structure.commune.territory_id if structure.commune else None,
                category=line.category_id,
                units=units,
                min_ram_gb=line.min_ram_gb,
                min_storage_gb=line.min_storage_gb,
                min_screen_inches=line.min_screen_inches,
                os_family=line.os_family,
                min_grade=line.min_grade,
                waiting_days=max((now - since).days, 0),
                public=need.public,
                purpose=need.purpose,
            )
        )
    return inputs


def _ready_devices(category: str = "", ids: Iterable[int] | None = None):
    grade = Reconditioning.objects.filter(
        device=OuterRef("pk"), completed_at__isnull=False
    ).order_by("-completed_at", "-pk")
    devices = Device.objects.filter(status=Status.READY).annotate(
        last_grade=Subquery(grade.values("grade")[:1])
    )
    if category:
        devices = devices.filter(category_id=category)
    if ids is not None:
        devices = devices.filter(pk__in=list(ids))
    return devices.values_list(
        "pk",
        "category_id",
        "ram_gb",
        "storage_gb",
        "screen_inches",
        "operating_system",
        "last_grade",
        "custodian__commune__territory_id",
    )


def _device_inputs(category: str = "", ids: Iterable[int] | None = None) -> list[matching.DeviceIn]:
    return [
        matching.DeviceIn(
            id=pk,
            category=category_id,
            ram_gb=ram,
            storage_gb=storage,
            screen_inches=screen,
            os_family=os_family_of(system),
            grade=grade or "",
            territory=territory,
        )
        for pk, category_id, ram, storage, screen, system, grade, territory in _ready_devices(
            category, ids
        )
    ]


# Runs


def _require_coordination(actor, message) -> None:
    require(permissions.may_decide_needs(user_scope(actor)), message)


def matching_run_create(
    *, actor, territory: str = "", category: str = "", weights: Mapping | None = None
) -> MatchingRun:
    """Compute a proposal over the accepted needs and the ready stock, optionally for one EPT
    (the needs of its structures) and one category, and store it for review."""
    _require_coordination(actor, _("Only the coordination runs the matching."))
    errors: dict[str, list] = {}
    territory = territory or ""
    category = category or ""
    if territory and not (
        isinstance(territory, str) and Territory.objects.filter(code=territory).exists()
    ):
        errors["territory"] = [_("Choose a territory of the network.")]
    if category and not (
        isinstance(category, str) and Category.objects.filter(code=category).exists()
    ):
        errors["category"] = [_("Choose a category.")]
    try:
        # Weights given for this run override the policy's one by one.
        policy = policy_weights()
        chosen = matching.Weights.from_dict(policy.to_dict() | dict(weights)) if weights else policy
    except (TypeError, ValueError) as exc:
        errors["weights"] = [str(exc)]
    if errors:
        raise invalid(errors)
    lines = _line_inputs()
    devices = _device_inputs(category)
    started = time.perf_counter()
    proposal = matching.solve(
        lines,
        devices,
        chosen,
        scope_territory=territory or None,
        scope_category=category or None,
    )
    solve_ms = round((time.perf_counter() - started) * 1000)
    outside = {u.line_id for u in proposal.unserved if u.reason == "out_of_scope"}
    asked = sum(line.units for line in lines if line.id not in outside)
    with transaction.atomic():
        run = MatchingRun(
            territory_id=territory or None,
            category_id=category or None,
            weights=chosen.to_dict(),
            units_asked=asked,
            units_proposed=proposal.units_served,
            total_cost=proposal.total_cost,
            solve_ms=solve_ms,
            created_by=actor,
        )
        tracked_save(run, actor=actor, reason="run_create")
        RunLine.objects.bulk_create(
            RunLine(
                run=run,
                need_line_id=item.line_id,
                device_id=item.device_id,
                cost=item.cost,
                terms=item.terms,
                met=list(item.met),
            )
            for item in proposal.assignments
        )
        # Lines outside the run's scope too: the register says why they got nothing here.
        RunUnserved.objects.bulk_create(
            RunUnserved(
                run=run,
                need_line_id=item.line_id,
                units=item.units,
                reason=item.reason,
                detail=item.detail,
            )
            for item in proposal.unserved
        )
    return run


def _locked_run(run_id) -> MatchingRun:
    run = MatchingRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        raise DomainError("not_found", _("No such matching run."), status=404)
    if run.status != RunStatus.PROPOSED:
        raise DomainError(
            "run_decided",
            _("This matching run was already %(status)s.")
            % {"status": RunStatus(run.status).label.lower()},
        )
    return run


def run_line_remove(*, actor, run_id: int, line_id: int) -> RunLine:
    """Take a proposed line out before approving (it can be put back)."""
    return _run_line_set(actor=actor, run_id=run_id, line_id=line_id, removed=True)


def run_line_restore(*, actor, run_id: int, line_id: int) -> RunLine:
    return _run_line_set(actor=actor, run_id=run_id, line_id=line_id, removed=False)


def _run_line_set(*, actor, run_id, line_id, removed: bool) -> RunLine:
    _require_coordination(actor, _("Only the coordination edits a proposal."))
    with transaction.atomic():
        run = _locked_run(run_id)
        line = RunLine.objects.filter(run=run, pk=line_id).first()
        if line is None:
            raise DomainError("not_found", _("No such line in this run."), status=404)
        if line.removed != removed:
            line.removed = removed
            line.save(update_fields=["removed"])
            run.units_proposed += -1 if removed else 1
            reason = "run_line_remove" if removed else "run_line_restore"
            tracked_save(run, actor=actor, reason=reason, note=str(line.pk))
    return line


def run_line_swap(*, actor, run_id: int, line_id: int, device) -> RunLine:
    """Propose another ready device (id or label code) for a line: it must suit the need
    line and be in no other line of the run."""
    _require_coordination(actor, _("Only the coordination edits a proposal."))
    with transaction.atomic():
        run = _locked_run(run_id)
        line = (
            RunLine.objects.select_related("need_line", "need_line__need__structure__commune")
            .filter(run=run, pk=line_id)
            .first()
        )
        if line is None:
            raise DomainError("not_found", _("No such line in this run."), status=404)
        found = _device_by_id_or_code(device)
        if found is None or found.status != Status.READY:
            raise DomainError(
                "device_not_ready",
                _("Choose a device that is ready for reuse."),
                status=409,
                fields={"device": [_("Not a ready device.")]},
            )
        if found.pk == line.device_id:
            return line
        if RunLine.objects.filter(run=run, device=found).exists():
            raise DomainError(
                "device_in_run",
                _("%(code)s is already proposed on another line of this run.")
                % {"code": group_label_code(found.label_code_id)},
            )
        [candidate] = _device_inputs(ids=[found.pk])
        need_line = line.need_line
        structure = need_line.need.structure
        line_in = matching.NeedLineIn(
            id=need_line.pk,
            need_id=need_line.need_id,
            structure_id=structure.pk,
            category=need_line.category_id,
            units=1,
            min_ram_gb=need_line.min_ram_gb,
            min_storage_gb=need_line.min_storage_gb,
            min_screen_inches=need_line.min_screen_inches,
            os_family=need_line.os_family,
            min_grade=need_line.min_grade,
            territory=structure.commune.territory_id if structure.commune else None,
        )
        if not matching.compatible(line_in, candidate):
            _met, missed = matching.constraints(line_in, candidate)
            # Else its grade is none the matching offers (D, or not graded).
            missed = missed or ("grade",)
            raise DomainError(
                "device_unsuitable",
                _("This device does not meet the need line: %(missed)s.")
                % {"missed": ", ".join(str(CONSTRAINT_LABELS.get(code, code)) for code in missed)},
                fields={"device": [_("Does not meet the need line.")]},
            )
        line.device = found
        line.swapped = True
        line.met = list(matching.constraints(line_in, candidate)[0])
        line.save(update_fields=["device", "swapped", "met"])
        tracked_save(run, actor=actor, reason="run_line_swap", note=f"{line.pk}")
    return line


def _device_by_id_or_code(value) -> Device | None:
    if isinstance(value, Device):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Device.objects.filter(pk=value).first()
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit() and len(text) < 10:
            return Device.objects.filter(pk=int(text)).first()
        try:
            code = normalize_label_code(text)
        except InvalidCode:
            return None
        return Device.objects.filter(label_code_id=code).first()
    return None


def matching_run_discard(*, actor, run_id: int, reason: str = "") -> MatchingRun:
    _require_coordination(actor, _("Only the coordination decides on a matching run."))
    with transaction.atomic():
        run = _locked_run(run_id)
        run.status = RunStatus.DISCARDED
        run.decided_by = actor
        run.decided_at = timezone.now()
        tracked_save(run, actor=actor, reason="run_discard", note=(reason or "")[:MAX_REASON])
    return run


def _taken(devices: list[Device]) -> DomainError:
    codes = ", ".join(group_label_code(device.label_code_id) for device in devices[:20])
    more = len(devices) - 20
    return DomainError(
        "devices_taken",
        _(
            "Nothing was approved: these devices are no longer available (another approval or "
            "a move took them): %(codes)s. Run the matching again."
        )
        % {"codes": codes + (f" (+{more})" if more > 0 else "")},
        devices=[device.pk for device in devices],
    )


def matching_run_approve(
    *,
    actor,
    run_id: int,
    line_ids: Iterable[int] | None = None,
    note: str = "",
    programme=None,
) -> list[Allocation]:
    """Approve the run's lines (all those not removed, or the ones named): one allocation per
    line, its device reserved, the need lines' served units counted, in one transaction. Any
    device taken since the proposal, or any need line served or closed since, refuses the
    whole approval (409, naming the devices). With a funding programme (its id), every
    allocation counts in it, or none is made (logistics.funding.services.programme_check)."""
    _require_coordination(actor, _("Only the coordination approves allocations."))
    with transaction.atomic():
        run = _locked_run(run_id)
        lines = RunLine.objects.filter(run=run, removed=False).order_by("id")
        if line_ids is not None:
            wanted = _ids(line_ids)
            lines = lines.filter(pk__in=wanted)
            found = list(lines)
            if len(found) != len(wanted):
                raise invalid({"lines": [_("Some of these lines are not in this run.")]})
        else:
            found = list(lines)
        if not found:
            raise invalid({"lines": [_("Choose at least one line to approve.")]})
        if len(found) > MAX_APPROVAL:
            raise invalid(
                {"lines": [_("At most %(max)s lines per approval.") % {"max": MAX_APPROVAL}]}
            )
        # Locks in one order (devices by id, then need lines by id): two approvals of
        # overlapping runs wait for each other instead of deadlocking; the second one then
        # finds the devices reserved and is refused whole.
        device_ids = sorted({line.device_id for line in found})
        devices = {
            device.pk: device
            for device in Device.objects.select_for_update(of=("self",))
            .filter(pk__in=device_ids)
            .order_by("pk")
        }
        active = set(
            Allocation.objects.filter(
                device_id__in=device_ids, status=AllocationStatus.ACTIVE
            ).values_list("device_id", flat=True)
        )
        taken = [
            devices[pk]
            for pk in device_ids
            if pk in devices and (devices[pk].status != Status.READY or pk in active)
        ]
        if taken:
            raise _taken(taken)
        wanted_units = Counter(line.need_line_id for line in found)
        need_lines = {
            line.pk: line
            for line in NeedLine.objects.select_for_update(of=("self",))
            .select_related("need")
            .filter(pk__in=sorted(wanted_units))
            .order_by("pk")
        }
        needs = {
            need.pk: need
            for need in Need.objects.select_for_update()
            .filter(pk__in=sorted({line.need_id for line in need_lines.values()}))
            .order_by("pk")
        }
        short = [
            need_lines[pk]
            for pk, units in wanted_units.items()
            if needs[need_lines[pk].need_id].status not in TO_SERVE
            or need_lines[pk].units_to_serve < units
        ]
        if short:
            raise DomainError(
                "need_already_served",
                _(
                    "Nothing was approved: %(count)s need lines were served, cancelled or "
                    "changed since the proposal. Run the matching again."
                )
                % {"count": len(short)},
                need_lines=[line.pk for line in short],
            )
        structures = Organisation.objects.select_related("commune").in_bulk(
            {need.structure_id for need in needs.values()}
        )
        drafts = []
        for line in found:
            need_line = need_lines[line.need_line_id]
            need = needs[need_line.need_id]
            need_line.need = need
            drafts.append(
                Allocation(
                    device_id=line.device_id,
                    need_line=need_line,
                    structure=structures[need.structure_id],
                    run=run,
                    mode=need.mode,
                    created_by=actor,
                )
            )
        funded_by = programme_check(programme_id=programme, allocations=drafts)
        allocations = []
        try:
            for allocation in drafts:
                allocation.programme = funded_by
                tracked_save(allocation, actor=actor, reason="allocation_create", note=note)
                device_transition(
                    actor=actor,
                    device_id=allocation.device_id,
                    action="reserve",
                    note=str(allocation),
                    workflow=True,
                )
                allocations.append(allocation)
        except IntegrityError as exc:
            # The one-active-allocation constraint caught a write that took no lock.
            raise _taken([devices[line.device_id] for line in found]) from exc
        for pk, units in wanted_units.items():
            need_line = need_lines[pk]
            need_line.quantity_served += units
            tracked_save(need_line, actor=actor, reason="allocation_create")
        for need in needs.values():
            need_served_refresh(actor=actor, need=need)
        run.status = RunStatus.APPROVED
        run.decided_by = actor
        run.decided_at = timezone.now()
        tracked_save(run, actor=actor, reason="run_approve", note=note)
    return allocations


def _ids(values) -> list[int]:
    if isinstance(values, (str, bytes, Mapping)):
        raise invalid({"lines": [_("Give the lines as a list of ids.")]})
    ids = []
    for value in values:
        if isinstance(value, bool):
            raise invalid({"lines": [_("Give the lines as a list of ids.")]})
        try:
            ids.append(int(value))
        except (TypeError, ValueError) as exc:
            raise invalid({"lines": [_("Give the lines as a list of ids.")]}) from exc
    return sorted(set(ids))


def allocation_cancel(*, actor, allocation_id: int, reason: str) -> Allocation:
    """End an active allocation: its device is ready again, its need line one unit short."""
    _require_coordination(actor, _("Only the coordination cancels allocations."))
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise invalid({"reason": [_("Say why the allocation is cancelled.")]})
    if len(reason) > MAX_REASON:
        raise invalid({"reason": [_("At most %(max)s characters.") % {"max": MAX_REASON}]})
    with transaction.atomic():
        allocation = Allocation.objects.select_for_update().filter(pk=allocation_id).first()
        if allocation is None:
            raise DomainError("not_found", _("No such allocation."), status=404)
        if allocation.status != AllocationStatus.ACTIVE:
            raise DomainError(
                "allocation_not_active",
                _("This allocation is %(status)s: nothing to cancel.")
                % {"status": AllocationStatus(allocation.status).label.lower()},
            )
        # A device still being packed leaves its delivery; one on its way refuses (409).
        delivery_item_drop_for(actor=actor, allocation=allocation)
        allocation.status = AllocationStatus.CANCELLED
        allocation.ended_at = timezone.now()
        allocation.reason = reason
        tracked_save(allocation, actor=actor, reason="allocation_cancel", note=reason)
        device_transition(
            actor=actor,
            device_id=allocation.device_id,
            action="release_reservation",
            note=reason,
            workflow=True,
        )
        need_line = NeedLine.objects.select_for_update().get(pk=allocation.need_line_id)
        need = Need.objects.select_for_update().get(pk=need_line.need_id)
        need_line.quantity_served = max(need_line.quantity_served - 1, 0)
        tracked_save(need_line, actor=actor, reason="allocation_cancel")
        need_served_refresh(actor=actor, need=need)
    return allocation
