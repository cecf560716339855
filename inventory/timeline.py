"""A device's timeline, read from its history rows: who, when, what changed and why.

Three queries whatever the length of the history: the rows with their users and the users'
organisations, then the organisations and the categories that the rows name.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .codes import group_label_code
from .models import Category, Device, Organisation
from .states import MOVES, Status

# Reasons written by services other than lifecycle moves.
REASON_LABELS = {
    "register": _("Registered"),
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


def _reason_label(reason: str) -> str:
    if reason in MOVES:
        return str(MOVES[reason].label)
    if reason in REASON_LABELS:
        return str(REASON_LABELS[reason])
    return reason or str(_("Changed"))


class _Display:
    """Turns raw historical values (ids, codes) into what a person reads."""

    def __init__(self, rows):
        org_ids = {getattr(row, name) for row in rows for name in ("custodian_id", "donor_id")}
        org_ids.discard(None)
        category_ids = {row.category_id for row in rows}
        self.organisations = Organisation.objects.in_bulk(org_ids) if org_ids else {}
        self.categories = Category.objects.in_bulk(category_ids) if category_ids else {}
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


def device_timeline(device: Device) -> list[TimelineEntry]:
    """Every recorded change of the device, newest first."""
    rows = list(
        device.history.select_related("history_user__membership__organisation").order_by(
            "history_date", "history_id"
        )
    )
    display = _Display(rows)
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
                what=_reason_label(row.history_change_reason or ""),
                note=getattr(row, "history_note", "") or "",
                changes=changes,
                is_creation=previous is None,
            )
        )
        previous = row
    entries.reverse()
    return entries
