"""Loans after the hand-over: extensions (who, when, why), returns device by device (a kit
comes back in parts; a missing device is declared lost and the rest stays on loan), the daily
e-mail reminders, and what a structure reports of a device it holds.

A returned device comes back through the lifecycle's `return_loan` (a scan at a workshop or
at the depot, the device page, the API's transition, or loan_return here): the receiver of
`device_moved` closes its loan item whichever door it came through, and the device goes
through the workshop again (a new erasure is required before it is ready)."""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from inventory.codes import group_label_code
from inventory.errors import DomainError, invalid
from inventory.history import tracked_save
from inventory.models import Device
from inventory.permissions import require
from inventory.selectors import user_scope
from inventory.services import device_transition
from inventory.states import Status
from logistics import permissions
from logistics.models import (
    DeviceReport,
    Loan,
    LoanExtension,
    LoanItem,
    LoanItemOutcome,
    LoanReminder,
    LoanStatus,
    ReminderStage,
    ReportKind,
)
from logistics.picking import ids_of

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
MAX_LOAN_DAYS = 731
MAX_DEVICES = 500

# The reminders' stages: days from the due date at which each one is due. The daily command
# sends, for each open loan, only the latest stage reached (a missed day does not send three).
REMINDER_OFFSETS: tuple[tuple[str, int], ...] = (
    (ReminderStage.SOON, -7),
    (ReminderStage.DUE, 0),
    (ReminderStage.LATE, 7),
    (ReminderStage.VERY_LATE, 30),
)


def _loan_not_found() -> DomainError:
    return DomainError("not_found", _("No such loan."), status=404)


def _locked_loan(actor, loan_id) -> Loan:
    from logistics.loans.selectors import loans_visible_to

    try:
        pk = int(loan_id)
    except (TypeError, ValueError):
        raise _loan_not_found() from None
    if not loans_visible_to(actor).filter(pk=pk).exists():
        raise _loan_not_found()
    return Loan.objects.select_for_update().get(pk=pk)


def _stale(loan: Loan) -> DomainError:
    return DomainError(
        "stale",
        _("This loan was changed by someone else since you read it. Reload it and try again."),
        status=412,
        version=loan.version,
    )


def _reason(value, errors: dict, *, required: bool = True) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        errors["reason"] = [_("Say why.")]
    elif len(text) > MAX_TEXT:
        errors["reason"] = [_("At most %(max)s characters.") % {"max": MAX_TEXT}]
    return text


def loan_extend(
    *, actor, loan_id, due_on: datetime.date | None, reason: str, version: int | None = None
) -> Loan:
    """Move the due date later, with who, when and why; `version` (the API's If-Match) refuses
    an edit made on a stale read with 412."""
    scope = user_scope(actor)
    require(permissions.may_extend_loans(scope), _("Only the coordination extends loans."))
    errors: dict = {}
    reason = _reason(reason, errors)
    if not isinstance(due_on, datetime.date):
        errors["due_on"] = [_("Enter the new due date.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        loan = _locked_loan(actor, loan_id)
        if version is not None and version != loan.version:
            raise _stale(loan)
        if loan.status != LoanStatus.OPEN:
            raise DomainError("loan_ended", _("This loan has ended: nothing to extend."))
        if due_on <= loan.due_on:
            raise invalid({"due_on": [_("The new due date must be after the current one.")]})
        if (due_on - timezone.localdate()).days > MAX_LOAN_DAYS:
            raise invalid({"due_on": [_("At most two years from today.")]})
        LoanExtension.objects.create(
            loan=loan,
            previous_due_on=loan.due_on,
            due_on=due_on,
            reason=reason,
            extended_by=actor,
        )
        loan.due_on = due_on
        loan.version += 1
        tracked_save(loan, actor=actor, reason="loan_extend", note=reason)
    return loan


def loan_item_close(*, actor, device: Device, outcome: str) -> LoanItem | None:
    """Inside the device's move (see receivers.py): its open loan item is closed, returned or
    lost; the loan ends when no device of it is still out. The loan's row is locked, so that
    two devices of one kit returned at two benches count down one after the other."""
    loan_id = (
        LoanItem.objects.filter(device=device, outcome=LoanItemOutcome.OUT)
        .values_list("loan_id", flat=True)
        .first()
    )
    if loan_id is None:
        return None
    loan = Loan.objects.select_for_update().get(pk=loan_id)
    item = (
        LoanItem.objects.select_for_update()
        .filter(loan=loan, device=device, outcome=LoanItemOutcome.OUT)
        .first()
    )
    if item is None:
        return None
    item.outcome = outcome
    item.closed_at = timezone.now()
    item.closed_by = actor
    tracked_save(item, actor=actor, reason=f"loan_{outcome}")
    loan.units_out = max(loan.units_out - 1, 0)
    loan.version += 1
    if loan.units_out == 0:
        loan.status = LoanStatus.ENDED
        loan.ended_at = item.closed_at
    tracked_save(loan, actor=actor, reason=f"loan_{outcome}")
    return item


def loan_return(
    *,
    actor,
    loan_id,
    returned: Iterable = (),
    lost: Iterable = (),
    note: str = "",
    version: int | None = None,
) -> Loan:
    """Record a loan's return at the bench or the depot, all or nothing: the devices returned
    (each through `return_loan`, into the actor's custody) and those missing (declared lost);
    the loan stays open for the rest of a kit."""
    scope = user_scope(actor)
    require(
        permissions.may_record_returns(scope),
        _("Only the coordination and the workshops record returns."),
    )
    errors: dict = {}
    note = _reason(note, errors, required=False)
    returned_ids = _device_ids(returned, "returned", errors)
    lost_ids = _device_ids(lost, "lost", errors)
    if not errors and not returned_ids and not lost_ids:
        errors["returned"] = [_("Choose the devices returned, or declared lost.")]
    if set(returned_ids) & set(lost_ids):
        errors["lost"] = [_("A device cannot be both returned and lost.")]
    if errors:
        raise invalid(errors)
    with transaction.atomic():
        loan = _locked_loan(actor, loan_id)
        if version is not None and version != loan.version:
            raise _stale(loan)
        out = set(
            LoanItem.objects.filter(loan=loan, outcome=LoanItemOutcome.OUT).values_list(
                "device_id", flat=True
            )
        )
        strangers = sorted((set(returned_ids) | set(lost_ids)) - out)
        if strangers:
            # Named by label code only when they were on this loan: another organisation's
            # device, named by its id, is not for the actor to learn the code of.
            codes = dict(
                LoanItem.objects.filter(loan=loan, device_id__in=strangers).values_list(
                    "device_id", "device__label_code_id"
                )
            )
            shown = [group_label_code(codes[pk]) if pk in codes else str(pk) for pk in strangers]
            raise DomainError(
                "not_on_loan",
                _("Nothing was recorded: %(codes)s not out on this loan.")
                % {"codes": ", ".join(shown)},
                devices=strangers,
            )
        for device_id in sorted(set(returned_ids) | set(lost_ids)):
            device_transition(
                actor=actor,
                device_id=device_id,
                action="return_loan" if device_id in returned_ids else "declare_lost",
                note=note or loan.reference,
            )
        loan.refresh_from_db()
    return loan


def _device_ids(values, field: str, errors: dict) -> list[int]:
    if values is None:
        return []
    ids = ids_of(values)
    if ids is None:
        errors[field] = [_("Give a list of device ids.")]
        return []
    if len(ids) > MAX_DEVICES:
        errors[field] = [_("At most %(max)s devices.") % {"max": MAX_DEVICES}]
    return ids


# What a structure reports ---------------------------------------------------------------------

# Which report a device's status allows.
REPORTABLE = {
    ReportKind.RETURN: frozenset({Status.ON_LOAN}),
    ReportKind.END_OF_LIFE: frozenset({Status.GIVEN}),
    ReportKind.BROKEN: frozenset({Status.ON_LOAN, Status.GIVEN}),
    ReportKind.LOST: frozenset({Status.ON_LOAN, Status.GIVEN}),
}


def device_report_create(
    *, actor, device_id, kind: str, note: str = ""
) -> tuple[DeviceReport, bool]:
    """A structure announces a loan's return or a gift's end of life, or reports a device broken
    or lost. A loss is declared at once (the loan item closes as lost; the rest of a kit stays
    on loan). The same report twice changes nothing (changed=False)."""
    scope = user_scope(actor)
    require(permissions.may_report_devices(scope), _("Only a structure reports its devices."))
    errors: dict = {}
    if kind not in ReportKind.values:
        errors["kind"] = [_("Choose what to report.")]
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_TEXT:
        errors["note"] = [_("At most %(max)s characters.") % {"max": MAX_TEXT}]
    try:
        pk = int(device_id)
    except (TypeError, ValueError):
        pk = None
        errors["device"] = [_("Choose the device.")]
    if errors:
        raise invalid(errors)
    try:
        with transaction.atomic():
            # The device's row is locked: two taps on one report are serialised, the second
            # finds the first's report.
            device = (
                Device.objects.select_for_update()
                .filter(pk=pk, custodian=scope.organisation)
                .first()
            )
            if device is None:
                raise DomainError("not_found", _("No such device."), status=404)
            existing = DeviceReport.objects.filter(device=device, closed_at__isnull=True).first()
            if existing is not None:
                if existing.kind == kind:
                    return existing, False
                raise DomainError(
                    "report_open",
                    _("This device already has an open report (%(kind)s).")
                    % {"kind": ReportKind(existing.kind).label.lower()},
                )
            if kind == ReportKind.LOST and device.status == Status.LOST:
                # A loss closes its report at once (the device's move closes it): a second
                # tap finds that report, not a refusal.
                earlier = (
                    DeviceReport.objects.filter(device=device, kind=ReportKind.LOST)
                    .order_by("-created_at", "-id")
                    .first()
                )
                if earlier is not None:
                    return earlier, False
            if device.status not in REPORTABLE[kind]:
                raise DomainError(
                    "report_not_applicable",
                    _("This cannot be reported of a device that is “%(status)s”.")
                    % {"status": Status(device.status).label},
                )
            report = DeviceReport(
                device=device,
                structure=scope.organisation,
                kind=kind,
                note=note,
                created_by=actor,
            )
            tracked_save(report, actor=actor, reason="device_report", note=note)
            if kind == ReportKind.LOST:
                device_transition(
                    actor=actor, device_id=device.pk, action="declare_lost", note=note
                )
                report.refresh_from_db()
    except IntegrityError as exc:
        raise DomainError(
            "report_open", _("This device was reported at the same time. Reload the page.")
        ) from exc
    return report, True


def device_report_close_for(*, actor, device: Device, how: str) -> None:
    """Inside the device's move: its open report is dealt with (returned, collected, lost)."""
    report = (
        DeviceReport.objects.select_for_update()
        .filter(device=device, closed_at__isnull=True)
        .first()
    )
    if report is None:
        return
    report.closed_at = timezone.now()
    report.closed_by = actor
    report.closing_note = how
    tracked_save(report, actor=actor, reason="device_report_close", note=how)


def device_report_close(*, actor, report_id, note: str) -> DeviceReport:
    """The coordination closes a report it dealt with otherwise (a repair on site, say)."""
    scope = user_scope(actor)
    require(permissions.may_close_reports(scope), _("Only the coordination closes reports."))
    errors: dict = {}
    note = _reason(note, errors)
    if errors:
        raise invalid({"note": errors["reason"]})
    with transaction.atomic():
        report = DeviceReport.objects.select_for_update().filter(pk=report_id).first()
        if report is None:
            raise DomainError("not_found", _("No such report."), status=404)
        if report.closed_at is not None:
            return report
        report.closed_at = timezone.now()
        report.closed_by = actor
        report.closing_note = note
        tracked_save(report, actor=actor, reason="device_report_close", note=note)
    return report


# Reminders ------------------------------------------------------------------------------------


def reminder_stage(due_on: datetime.date, today: datetime.date) -> str | None:
    """The latest reminder stage reached on `today` for a loan due on `due_on` (pure)."""
    reached = None
    for stage, offset in REMINDER_OFFSETS:
        if today >= due_on + datetime.timedelta(days=offset):
            reached = stage
    return reached


def _recipients(loan: Loan) -> list[str]:
    users = (
        get_user_model()
        .objects.filter(is_active=True, membership__organisation_id=loan.structure_id)
        .exclude(email="")
    )
    emails = sorted({user.email for user in users})
    contact = loan.structure.contact_email
    if contact and contact not in emails:
        emails.append(contact)
    return emails


def loan_reminders_send(*, today: datetime.date | None = None) -> dict[str, int]:
    """Send each open loan's reminder for the latest stage it reached, once per loan, stage
    and due date: the reminder's row is claimed (unique) before the e-mail goes, so a second
    run, even a concurrent one, sends nothing new. A send that fails gives its claim back,
    and the next run tries again."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=-REMINDER_OFFSETS[0][1])
    counts = {"sent": 0, "already": 0, "no_recipient": 0, "failed": 0}
    loans = (
        Loan.objects.filter(status=LoanStatus.OPEN, due_on__lte=horizon)
        .select_related("structure", "hand_over")
        .order_by("due_on", "id")
    )
    for loan in loans.iterator(chunk_size=500):
        stage = reminder_stage(loan.due_on, today)
        if stage is None:
            continue
        try:
            with transaction.atomic():
                reminder = LoanReminder.objects.create(loan=loan, stage=stage, due_on=loan.due_on)
        except IntegrityError:
            counts["already"] += 1
            continue
        recipients = _recipients(loan)
        if not recipients:
            # Recorded all the same: the coordination's overdue list shows the loan.
            counts["no_recipient"] += 1
            continue
        try:
            _reminder_send(loan, stage, recipients, today)
        except Exception:  # noqa: BLE001 (any mail failure: give the claim back, retry tomorrow)
            logger.exception("loan reminder %s/%s could not be sent", loan.pk, stage)
            reminder.delete()
            counts["failed"] += 1
            continue
        LoanReminder.objects.filter(pk=reminder.pk).update(recipients=len(recipients))
        counts["sent"] += 1
    return counts


def _reminder_send(loan: Loan, stage: str, recipients: list[str], today: datetime.date) -> None:
    items = list(
        LoanItem.objects.filter(loan=loan, outcome=LoanItemOutcome.OUT)
        .select_related("device", "device__category")
        .order_by("id")
    )
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "loan": loan,
            "stage": stage,
            "items": items,
            "days_late": (today - loan.due_on).days,
            "days_left": (loan.due_on - today).days,
            "network_name": settings.NETWORK_NAME,
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("loans/reminder_subject.txt", context).strip()
        body = render_to_string("loans/reminder_email.txt", context)
    send_mail(subject=subject, message=body, from_email=None, recipient_list=recipients)
