"""The funding programmes' screens: the coordination records and changes them (a stale change
refused with the service's words), a fund reads its own; an approval counts its allocations in
a programme chosen on the run's page, or shows why it cannot."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import Role
from logistics.allocations.services import matching_run_create
from logistics.funding.services import programme_create
from logistics.funding.views import programme_state
from logistics.handovers.services import hand_over_create
from logistics.models import Allocation, FundingProgramme, MatchingRun, RunStatus
from tests.builders import accepted_need, make_organisation, make_user, ready_devices

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:programme_list")
NEW = reverse("logistics:programme_create")


@pytest.fixture(autouse=True)
def in_english(settings):
    # The screens' words as written in the code (the French catalogue is filled later).
    settings.LANGUAGE_CODE = "en"


def around_today(days: int = 60) -> dict:
    today = timezone.localdate()
    return {
        "starts_on": (today - dt.timedelta(days=days)).isoformat(),
        "ends_on": (today + dt.timedelta(days=days)).isoformat(),
    }


def make_programme(coordinator, funder, **fields) -> FundingProgramme:
    return programme_create(
        actor=coordinator,
        funder=funder,
        **{"name": "Équipement solidaire", **around_today()} | fields,
    )


def posted(funder, **fields) -> dict:
    return {
        "funder": funder.pk,
        "name": "Seniors connectés",
        "starts_on": "2026-01-01",
        "ends_on": "2026-12-31",
        "target_devices": "120",
        "target_budget": "25000.50",
        "territories": ["T2", "T4"],
        "publics": ["seniors"],
        "is_active": "on",
    } | fields


@pytest.fixture
def other_fund():
    return make_organisation(kind="fund", name="Banque des Territoires")


# Pure ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({}, "open"),
        ({"is_active": False}, "closed"),
        ({"starts_on": dt.date(2026, 6, 1)}, "upcoming"),
        ({"ends_on": dt.date(2026, 3, 1)}, "ended"),
    ],
)
def test_a_programme_reads_open_not_started_ended_or_closed(fields, state):
    programme = FundingProgramme(
        **{
            "starts_on": dt.date(2026, 1, 1),
            "ends_on": dt.date(2026, 12, 31),
            "is_active": True,
        }
        | fields
    )
    assert programme_state(programme, dt.date(2026, 5, 4))[0] == state


# Who sees what ---------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "donor_user"])
def test_workshops_structures_and_donors_get_the_403_page(
    request, login, persona, coordinator, fund_org
):
    made = make_programme(coordinator, fund_org)
    client = login(request.getfixturevalue(persona))
    for url in (
        LIST,
        NEW,
        reverse("logistics:programme_detail", args=[made.pk]),
        reverse("logistics:programme_edit", args=[made.pk]),
    ):
        assert client.get(url).status_code == 403, url


def test_a_fund_reads_its_own_programmes_only_and_changes_none(
    login, coordinator, fund_reader, fund_org, other_fund
):
    own = make_programme(coordinator, fund_org, name="Programme du fonds")
    other = make_programme(coordinator, other_fund, name="Programme de la Banque")
    client = login(fund_reader)
    page = client.get(LIST)
    assert [p.pk for p in page.context["page"].object_list] == [own.pk]
    assert NEW not in page.text
    assert "Programme de la Banque" not in page.text
    assert client.get(reverse("logistics:programme_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("logistics:programme_detail", args=[other.pk])).status_code == 404
    assert client.get(NEW).status_code == 403
    assert client.get(reverse("logistics:programme_edit", args=[own.pk])).status_code == 403
    assert client.post(NEW, posted(fund_org)).status_code == 403
    assert FundingProgramme.objects.count() == 2


def test_the_coordinations_readers_read_the_programmes_but_record_none(
    login, coordinator, coordinator_org, fund_org
):
    made = make_programme(coordinator, fund_org)
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    client = login(reader)
    page = client.get(LIST)
    assert page.status_code == 200 and made.name in page.text
    assert NEW not in page.text
    assert client.get(NEW).status_code == 403


def test_no_programme_yet_says_so(login, coordinator, fund_reader):
    assert "No programme recorded yet." in login(coordinator).get(LIST).text
    assert "No programme of yours is recorded yet" in login(fund_reader).get(LIST).text


def test_the_programme_list_costs_the_same_queries_for_1_and_6_programmes(
    login, coordinator, fund_org
):
    client = login(coordinator)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(LIST).status_code == 200
        return len(captured)

    make_programme(coordinator, fund_org)
    few = queries()
    for number in range(5):
        make_programme(coordinator, make_organisation(kind="fund"), name=f"P{number}")
    assert queries() == few


# Recording and changing ------------------------------------------------------------------------


def test_the_coordination_records_a_programme_from_the_form(login, coordinator, fund_org):
    client = login(coordinator)
    form = client.get(NEW)
    assert form.status_code == 200
    assert 'type="checkbox" name="territories" value="T2"' in form.text
    assert "<legend>Eligible territories (EPT)</legend>" in form.text
    response = client.post(NEW, posted(fund_org))
    made = FundingProgramme.objects.get()
    assert response["Location"] == reverse("logistics:programme_detail", args=[made.pk])
    assert (made.name, made.target_devices, str(made.target_budget)) == (
        "Seniors connectés",
        120,
        "25000.50",
    )
    assert (made.territories, made.publics, made.structure_types) == (
        ["T2", "T4"],
        ["seniors"],
        [],
    )
    assert made.is_active


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"ends_on": "2025-12-31"}, "ends_on", "The programme cannot end before it starts."),
        ({"starts_on": "le 1er janvier"}, "starts_on", "Enter a valid date."),
        ({"target_devices": "0"}, "target_devices", ""),
        ({"territories": ["T9"]}, "territories", ""),
        ({"name": "a\x00b"}, "name", ""),
    ],
)
def test_a_wrong_value_is_shown_on_its_field_and_nothing_is_recorded(
    login, coordinator, fund_org, fields, field, message
):
    response = login(coordinator).post(NEW, posted(fund_org, **fields))
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert 'id="error-summary"' in response.text
    assert message in response.text
    assert not FundingProgramme.objects.exists()


def test_the_funder_must_be_a_fund(login, coordinator, fund_org, workshop_org):
    response = login(coordinator).post(NEW, posted(workshop_org))
    assert response.status_code == 400
    assert "funder" in response.context["form"].errors
    assert not FundingProgramme.objects.exists()


def test_a_change_is_saved_and_a_stale_one_shows_the_services_words(login, coordinator, fund_org):
    made = make_programme(coordinator, fund_org, target_devices=50)
    client = login(coordinator)
    url = reverse("logistics:programme_edit", args=[made.pk])
    form = client.get(url)
    assert 'name="version" value="1"' in form.text
    assert 'value="50"' in form.text
    data = posted(fund_org, name="Nouveau nom", version="1", **around_today())
    assert client.post(url, data)["Location"] == reverse(
        "logistics:programme_detail", args=[made.pk]
    )
    made.refresh_from_db()
    assert (made.name, made.version) == ("Nouveau nom", 2)
    # A colleague's page, opened before that change, is refused with the service's words.
    stale = client.post(url, posted(fund_org, name="Autre nom", version="1", **around_today()))
    assert stale.status_code == 412
    assert "This programme was changed since you opened it." in stale.text
    assert f'href="{url}"' in stale.text  # the way to the programme as it is now
    made.refresh_from_db()
    assert made.name == "Nouveau nom"


def test_a_period_that_would_leave_its_allocations_out_is_refused_on_its_field(
    login, coordinator, fund_org, structure_staff, workshop_org
):
    made = make_programme(coordinator, fund_org)
    approve_under(coordinator, structure_staff, workshop_org, made)
    today = timezone.localdate()
    later = {"starts_on": (today + dt.timedelta(days=1)).isoformat()}
    response = login(coordinator).post(
        reverse("logistics:programme_edit", args=[made.pk]),
        posted(fund_org, name=made.name, version=str(made.version), **around_today() | later),
    )
    assert response.status_code == 400
    assert "starts_on" in response.context["form"].errors


# One programme's progress ----------------------------------------------------------------------


def approve_under(coordinator, structure_staff, workshop, programme, count: int = 2):
    ready_devices(coordinator, workshop, count, ram_gb=8, storage_gb=256)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": count}],
    )
    run = matching_run_create(actor=coordinator)
    from logistics.allocations.services import matching_run_approve

    return matching_run_approve(actor=coordinator, run_id=run.pk, programme=programme.pk)


def test_a_programme_shows_its_devices_handed_over_against_its_target(
    login, coordinator, fund_reader, fund_org, structure_staff, workshop_org
):
    made = make_programme(coordinator, fund_org, target_devices=8)
    allocations = approve_under(coordinator, structure_staff, workshop_org, made, count=3)
    hand_over_create(
        actor=coordinator,
        allocation_ids=[a.pk for a in allocations[:2]],
        received_by_name="Awa Diallo",
    )
    response = login(fund_reader).get(reverse("logistics:programme_detail", args=[made.pk]))
    progress = response.context["progress"]
    assert progress["handed_over"] == 2 and progress["allocations"]["total"] == 3
    assert progress["allocations"]["active"] == 1
    assert response.context["share"]["text"] == "25.0%"
    assert "2 handed over out of a target of 8 devices" in response.text
    assert '<progress max="100" value="25"' in response.text
    assert reverse("logistics:programme_edit", args=[made.pk]) not in response.text


def test_a_programme_without_allocations_says_so(login, coordinator, fund_org):
    made = make_programme(coordinator, fund_org)
    page = login(coordinator).get(reverse("logistics:programme_detail", args=[made.pk]))
    assert "No allocation counts in this programme yet" in page.text
    assert page.text.count(">Any<") == 4


# Approving a run under a programme -------------------------------------------------------------


@pytest.fixture
def proposed(coordinator, structure_staff, workshop_org) -> MatchingRun:
    ready_devices(coordinator, workshop_org, 2, ram_gb=8, storage_gb=256)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 2}],
    )
    return matching_run_create(actor=coordinator)


def test_the_run_page_offers_the_programmes_open_today_only(login, coordinator, fund_org, proposed):
    today = timezone.localdate()
    open_one = make_programme(coordinator, fund_org, name="Ouvert")
    make_programme(coordinator, fund_org, name="Fermé", is_active=False)
    make_programme(
        coordinator,
        fund_org,
        name="Terminé",
        starts_on=(today - dt.timedelta(days=90)).isoformat(),
        ends_on=(today - dt.timedelta(days=1)).isoformat(),
    )
    page = login(coordinator).get(reverse("logistics:run_detail", args=[proposed.pk])).text
    select = re.search(r'<select name="programme" id="approve-programme".*?</select>', page, re.S)[
        0
    ]
    assert re.findall(r'<option value="(\d*)"', select) == ["", str(open_one.pk)]
    assert '<label for="approve-programme">Funding programme (optional)</label>' in page


def test_an_approval_under_a_programme_counts_every_allocation_in_it(
    login, coordinator, fund_org, proposed
):
    made = make_programme(coordinator, fund_org)
    client = login(coordinator)
    url = reverse("logistics:run_detail", args=[proposed.pk])
    response = client.post(url, {"action": "approve", "programme": made.pk}, follow=True)
    assert {a.programme_id for a in Allocation.objects.all()} == {made.pk}
    assert "They count in the programme “Équipement solidaire”." in response.text
    assert "Programme: Équipement solidaire" in response.text  # on each allocation's row
    assert "They count in the programme" in client.get(url).text


def test_an_ineligible_programme_is_refused_with_its_reasons_and_nothing_is_approved(
    login, coordinator, fund_org, proposed
):
    made = make_programme(coordinator, fund_org, territories=["T3"])
    url = reverse("logistics:run_detail", args=[proposed.pk])
    response = login(coordinator).post(url, {"action": "approve", "programme": made.pk})
    assert response.status_code == 200
    assert "Nothing was approved: not eligible to" in response.text
    assert "the structure&#x27;s territory is not eligible" in response.text
    assert f'<option value="{made.pk}" selected>' in response.text
    assert not Allocation.objects.exists()
    proposed.refresh_from_db()
    assert proposed.status == RunStatus.PROPOSED


def test_an_approval_without_a_programme_counts_in_none(login, coordinator, fund_org, proposed):
    make_programme(coordinator, fund_org)
    url = reverse("logistics:run_detail", args=[proposed.pk])
    login(coordinator).post(url, {"action": "approve", "programme": ""})
    assert Allocation.objects.count() == 2
    assert not Allocation.objects.filter(programme__isnull=False).exists()
