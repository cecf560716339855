"""Deliveries: allocated devices leave a workshop for their structure (directly, or through the
coordination's depot), with a delivery note, tracked stages, and a receipt at arrival by
scanning or ticking, device by device.

A delivery reuses the shipments' rows (Shipment of kind "delivery", ShipmentItem with its
allocation). The devices keep their status ("reserved") and their custody on the way: the
hand-over (logistics.handovers) gives or lends them, against the structure's signature.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.codes import InvalidCode, code_from_scan, group_label_code
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Organisation
from inventory.permissions import require
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.selectors import user_scope
from inventory.states import OrgKind, Status
from logistics import permissions
from logistics.deliveries.stages import OPEN_STAGES, RECEIVABLE, next_stage
from logistics.models import (
    Allocation,
    AllocationStatus,
    DeliveryStage,
    Shipment,
    ShipmentItem,
    ShipmentKind,
)
from logistics.picking import ids_of

# A van's load; a larger delivery is more likely a mistaken selection.
MAX_DEVICES = 500
MAX_TEXT = 1000


@dataclass(frozen=True)
class ItemReceipt:
    item: ShipmentItem
    changed: bool


def _not_found() -> DomainError:
    return DomainError("not_found", _("No such delivery."), status=404)


def _locked_delivery(actor, delivery_id) -> Shipment:
    from logistics.deliveries.selectors import deliveries_visible_to

    try:
        pk = int(delivery_id)
    except (TypeError, ValueError):
        raise _not_found() from None
    if not deliveries_visible_to(actor).filter(pk=pk).exists():
        raise _not_found()
    return Shipment.objects.select_for_update().get(pk=pk)


def _item_pk(value) -> int:
    # An id from a form or a JSON body: anything but a whole number is no item of the delivery
    # (the ORM would raise ValueError or TypeError on it, a 500).
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _item_not_found()
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _item_not_found() from None


def _item_not_found() -> DomainError:
    return DomainError("not_found", _("No such device in this delivery."), status=404)


def _stage_refused(delivery: Shipment, message) -> DomainError:
    return DomainError(
        "delivery_stage",
        _("%(reference)s is “%(stage)s”: %(message)s")
        % {
            "reference": delivery.reference,
            "stage": DeliveryStage(delivery.stage).label,
            "message": message,
        },
        stage=delivery.stage,
    )


def _undelivered_allocations(actor):
    """Active allocations whose device is in no open shipment, as the actor may send them: all
    for the coordination, those of devices in its custody for a workshop."""
    scope = user_scope(actor)
    open_item = ShipmentItem.objects.filter(
        device_id=OuterRef("device_id"), received_at__isnull=True
    )
    rows = Allocation.objects.filter(status=AllocationStatus.ACTIVE).filter(~Exists(open_item))
    if not scope.sees_all:
        rows = rows.filter(device__custodian=scope.organisation)
    return rows


def _text(value, field: str, errors: dict, limit: int = MAX_TEXT) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > limit:
        errors[field] = [_("At most %(max)s characters.") % {"max": limit}]
    return text


def delivery_create(
    *,
    actor,
    structure: Organisation | None = None,
    allocation_ids: Iterable[int] | None = None,
    via_depot: bool = False,
    sent_on: datetime.date | None = None,
    expected_on: datetime.date | None = None,
    carrier: str = "",
    notes: str = "",
) -> Shipment:
    """A delivery of the named allocations (or of all the structure's allocations not yet on
    their way), being prepared: all of them, or none."""
    scope = user_scope(actor)
    require(
        permissions.may_prepare_deliveries(scope),
        _("Only the coordination and the workshops prepare deliveries."),
    )
    errors: dict = {}
    carrier = _text(carrier, "carrier", errors, 120)
    notes = _text(notes, "notes", errors)
    sent_on = sent_on or timezone.localdate()
    if expected_on is not None and expected_on < sent_on:
        errors["expected_on"] = [_("The expected arrival cannot be before the sending.")]
    if structure is not None and (structure.kind != OrgKind.STRUCTURE or not structure.is_active):
        errors["structure"] = [_("Deliveries go to an active structure.")]
    ids = None
    if allocation_ids is not None:
        ids = _ids(allocation_ids, "allocations", errors)
    if structure is None and not ids and "allocations" not in errors:
        errors["structure"] = [_("Choose the structure, or the allocations to deliver.")]
    if errors:
        raise invalid(errors)
    try:
        with transaction.atomic():
            rows = Allocation.objects.select_for_update(of=("self",)).order_by("pk")
            if ids is not None:
                rows = rows.filter(pk__in=ids)
            else:
                rows = rows.filter(
                    pk__in=_undelivered_allocations(actor).filter(structure=structure).values("pk")
                )
            allocations = list(rows.select_related("device"))
            return _delivery_from(
                actor,
                allocations,
                wanted=ids,
                structure=structure,
                via_depot=bool(via_depot),
                sent_on=sent_on,
                expected_on=expected_on,
                carrier=carrier,
                notes=notes,
            )
    except IntegrityError as exc:
        # The one-open-shipment-per-device constraint decided a race the locks did not see.
        raise DomainError(
            "device_in_other_shipment",
            _("A device of this list was put in another delivery at the same time. Try again."),
        ) from exc


def _ids(values, field: str, errors: dict) -> list[int]:
    ids = ids_of(values)
    if ids is None:
        errors[field] = [_("Give a list of ids.")]
    return ids or []


def _delivery_from(
    actor, allocations: list[Allocation], *, wanted, structure, via_depot, **fields
) -> Shipment:
    scope = user_scope(actor)
    # An allocation named by id whose device is at another workshop reads as a missing one: its
    # device's label code is not for this workshop to learn.
    if wanted is not None and (
        len(allocations) != len(wanted)
        or any(
            not scope.sees_all and a.device.custodian_id != scope.organisation.pk
            for a in allocations
        )
    ):
        raise DomainError("not_found", _("Some of these allocations do not exist."), status=404)
    if not allocations:
        raise invalid({"allocations": [_("No allocated device is waiting for this structure.")]})
    if len(allocations) > MAX_DEVICES:
        raise invalid(
            {"allocations": [_("At most %(max)s devices per delivery.") % {"max": MAX_DEVICES}]}
        )
    structures = {allocation.structure_id for allocation in allocations}
    if len(structures) > 1 or (structure is not None and structure.pk not in structures):
        raise invalid({"allocations": [_("A delivery goes to one structure.")]})
    problems = []
    in_shipment = set(
        ShipmentItem.objects.filter(
            device_id__in=[a.device_id for a in allocations], received_at__isnull=True
        ).values_list("device_id", flat=True)
    )
    for allocation in allocations:
        device = allocation.device
        code = group_label_code(device.label_code_id)
        if allocation.status != AllocationStatus.ACTIVE:
            problems.append(_("%(code)s: its allocation is no longer active.") % {"code": code})
        elif not scope.sees_all and device.custodian_id != scope.organisation.pk:
            problems.append(_("%(code)s: it is not at your workshop.") % {"code": code})
        elif device.status != Status.RESERVED:
            problems.append(_("%(code)s: it is not reserved.") % {"code": code})
        elif device.pk in in_shipment:
            problems.append(_("%(code)s: it is already in a delivery.") % {"code": code})
    if problems:
        raise DomainError(
            "devices_refused",
            _("Nothing was prepared. %(problems)s") % {"problems": " ".join(map(str, problems))},
        )
    custodians = {allocation.device.custodian_id for allocation in allocations}
    sender = scope.organisation
    if scope.sees_all and len(custodians) == 1:
        sender = allocations[0].device.custodian
    delivery = Shipment(
        kind=ShipmentKind.DELIVERY,
        structure_id=allocations[0].structure_id,
        via_depot=via_depot,
        stage=DeliveryStage.PREPARING,
        sent_by=actor,
        sender=sender,
        **fields,
    )
    tracked_save(delivery, actor=actor, reason="delivery_create")
    for allocation in allocations:
        tracked_save(
            ShipmentItem(shipment=delivery, device_id=allocation.device_id, allocation=allocation),
            actor=actor,
            reason="delivery_create",
        )
    return delivery


def deliveries_build(*, actor, via_depot: bool = False) -> list[Shipment]:
    """One delivery per structure, of every allocation not yet on its way that the actor may
    send (the coordination: all; a workshop: those at its bench); all or none."""
    scope = user_scope(actor)
    require(
        permissions.may_prepare_deliveries(scope),
        _("Only the coordination and the workshops prepare deliveries."),
    )
    try:
        with transaction.atomic():
            allocations = list(
                Allocation.objects.select_for_update(of=("self",))
                .filter(pk__in=_undelivered_allocations(actor).values("pk"))
                .select_related("device")
                .order_by("pk")
            )
            by_structure = defaultdict(list)
            for allocation in allocations:
                by_structure[allocation.structure_id].append(allocation)
            if not by_structure:
                raise invalid({"allocations": [_("No allocated device is waiting to leave.")]})
            return [
                _delivery_from(
                    actor,
                    rows[index : index + MAX_DEVICES],
                    wanted=None,
                    structure=None,
                    via_depot=bool(via_depot),
                    sent_on=timezone.localdate(),
                    expected_on=None,
                    carrier="",
                    notes="",
                )
                for _pk, rows in sorted(by_structure.items())
                for index in range(0, len(rows), MAX_DEVICES)
            ]
    except IntegrityError as exc:
        raise DomainError(
            "device_in_other_shipment",
            _("A device was put in another delivery at the same time. Try again."),
        ) from exc


def delivery_dispatch(*, actor, delivery_id) -> Shipment:
    """The delivery leaves: from the bench (to the depot or to the structure), or from the
    depot to the structure. Repeating it once it left changes nothing."""
    scope = user_scope(actor)
    require(
        permissions.may_prepare_deliveries(scope),
        _("Only the coordination and the workshops dispatch deliveries."),
    )
    with transaction.atomic():
        delivery = _locked_delivery(actor, delivery_id)
        if delivery.stage == DeliveryStage.AT_DEPOT and not scope.sees_all:
            raise DomainError(
                "action_forbidden", _("Only the coordination sends from its depot."), status=403
            )
        stage = next_stage(delivery.stage, "dispatch", via_depot=delivery.via_depot)
        if stage is None:
            if delivery.stage in {DeliveryStage.TO_DEPOT, DeliveryStage.TO_STRUCTURE}:
                return delivery  # already on its way: a double click
            raise _stage_refused(delivery, _("it cannot leave now."))
        if not delivery.items.exists():
            raise _stage_refused(delivery, _("it holds no device."))
        delivery.stage = stage
        if delivery.dispatched_at is None:
            delivery.dispatched_at = timezone.now()
        tracked_save(delivery, actor=actor, reason="delivery_dispatch")
    return delivery


def delivery_receive_at_depot(*, actor, delivery_id) -> Shipment:
    scope = user_scope(actor)
    require(scope.can_write and scope.sees_all, _("Only the coordination receives at its depot."))
    with transaction.atomic():
        delivery = _locked_delivery(actor, delivery_id)
        if delivery.stage == DeliveryStage.AT_DEPOT:
            return delivery
        stage = next_stage(delivery.stage, "receive_at_depot", via_depot=delivery.via_depot)
        if stage is None:
            raise _stage_refused(delivery, _("it is not on its way to the depot."))
        delivery.stage = stage
        delivery.depot_received_at = timezone.now()
        tracked_save(delivery, actor=actor, reason="delivery_receive_at_depot")
    return delivery


def delivery_cancel(*, actor, delivery_id, reason: str = "") -> Shipment:
    """Cancel a delivery still being prepared: its devices wait to leave again (the rows of its
    list are deleted, their history kept)."""
    scope = user_scope(actor)
    require(
        permissions.may_prepare_deliveries(scope),
        _("Only the coordination and the workshops cancel deliveries."),
    )
    errors: dict = {}
    reason = _text(reason, "reason", errors)
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        delivery = _locked_delivery(actor, delivery_id)
        if delivery.stage == DeliveryStage.CANCELLED:
            return delivery
        if next_stage(delivery.stage, "cancel", via_depot=delivery.via_depot) is None:
            raise _stage_refused(delivery, _("only a delivery being prepared is cancelled."))
        _items_drop(actor, delivery.items.all(), reason="delivery_cancel")
        delivery.stage = DeliveryStage.CANCELLED
        tracked_save(delivery, actor=actor, reason="delivery_cancel", note=reason)
    return delivery


def _items_drop(actor, items, *, reason: str) -> None:
    for item in items:
        item._history_user = actor
        item._change_reason = reason
        item.delete()


def delivery_item_remove(*, actor, delivery_id, item_id) -> Shipment:
    scope = user_scope(actor)
    require(
        permissions.may_prepare_deliveries(scope),
        _("Only the coordination and the workshops prepare deliveries."),
    )
    with transaction.atomic():
        delivery = _locked_delivery(actor, delivery_id)
        if delivery.stage != DeliveryStage.PREPARING:
            raise _stage_refused(delivery, _("its list is closed once it left."))
        item = delivery.items.filter(pk=_item_pk(item_id)).first()
        if item is None:
            raise _item_not_found()
        _items_drop(actor, [item], reason="delivery_item_remove")
    return delivery


def delivery_item_drop_for(*, actor, allocation: Allocation) -> None:
    """Inside an allocation's cancellation: its device leaves a delivery still being prepared;
    a delivery on its way refuses (the device must arrive, or come back, first)."""
    # Locks in the deliveries' order (the delivery, then its items), as a receipt does.
    shipment_id = (
        ShipmentItem.objects.filter(allocation=allocation, received_at__isnull=True)
        .values_list("shipment_id", flat=True)
        .first()
    )
    if shipment_id is None:
        return
    Shipment.objects.select_for_update().filter(pk=shipment_id).first()
    item = (
        ShipmentItem.objects.select_for_update(of=("self",))
        .select_related("shipment")
        .filter(allocation=allocation, received_at__isnull=True)
        .first()
    )
    if item is None:
        return
    if item.shipment.stage != DeliveryStage.PREPARING:
        raise DomainError(
            "allocation_in_delivery",
            _(
                "The device is on its way in %(reference)s: receive it first, then cancel "
                "the allocation."
            )
            % {"reference": item.shipment.reference},
        )
    _items_drop(actor, [item], reason="allocation_cancel")


def _item_mark_received(actor, item: ShipmentItem, *, reason: str) -> None:
    item.received_at = timezone.now()
    item.received_by = actor
    tracked_save(item, actor=actor, reason=reason)


def delivery_refresh(*, actor, delivery: Shipment) -> None:
    """Inside the caller's transaction, the delivery locked: delivered once every device of it
    arrived (or was handed over)."""
    if (
        delivery.stage in OPEN_STAGES
        and not delivery.items.filter(received_at__isnull=True).exists()
    ):
        delivery.stage = DeliveryStage.DELIVERED
        delivery.delivered_at = timezone.now()
        if delivery.dispatched_at is None:
            delivery.dispatched_at = delivery.delivered_at
        tracked_save(delivery, actor=actor, reason="delivery_delivered")


def delivery_receive(
    *, actor, delivery_id, raw: str | None = None, item_id: int | None = None
) -> ItemReceipt:
    """One device arrived: scanned (raw label code or URL) or ticked (item id). The same device
    twice changes nothing; a device that is not on this delivery is refused."""
    scope = user_scope(actor)
    require(
        permissions.may_receive_deliveries(scope),
        _("Only the structure and the coordination receive deliveries."),
    )
    code = None
    if item_id is None:
        try:
            code = code_from_scan(raw if isinstance(raw, str) else "", settings.SITE_URL)
        except InvalidCode as exc:
            raise DomainError(
                f"code_{exc.reason}",
                SCAN_MESSAGES.get(f"code_{exc.reason}", _("This code is not valid.")),
                status=400,
            ) from exc
    with transaction.atomic():
        delivery = _locked_delivery(actor, delivery_id)
        items = delivery.items.select_for_update()
        item = (
            items.filter(device__label_code_id=code).first()
            if code is not None
            else items.filter(pk=_item_pk(item_id)).first()
        )
        if item is None:
            shown = group_label_code(code) if code else str(item_id)
            raise DomainError(
                "not_in_shipment",
                _("%(code)s is not in this delivery (%(reference)s).")
                % {"code": shown, "reference": delivery.reference},
            )
        if item.received_at is not None:
            return ItemReceipt(item, changed=False)
        if delivery.stage not in RECEIVABLE:
            raise _stage_refused(delivery, _("it has not left yet."))
        _item_mark_received(actor, item, reason="delivery_receive")
        delivery_refresh(actor=actor, delivery=delivery)
    return ItemReceipt(item, changed=True)


def delivery_items_close_for_hand_over(*, actor, device_ids: list[int]) -> list[Shipment]:
    """Inside a hand-over: a device handed over has arrived, whatever its delivery's list said;
    each delivery touched is refreshed. Returns the deliveries touched."""
    # The deliveries first, then their items: the order of a receipt at arrival, so that the
    # two wait for each other instead of deadlocking.
    shipment_ids = sorted(
        set(
            ShipmentItem.objects.filter(
                device_id__in=device_ids,
                received_at__isnull=True,
                shipment__kind=ShipmentKind.DELIVERY,
            ).values_list("shipment_id", flat=True)
        )
    )
    if not shipment_ids:
        return []
    deliveries = list(
        Shipment.objects.select_for_update().filter(pk__in=shipment_ids).order_by("pk")
    )
    items = ShipmentItem.objects.select_for_update().filter(
        device_id__in=device_ids, received_at__isnull=True, shipment_id__in=shipment_ids
    )
    for item in items.order_by("pk"):
        _item_mark_received(actor, item, reason="hand_over")
    for delivery in deliveries:
        delivery_refresh(actor=actor, delivery=delivery)
    return deliveries
