"""Reads of the reconditioning record: the bench record of a device's current cycle, and the
stored tool report of an erasure."""

from dataclasses import dataclass, field

from django.db.models import F, Prefetch

from inventory.models import (
    Device,
    ErasureRecord,
    ErasureResult,
    LockCheck,
    LockKind,
    LockOutcome,
    MediumState,
    Reconditioning,
    Repair,
    StorageMedium,
    TestItem,
    TestResult,
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


def checklist_items(device: Device) -> list[TestItem]:
    """Every checklist line of the device's category, retired ones too (the timeline names the
    results recorded against them); bench_record keeps the active ones."""
    return list(TestItem.objects.filter(category_id=device.category_id))


def bench_record(device: Device, *, items: list[TestItem] | None = None) -> BenchRecord:
    """Everything recorded in the device's current cycle (the open one, else the last).

    `items`: the category's checklist lines when the caller has read them (checklist_items).
    The cycle's checks, results, repairs and erasures are prefetched on it, so that the "ready"
    guards can read them again without a query (ready.guards_prepare_from_record)."""
    cycle = (
        Reconditioning.objects.filter(device=device)
        .select_related("workshop")
        .prefetch_related(
            Prefetch("lock_checks", LockCheck.objects.select_related("checked_by", "organisation")),
            Prefetch(
                "test_results", TestResult.objects.select_related("tested_by", "organisation")
            ),
            Prefetch("repairs", Repair.objects.select_related("performed_by", "organisation")),
            Prefetch("erasures", ErasureRecord.objects.select_related("operator", "organisation")),
        )
        .order_by(F("completed_at").desc(nulls_first=True), "-id")
        .first()
    )
    checks, results, repairs, erasures = {}, {}, [], []
    if cycle is not None:
        checks = {c.kind: c for c in cycle.lock_checks.all()}
        results = {r.item_id: r for r in cycle.test_results.all()}
        repairs = list(cycle.repairs.all())
        erasures = list(cycle.erasures.all())
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
    if items is None:
        items = TestItem.objects.filter(category_id=device.category_id, is_active=True)
    else:
        items = [item for item in items if item.is_active]
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
