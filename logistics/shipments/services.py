"""Shipments to workshops: the batch the coordination sends, and its receipt by scanning.

The devices move through inventory's one door (`device_transition`); these services add the
shipment, its list, and the checks that make a batch all or nothing.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.codes import InvalidCode, code_from_scan, group_label_code
from inventory.counts import device_counts_deferred
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Device, Organisation
from inventory.permissions import require
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.selectors import user_scope
from inventory.services import device_transition
from inventory.states import MOVES, OrgKind, Status
from logistics import permissions
from logistics.models import Shipment, ShipmentItem
from logistics.picking import (
    DeviceProblem,
    device_problem,
    problems_text,
    requested_lock,
    requested_split,
)

SEND = MOVES[permissions.SEND_ACTION]
RECEIVE = MOVES[permissions.RECEIVE_ACTION]
# A shipment is a van or a few parcels; a larger batch is more likely a mistaken selection.
MAX_DEVICES = 500


@dataclass(frozen=True)
class ReceiptResult:
    item: ShipmentItem
    changed: bool


def _refused(problems: list[DeviceProblem]) -> DomainError:
    lines = problems_text(problems)
    return DomainError(
        "devices_refused",
        _("Nothing was sent. %(problems)s") % {"problems": lines},
        problems=problems,
    )


def _check_workshop(workshop: Organisation | None) -> None:
    if workshop is None:
        raise invalid({"workshop": [_("Choose the workshop.")]})
    if workshop.kind != OrgKind.WORKSHOP or not workshop.is_active:
        raise invalid({"workshop": [_("Shipments go to an active workshop.")]})


def shipment_create(
    *,
    actor,
    workshop: Organisation | None,
    devices: Iterable[int | str | Device],
    sent_on: datetime.date | None = None,
    expected_on: datetime.date | None = None,
    carrier: str = "",
    notes: str = "",
) -> Shipment:
    """Send devices (ids or label codes) to a workshop as one shipment: all of them, or none."""
    scope = user_scope(actor)
    require(permissions.may_send(scope), _("Only the coordination sends shipments."))
    _check_workshop(workshop)
    sent_on = sent_on or timezone.localdate()
    if expected_on is not None and expected_on < sent_on:
        raise invalid({"expected_on": [_("The expected arrival cannot be before the sending.")]})
    ids, codes, problems = requested_split(devices)
    if not ids and not codes and not problems:
        raise invalid({"devices": [_("Choose at least one device.")]})
    try:
        with transaction.atomic():
            # Every device row is locked before any check: a concurrent shipment of the same
            # device waits here and then finds it already sent.
            locked, missing = requested_lock(actor, ids, codes)
            problems += missing
            for device in locked:
                if device.status not in SEND.sources:
                    problems.append(
                        device_problem(
                            device,
                            "not_sendable",
                            str(
                                _(
                                    "its status is “%(status)s”; only registered or returned "
                                    "devices are sent to a workshop."
                                )
                                % {"status": Status(device.status).label}
                            ),
                        )
                    )
            if problems:
                raise _refused(problems)
            if len(locked) > MAX_DEVICES:
                raise invalid(
                    {"devices": [_("At most %(max)s devices per shipment.") % {"max": MAX_DEVICES}]}
                )
            shipment = Shipment(
                workshop=workshop,
                sent_by=actor,
                sender=scope.organisation,
                sent_on=sent_on,
                expected_on=expected_on,
                carrier=carrier.strip()[:120],
                notes=notes.strip(),
            )
            tracked_save(shipment, actor=actor, reason="shipment_create")
            # Issue 10: the devices are locked (pk order); their counters are written once,
            # at the end, in key order, so that a concurrent single move cannot deadlock it.
            with device_counts_deferred():
                for device in locked:
                    tracked_save(
                        ShipmentItem(shipment=shipment, device=device),
                        actor=actor,
                        reason="shipment_create",
                    )
                    try:
                        device_transition(
                            actor=actor, device_id=device.pk, action=SEND.action, target=workshop
                        )
                    except DomainError as exc:
                        # A rule of the lifecycle beyond the table (a guard): the device is named.
                        raise _refused([device_problem(device, exc.code, exc.message)]) from exc
    except IntegrityError as exc:
        # The one-open-shipment-per-device constraint decided a race the locks did not see.
        raise DomainError(
            "device_in_other_shipment",
            _("A device of this list was put in another shipment at the same time. Try again."),
        ) from exc
    return shipment


def _item_mark_received(item: ShipmentItem, *, actor) -> None:
    item.received_at = timezone.now()
    item.received_by = actor
    tracked_save(item, actor=actor, reason=RECEIVE.action)


def shipment_receipt_record(*, actor, device: Device) -> ShipmentItem | None:
    """Mark the device's open shipment item received, whichever screen received the device.

    Called inside the receipt's transaction (see receivers.py). The item is closed even when
    a coordinator received the device at another workshop than the one addressed: the device
    has arrived somewhere, and an open item would block every later shipment of it.
    """
    item = (
        ShipmentItem.objects.select_for_update()
        .filter(device=device, received_at__isnull=True)
        .first()
    )
    if item is not None:
        _item_mark_received(item, actor=actor)
    return item


def shipment_receive(*, actor, shipment: Shipment, raw: str) -> ReceiptResult:
    """The workshop scans one device of the shipment: it is received (custody to the workshop).

    A device already received answers changed=False; a device that is not on this shipment's
    list is refused, even if it is otherwise receivable.
    """
    scope = user_scope(actor)
    require(permissions.may_receive(scope), _("Your role does not allow this move."))
    if not scope.sees_all and shipment.workshop_id != getattr(scope.organisation, "pk", None):
        raise DomainError("not_found", _("No such shipment."), status=404)
    try:
        code = code_from_scan(raw, settings.SITE_URL)
    except InvalidCode as exc:
        raise DomainError(
            f"code_{exc.reason}",
            SCAN_MESSAGES.get(f"code_{exc.reason}", _("This code is not valid.")),
            status=400,
        ) from exc
    with transaction.atomic():
        # The item row is locked so that two scans of one device (two phones, a double Enter)
        # are serialised: the second finds it received and changes nothing.
        item = (
            ShipmentItem.objects.select_for_update()
            .filter(shipment=shipment, device__label_code_id=code)
            .first()
        )
        if item is None:
            raise DomainError(
                "not_in_shipment",
                _(
                    "%(code)s is not in this shipment (%(reference)s). Put it aside and tell "
                    "the coordination."
                )
                % {"code": group_label_code(code), "reference": shipment.reference},
            )
        if item.received_at is not None:
            return ReceiptResult(item, changed=False)
        result = device_transition(
            actor=actor, device_id=item.device_id, action=RECEIVE.action, target=shipment.workshop
        )
        item.refresh_from_db(fields=["received_at", "received_by"])
        if item.received_at is None:
            # The device was already at the workshop (no move, so no signal): the scan still
            # confirms that this shipment's copy of it arrived.
            _item_mark_received(item, actor=actor)
        item.device = result.device
    return ReceiptResult(item, changed=True)
