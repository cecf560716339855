"""What a structure reports of a device it holds, in one tap (a return announced, an end of
life, a breakage, a loss), and the coordination's list of open reports with their closing."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from inventory.services import device_transition
from inventory.states import OrgKind, Status
from logistics.loans import services as loans
from logistics.models import DeviceReport, LoanItemOutcome, ReportKind
from tests.builders import make_organisation, make_user, reload

pytestmark = pytest.mark.django_db

CREATE = reverse("logistics:report_create")
LIST = reverse("logistics:report_list")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def tap(client, device, kind: str, **extra):
    return client.post(CREATE, {"device": device.pk, "kind": kind, "next": "/"} | extra)


def test_a_return_announced_twice_is_recorded_once(login, structure_staff, kit):
    device = kit.items.first().device
    loan_page = reverse("logistics:loan_detail", args=[kit.pk])
    client = login(structure_staff)
    first = tap(client, device, "return", next=loan_page)
    assert first.status_code == 302 and first["Location"] == loan_page
    assert any("reported (Return of a loan announced)" in m for m in messages_of(first))
    second = tap(client, device, "return", next=loan_page)
    assert second["Location"] == loan_page
    info = messages_of(second)[-1]
    assert "already reported" in info and "nothing changed" in info
    assert DeviceReport.objects.filter(device=device).count() == 1
    # The loan's page now says it was reported instead of offering the buttons again.
    page = client.get(loan_page).text
    assert "Reported to the coordination on" in page


def test_a_loss_is_declared_at_once_and_a_second_tap_is_no_error(login, structure_staff, kit):
    device = kit.items.order_by("id").first().device
    client = login(structure_staff)
    first = tap(client, device, "lost", note="Oublié dans le bus")
    assert any("declared lost or stolen" in m for m in messages_of(first))
    assert reload(device).status == Status.LOST
    item = kit.items.get(device=device)
    assert item.outcome == LoanItemOutcome.LOST
    kit.refresh_from_db()
    assert kit.units_out == 2
    second = tap(client, device, "lost")
    assert "already reported" in messages_of(second)[-1]
    assert DeviceReport.objects.filter(device=device).count() == 1


def test_the_service_answers_a_second_loss_with_the_first_report(structure_staff, kit):
    device = kit.items.first().device
    report, changed = loans.device_report_create(
        actor=structure_staff, device_id=device.pk, kind=ReportKind.LOST
    )
    assert changed
    again, changed = loans.device_report_create(
        actor=structure_staff, device_id=device.pk, kind=ReportKind.LOST
    )
    assert (again.pk, changed) == (report.pk, False)


def test_a_second_report_of_another_kind_is_a_warning(login, structure_staff, kit):
    device = kit.items.first().device
    client = login(structure_staff)
    tap(client, device, "return")
    response = tap(client, device, "broken")
    assert "already has an open report" in messages_of(response)[-1]
    assert DeviceReport.objects.get(device=device).kind == ReportKind.RETURN


def test_a_gifts_end_of_life_is_reported(login, structure_staff, gift):
    response = tap(login(structure_staff), gift, "end_of_life")
    assert response.status_code == 302
    report = DeviceReport.objects.get(device=gift)
    assert report.kind == ReportKind.END_OF_LIFE and report.closed_at is None
    # A gift has no return to announce.
    refused = tap(login(structure_staff), gift, "return")
    assert any("already has an open report" in m for m in messages_of(refused))


def test_a_report_that_does_not_apply_is_refused_in_words(login, structure_staff, gift):
    response = tap(login(structure_staff), gift, "return")
    [warning] = messages_of(response)
    assert "cannot be reported" in warning
    assert not DeviceReport.objects.exists()


def test_another_structures_device_is_not_found(login, structure_staff, coordinator, at_workshop):
    other = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    assert tap(login(other), at_workshop, "broken").status_code == 404
    assert tap(login(structure_staff), at_workshop, "broken").status_code == 404


def test_only_structures_report(login, coordinator, workshop_staff, kit):
    device = kit.items.first().device
    for user in (coordinator, workshop_staff):
        assert tap(login(user), device, "broken").status_code == 403
    assert login(coordinator).get(CREATE).status_code == 405


def test_a_report_goes_back_only_to_this_site(login, structure_staff, kit):
    device = kit.items.first().device
    response = tap(login(structure_staff), device, "broken", next="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_an_unreadable_report_is_refused_without_a_trace(login, structure_staff, kit):
    response = login(structure_staff).post(CREATE, {"device": "x", "kind": "return"})
    assert response.status_code == 302
    assert any("could not be read" in m for m in messages_of(response))
    assert not DeviceReport.objects.exists()


# The coordination's list


@pytest.fixture
def reported(structure_staff, kit, gift):
    """Two open reports: a return announced on the kit, an end of life of the gift."""
    device = kit.items.order_by("id").first().device
    loans.device_report_create(actor=structure_staff, device_id=device.pk, kind="return")
    loans.device_report_create(
        actor=structure_staff, device_id=gift.pk, kind="end_of_life", note="Écran cassé"
    )
    return {"loan": device, "gift": gift}


def test_the_coordination_lists_the_open_reports(login, coordinator, reported):
    page = login(coordinator).get(LIST)
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [report.device_id for report in rows] == [reported["gift"].pk, reported["loan"].pk]
    text = page.text
    for device in reported.values():
        assert device.label_display in text
    assert "Centre social Antony" in text and "Écran cassé" in text
    assert "End of life (for WEEE collection)" in text
    assert text.count(reverse("logistics:report_close", args=[rows[0].pk])) == 1


def test_a_report_closes_when_the_device_comes_back(login, coordinator, reported):
    device_transition(actor=coordinator, device_id=reported["loan"].pk, action="return_loan")
    rows = login(coordinator).get(LIST).context["page"].object_list
    assert [report.device_id for report in rows] == [reported["gift"].pk]
    closed = login(coordinator).get(LIST, {"closed": "1"}).context["page"].object_list
    assert len(closed) == 2


def test_the_coordination_closes_a_report_with_a_note(login, coordinator, reported):
    report = DeviceReport.objects.get(device=reported["gift"])
    client = login(coordinator)
    url = reverse("logistics:report_close", args=[report.pk])
    refused = client.post(url, {"note": " "})
    assert any("To close the report" in m for m in messages_of(refused))
    response = client.post(url, {"note": "Collecté par Envie 92"})
    assert response["Location"] == LIST
    report.refresh_from_db()
    assert report.closed_by == coordinator and report.closing_note == "Collecté par Envie 92"
    again = client.post(url, {"note": "Collecté par Envie 92"})
    assert again.status_code == 302


def test_a_structure_reads_its_reports_and_closes_none(login, structure_staff, reported):
    client = login(structure_staff)
    page = client.get(LIST)
    assert page.status_code == 200 and len(page.context["page"].object_list) == 2
    assert "Close the report" not in page.text
    report = DeviceReport.objects.first()
    url = reverse("logistics:report_close", args=[report.pk])
    assert client.post(url, {"note": "ok"}).status_code == 403


def test_workshops_and_the_fund_read_no_report(login, workshop_staff, fund_reader, reported):
    for user in (workshop_staff, fund_reader):
        assert login(user).get(LIST).status_code == 403


def test_the_list_is_empty_in_words(login, coordinator):
    assert "No open report: nothing waits." in login(coordinator).get(LIST).text
