"""The daily reminder command: one e-mail per loan, stage and due date, whatever the number of
runs; a missed run sends only the latest stage; an extension starts the stages again; a loan
without a recipient is recorded; a failed send is tried again on the next run."""

import datetime
import io

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from logistics.loans import services as loans
from logistics.loans.services import reminder_stage
from logistics.models import LoanReminder, ReminderStage
from tests.logistics.loans.conftest import move_dates

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 3, 2)


def run(date: datetime.date | None = None) -> str:
    out = io.StringIO()
    args = ["--date", date.isoformat()] if date else []
    call_command("send_loan_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def reachable(structure_staff):
    structure_staff.email = "mediation@centre-antony.example"
    structure_staff.save()
    return structure_staff


@pytest.mark.parametrize(
    ("days_from_due", "stage"),
    [
        (-8, None),
        (-7, ReminderStage.SOON),
        (-1, ReminderStage.SOON),
        (0, ReminderStage.DUE),
        (6, ReminderStage.DUE),
        (7, ReminderStage.LATE),
        (29, ReminderStage.LATE),
        (30, ReminderStage.VERY_LATE),
        (400, ReminderStage.VERY_LATE),
    ],
)
def test_the_stage_reached_is_the_latest_one(days_from_due, stage):
    assert reminder_stage(TODAY, TODAY + datetime.timedelta(days=days_from_due)) == stage


@pytest.mark.parametrize(
    ("due_in_days", "subject", "body"),
    [
        (7, "devices to return by", "in 7 days"),
        (0, "devices to return today", "is due today"),
        (-7, "is a week late", "it is 7 days late"),
        (-30, "is a month late", "Other structures are waiting for these devices"),
    ],
)
def test_each_stage_has_its_own_wording(reachable, kit, due_in_days, subject, body):
    move_dates(kit, due_in_days=due_in_days)
    run()
    [message] = mail.outbox
    assert kit.reference in message.subject and subject in message.subject
    assert body in message.body
    assert message.to == ["mediation@centre-antony.example"]


def test_the_email_lists_the_devices_still_out_and_links_to_the_loan(
    settings, coordinator, reachable, kit
):
    settings.SITE_URL = "https://reemploi.example.org"
    back, *out = [item.device for item in kit.items.order_by("id")]
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=[back.pk])
    move_dates(kit, due_in_days=0)
    run()
    [message] = mail.outbox
    for device in out:
        assert f"- {device.label_display} · {device.category.name}" in message.body
    assert back.label_display not in message.body
    url = "https://reemploi.example.org" + reverse("logistics:loan_detail", args=[kit.pk])
    assert url in message.body


def test_a_second_run_sends_nothing_new(reachable, kit):
    move_dates(kit, due_in_days=0)
    first = run()
    assert "Reminders sent: 1;" in first
    second = run()
    assert "Reminders sent: 0; already sent before: 1;" in second
    assert len(mail.outbox) == 1
    reminder = LoanReminder.objects.get(loan=kit)
    assert (reminder.stage, reminder.due_on, reminder.recipients) == ("due", kit.due_on, 1)


def test_a_missed_week_sends_only_the_latest_stage(reachable, kit):
    move_dates(kit, due_in_days=-10)
    run()
    assert len(mail.outbox) == 1
    assert list(LoanReminder.objects.values_list("stage", flat=True)) == ["late"]


def test_the_days_run_by_one_by_one_send_each_stage_once(reachable, kit):
    move_dates(kit, due_in_days=10)
    due = kit.due_on
    for offset in range(-10, 35):
        run(due + datetime.timedelta(days=offset))
    stages = list(LoanReminder.objects.order_by("id").values_list("stage", flat=True))
    assert stages == ["soon", "due", "late", "very_late"]
    assert len(mail.outbox) == 4


def test_an_extension_starts_the_stages_again(coordinator, reachable, kit):
    move_dates(kit, due_in_days=0)
    run()
    new_due = timezone.localdate() + datetime.timedelta(days=20)
    loans.loan_extend(actor=coordinator, loan_id=kit.pk, due_on=new_due, reason="Congés")
    assert "Reminders sent: 0;" in run()
    run(new_due - datetime.timedelta(days=7))
    assert mail.outbox[-1].subject.endswith(f"devices to return by {date_format(new_due)}")
    assert set(LoanReminder.objects.values_list("stage", "due_on")) == {
        ("due", timezone.localdate()),
        ("soon", new_due),
    }


def test_a_loan_without_a_recipient_is_recorded_and_nothing_is_sent(
    login, coordinator, structure_staff, kit
):
    move_dates(kit, due_in_days=-7)
    output = run()
    assert "no e-mail address: 1;" in output
    assert mail.outbox == []
    reminder = LoanReminder.objects.get(loan=kit)
    assert reminder.recipients == 0
    page = login(coordinator).get(reverse("logistics:loan_detail", args=[kit.pk])).text
    assert "A week late" in page and "(no e-mail address to send it to)" in page
    assert "no e-mail address: 0;" in run()


def test_the_structures_contact_address_is_a_recipient(structure_org, kit):
    structure_org.contact_email = "contact@centre-antony.example"
    structure_org.save()
    move_dates(kit, due_in_days=0)
    run()
    assert mail.outbox[0].to == ["contact@centre-antony.example"]


def test_a_failed_send_gives_its_claim_back_and_the_next_run_sends(reachable, kit, monkeypatch):
    move_dates(kit, due_in_days=0)

    def broken(**kwargs):
        raise OSError("SMTP server unreachable")

    monkeypatch.setattr(loans, "send_mail", broken)
    with pytest.raises(CommandError, match="1 reminder could not be sent"):
        run()
    assert not LoanReminder.objects.exists()
    monkeypatch.undo()
    assert "Reminders sent: 1;" in run()
    assert len(mail.outbox) == 1


def test_an_ended_loan_is_not_reminded(coordinator, reachable, kit):
    move_dates(kit, due_in_days=-7)
    loans.loan_return(
        actor=coordinator, loan_id=kit.pk, returned=[i.device_id for i in kit.items.all()]
    )
    assert "Reminders sent: 0; already sent before: 0;" in run()


def test_a_wrong_date_is_refused(db):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_loan_reminders", "--date", "02/03/2026")
