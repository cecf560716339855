"""The home page of each role: counts per status and what waits for the user."""

from django.urls import reverse

from inventory.models import Role
from inventory.states import Status
from tests.builders import make_device, make_user


def test_coordinator_sees_registered_devices_to_dispatch(login, coordinator):
    devices = [make_device(actor=coordinator) for _ in range(3)]
    response = login(coordinator).get(reverse("home"))
    assert response.status_code == 200
    waiting = {item["status"]: item for item in response.context["waiting"]}
    assert set(waiting) == {Status.REGISTERED, Status.RETURNED}
    assert waiting[Status.REGISTERED]["count"] == 3
    assert {d.pk for d in waiting[Status.REGISTERED]["devices"]} == {d.pk for d in devices}
    assert f"{reverse('inventory:device_list')}?status=registered" in response.text


def test_workshop_sees_the_devices_sent_to_it(login, workshop_staff, workshop_device):
    response = login(workshop_staff).get(reverse("home"))
    assert response.status_code == 200
    waiting = {item["status"]: item for item in response.context["waiting"]}
    assert list(waiting) == [
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


def test_structure_sees_the_devices_it_holds(login, structure_staff, lent_device):
    response = login(structure_staff).get(reverse("home"))
    assert response.status_code == 200
    waiting = {item["status"]: item for item in response.context["waiting"]}
    assert list(waiting) == [Status.ON_LOAN, Status.GIVEN]
    assert waiting[Status.ON_LOAN]["count"] == 1
    assert [d.pk for d in waiting[Status.ON_LOAN]["devices"]] == [lent_device.pk]


def test_fund_reader_sees_network_wide_counts_but_no_device(
    login, coordinator, fund_reader, workshop_device
):
    make_device(actor=coordinator)
    response = login(fund_reader).get(reverse("home"))
    assert response.status_code == 200
    assert response.context["total"] == 2
    assert response.context["waiting"] == []
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
