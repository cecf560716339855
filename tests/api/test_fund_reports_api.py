"""The fund's figures and reports on the API: the live figures and report of a period, each
reader its share (the coordination everything, a fund the network and its own programmes,
another funder's programme 404, other roles 403), periods validated field by field; and the
reports issued and frozen: files whose SHA-256 is the stored one, figures and files that stay
byte for byte what they were when the data changes later, and `changes/` saying what moved."""

import contextlib
import datetime as dt
import hashlib
import json

import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from rest_framework.authtoken.models import Token

from inventory.states import OrgKind
from logistics.allocations.services import matching_run_approve, matching_run_create
from logistics.fund_reports.services import canonical
from logistics.funding.services import programme_create
from logistics.handovers.services import hand_over_create
from logistics.models import FundReport
from tests.builders import (
    accepted_need,
    make_organisation,
    make_user,
    queries_of_get,
    ready_devices,
    token_client,
)

pytestmark = pytest.mark.django_db

FIGURES = "/api/fund/figures/"
REPORT = "/api/fund/report/"
REPORTS = "/api/fund/reports/"
KINDS = ("pdf", "csv", "xlsx")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # Receipts and the reports' files: here, in this test's folder.
    settings.MEDIA_ROOT = str(tmp_path)


def year() -> dict:
    today = timezone.localdate()
    return {"start": dt.date(today.year, 1, 1).isoformat(), "end": today.isoformat()}


def make_programme(*, actor, funder, **overrides):
    today = timezone.localdate()
    fields = {
        "name": f"Programme of {funder.name}",
        "starts_on": dt.date(today.year, 1, 1),
        "ends_on": dt.date(today.year, 12, 31),
    }
    return programme_create(actor=actor, funder=funder, **fields | overrides)


def hand_over_devices(*, coordinator, structure_actor, workshop, count=1, programme=None):
    """`count` laptops made ready, allocated to the structure's new need (in `programme`) and
    handed over."""
    ready_devices(coordinator, workshop, count)
    accepted_need(
        structure_actor=structure_actor,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": count}],
    )
    run = matching_run_create(actor=coordinator)
    made = matching_run_approve(
        actor=coordinator, run_id=run.pk, programme=programme.pk if programme else None
    )
    return hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], received_by_name="Awa"
    )


@pytest.fixture
def other_fund(db):
    return make_organisation(kind=OrgKind.FUND, name="Banque des Territoires")


@pytest.fixture
def ours(coordinator, fund_org):
    return make_programme(actor=coordinator, funder=fund_org, name="Seniors 92", target_devices=10)


@pytest.fixture
def theirs(coordinator, other_fund):
    return make_programme(actor=coordinator, funder=other_fund, name="Inclusion Nord")


@pytest.fixture
def world(coordinator, structure_staff, workshop_org, ours, theirs):
    """Two devices handed over under our programme, one under theirs, one under none."""
    for programme, count in ((ours, 2), (theirs, 1), (None, 1)):
        hand_over_devices(
            coordinator=coordinator,
            structure_actor=structure_staff,
            workshop=workshop_org,
            count=count,
            programme=programme,
        )


# The live figures


def test_the_coordination_reads_the_networks_figures(coord, world):
    response = coord.get(FIGURES, year())
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["period"] == year()
    assert data["scope"] == {"programme": None, "programme_name": None, "funder": None}
    assert (data["totals"]["handed_over"], data["totals"]["received"]) == (4, 4)
    assert data["metrics"]["handed_over"]["kind"] == "count"
    assert len(data["months"]) == timezone.localdate().month
    assert data["breakdowns"] == {}  # none asked
    assert [row["ready"] for row in data["workshops"]] == [4]


def test_a_breakdown_is_given_when_asked(coord, world, ours, theirs):
    one = coord.get(FIGURES, year() | {"breakdown": "programme"}).json()["breakdowns"]
    assert list(one) == ["programme"]
    counts = {row["key"]: row["handed_over"] for row in one["programme"]}
    assert counts == {str(ours.pk): 2, str(theirs.pk): 1, "none": 1}
    every = coord.get(FIGURES, year() | {"breakdown": "all"}).json()["breakdowns"]
    assert set(every) == {
        "territory",
        "commune",
        "structure_type",
        "category",
        "public",
        "purpose",
        "programme",
    }


def test_a_fund_sees_its_programmes_by_name_and_the_others_merged(fund_reader, world, ours):
    client = token_client(fund_reader)
    response = client.get(FIGURES, year() | {"breakdown": "programme"})
    assert response.status_code == 200
    rows = {row["key"]: row for row in response.json()["breakdowns"]["programme"]}
    assert set(rows) == {str(ours.pk), "other", "none"}
    assert rows[str(ours.pk)]["label"] == "Seniors 92"
    assert "Inclusion Nord" not in response.content.decode()


def test_a_programmes_figures_leave_out_what_does_not_apply(fund_reader, world, ours):
    response = token_client(fund_reader).get(FIGURES, year() | {"programme": ours.pk})
    assert response.status_code == 200
    data = response.json()
    assert data["scope"] == {
        "programme": ours.pk,
        "programme_name": "Seniors 92",
        "funder": "Fonds local",
    }
    assert data["totals"]["handed_over"] == 2
    # A device received is nobody's until it is handed over: not a programme's figure.
    assert data["totals"]["received"] is None
    assert data["workshops"] == []


def test_another_funders_programme_answers_404(fund_reader, theirs):
    client = token_client(fund_reader)
    for address in (FIGURES, REPORT, "/api/fund/report.pdf"):
        response = client.get(address, {"programme": theirs.pk})
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_an_unknown_programme_answers_404(coord):
    assert coord.get(FIGURES, {"programme": 999999}).status_code == 404


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff", "donor_user"])
@pytest.mark.parametrize(
    "address", [FIGURES, REPORT, "/api/fund/report.pdf", "/api/fund/report.csv", REPORTS]
)
def test_other_roles_read_no_fund_figures(request, persona, address):
    response = token_client(request.getfixturevalue(persona)).get(address)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


def test_a_refused_role_learns_nothing_of_its_query(workshop_staff):
    response = token_client(workshop_staff).get(FIGURES, {"start": "nonsense"})
    assert response.status_code == 403


@pytest.mark.parametrize(
    "query, field",
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "01/02/2026", "end": "2026-03-01"}, "start"),
        ({"start": "", "end": "2026-03-01"}, "start"),
        ({"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ({"start": "2020-01-01", "end": "2025-01-01"}, "end"),
        ({"start": "1999-12-31", "end": "2000-01-31"}, "start"),
        ({"start": "2099-01-01", "end": "2100-01-01"}, "end"),
        ({"programme": "3.0"}, "programme"),
        ({"programme": "x"}, "programme"),
        ({"breakdown": "donor"}, "breakdown"),
    ],
)
def test_a_period_or_scope_not_valid_is_refused_naming_the_field(coord, query, field):
    response = coord.get(FIGURES, query)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == [field]


def test_five_whole_years_are_a_period(coord):
    response = coord.get(FIGURES, {"start": "2020-01-01", "end": "2024-12-31"})
    assert response.status_code == 200
    assert len(response.json()["months"]) == 60


def test_the_default_period_is_the_year_to_date(coord):
    assert coord.get(FIGURES).json()["period"] == year()
    assert coord.get(FIGURES, {"end": "2025-06-30"}).json()["period"] == {
        "start": "2025-01-01",
        "end": "2025-06-30",
    }


def test_the_figures_take_the_same_queries_whatever_the_devices(
    coordinator, structure_staff, workshop_org, ours
):
    client = token_client(coordinator)
    address = f"{FIGURES}?breakdown=all&start={year()['start']}&end={year()['end']}"
    for programme in (ours, None):  # a programme's name is read once, for all its rows
        hand_over_devices(
            coordinator=coordinator,
            structure_actor=structure_staff,
            workshop=workshop_org,
            programme=programme,
        )
    few = queries_of_get(client, address)
    hand_over_devices(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=8,
        programme=ours,
    )
    assert client.get(address).json()["totals"]["handed_over"] == 10
    assert queries_of_get(client, address) == few


# The report of a period, drawn now


def test_the_live_report_is_the_whole_document(fund_reader, world, ours):
    response = token_client(fund_reader).get(REPORT, year() | {"programme": ours.pk})
    assert response.status_code == 200
    data = response.json()
    assert set(data["breakdowns"]) >= {"territory", "programme"}
    assert data["impact"]["devices_estimated"] == 2
    [row] = data["programmes"]
    assert (row["id"], row["handed_over_to_date"], row["progress"]) == (ours.pk, 2, 0.2)


def test_the_live_report_as_files(fund_reader, world):
    client = token_client(fund_reader)
    pdf = client.get("/api/fund/report.pdf", year())
    assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
    assert pdf.content.startswith(b"%PDF")
    csv = client.get("/api/fund/report.csv", year())
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    xlsx = client.get("/api/fund/report.xlsx", year())
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert 'filename="report-' in xlsx["Content-Disposition"]


def test_a_files_errors_are_json(coord):
    response = coord.get("/api/fund/report.pdf", {"end": "x"}, HTTP_ACCEPT="application/pdf")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


# Issuing and reading frozen reports


def issue(client, **fields):
    return client.post(REPORTS, year() | fields, format="json")


def files_of(client, report_id: int) -> dict[str, bytes]:
    found = {}
    for kind in KINDS:
        response = client.get(f"{REPORTS}{report_id}/report.{kind}")
        assert response.status_code == 200, (kind, response.content[:200])
        found[kind] = response.content
    return found


def test_an_issued_report_keeps_its_figures_and_files(
    coordinator, coord, structure_staff, workshop_org, world
):
    created = issue(coord)
    assert created.status_code == 201, created.content
    report = created.json()
    assert created["Location"] == f"{REPORTS}{report['id']}/"
    assert report["programme"] is None
    assert report["files"]["pdf"] == f"{REPORTS}{report['id']}/report.pdf"
    detail = coord.get(created["Location"]).json()
    assert detail["figures"]["totals"]["handed_over"] == 4
    assert hashlib.sha256(canonical(detail["figures"])).hexdigest() == report["figures_sha256"]
    files = files_of(coord, report["id"])
    for kind, content in files.items():
        assert hashlib.sha256(content).hexdigest() == report[f"{kind}_sha256"]
    assert files["pdf"].startswith(b"%PDF")

    # Later: another device handed over in the period. The report stays as issued.
    hand_over_devices(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org
    )
    assert coord.get(FIGURES, year()).json()["totals"]["handed_over"] == 5
    again = coord.get(created["Location"]).json()
    assert again["figures"] == detail["figures"]
    assert again["figures_sha256"] == report["figures_sha256"]
    assert files_of(coord, report["id"]) == files

    changes = coord.get(f"{REPORTS}{report['id']}/changes/")
    assert changes.status_code == 200
    moved = {
        (change["section"], change["metric"]): (change["frozen"], change["now"])
        for change in changes.json()["changes"]
    }
    assert moved[("totals", "handed_over")] == (4, 5)
    assert moved[("totals", "received")] == (4, 5)
    assert changes.json()["count"] == len(changes.json()["changes"])


def test_nothing_changed_since_a_report_says_so(coord, world):
    report = issue(coord).json()
    changes = coord.get(f"{REPORTS}{report['id']}/changes/").json()
    assert (changes["count"], changes["changes"]) == (0, [])


def test_a_programmes_report(coord, world, ours):
    created = issue(coord, programme=ours.pk)
    assert created.status_code == 201
    data = created.json()
    assert data["programme"] == {
        "id": ours.pk,
        "reference": ours.reference,
        "name": "Seniors 92",
        "funder": "Fonds local",
    }
    figures = coord.get(created["Location"]).json()["figures"]
    assert figures["totals"]["handed_over"] == 2


def test_a_report_names_no_person(coordinator, coord, world):
    coordinator.first_name, coordinator.last_name = "Camille", "Dupont"
    coordinator.email = "camille.dupont@exemple.fr"
    coordinator.save()
    report = issue(coord).json()
    for address in (f"{REPORTS}{report['id']}/", REPORTS, f"{REPORTS}{report['id']}/changes/"):
        content = coord.get(address).content.decode()
        for secret in ("Camille", "Dupont", "camille.dupont", '"coord"', "Awa"):
            assert secret not in content, (address, secret)


def test_a_replayed_issue_makes_one_report(coord, world):
    key = {"HTTP_IDEMPOTENCY_KEY": "report-1"}
    first = coord.post(REPORTS, year(), format="json", **key)
    again = coord.post(REPORTS, year(), format="json", **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert FundReport.objects.count() == 1


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"end": "2000-01-01"}, "end"),
        ({"start": "2019-01-01", "end": "2025-06-30"}, "end"),
        ({"programme": 999999}, "programme"),
        ({"programme": "1"}, "programme"),
        ({"start": None}, "start"),
    ],
)
def test_an_issue_not_valid_is_refused_naming_the_field(coord, fields, field):
    response = issue(coord, **fields)
    assert response.status_code == 400
    assert list(response.json()["fields"]) == [field]
    assert not FundReport.objects.exists()


@pytest.mark.parametrize("persona", ["fund_reader", "workshop_staff", "structure_staff"])
def test_only_the_coordination_issues_reports(request, persona):
    response = issue(token_client(request.getfixturevalue(persona)))
    assert response.status_code == 403
    assert not FundReport.objects.exists()


@pytest.fixture
def issued(coord, world, ours, theirs) -> dict:
    """The network's report and each programme's: their ids."""
    return {
        "network": issue(coord).json()["id"],
        "ours": issue(coord, programme=ours.pk).json()["id"],
        "theirs": issue(coord, programme=theirs.pk).json()["id"],
    }


def test_a_fund_reads_the_networks_reports_and_its_own(fund_reader, issued):
    client = token_client(fund_reader)
    listed = [row["id"] for row in client.get(REPORTS).json()["results"]]
    assert sorted(listed) == sorted([issued["network"], issued["ours"]])
    assert client.get(f"{REPORTS}{issued['ours']}/").status_code == 200
    assert client.get(f"{REPORTS}{issued['ours']}/changes/").status_code == 200
    assert files_of(client, issued["ours"])


def test_another_funders_report_answers_404_everywhere(fund_reader, issued):
    client = token_client(fund_reader)
    base = f"{REPORTS}{issued['theirs']}/"
    for address in (base, f"{base}changes/", *(f"{base}report.{kind}" for kind in KINDS)):
        response = client.get(address)
        assert (response.status_code, response.json()["code"]) == (404, "not_found"), address


def test_the_coordination_lists_every_report(coord, issued):
    assert coord.get(REPORTS).json()["count"] == 3


def test_a_missing_file_answers_404_with_its_code(coord, issued):
    report = FundReport.objects.get(pk=issued["network"])
    default_storage.delete(report.csv_file)
    response = coord.get(f"{REPORTS}{report.pk}/report.csv")
    assert (response.status_code, response.json()["code"]) == (404, "report_file_missing")
    assert coord.get(f"{REPORTS}{report.pk}/report.pdf").status_code == 200


def test_the_reports_list_takes_the_same_queries_for_2_and_12(coord, coordinator, world):
    for _ in range(2):
        issue(coord)
    two = queries_of_get(coord, REPORTS)
    for _ in range(10):
        issue(coord)
    assert coord.get(REPORTS).json()["count"] == 12
    assert queries_of_get(coord, REPORTS) == two


def test_the_stored_figures_are_served_as_stored(coord, world):
    report = issue(coord).json()
    stored = FundReport.objects.get(pk=report["id"]).figures
    served = coord.get(f"{REPORTS}{report['id']}/").json()["figures"]
    assert json.dumps(served, sort_keys=True) == json.dumps(stored, sort_keys=True)


def test_a_structure_reads_no_report(structure_staff, issued):
    client = token_client(structure_staff)
    assert client.get(f"{REPORTS}{issued['network']}/").status_code == 403
    assert client.get(f"{REPORTS}{issued['network']}/report.pdf").status_code == 403


def test_a_donor_with_a_fund_name_reads_nothing(db):
    donor = make_user(organisation=make_organisation(kind=OrgKind.DONOR, name="Fonds privé"))
    assert token_client(donor).get(REPORTS).status_code == 403


# The replies as the schema describes them, with real figures in them


@contextlib.contextmanager
def wsgi_in_the_test_transaction():
    # As django.test.Client does for its own requests (and undoes after each, hence no client
    # call inside): a request through the WSGI application must not close the connection that
    # holds the test's transaction (tests/api/test_fuzz_schema.py).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_the_documents_answer_as_the_schema_says(
    coordinator, coord, structure_staff, workshop_org, world, ours
):
    schemathesis = pytest.importorskip("schemathesis")
    from config.wsgi import application

    token = Token.objects.get_or_create(user=coordinator)[0].key
    report = issue(coord, programme=ours.pk).json()["id"]
    issue(coord)  # a second row in the list
    # A change since the report, so that `changes` lists some.
    hand_over_devices(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        programme=ours,
    )
    calls = [
        (FIGURES, {}, year() | {"breakdown": "all"}),
        (FIGURES, {}, year() | {"programme": ours.pk, "breakdown": "programme"}),
        (REPORT, {}, year()),
        (REPORTS, {}, {}),
        (f"{REPORTS}{{id}}/", {"id": report}, {}),
        (f"{REPORTS}{{id}}/changes/", {"id": report}, {}),
        ("/api/programmes/", {}, {}),
        ("/api/programmes/{id}/", {"id": ours.pk}, {}),
    ]
    headers = {"Authorization": f"Token {token}"}
    with wsgi_in_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
        for path, path_parameters, query in calls:
            case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
            response = case.call(headers=headers)
            assert response.status_code == 200, (path, response.text[:300])
            if path.endswith("changes/"):
                assert response.json()["count"] > 0
            case.validate_response(
                response,
                headers=headers,
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
            )
