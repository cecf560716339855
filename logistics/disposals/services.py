"""WEEE exits: recycled devices handed to an éco-organisme in batches, and the register of them.

A batch is one line of the WEEE register (date, quantity and weight, destination, document
reference), kept at least three years. Devices keep their "recycled" status; the batch item
records that they left, and its one-to-one key lets each device leave once. The device's
`awaiting_disposal` flag, cleared here, keeps the list of those still waiting out of the history.
"""

import datetime
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Device
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.states import Status
from logistics import permissions
from logistics.models import DisposalBatch, DisposalItem
from logistics.picking import (
    DeviceProblem,
    device_problem,
    problems_text,
    requested_lock,
    requested_split,
)

# A cage of phones can hold a few hundred; more in one batch is more likely a wrong selection.
MAX_DEVICES = 1000
MAX_WEIGHT_KG = Decimal("9999999.99")  # the column's nine digits
REASON = "disposal_create"


# Services


def _refused(problems: list[DeviceProblem]) -> DomainError:
    """One error for the whole batch; its code is the problems' code when they share one."""
    codes = {problem.code for problem in problems}
    code = codes.pop() if len(codes) == 1 else "devices_refused"
    lines = problems_text(problems)
    return DomainError(
        code,
        _("Nothing was recorded. %(problems)s") % {"problems": lines},
        problems=problems,
    )


def _clean_weight(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        weight = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return None
    return weight if weight.is_finite() else None


def _check_fields(
    *, eco_organisation: str, left_on, weight: Decimal | None, document_reference: str
) -> None:
    errors: dict[str, list] = {}
    if not eco_organisation:
        errors["eco_organisation"] = [_("Name the eco-organisation.")]
    elif len(eco_organisation) > 120:
        errors["eco_organisation"] = [_("At most 120 characters.")]
    if not document_reference:
        errors["document_reference"] = [
            _("Give the reference of the document the collector signed (pick-up note, BSD).")
        ]
    elif len(document_reference) > 120:
        errors["document_reference"] = [_("At most 120 characters.")]
    if not isinstance(left_on, datetime.date):
        errors["left_on"] = [_("Give the date the devices left.")]
    elif left_on > timezone.localdate():
        # The register records what has left, not a planned collection.
        errors["left_on"] = [_("The date of removal cannot be in the future.")]
    if weight is None:
        errors["weight_kg"] = [_("Give the weight in kilograms.")]
    elif weight <= 0 or weight > MAX_WEIGHT_KG:
        errors["weight_kg"] = [_("The weight is a number of kilograms greater than zero.")]
    elif weight != weight.quantize(Decimal("0.01")):
        errors["weight_kg"] = [_("At most two decimals (10 g).")]
    if errors:
        raise invalid(errors)


def disposal_create(
    *,
    actor,
    eco_organisation: str,
    left_on: datetime.date,
    weight_kg,
    document_reference: str,
    devices: Iterable[int | str | Device],
    collector: str = "",
    notes: str = "",
) -> DisposalBatch:
    """Record recycled devices (ids or label codes) leaving as one batch: all, or none."""
    scope = user_scope(actor)
    require(
        permissions.may_dispose(scope),
        _("Only the coordination and the workshops record WEEE disposals."),
    )
    eco_organisation = (eco_organisation or "").strip()
    document_reference = (document_reference or "").strip()
    weight = _clean_weight(weight_kg)
    _check_fields(
        eco_organisation=eco_organisation,
        left_on=left_on,
        weight=weight,
        document_reference=document_reference,
    )
    ids, codes, problems = requested_split(devices)
    if not ids and not codes and not problems:
        raise DomainError(
            "no_devices",
            _("Choose at least one recycled device."),
            status=400,
            fields={"devices": [_("Choose at least one recycled device.")]},
        )
    try:
        with transaction.atomic():
            # The device rows are locked before any check: a concurrent disposal of the same
            # device waits here, then finds it already in a batch.
            locked, missing = requested_lock(actor, ids, codes)
            problems += missing
            found = {device.pk for device in locked}
            items = DisposalItem.objects.filter(device_id__in=found)
            gone = dict(items.values_list("device_id", "batch_id"))
            for device in locked:
                if device.pk in gone:
                    problems.append(
                        device_problem(
                            device,
                            "already_disposed",
                            _("it already left in %(reference)s.")
                            % {"reference": DisposalBatch(pk=gone[device.pk]).reference},
                        )
                    )
                elif device.status != Status.RECYCLED:
                    problems.append(
                        device_problem(
                            device,
                            "not_recycled",
                            _(
                                "its status is “%(status)s”; only devices marked recycled "
                                "leave as WEEE."
                            )
                            % {"status": Status(device.status).label},
                        )
                    )
            if problems:
                raise _refused(problems)
            if len(locked) > MAX_DEVICES:
                raise invalid(
                    {"devices": [_("At most %(max)s devices per batch.") % {"max": MAX_DEVICES}]}
                )
            batch = DisposalBatch(
                eco_organisation=eco_organisation,
                collector=(collector or "").strip()[:200],
                left_on=left_on,
                weight_kg=weight,
                document_reference=document_reference,
                organisation=scope.organisation,
                created_by=actor,
                notes=(notes or "").strip(),
            )
            tracked_save(batch, actor=actor, reason=REASON)
            for device in locked:
                tracked_save(DisposalItem(batch=batch, device=device), actor=actor, reason=REASON)
            # Off the list of devices awaiting a disposal, in the same transaction as the items.
            # One UPDATE of the flag alone, on rows locked above: the flag is no part of the
            # device's history (the batch item's history row records the exit).
            Device.objects.filter(pk__in=[device.pk for device in locked]).update(
                awaiting_disposal=False
            )
    except IntegrityError as exc:
        # The one-to-one on the device decided a race the locks did not see (a write that
        # took no lock): the other batch has the device, this one records nothing.
        raise DomainError(
            "already_disposed",
            _("A device of this list was recorded in another disposal at the same time."),
        ) from exc
    return batch
