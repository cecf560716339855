"""The home page of each role: counts per status and what waits for the user."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import Role
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import (
    ATTESTED,
    make_device,
    make_donation,
    make_user,
    record_reconditioning,
    to_bench,
)


def test_coordinator_sees_registered_devices_to_dispatch(login, coordinator):
    for _ in range(3):
        make_device(actor=coordinator)
    response = login(coordinator).get(reverse("home"))
    assert response.status_code == 200
    waiting = {item["status"]: item for item in response.context["waiting"]}
    assert set(waiting) == {Status.REGISTERED, Status.RETURNED, Status.ON_LOAN}
    assert waiting[Status.REGISTERED]["count"] == 3
    # A count and a link to the filtered list: the list is one tap away.
    assert waiting[Status.REGISTERED]["devices"] == []
    assert f"{reverse('inventory:device_list')}?status=registered" in response.text


def test_workshop_sees_the_devices_sent_to_it(login, workshop_staff, workshop_device):
    response = login(workshop_staff).get(reverse("home"))
    assert response.status_code == 200
    waiting = {item["status"]: item for item in response.context["waiting"]}
    assert list(waiting) == [
        Status.REGISTERED,
        Status.SENT_TO_WORKSHOP,
        Status.AT_WORKSHOP,
        Status.IN_RECONDITIONING,
    ]
    assert [d.pk for d in waiting[Status.SENT_TO_WORKSHOP]["devices"]] == [workshop_device.pk]
    assert waiting[Status.AT_WORKSHOP]["count"] == 0


def test_workshop_counts_only_its_own_custody(
    login, coordinator, workshop_staff, workshop_device, other_org_device
):
    make_device(actor=coordinator)
    response = login(workshop_staff).get(reverse("home"))
    assert response.context["total"] == 1


def test_structure_sees_the_devices_it_holds_in_its_space(login, structure_staff, lent_device):
    # logistics registers the structure's space as its home (inventory.web.home_pages).
    response = login(structure_staff).get(reverse("home"))
    assert response.status_code == 200
    assert "structure_space/home.html" in [t.name for t in response.templates]
    assert [d.pk for d in response.context["devices"]] == [lent_device.pk]


def test_fund_reader_sees_network_wide_counts_but_no_device(
    login, coordinator, fund_reader, workshop_device
):
    make_device(actor=coordinator)
    response = login(fund_reader).get(reverse("home"))
    assert response.status_code == 200
    # The fund's home is its dashboard (logistics registers it): figures, never devices.
    assert "fund_reports/dashboard.html" in [t.name for t in response.templates]
    assert response.context["period"].end == timezone.localdate()
    # Neither rows nor links to the list: funds read aggregates only.
    assert workshop_device.label_code_id not in response.text
    assert reverse("inventory:device_list") not in response.text


def test_user_without_organisation_is_told_to_contact_the_coordinator(login, db):
    response = login(make_user()).get(reverse("home"))
    assert response.status_code == 200
    assert "inventory/home_no_organisation.html" in [t.name for t in response.templates]
    assert reverse("inventory:device_list") not in response.text


def test_navigation_offers_only_what_the_role_may_use(
    login, coordinator, workshop_staff, structure_staff, fund_reader, coordinator_org
):
    register = reverse("inventory:device_register")
    devices = reverse("inventory:device_list")
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    expectations = [
        (coordinator, True, True),
        (workshop_staff, True, True),
        (structure_staff, True, False),
        (reader, True, False),
        (fund_reader, False, False),
    ]
    for user, sees_list, may_register in expectations:
        page = login(user).get(reverse("home")).text
        assert (f'href="{devices}"' in page) is sees_list, user
        assert (f'href="{register}"' in page) is may_register, user


def test_header_names_the_organisation_and_role(login, workshop_staff):
    page = login(workshop_staff).get(reverse("home")).text
    assert "ECODAIR" in page
    assert str(Role.MEMBER.label) in page


def test_language_switcher_posts_and_comes_back_to_the_same_page(login, coordinator):
    client = login(coordinator)
    page = client.get(reverse("home")).text
    assert f'action="{reverse("set_language")}"' in page
    assert 'name="language" value="en"' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": "/devices/"})
    assert response.status_code == 302
    assert response["Location"] == "/devices/"
    assert response.cookies["django_language"].value == "en"


def test_every_page_has_a_skip_link_and_a_main_landmark(login, coordinator):
    page = login(coordinator).get(reverse("home")).text
    assert 'href="#main"' in page
    assert '<main id="main"' in page
    assert 'aria-current="page"' in page


# The coordination's home leads to action; the workshop's is its queue.


def todo_of(response) -> dict:
    return {key: item["count"] for key, item in response.context["todo"].items()}


def test_the_coordination_sees_what_to_do_next_with_counts_and_links(
    login, coordinator, workshop_staff, workshop_org, donor_org
):
    complete = make_donation(
        actor=coordinator,
        donor=donor_org,
        expected_count=1,
        received_count=1,
        **ATTESTED,
    )
    laptop = make_device(actor=coordinator, donation=complete)
    to_bench(coordinator, laptop, workshop_org)
    record_reconditioning(actor=workshop_staff, device=laptop)
    # Announced 5, counted 4, nothing attested: a mismatch and an incomplete attestation.
    make_donation(actor=coordinator, donor=donor_org, expected_count=5, received_count=4)
    response = login(coordinator).get(reverse("home"))
    assert todo_of(response) == {"certificates": 1, "attestations": 1, "counts": 1}
    certificate = reverse("inventory:donation_certificate", args=[complete.pk])
    assert f'href="{certificate}"' in response.text
    donations = reverse("inventory:donation_list")
    for todo in ("certificate", "attestation", "counts"):
        assert f"{donations}?todo={todo}" in response.text
    # Once issued, the certificate is no longer to do.
    login(coordinator).post(certificate)
    assert todo_of(login(coordinator).get(reverse("home")))["certificates"] == 0


def test_the_donation_lists_the_home_links_to_hold_what_it_counted(login, coordinator, donor_org):
    mismatch = make_donation(actor=coordinator, donor=donor_org, expected_count=5, received_count=4)
    agreed = make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    client = login(coordinator)
    listed = client.get(reverse("inventory:donation_list"), {"todo": "counts"})
    assert [d.pk for d in listed.context["page"].object_list] == [mismatch.pk]
    listed = client.get(reverse("inventory:donation_list"), {"todo": "attestation"})
    assert [d.pk for d in listed.context["page"].object_list] == [mismatch.pk]
    listed = client.get(reverse("inventory:donation_list"), {"todo": "certificate"})
    assert list(listed.context["page"].object_list) == []
    listed = client.get(reverse("inventory:donation_list"), {"todo": "anything"})
    assert {d.pk for d in listed.context["page"].object_list} == {mismatch.pk, agreed.pk}


def home_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "persona", ["coordinator", "workshop_staff", "structure_staff", "fund_reader"]
)
def test_the_home_costs_the_same_queries_for_few_and_many_devices_and_donations(
    request, login, persona, coordinator, workshop_staff, workshop_org, donor_org, lent_device
):
    def add(count: int) -> None:
        # Each round: a donation with a device to ship, one sent to the workshop, and one in
        # reconditioning with a partial record (every preview and "what is missing" is read).
        for _ in range(count):
            donation = make_donation(actor=coordinator, donor=donor_org, received_count=3)
            make_device(actor=coordinator, donation=donation)
            sent = make_device(actor=coordinator, donation=donation)
            device_transition(
                actor=coordinator, device_id=sent.pk, action="send_to_workshop", target=workshop_org
            )
            started = make_device(actor=coordinator, donation=donation)
            to_bench(coordinator, started, workshop_org)
            record_reconditioning(actor=workshop_staff, device=started, grade="")

    client = login(request.getfixturevalue(persona))
    add(1)
    few = home_queries(client)
    add(6)
    many = home_queries(client)
    assert few == many


def test_the_workshops_home_is_its_queue_by_next_step(
    login, coordinator, workshop_staff, workshop_org, collected
):
    at_bench = make_device(actor=coordinator)
    to_bench(coordinator, at_bench, workshop_org)
    record_reconditioning(actor=workshop_staff, device=at_bench, grade="")
    response = login(workshop_staff).get(reverse("home"))
    waiting = {item["status"]: item for item in response.context["waiting"]}
    # The laptop it collected itself waits to be taken in at its bench.
    assert [d.pk for d in waiting[Status.REGISTERED]["devices"]] == [collected["laptop"].pk]
    (device,) = waiting[Status.IN_RECONDITIONING]["devices"]
    assert [problem.code for problem in device.missing] == ["grade_missing"]
    assert 'data-code="grade_missing"' in response.text
    assert reverse("logistics:workshop_queue") in response.text
    # The queue first; the counts per status are the device list's business.
    assert "counts-heading" not in response.text
