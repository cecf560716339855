"""Funding programmes on the API: each reader its share (the coordination every programme, a
fund its own, another funder's 404, other roles 403), created by the coordination with an
Idempotency-Key, changed under If-Match (200 / 412 / 428); and a matching run approved into a
programme: all its allocations counted in it, or none made (409 with the reasons)."""

import datetime as dt

import pytest
from django.utils import timezone

from inventory.models import Device, Role, Territory
from inventory.states import OrgKind, Status
from logistics.allocations.services import matching_run_create
from logistics.funding.services import programme_create
from logistics.models import Allocation, FundingProgramme, MatchingRun, RunStatus
from tests.builders import (
    accepted_need,
    make_organisation,
    make_user,
    queries_of_get,
    ready_devices,
    token_client,
)

pytestmark = pytest.mark.django_db

PROGRAMMES = "/api/programmes/"


def url(programme) -> str:
    pk = programme if isinstance(programme, int) else programme.pk
    return f"{PROGRAMMES}{pk}/"


def this_year() -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    return dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)


def make_programme(*, actor, funder, **overrides) -> FundingProgramme:
    start, end = this_year()
    fields = {"name": f"Programme of {funder.name}", "starts_on": start, "ends_on": end}
    return programme_create(actor=actor, funder=funder, **fields | overrides)


@pytest.fixture
def other_fund(db):
    return make_organisation(kind=OrgKind.FUND, name="Banque des Territoires")


@pytest.fixture
def ours(coordinator, fund_org) -> FundingProgramme:
    return make_programme(actor=coordinator, funder=fund_org, target_devices=100)


@pytest.fixture
def theirs(coordinator, other_fund) -> FundingProgramme:
    return make_programme(actor=coordinator, funder=other_fund, name="Inclusion Nord")


def body(funder, **overrides) -> dict:
    start, end = this_year()
    return {
        "funder": funder.pk,
        "name": "Seniors connectés",
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
        "target_devices": 200,
        "target_budget": "25000.00",
        "territories": ["T2"],
        "structure_types": ["CS"],
        "publics": ["seniors"],
        "purposes": [],
    } | overrides


# Who reads what


def test_the_coordination_lists_every_programme(coord, ours, theirs):
    response = coord.get(PROGRAMMES)
    assert response.status_code == 200
    rows = {row["id"]: row for row in response.json()["results"]}
    assert set(rows) == {ours.pk, theirs.pk}
    row = rows[ours.pk]
    assert row["reference"] == ours.reference
    assert row["funder"] == {"id": ours.funder_id, "name": "Fonds local"}
    assert (row["target_devices"], row["handed_over"], row["version"]) == (100, 0, 1)


def test_a_fund_reads_its_own_programmes_only(fund_reader, ours, theirs):
    client = token_client(fund_reader)
    listed = client.get(PROGRAMMES).json()["results"]
    assert [row["id"] for row in listed] == [ours.pk]
    assert client.get(url(ours)).status_code == 200
    response = client.get(url(theirs))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "donor_user"])
def test_other_roles_read_no_programme(request, persona, ours):
    client = token_client(request.getfixturevalue(persona))
    for response in (client.get(PROGRAMMES), client.get(url(ours))):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_a_programme_is_read_with_its_etag(coord, ours):
    response = coord.get(url(ours))
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1


def test_the_list_takes_the_same_queries_for_2_and_12_programmes(coordinator, fund_org):
    client = token_client(coordinator)
    for n in range(2):
        make_programme(actor=coordinator, funder=fund_org, name=f"P{n}")
    two = queries_of_get(client, PROGRAMMES)
    for n in range(2, 12):
        make_programme(actor=coordinator, funder=fund_org, name=f"P{n}")
    assert client.get(PROGRAMMES).json()["count"] == 12
    assert queries_of_get(client, PROGRAMMES) == two


# Creating


def test_the_coordination_records_a_programme(coord, fund_org):
    response = coord.post(PROGRAMMES, body(fund_org), format="json")
    assert response.status_code == 201, response.content
    made = FundingProgramme.objects.get()
    assert response["Location"] == url(made)
    assert response["ETag"] == '"1"'
    data = response.json()
    assert data["target_budget"] == "25000.00"
    assert (data["territories"], data["structure_types"], data["publics"]) == (
        ["T2"],
        ["CS"],
        ["seniors"],
    )
    assert made.history.get().history_change_reason == "programme_create"


def test_a_replayed_creation_records_one_programme(coord, fund_org):
    first = coord.post(PROGRAMMES, body(fund_org), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = coord.post(PROGRAMMES, body(fund_org), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert FundingProgramme.objects.count() == 1
    other = coord.post(
        PROGRAMMES, body(fund_org, name="Autre"), format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ends_on": "2020-01-01"}, "ends_on"),
        ({"starts_on": "1999-12-31"}, "starts_on"),
        ({"starts_on": "2026-02-30"}, "starts_on"),
        ({"publics": ["pirates"]}, "publics"),
        ({"territories": ["T9"]}, "territories"),
        ({"target_devices": 0}, "target_devices"),
        ({"target_budget": 25000}, "target_budget"),
        ({"target_budget": "-3.00"}, "target_budget"),
        ({"name": "  "}, "name"),
        ({"name": 42}, "name"),
    ],
)
def test_a_programme_not_valid_is_refused_naming_the_field(coord, fund_org, change, field):
    response = coord.post(PROGRAMMES, body(fund_org, **change), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert not FundingProgramme.objects.exists()


def test_a_funder_must_be_a_fund(coord, workshop_org):
    response = coord.post(PROGRAMMES, body(workshop_org), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["funder"]


def test_the_required_fields_are_named(coord):
    response = coord.post(PROGRAMMES, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"funder", "name", "starts_on", "ends_on"}


@pytest.mark.parametrize("persona", ["fund_reader", "workshop_staff", "structure_staff"])
def test_only_the_coordination_records_programmes(request, persona, fund_org):
    client = token_client(request.getfixturevalue(persona))
    response = client.post(PROGRAMMES, body(fund_org), format="json")
    assert response.status_code == 403
    assert not FundingProgramme.objects.exists()


def test_a_coordination_reader_records_no_programme(coordinator_org, fund_org):
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    response = token_client(reader).post(PROGRAMMES, body(fund_org), format="json")
    assert response.status_code == 403
    assert not FundingProgramme.objects.exists()


# Changing under If-Match


def test_a_change_without_if_match_is_refused(coord, ours):
    response = coord.patch(url(ours), {"name": "Nouveau"}, format="json")
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    ours.refresh_from_db()
    assert (ours.name, ours.version) == ("Programme of Fonds local", 1)


def test_a_change_with_the_etag_applies_and_moves_it(coord, ours):
    etag = coord.get(url(ours))["ETag"]
    response = coord.patch(
        url(ours), {"name": "Nouveau", "publics": ["seniors"]}, format="json", HTTP_IF_MATCH=etag
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert (response.json()["name"], response.json()["publics"]) == ("Nouveau", ["seniors"])
    assert response.json()["target_devices"] == 100  # left out: kept
    ours.refresh_from_db()
    assert (ours.name, ours.version) == ("Nouveau", 2)


def test_two_changes_from_one_read_the_second_is_stale(coord, ours):
    etag = coord.get(url(ours))["ETag"]
    first = coord.patch(url(ours), {"name": "Un"}, format="json", HTTP_IF_MATCH=etag)
    second = coord.patch(url(ours), {"name": "Deux"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    assert (second.status_code, second.json()["code"]) == (412, "stale")
    ours.refresh_from_db()
    assert (ours.name, ours.version) == ("Un", 2)
    assert ours.history.count() == 2


def test_a_change_not_valid_is_refused_and_changes_nothing(coord, ours):
    response = coord.patch(url(ours), {"ends_on": "2000-01-01"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 400
    assert "ends_on" in response.json()["fields"]
    ours.refresh_from_db()
    assert ours.version == 1


def test_a_fund_changes_not_even_its_own_programme(fund_reader, ours):
    response = token_client(fund_reader).patch(
        url(ours), {"name": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 403
    ours.refresh_from_db()
    assert (ours.name, ours.version, ours.history.count()) == ("Programme of Fonds local", 1, 1)


def test_a_change_of_an_unknown_programme_answers_404(coord):
    response = coord.patch(url(999999), {"name": "x"}, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 404


# Approving a matching run into a programme


@pytest.fixture
def proposed(coordinator, structure_staff, workshop_org) -> MatchingRun:
    """A run proposing two ready laptops for the structure persona's need (everyone, public
    access, in Antony: T2)."""
    ready_devices(coordinator, workshop_org, 2)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 2}],
    )
    return matching_run_create(actor=coordinator)


def approve(client, run, **fields):
    return client.post(f"/api/matching-runs/{run.pk}/approve/", fields, format="json")


def test_an_approval_into_an_eligible_programme_counts_every_allocation_in_it(
    coord, proposed, ours
):
    response = approve(coord, proposed, programme=ours.pk)
    assert response.status_code == 201, response.content
    assert [row["programme"] for row in response.json()] == [ours.pk, ours.pk]
    assert set(Allocation.objects.values_list("programme_id", flat=True)) == {ours.pk}
    assert coord.get(url(ours)).json()["handed_over"] == 0  # allocated, not handed over yet


def test_an_approval_into_an_ineligible_programme_writes_nothing(
    coordinator, coord, proposed, fund_org
):
    elsewhere = [code for code in Territory.objects.values_list("code", flat=True) if code != "T2"]
    closed = make_programme(
        actor=coordinator, funder=fund_org, territories=elsewhere, publics=["seniors"]
    )
    devices = list(proposed.lines.values_list("device_id", flat=True))
    history = Device.history.count()
    response = approve(coord, proposed, programme=closed.pk)
    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "programme_not_eligible"
    [(need, reasons)] = data["reasons"].items()
    assert need.startswith("BES-")
    assert len(reasons) == 2  # the territory and the public
    assert not Allocation.objects.exists()
    assert set(Device.objects.filter(pk__in=devices).values_list("status", flat=True)) == {
        Status.READY
    }
    assert Device.history.count() == history
    assert MatchingRun.objects.get(pk=proposed.pk).status == RunStatus.PROPOSED


def test_an_approval_into_an_unknown_programme_is_refused(coord, proposed):
    response = approve(coord, proposed, programme=999999)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["programme"]
    assert not Allocation.objects.exists()


def test_an_approval_without_a_programme_counts_in_none(coord, proposed):
    response = approve(coord, proposed, programme=None)
    assert response.status_code == 201
    assert [row["programme"] for row in response.json()] == [None, None]


def test_a_programme_that_is_not_an_id_is_refused(coord, proposed):
    response = approve(coord, proposed, programme="3")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["programme"]


def test_the_schema_documents_the_programme_operations(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    patch = paths[f"{PROGRAMMES}{{id}}/"]["patch"]
    assert {"200", "412", "428"} <= set(patch["responses"])
    create = paths[PROGRAMMES]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    approve_body = paths["/api/matching-runs/{id}/approve/"]["post"]["requestBody"]
    ref = approve_body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = coord.get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    assert "programme" in schemas[ref]["properties"]
