"""A device's timeline, read from its history rows: who, when, what changed and why.

The device's own rows (one query for the rows with their users and the users' organisations,
and up to two for the organisations and categories they name that the device row has not
loaded) and the rows of its bench records (one query per kind of record, two for a device that
never had a reconditioning, and one for the checklist lines unless the caller read them),
whatever the length of either.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from inventory.codes import group_label_code
from inventory.models import (
    Category,
    Device,
    ErasureRecord,
    LockCheck,
    LockKind,
    Organisation,
    Reconditioning,
    Repair,
    StorageMedium,
    TestItem,
    TestResult,
)
from inventory.states import MOVES, Status

# What each lifecycle move reads as once done (the moves' own labels are what a button says).
DONE_LABELS = {
    "send_to_workshop": pgettext_lazy("history", "Sent to a workshop"),
    "receive_at_workshop": pgettext_lazy("history", "Received at the workshop"),
    "start_reconditioning": pgettext_lazy("history", "Reconditioning started"),
    "mark_ready": pgettext_lazy("history", "Declared ready for reuse"),
    "reserve": pgettext_lazy("history", "Reserved for a need"),
    "release_reservation": pgettext_lazy("history", "Reservation released"),
    "hand_over_gift": pgettext_lazy("history", "Handed over as a gift"),
    "lend": pgettext_lazy("history", "Lent"),
    "return_loan": pgettext_lazy("history", "Loan returned"),
    "collect_end_of_life": pgettext_lazy("history", "Collected at end of life (WEEE)"),
    "recycle": pgettext_lazy("history", "Recycled (WEEE)"),
    "dismantle": pgettext_lazy("history", "Dismantled for parts"),
    "return_to_donor": pgettext_lazy("history", "Returned to the donor"),
    "declare_lost": pgettext_lazy("history", "Declared lost or stolen"),
}

# Reasons written by services other than lifecycle moves.
REASON_LABELS = {
    "register": _("Registered"),
    "import": _("Registered from the donor's spreadsheet"),
    "save": _("Edited"),
}

# The fields a reader cares about first; the others follow in model order.
FIRST_FIELDS = ("status", "custodian")


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    who: str
    organisation: str
    action: str
    what: str
    note: str
    changes: list[Change] = field(default_factory=list)
    is_creation: bool = False


def _who(user) -> tuple[str, str]:
    if user is None:
        return str(_("System")), ""
    membership = getattr(user, "membership", None)
    organisation = membership.organisation.name if membership is not None else ""
    return user.get_full_name() or user.get_username(), organisation


def action_label(reason: str) -> str:
    """What a person reads for a history row's reason or a cycle's outcome: never the code."""
    if reason in DONE_LABELS:
        return str(DONE_LABELS[reason])
    if reason in MOVES:
        return str(MOVES[reason].label)
    if reason in REASON_LABELS:
        return str(REASON_LABELS[reason])
    return str(_("Changed"))


class _Display:
    """Turns raw historical values (ids, codes) into what a person reads."""

    def __init__(self, rows, device: Device):
        # What the device row has already read (its custodian, donor, category) is not read
        # again: a device that never changed hands costs no query here.
        self.organisations = {
            organisation.pk: organisation
            for name in ("custodian", "donor")
            if Device._meta.get_field(name).is_cached(device)
            and (organisation := getattr(device, name)) is not None
        }
        self.categories = (
            {device.category_id: device.category}
            if Device._meta.get_field("category").is_cached(device)
            else {}
        )
        org_ids = {getattr(row, name) for row in rows for name in ("custodian_id", "donor_id")}
        org_ids -= {None, *self.organisations}
        category_ids = {row.category_id for row in rows} - set(self.categories)
        if org_ids:
            self.organisations |= Organisation.objects.in_bulk(org_ids)
        if category_ids:
            self.categories |= Category.objects.in_bulk(category_ids)
        self.model_fields = {f.name: f for f in Device._meta.get_fields() if f.concrete}

    def label(self, name: str) -> str:
        model_field = self.model_fields.get(name)
        return capfirst(str(model_field.verbose_name) if model_field is not None else name)

    def value(self, name: str, value) -> str:
        if value is None or value == "":
            return "—"
        if name == "status":
            return str(Status(value).label) if value in Status.values else str(value)
        if name in ("custodian", "donor"):
            organisation = self.organisations.get(value)
            return organisation.name if organisation else str(_("Deleted organisation"))
        if name == "category":
            category = self.categories.get(value)
            return category.name if category else str(value)
        if name == "label_code":
            return group_label_code(value)
        model_field = self.model_fields.get(name)
        if model_field is not None and model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        return str(value)

    def change(self, name: str, old, new) -> Change:
        return Change(self.label(name), self.value(name, old), self.value(name, new))

    @staticmethod
    def order(name: str) -> tuple[int, str]:
        return (FIRST_FIELDS.index(name), "") if name in FIRST_FIELDS else (len(FIRST_FIELDS), name)


def device_timeline(device: Device, *, items=None) -> list[TimelineEntry]:
    """Every recorded change of the device and of its bench records, newest first. `items`:
    the category's checklist lines, all of them, when the caller has read them."""
    entries = _device_entries(device) + bench_entries(device, items=items)
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries


def _device_entries(device: Device) -> list[TimelineEntry]:
    rows = list(
        device.history.select_related("history_user__membership__organisation").order_by(
            "history_date", "history_id"
        )
    )
    display = _Display(rows, device)
    entries = []
    previous = None
    for row in rows:
        who, organisation = _who(row.history_user)
        if previous is None:
            # The creation: what a reader needs is where the device started.
            changes = [
                display.change(name, None, getattr(row, attname))
                for name, attname in (("status", "status"), ("custodian", "custodian_id"))
            ]
        else:
            delta = row.diff_against(previous)
            changes = [
                display.change(c.field, c.old, c.new)
                for c in sorted(delta.changes, key=lambda c: display.order(c.field))
            ]
        entries.append(
            TimelineEntry(
                when=row.history_date,
                who=who,
                organisation=organisation,
                action=row.history_change_reason or "",
                what=action_label(row.history_change_reason or ""),
                note=getattr(row, "history_note", "") or "",
                changes=changes,
                is_creation=previous is None,
            )
        )
        previous = row
    return entries


# Bench records: rows written together (one form, one service call) read as one entry.
BENCH_GROUP_SECONDS = 120
BENCH_TITLES = {
    LockCheck: _("Lock checks"),
    TestResult: _("Functional tests"),
    StorageMedium: _("Storage medium"),
    ErasureRecord: _("Erasure"),
    Repair: _("Repair"),
    Reconditioning: _("Reconditioning"),
}


# Records that belong to a reconditioning (a required link): none exists for a device that
# never had one, and their history is not read then. Every cycle is created with its history
# row (simple-history; no bulk writes on tracked models), so no history row means no cycle.
CYCLE_RECORDS = (LockCheck, TestResult, ErasureRecord, Repair)


def _bench_rows(device: Device):
    """Each kind of bench record with its history rows, oldest first: the cycles' rows first
    (one query), then the media's, and the others' only when the device had a cycle."""
    related = "history_user__membership__organisation"

    def rows(query):
        return list(query.select_related(related).order_by("history_date", "history_id"))

    cycles = rows(Reconditioning.history.filter(device=device))
    queries = {
        LockCheck: lambda: LockCheck.history.filter(reconditioning__device=device),
        TestResult: lambda: TestResult.history.filter(reconditioning__device=device),
        StorageMedium: lambda: StorageMedium.history.filter(device=device),
        ErasureRecord: lambda: ErasureRecord.history.filter(medium__device=device),
        Repair: lambda: Repair.history.filter(reconditioning__device=device),
    }
    for model, query in queries.items():
        if model in CYCLE_RECORDS and not cycles:
            yield model, []
        else:
            yield model, rows(query())
    yield Reconditioning, cycles


def _choice(model, name: str, value) -> str:
    field = model._meta.get_field(name)
    return str(dict(field.flatchoices).get(value, value)) if value not in (None, "") else "—"


def _bench_changes(model, row, previous, items) -> list[Change]:
    if model is LockCheck:
        old = _choice(LockCheck, "outcome", previous.outcome) if previous else "—"
        return [
            Change(str(LockKind(row.kind).label), old, _choice(LockCheck, "outcome", row.outcome))
        ]
    if model is TestResult:
        item = items.get(row.item_id)
        old = _choice(TestResult, "outcome", previous.outcome) if previous else "—"
        label = item.label if item else str(row.item_id)
        return [Change(label, old, _choice(TestResult, "outcome", row.outcome))]
    if model is StorageMedium:
        described = " ".join(
            part
            for part in (
                _choice(StorageMedium, "kind", row.kind),
                row.manufacturer,
                row.serial_number,
            )
            if part
        )
        old = _choice(StorageMedium, "state", previous.state) if previous else "—"
        return [Change(described, old, _choice(StorageMedium, "state", row.state))]
    if model is ErasureRecord:
        method = _choice(ErasureRecord, "method", row.method)
        level = _choice(ErasureRecord, "level", row.level)
        tool = f"{row.tool} {row.tool_version}".strip()
        label = f"{method} ({level}){' · ' + tool if tool else ''}"
        return [Change(label, "—", _choice(ErasureRecord, "result", row.result))]
    if model is Repair:
        cost = f"{row.cost} €" if row.cost is not None else "—"
        return [Change(row.part, "—", cost)]
    changes = []
    for name in ("grade", "battery_health", "os_installed", "outcome"):
        old = getattr(previous, name) if previous else None
        new = getattr(row, name)
        if old != new and (new not in (None, "") or previous is not None):
            field = Reconditioning._meta.get_field(name)
            if name == "outcome":
                # The move that closed the cycle, kept as its action code.
                value = action_label(new) if new else "—"
                old_value = action_label(old) if old else "—"
            else:
                value = _choice(Reconditioning, name, new) if field.choices else (new or "—")
                old_value = (_choice(Reconditioning, name, old) if field.choices else old) or "—"
            changes.append(Change(capfirst(str(field.verbose_name)), str(old_value), str(value)))
    return changes


def bench_entries(device: Device, *, items=None) -> list[TimelineEntry]:
    """The bench records' history rows, grouped by kind, author and time."""
    entries: list[TimelineEntry] = []
    if items is None:
        # The checklist lines, read in one query whether or not any test was recorded.
        items = TestItem.objects.filter(category_id=device.category_id)
    items = {item.pk: item for item in items}
    for model, rows in _bench_rows(device):
        last_of: dict[int, object] = {}
        group: list = []
        for row in rows:
            previous = last_of.get(row.id)
            last_of[row.id] = row
            changes = _bench_changes(model, row, previous, items)
            if not changes:
                continue
            head = group[0] if group else None
            if (
                head is not None
                and head[0].history_user_id == row.history_user_id
                and (row.history_date - head[0].history_date).total_seconds() <= BENCH_GROUP_SECONDS
            ):
                group.append((row, changes))
                continue
            if group:
                entries.append(_bench_entry(model, group))
            group = [(row, changes)]
        if group:
            entries.append(_bench_entry(model, group))
    return entries


def _bench_entry(model, group) -> TimelineEntry:
    first = group[0][0]
    who, organisation = _who(first.history_user)
    return TimelineEntry(
        when=first.history_date,
        who=who,
        organisation=organisation,
        action=first.history_change_reason or "",
        what=str(BENCH_TITLES[model]),
        note="",
        changes=[change for _row, changes in group for change in changes],
    )
