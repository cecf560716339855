"""What a scanned text designates for a user, and the scans a user recorded."""

from dataclasses import dataclass

from django.conf import settings

from inventory.codes import InvalidCode, code_from_scan
from inventory.models import (
    Device,
    LabelCode,
    ScanEvent,
    ScanResult,
)
from inventory.selectors import returning_device, visible_device


@dataclass(frozen=True)
class ScanLookup:
    """What a scanned text designates for this user: a device, or why not."""

    result: str  # a ScanResult value
    device: Device | None = None
    code: str = ""
    error_code: str = ""


def scan_lookup(user, raw: str) -> ScanLookup:
    code = ""
    try:
        code = code_from_scan(raw, settings.SITE_URL)
    except InvalidCode as exc:
        return ScanLookup(ScanResult.INVALID, code=exc.code, error_code=f"code_{exc.reason}")
    device = visible_device(user, code=code) or returning_device(user, code=code)
    if device is not None:
        return ScanLookup(ScanResult.FOUND, device=device, code=code)
    # An issued code with no device is a pre-printed label waiting to be bound; a device the
    # user may not see is reported exactly like an unknown code (404 semantics).
    issued = LabelCode.objects.filter(code=code, device__isnull=True).exists()
    if issued:
        return ScanLookup(ScanResult.UNASSIGNED, code=code, error_code="code_unassigned")
    return ScanLookup(ScanResult.UNKNOWN, code=code, error_code="code_unknown")


def recent_scans(user, *, limit: int = 20):
    return (
        ScanEvent.objects.filter(user=user)
        .select_related("device", "device__category")
        .order_by("-scanned_at", "-id")[:limit]
    )


def batch_scans(user, batch: str):
    """The scans of one batch-mode session, oldest first, with a count per result."""
    events = list(
        ScanEvent.objects.filter(user=user, batch=batch)
        .select_related("device", "device__category")
        .order_by("scanned_at", "id")
    )
    summary: dict[str, int] = {}
    for event in events:
        summary[event.result] = summary.get(event.result, 0) + 1
    return events, summary
