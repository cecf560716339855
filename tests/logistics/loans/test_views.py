"""The loans' screens as each role uses them: the lists (all, overdue, per structure) with their
filters and a constant number of queries, one loan's page, its extension and its return."""

import datetime
import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.states import OrgKind, Status
from logistics.loans import services as loans
from logistics.loans.views import overdue_days
from logistics.models import LoanExtension, LoanItemOutcome, LoanReminder, LoanStatus
from tests.builders import make_organisation, reload
from tests.logistics.loans.conftest import bare_loan, move_dates

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:loan_list")
OVERDUE = reverse("logistics:loan_overdue")
TODAY = timezone.localdate


def detail_url(loan) -> str:
    return reverse("logistics:loan_detail", args=[loan.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def references(response) -> set[str]:
    return {loan.reference for loan in response.context["page"].object_list}


@pytest.fixture
def other_structure(db):
    return make_organisation(kind=OrgKind.STRUCTURE, name="Médiathèque Nanterre")


# Pure helpers


@pytest.mark.parametrize(
    ("status", "due_in", "expected"),
    [("open", -3, 3), ("open", 0, 0), ("open", 5, 0), ("ended", -3, 0)],
)
def test_overdue_days_count_only_open_loans_past_their_date(status, due_in, expected):
    today = datetime.date(2026, 3, 2)
    loan = type("L", (), {"status": status, "due_on": today + datetime.timedelta(days=due_in)})
    assert overdue_days(loan, today) == expected


# Who sees which loans


def test_each_role_lists_the_loans_it_may_read(
    login, coordinator, structure_staff, workshop_staff, kit, other_structure
):
    other = bare_loan(actor=coordinator, structure=other_structure)
    assert references(login(coordinator).get(LIST)) == {kit.reference, other.reference}
    assert references(login(structure_staff).get(LIST)) == {kit.reference}
    # The coordination handed the kit over, with no delivery: no workshop took part in it.
    assert references(login(workshop_staff).get(LIST)) == set()


def test_a_workshop_lists_the_loans_it_handed_over(
    login, coordinator, workshop_staff, workshop_org, structure_org
):
    loan = bare_loan(actor=coordinator, structure=structure_org)
    loan.hand_over.handed_by_organisation = workshop_org
    loan.hand_over.save()
    assert references(login(workshop_staff).get(LIST)) == {loan.reference}


def test_the_fund_and_donors_read_no_loan(login, fund_reader, donor_user, kit):
    for user in (fund_reader, donor_user):
        client = login(user)
        assert client.get(LIST).status_code == 403
        assert client.get(OVERDUE).status_code == 403
        assert client.get(detail_url(kit)).status_code == 403


def test_the_list_shows_a_loans_columns(login, coordinator, kit):
    loans.loan_extend(
        actor=coordinator,
        loan_id=kit.pk,
        due_on=kit.due_on + datetime.timedelta(days=14),
        reason="Atelier prolongé",
    )
    page = login(coordinator).get(LIST)
    row = re.search(rf'<tr role="row">\s*<th[^>]*><a class="code" href="{detail_url(kit)}">'
                    r"(.*?)</tr>", page.text, re.S)[1]  # fmt: skip
    assert kit.reference in row and "Centre social Antony" in row
    assert "3 of 3" in row
    assert re.search(r'data-label="Extensions">1</td>', row)
    assert "Overdue" not in row


def test_an_overdue_loan_says_so_in_words(login, coordinator, structure_staff, kit):
    move_dates(kit, due_in_days=-3)
    for user in (coordinator, structure_staff):
        assert "Overdue by 3 days" in login(user).get(LIST).text
        assert "Overdue by 3 days" in login(user).get(detail_url(kit)).text


def test_the_filters_narrow_the_list(login, coordinator, structure_org, other_structure):
    late = bare_loan(actor=coordinator, structure=structure_org, due_in_days=-5)
    current = bare_loan(actor=coordinator, structure=structure_org, due_in_days=5)
    ended = bare_loan(actor=coordinator, structure=other_structure, due_in_days=-20)
    ended.status = LoanStatus.ENDED
    ended.save()
    client = login(coordinator)
    assert references(client.get(LIST, {"status": "open"})) == {late.reference, current.reference}
    assert references(client.get(LIST, {"status": "ended"})) == {ended.reference}
    assert references(client.get(LIST, {"overdue": "on"})) == {late.reference}
    assert references(client.get(LIST, {"structure": other_structure.pk})) == {ended.reference}
    # The overdue list: open loans past their date only, the longest overdue first.
    assert references(client.get(OVERDUE)) == {late.reference}
    assert references(client.get(OVERDUE, {"structure": other_structure.pk})) == set()


def test_a_wrong_filter_is_shown_and_not_applied(login, coordinator, structure_org):
    loan = bare_loan(actor=coordinator, structure=structure_org)
    page = login(coordinator).get(LIST, {"status": "lost", "structure": "abc"})
    assert page.status_code == 200
    assert 'id="id_status_error"' in page.text
    assert references(page) == {loan.reference}


def test_a_structure_gets_no_structure_filter_and_its_own_overdue_list(
    login, coordinator, structure_staff, structure_org, other_structure
):
    mine = bare_loan(actor=coordinator, structure=structure_org, due_in_days=-2)
    bare_loan(actor=coordinator, structure=other_structure, due_in_days=-2)
    client = login(structure_staff)
    page = client.get(LIST)
    assert 'name="structure"' not in page.text
    # Its filter is ignored: it reads its own loans whatever it asks.
    assert references(client.get(OVERDUE, {"structure": other_structure.pk})) == {mine.reference}


def test_the_list_costs_the_same_queries_for_2_and_20_loans(
    login, coordinator, structure_staff, structure_org
):
    def queries_for(user, url: str, count: int) -> int:
        client = login(user)
        client.get(url)  # the session's first reads are not the list's
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url)
        assert len(page.context["page"].object_list) == count
        assert page.text.count("2 of 2") == count
        return len(queries)

    costs = {}
    made = 0
    for count in (2, 20):
        for _ in range(count - made):
            # All late: the overdue list holds them all too.
            bare_loan(actor=coordinator, structure=structure_org, devices=2, due_in_days=-made - 1)
            made += 1
        costs[count] = [
            queries_for(user, url, count)
            for user in (coordinator, structure_staff)
            for url in (LIST, OVERDUE)
        ]
    assert costs[2] == costs[20]


def test_the_list_pages_follow_each_other(login, coordinator, structure_org, monkeypatch):
    from logistics.loans import views

    monkeypatch.setattr(views, "PAGE_SIZE", 3)
    made = [
        bare_loan(actor=coordinator, structure=structure_org, due_in_days=day)
        for day in range(1, 8)
    ]
    client = login(coordinator)
    first = client.get(LIST)
    assert [loan.pk for loan in first.context["page"].object_list] == [m.pk for m in made[:3]]
    cursor = first.context["page"].next_cursor
    second = client.get(LIST, {"cursor": cursor})
    assert [loan.pk for loan in second.context["page"].object_list] == [m.pk for m in made[3:6]]


def test_an_empty_list_says_what_a_loan_is(login, coordinator, structure_staff):
    assert "No loan yet" in login(coordinator).get(LIST).text
    assert "No device has been lent to your structure yet" in login(structure_staff).get(LIST).text
    assert "No loan is overdue." in login(coordinator).get(OVERDUE).text


# One loan


def test_a_loans_page_shows_its_facts_devices_extensions_and_reminders(login, coordinator, kit):
    devices = [item.device for item in kit.items.order_by("id")]
    loans.loan_extend(
        actor=coordinator,
        loan_id=kit.pk,
        due_on=kit.due_on + datetime.timedelta(days=14),
        reason="Atelier prolongé",
    )
    previous = kit.due_on
    kit.refresh_from_db()
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=[devices[0].pk])
    LoanReminder.objects.create(loan=kit, stage="soon", due_on=kit.due_on, recipients=2)
    page = login(coordinator).get(detail_url(kit))
    assert page.status_code == 200
    text = page.text
    assert kit.reference in text and "Awa Diallo" in text
    assert "2 of 3 devices still out" in text
    for device in devices:
        assert device.label_display in text
    assert "Returned" in text and "Out" in text
    # The extension: who, when, why, the previous and the new date.
    extension = LoanExtension.objects.get(loan=kit)
    assert "Atelier prolongé" in text
    assert "coord" in text
    assert f"Due date moved from {previous:%m/%d/%Y} to {extension.due_on:%m/%d/%Y}" in text
    assert "Due in a week" in text and "(2 recipients)" in text
    hand_over = reverse("logistics:hand_over_detail", args=[kit.hand_over_id])
    if hand_over:
        assert f'href="{hand_over}"' in text


def test_another_structures_loan_is_not_found(login, coordinator, other_structure, structure_staff):
    other = bare_loan(actor=coordinator, structure=other_structure)
    assert login(structure_staff).get(detail_url(other)).status_code == 404
    missing = reverse("logistics:loan_detail", args=[99999])
    assert login(structure_staff).get(missing).status_code == 404


def test_the_actions_offered_depend_on_the_role(login, coordinator, structure_staff, kit):
    coordination = login(coordinator).get(detail_url(kit)).text
    assert reverse("logistics:loan_extend", args=[kit.pk]) in coordination
    assert reverse("logistics:loan_return", args=[kit.pk]) in coordination
    assert reverse("logistics:report_create") not in coordination
    structure = login(structure_staff).get(detail_url(kit)).text
    assert reverse("logistics:loan_extend", args=[kit.pk]) not in structure
    assert reverse("logistics:loan_return", args=[kit.pk]) not in structure
    # Its devices' one-tap reports, each one back to this page.
    assert structure.count(f'action="{reverse("logistics:report_create")}"') == 3 * 3
    assert f'name="next" value="{detail_url(kit)}"' in structure


# Extending


def extend_data(loan, **overrides) -> dict:
    return {
        "due_on": (loan.due_on + datetime.timedelta(days=21)).isoformat(),
        "reason": "La médiatrice est en congé",
        "version": str(loan.version),
    } | overrides


def test_the_coordination_extends_a_loan(login, coordinator, kit):
    client = login(coordinator)
    response = client.post(reverse("logistics:loan_extend", args=[kit.pk]), extend_data(kit))
    assert response.status_code == 302 and response["Location"] == detail_url(kit)
    before = kit.due_on
    new = before + datetime.timedelta(days=21)
    assert reload_loan(kit).due_on == new
    assert any("extended: now due on" in m for m in messages_of(response))
    extension = LoanExtension.objects.get(loan=kit)
    assert (extension.previous_due_on, extension.due_on) == (before, new)
    assert extension.extended_by == coordinator


def reload_loan(loan):
    loan.refresh_from_db()
    return loan


def test_an_extension_on_a_stale_page_is_refused(login, coordinator, kit):
    stale = extend_data(kit)
    colleagues = kit.due_on + datetime.timedelta(days=7)
    loans.loan_extend(
        actor=coordinator, loan_id=kit.pk, due_on=colleagues, reason="Un collègue l'a prolongé"
    )
    response = login(coordinator).post(reverse("logistics:loan_extend", args=[kit.pk]), stale)
    assert response.status_code == 302
    assert any("changed by someone else" in m for m in messages_of(response))
    assert reload_loan(kit).due_on == colleagues
    assert LoanExtension.objects.filter(loan=kit).count() == 1


def test_the_same_extension_sent_twice_is_recorded_once(login, coordinator, kit):
    client = login(coordinator)
    url = reverse("logistics:loan_extend", args=[kit.pk])
    data = extend_data(kit)
    client.post(url, data)
    again = client.post(url, data)
    assert any("nothing changed" in m for m in messages_of(again))
    assert LoanExtension.objects.filter(loan=kit).count() == 1


def test_a_wrong_extension_is_shown_on_its_field(login, coordinator, kit):
    client = login(coordinator)
    url = reverse("logistics:loan_extend", args=[kit.pk])
    earlier = client.post(url, extend_data(kit, due_on=kit.due_on.isoformat()))
    assert earlier.status_code == 400
    assert "The new due date must be after the current one." in earlier.text
    assert '<details class="note" open>' in earlier.text
    no_reason = client.post(url, extend_data(kit, reason="  "))
    assert no_reason.status_code == 400
    assert 'id="id_reason_error"' in no_reason.text
    lost_version = client.post(url, extend_data(kit, version=""))
    assert lost_version.status_code == 302
    assert not LoanExtension.objects.filter(loan=kit).exists()


def test_only_the_coordination_extends(login, structure_staff, workshop_staff, kit):
    url = reverse("logistics:loan_extend", args=[kit.pk])
    assert login(structure_staff).post(url, extend_data(kit)).status_code == 403
    assert login(workshop_staff).post(url, extend_data(kit)).status_code == 403
    assert login(structure_staff).get(url).status_code == 405


# Returning


def return_data(loan, choices: dict, **overrides) -> dict:
    data = {f"device-{device.pk}": outcome for device, outcome in choices.items()}
    return data | {"version": str(loan.version), "note": ""} | overrides


def test_a_return_is_recorded_device_by_device(login, coordinator, kit):
    back, missing, out = [item.device for item in kit.items.order_by("id")]
    response = login(coordinator).post(
        reverse("logistics:loan_return", args=[kit.pk]),
        return_data(kit, {back: "returned", missing: "lost", out: ""}),
    )
    assert response.status_code == 302
    texts = messages_of(response)
    assert any("1 device of" in m and "returned" in m for m in texts)
    assert any("declared lost" in m for m in texts)
    kit = reload_loan(kit)
    assert kit.status == LoanStatus.OPEN and kit.units_out == 1
    outcomes = dict(kit.items.values_list("device_id", "outcome"))
    assert outcomes == {back.pk: "returned", missing.pk: "lost", out.pk: LoanItemOutcome.OUT}
    assert reload(back).status == Status.RETURNED
    assert reload(missing).status == Status.LOST
    # The page now offers only the device still out.
    page = login(coordinator).get(detail_url(kit)).text
    assert f'name="device-{out.pk}"' in page and f'name="device-{back.pk}"' not in page


def test_the_last_device_back_ends_the_loan(login, coordinator, kit):
    devices = [item.device for item in kit.items.all()]
    response = login(coordinator).post(
        reverse("logistics:loan_return", args=[kit.pk]),
        return_data(kit, dict.fromkeys(devices, "returned")),
    )
    assert any("the loan has ended" in m for m in messages_of(response))
    assert reload_loan(kit).status == LoanStatus.ENDED
    page = login(coordinator).get(detail_url(kit)).text
    assert reverse("logistics:loan_return", args=[kit.pk]) not in page
    assert reverse("logistics:loan_extend", args=[kit.pk]) not in page


def test_the_same_return_sent_twice_is_recorded_once(login, coordinator, kit):
    device = kit.items.first().device
    client = login(coordinator)
    data = return_data(kit, {device: "returned"})
    client.post(reverse("logistics:loan_return", args=[kit.pk]), data)
    again = client.post(reverse("logistics:loan_return", args=[kit.pk]), data)
    assert any("already recorded" in m for m in messages_of(again))
    assert reload_loan(kit).units_out == 2


def test_a_return_on_a_stale_page_is_refused(login, coordinator, kit):
    first, second, _third = [item.device for item in kit.items.order_by("id")]
    stale = return_data(kit, {second: "returned"})
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=[first.pk])
    response = login(coordinator).post(reverse("logistics:loan_return", args=[kit.pk]), stale)
    assert any("changed by someone else" in m for m in messages_of(response))
    assert reload(second).status == Status.ON_LOAN


def test_a_return_with_nothing_chosen_says_so(login, coordinator, kit):
    response = login(coordinator).post(
        reverse("logistics:loan_return", args=[kit.pk]), return_data(kit, {})
    )
    assert response.status_code == 400
    assert "Choose the devices returned, or declared lost." in response.text
    assert reload_loan(kit).units_out == 3


def test_a_structure_does_not_record_returns(login, structure_staff, kit):
    device = kit.items.first().device
    response = login(structure_staff).post(
        reverse("logistics:loan_return", args=[kit.pk]), return_data(kit, {device: "returned"})
    )
    assert response.status_code == 403
    assert reload(device).status == Status.ON_LOAN
