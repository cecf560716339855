"""Scans: resolve scanned text to a device, record every scan (refused ones too) and apply a
move through the lifecycle door; a client id seen before replays its record."""

import unicodedata
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy as _

from inventory.errors import DomainError
from inventory.models import (
    Device,
    Organisation,
    ScanEvent,
    ScanResult,
)
from inventory.scanning.messages import SCAN_MESSAGES
from inventory.scanning.selectors import scan_lookup
from inventory.selectors import user_scope
from inventory.services import device_transition
from inventory.states import MOVES


@dataclass(frozen=True)
class ScanOutcome:
    event: ScanEvent
    device: Device | None
    replayed: bool = False

    @property
    def result(self) -> str:
        return self.event.result

    @property
    def error_code(self) -> str:
        return self.event.error_code

    @property
    def message(self) -> str:
        return self.event.detail


def _scan_replay(actor, client_id: str) -> ScanOutcome | None:
    if not client_id:
        return None
    event = ScanEvent.objects.select_related("device").filter(user=actor, client_id=client_id)
    event = event.first()
    return ScanOutcome(event, event.device, replayed=True) if event else None


def as_read(raw: str) -> str:
    """The scanned text as the record keeps it: control characters (a GS1 separator, a NUL)
    and lone surrogates shown as "\ufffd", which every database stores; 300 characters."""
    return "".join(
        "\ufffd" if unicodedata.category(char) in ("Cc", "Cs") else char
        for char in (raw or "")[:300]
    )


def _scan_save(actor, **fields) -> ScanOutcome:
    """Record a scan: one INSERT. A client id seen before fails on its unique key, and its
    first record is replayed (read only then, instead of before every scan)."""
    fields["raw"] = as_read(fields.get("raw", ""))
    # Alone, the INSERT is its own transaction; inside a caller's, a savepoint keeps that
    # transaction usable when the key is taken.
    inside = transaction.atomic() if connection.in_atomic_block else nullcontext()
    try:
        with inside:
            event = ScanEvent.objects.create(
                user=actor, organisation=user_scope(actor).organisation, **fields
            )
    except IntegrityError:
        replay = _scan_replay(actor, fields.get("client_id", ""))
        if replay is None:
            raise
        return replay
    return ScanOutcome(event, fields.get("device"))


def device_scan(
    *, actor, raw: str, client_id: str = "", client_time=None, batch: str = ""
) -> ScanOutcome:
    """Resolve scanned text to a device this user may see, and record the scan.

    Statements: the look-up of the code (the device joined to the relations its card and
    reply show; an unknown code asks whether it was issued), and the record's INSERT; a
    client id seen before reads its first record instead."""
    lookup = scan_lookup(actor, raw)
    return _scan_save(
        actor,
        raw=raw,
        device=lookup.device,
        result=lookup.result,
        error_code=lookup.error_code,
        detail=str(SCAN_MESSAGES.get(lookup.error_code, "")),
        client_id=client_id,
        client_time=client_time,
        batch=batch,
    )


def scan_apply(
    *,
    actor,
    raw: str,
    action: str,
    target: Organisation | None = None,
    note: str = "",
    client_id: str = "",
    client_time=None,
    batch: str = "",
) -> ScanOutcome:
    """Scan a device and apply one move to it; refusals are recorded with their code.

    A client id already recorded for this user replays that record: uploading the same batch
    again applies nothing twice. Statements for a scan that moves its device: the look-up of
    the code, then in one transaction the move (device_transition, in its savepoint: locked
    read, UPDATE, history INSERT) and the record's INSERT with its result.
    """
    raw = (raw or "")[:300]
    record = {
        "raw": raw,
        "action": action,
        "client_id": client_id,
        "client_time": client_time,
        "batch": batch,
    }
    lookup = scan_lookup(actor, raw)
    if lookup.device is None and batch and lookup.result == ScanResult.UNKNOWN:
        # The move of this very batch may have taken the device out of the user's sight
        # (returned to its donor, sent elsewhere): a second scan of it is "already done".
        earlier = (
            ScanEvent.objects.filter(
                user=actor, batch=batch, action=action, result=ScanResult.APPLIED
            )
            .filter(device__label_code_id=lookup.code)
            .first()
        )
        if earlier is not None:
            return _scan_save(
                actor,
                device=earlier.device,
                result=ScanResult.ALREADY_DONE,
                detail=str(_("Already done.")),
                **record,
            )
    if lookup.device is None:
        return _scan_save(
            actor,
            result=lookup.result,
            error_code=lookup.error_code,
            detail=str(SCAN_MESSAGES.get(lookup.error_code, "")),
            **record,
        )
    try:
        with transaction.atomic():
            # The move first, then its record with the result, in one transaction. A client
            # id recorded before (or being recorded by a concurrent upload, which this INSERT
            # waits for) fails on its unique key: the whole transaction, the move with it, is
            # rolled back and the first record replayed, so nothing is applied twice.
            outcome = device_transition(
                actor=actor, device_id=lookup.device.pk, action=action, target=target, note=note
            )
            if outcome.changed:
                result = ScanResult.APPLIED
                detail = str(_("Done: %(move)s.") % {"move": MOVES[action].label})
            else:
                result = ScanResult.ALREADY_DONE
                detail = str(_("Already done."))
            event = ScanEvent.objects.create(
                user=actor,
                organisation=user_scope(actor).organisation,
                device=outcome.device,
                result=result,
                detail=detail,
                **record,
            )
            return ScanOutcome(event, outcome.device)
    except DomainError as exc:
        return _scan_save(
            actor,
            device=lookup.device,
            result=ScanResult.REFUSED,
            error_code=exc.code,
            detail=str(exc.message)[:300],
            **record,
        )
    except IntegrityError:
        replay = _scan_replay(actor, client_id)
        if replay is None:
            raise
        return replay
