"""Reads of the reconditioning record: the bench record of a device's current cycle, and the
stored tool report of an erasure."""

from dataclasses import dataclass, field

from django.db.models import F

from inventory.models import (
    Device,
    ErasureRecord,
    ErasureResult,
    LockKind,
    LockOutcome,
    MediumState,
    Reconditioning,
    StorageMedium,
    TestItem,
)


@dataclass
class MediumView:
    medium: StorageMedium
    erasures: list = field(default_factory=list)
    status: str = "missing"  # passed | destroyed | destruction_required | new | missing | earlier


@dataclass
class BenchRecord:
    """A device's reconditioning as the bench and the device page show it."""

    cycle: Reconditioning | None
    locks: list  # (kind, label, LockCheck | None)
    media: list[MediumView]
    checklist: list  # (TestItem, TestResult | None)
    repairs: list
    in_france: bool | None = None

    @property
    def locks_checked(self) -> int:
        return sum(1 for _k, _l, check in self.locks if check is not None)

    @property
    def blocked(self) -> bool:
        return any(c is not None and c.outcome == LockOutcome.BLOCKED for _k, _l, c in self.locks)


def bench_record(device: Device) -> BenchRecord:
    """Everything recorded in the device's current cycle (the open one, else the last)."""
    cycle = (
        Reconditioning.objects.filter(device=device)
        .select_related("workshop")
        .order_by(F("completed_at").desc(nulls_first=True), "-id")
        .first()
    )
    checks, results, repairs, erasures = {}, {}, [], []
    if cycle is not None:
        checks = {c.kind: c for c in cycle.lock_checks.select_related("checked_by", "organisation")}
        results = {
            r.item_id: r for r in cycle.test_results.select_related("tested_by", "organisation")
        }
        repairs = list(cycle.repairs.select_related("performed_by", "organisation"))
        erasures = list(cycle.erasures.select_related("operator", "organisation"))
    media = []
    for medium in device.media.all():
        view = MediumView(medium, [e for e in erasures if e.medium_id == medium.pk])
        results_of = {e.result for e in view.erasures}
        if medium.state == MediumState.DESTROYED:
            view.status = "destroyed" if view.erasures else "earlier"
        elif results_of & {ErasureResult.FAILED, ErasureResult.UNVERIFIABLE}:
            view.status = "destruction_required"
        elif ErasureResult.PASSED in results_of:
            view.status = "passed"
        elif medium.is_new and medium.state == MediumState.IN_DEVICE:
            view.status = "new"
        media.append(view)
    items = TestItem.objects.filter(category_id=device.category_id, is_active=True)
    organisations = [c.organisation for c in checks.values()] + [e.organisation for e in erasures]
    organisations += [r.organisation for r in results.values()] + [r.organisation for r in repairs]
    organisations = [org for org in organisations if org is not None]
    in_france = all(org.country == "FR" for org in organisations) if organisations else None
    return BenchRecord(
        cycle=cycle,
        locks=[(kind, label, checks.get(kind)) for kind, label in LockKind.choices],
        media=media,
        checklist=[(item, results.get(item.pk)) for item in items],
        repairs=repairs,
        in_france=in_france,
    )


def erasure_report_open(erasure: ErasureRecord):
    """The stored tool report, open for reading; None when there is none or the file is gone
    from the media storage (answered as missing, never as a server error)."""
    if not erasure.report:
        return None
    try:
        return erasure.report.open("rb")
    except FileNotFoundError:
        return None
