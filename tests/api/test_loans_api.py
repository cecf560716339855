"""Loans on the API: read with their ETag, extended under If-Match (428 without, 412 stale),
returned in parts (If-Match optional), listed overdue; and the structures' device reports, made
once and closed by the coordination. Each organisation its own share, in a flat number of
queries; hostile bodies answered 400, never 500."""

import datetime
import json

import pytest
from django.utils import timezone

from inventory.models import Device, IdempotencyRecord, Role
from inventory.states import OrgKind, Status
from logistics.handovers import services as handovers
from logistics.loans import services as loans
from logistics.models import (
    DeviceReport,
    Loan,
    LoanExtension,
    LoanItemOutcome,
    LoanStatus,
)
from tests.builders import (
    allocated,
    make_organisation,
    make_user,
    queries_of_get,
    reload,
    token_client,
)

pytestmark = pytest.mark.django_db

LOANS = "/api/loans/"
REPORTS = "/api/device-reports/"
TODAY = timezone.localdate


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    # The hand-overs that start the loans store their receipts: here, in this test's folder.
    settings.MEDIA_ROOT = str(tmp_path)


def url(loan, step: str = "") -> str:
    pk = loan if isinstance(loan, int) else loan.pk
    return f"{LOANS}{pk}/" + (f"{step}/" if step else "")


def lend(coordinator, structure_staff, workshop, count: int = 3) -> Loan:
    """A kit of `count` laptops lent to the structure persona's organisation."""
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop,
        count=count,
        mode="loan",
    )
    hand_over = handovers.hand_over_create(
        actor=coordinator, allocation_ids=[a.pk for a in made], received_by_name="Awa"
    )
    return Loan.objects.get(hand_over=hand_over)


@pytest.fixture
def kit(coordinator, structure_staff, workshop_org) -> Loan:
    return lend(coordinator, structure_staff, workshop_org)


def devices_of(loan) -> list[int]:
    return list(loan.items.order_by("id").values_list("device_id", flat=True))


def make_overdue(loan, days: int = 10) -> None:
    start = TODAY() - datetime.timedelta(days=days + 30)
    Loan.objects.filter(pk=loan.pk).update(
        started_on=start, due_on=TODAY() - datetime.timedelta(days=days)
    )


@pytest.fixture
def structure_api(structure_staff):
    return token_client(structure_staff)


@pytest.fixture
def bench(workshop_staff):
    return token_client(workshop_staff)


def reload_device(device_id: int) -> Device:
    return Device.objects.get(pk=device_id)


def later(days: int = 60) -> str:
    return (TODAY() + datetime.timedelta(days=days)).isoformat()


# Reading


def test_a_loan_reads_with_its_devices_and_its_etag(structure_api, kit):
    response = structure_api.get(url(kit))
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    loan = response.json()
    assert (loan["version"], loan["status"], loan["units_out"], loan["overdue"]) == (
        1,
        "open",
        3,
        False,
    )
    assert loan["hand_over"]["reference"].startswith("REM-")
    assert [item["device"]["id"] for item in loan["items"]] == devices_of(kit)
    assert {item["outcome"] for item in loan["items"]} == {""}
    assert loan["extensions"] == []


def test_each_organisation_reads_its_own_loans(
    coord, structure_api, bench, other_workshop_staff, kit
):
    # ECODAIR delivered nothing and handed nothing over: the coordination did.
    for client in (coord, structure_api):
        assert [loan["id"] for loan in client.get(LOANS).json()["results"]] == [kit.pk]
    stranger = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    for user in (other_workshop_staff, stranger):
        client = token_client(user)
        assert client.get(LOANS).json()["results"] == []
        assert client.get(url(kit)).status_code == 404
    assert bench.get(url(kit)).status_code == 404


def test_a_workshop_reads_the_loans_it_handed_over(
    bench, coordinator, structure_staff, workshop_staff, workshop_org
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=1,
        mode="loan",
    )
    hand_over = handovers.hand_over_create(
        actor=workshop_staff, allocation_ids=[made[0].pk], received_by_name="Awa"
    )
    assert [loan["id"] for loan in bench.get(LOANS).json()["results"]] == [hand_over.loan.pk]


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_the_fund_and_donors_read_no_loan(request, kit, persona):
    client = token_client(request.getfixturevalue(persona))
    assert client.get(LOANS).status_code == 403
    assert client.get(url(kit)).status_code == 403
    extend = client.post(
        url(kit, "extend"), {"due_on": later(), "reason": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert extend.status_code == 403
    assert (
        client.post(url(kit, "return"), {"returned": devices_of(kit)}, format="json").status_code
        == 403
    )
    assert Loan.objects.get(pk=kit.pk).version == 1


def test_a_loan_id_beyond_any_integer_is_not_found(coord):
    response = coord.get(url(10**30))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_the_list_filters_by_status_overdue_and_structure(
    coord, coordinator, structure_staff, workshop_org, kit, structure_org
):
    late = lend(coordinator, structure_staff, workshop_org, count=1)
    make_overdue(late)
    ended = lend(coordinator, structure_staff, workshop_org, count=1)
    loans.loan_return(actor=coordinator, loan_id=ended.pk, returned=devices_of(ended))

    def ids(query) -> list[int]:
        response = coord.get(LOANS, query)
        assert response.status_code == 200, response.content
        return [loan["id"] for loan in response.json()["results"]]

    assert ids({}) == [late.pk, kit.pk, ended.pk]
    assert ids({"status": "open"}) == [late.pk, kit.pk]
    assert ids({"status": "ended"}) == [ended.pk]
    assert ids({"overdue": "true"}) == [late.pk]
    assert ids({"overdue": "false"}) == [late.pk, kit.pk, ended.pk]
    assert ids({"structure": structure_org.pk + 1000}) == []
    assert coord.get(url(late)).json()["overdue"] is True


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "late"}, "status"),
        ({"status": ""}, "status"),
        ({"overdue": "yes"}, "overdue"),
        ({"structure": "1e3"}, "structure"),
        ({"structure": str(10**30)}, "structure"),
    ],
)
def test_a_filter_that_is_not_valid_is_refused(coord, query, field):
    response = coord.get(LOANS, query)
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])


@pytest.mark.parametrize("persona", ["coordinator", "structure_staff"])
def test_the_list_reads_as_many_queries_for_twelve_loans_as_for_two(
    request, coordinator, structure_staff, workshop_org, persona
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=12,
        mode="loan",
    )
    client = token_client(request.getfixturevalue(persona))
    for allocation in made[:2]:
        handovers.hand_over_create(
            actor=coordinator, allocation_ids=[allocation.pk], received_by_name="Awa"
        )
    two = queries_of_get(client, LOANS)
    for allocation in made[2:]:
        handovers.hand_over_create(
            actor=coordinator, allocation_ids=[allocation.pk], received_by_name="Awa"
        )
    assert client.get(LOANS).json()["count"] == 12
    assert queries_of_get(client, LOANS) == two


# Extending


def test_an_extension_without_if_match_is_refused(coord, kit):
    response = coord.post(url(kit, "extend"), {"due_on": later(), "reason": "x"}, format="json")
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert not LoanExtension.objects.exists()


def test_an_extension_on_a_stale_read_is_refused(coord, coordinator, kit):
    loans.loan_extend(
        actor=coordinator,
        loan_id=kit.pk,
        due_on=kit.due_on + datetime.timedelta(days=1),
        reason="a",
    )
    response = coord.post(
        url(kit, "extend"),
        {"due_on": later(120), "reason": "Atelier prolongé"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert (response.status_code, response.json()["code"]) == (412, "stale")
    assert (Loan.objects.get(pk=kit.pk).version, LoanExtension.objects.count()) == (2, 1)


@pytest.mark.parametrize("if_match", ['"1"', "1", '"7", "1"', '"abc"'])
def test_an_extension_with_the_current_etag_moves_the_due_date(coord, coordinator, kit, if_match):
    response = coord.post(
        url(kit, "extend"),
        {"due_on": later(120), "reason": "Atelier prolongé"},
        format="json",
        HTTP_IF_MATCH=if_match,
    )
    if if_match == '"abc"':
        assert (response.status_code, response.json()["code"]) == (412, "stale")
        return
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    loan = response.json()
    assert (loan["due_on"], loan["version"]) == (later(120), 2)
    [extension] = loan["extensions"]
    assert (extension["previous_due_on"], extension["due_on"]) == (
        kit.due_on.isoformat(),
        later(120),
    )
    assert (extension["reason"], extension["extended_by"]) == ("Atelier prolongé", "coord")
    assert Loan.objects.get(pk=kit.pk).history.latest().history_user == coordinator


@pytest.mark.parametrize(
    ("extension", "field"),
    [
        ({"due_on": later(), "reason": ""}, "reason"),
        ({"due_on": later()}, "reason"),
        ({"reason": "x"}, "due_on"),
        ({"due_on": "2020-01-01", "reason": "x"}, "due_on"),
        ({"due_on": later(800), "reason": "x"}, "due_on"),
        ({"due_on": 5, "reason": "x"}, "due_on"),
        ({"due_on": later(), "reason": ["x"]}, "reason"),
        ({"due_on": later(), "reason": "x" * 1001}, "reason"),
    ],
)
def test_an_extension_that_is_not_valid_is_refused(coord, kit, extension, field):
    response = coord.post(url(kit, "extend"), extension, format="json", HTTP_IF_MATCH='"1"')
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])
    assert Loan.objects.get(pk=kit.pk).version == 1


@pytest.fixture
def workshop_kit(coordinator, structure_staff, workshop_staff, workshop_org) -> Loan:
    """A kit of two laptops that ECODAIR handed over itself: ECODAIR reads its loan."""
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=2,
        mode="loan",
    )
    hand_over = handovers.hand_over_create(
        actor=workshop_staff, allocation_ids=[a.pk for a in made], received_by_name="Awa"
    )
    return Loan.objects.get(hand_over=hand_over)


@pytest.mark.parametrize("persona", ["structure_staff", "workshop_staff"])
def test_only_the_coordination_extends(request, workshop_kit, persona):
    client = token_client(request.getfixturevalue(persona))
    assert client.get(url(workshop_kit)).status_code == 200
    response = client.post(
        url(workshop_kit, "extend"),
        {"due_on": later(), "reason": "x"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert not LoanExtension.objects.exists()


def test_an_ended_loan_is_not_extended(coord, coordinator, kit):
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=devices_of(kit))
    version = Loan.objects.get(pk=kit.pk).version
    response = coord.post(
        url(kit, "extend"),
        {"due_on": later(), "reason": "x"},
        format="json",
        HTTP_IF_MATCH=f'"{version}"',
    )
    assert (response.status_code, response.json()["code"]) == (409, "loan_ended")


# Returning


def test_a_kit_comes_back_in_parts_and_ends_with_its_last_device(coord, workshop_org, kit):
    first, second, third = devices_of(kit)
    response = coord.post(
        url(kit, "return"),
        {"returned": [first], "lost": [second], "note": "Sac perdu"},
        format="json",
    )
    assert response.status_code == 200, response.content
    loan = response.json()
    assert (loan["status"], loan["units_out"]) == ("open", 1)
    outcomes = {item["device"]["id"]: item["outcome"] for item in loan["items"]}
    assert outcomes == {first: "returned", second: "lost", third: ""}
    assert reload_device(first).status == Status.RETURNED
    assert reload_device(second).status == Status.LOST
    assert response["ETag"] == f'"{loan["version"]}"'
    last = coord.post(
        url(kit, "return"), {"returned": [third]}, format="json", HTTP_IF_MATCH=response["ETag"]
    )
    assert last.status_code == 200, last.content
    assert (last.json()["status"], last.json()["units_out"]) == ("ended", 0)
    assert last.json()["ended_at"] is not None


def test_a_return_on_a_stale_read_is_refused(coord, coordinator, kit):
    first, second, _third = devices_of(kit)
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=[first])
    response = coord.post(
        url(kit, "return"), {"returned": [second]}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert (response.status_code, response.json()["code"]) == (412, "stale")
    assert kit.items.get(device_id=second).outcome == LoanItemOutcome.OUT


def test_a_device_not_out_on_the_loan_refuses_the_whole_return(
    coord, coordinator, at_other_workshop, kit
):
    first, second, _third = devices_of(kit)
    loans.loan_return(actor=coordinator, loan_id=kit.pk, returned=[first])
    again = coord.post(url(kit, "return"), {"returned": [first, second]}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "not_on_loan")
    assert kit.items.get(device_id=second).outcome == LoanItemOutcome.OUT
    # Another organisation's device named by its id: refused without its label code.
    stranger = coord.post(url(kit, "return"), {"lost": [at_other_workshop.pk]}, format="json")
    assert (stranger.status_code, stranger.json()["code"]) == (409, "not_on_loan")
    assert at_other_workshop.label_code_id not in stranger.content.decode().replace("-", "")
    assert reload(at_other_workshop).status == Status.AT_WORKSHOP


def test_a_workshop_records_the_return_of_a_loan_it_handed_over(
    bench, workshop_org, workshop_kit, at_other_workshop
):
    first = devices_of(workshop_kit)[0]
    response = bench.post(url(workshop_kit, "return"), {"returned": [first]}, format="json")
    assert response.status_code == 200, response.content
    assert reload_device(first).custodian_id == workshop_org.pk
    # A device of another workshop, named by its id: refused without its label code.
    probe = bench.post(
        url(workshop_kit, "return"), {"returned": [at_other_workshop.pk]}, format="json"
    )
    assert (probe.status_code, probe.json()["code"]) == (409, "not_on_loan")
    assert at_other_workshop.label_code_id not in probe.content.decode().replace("-", "")


def test_a_structure_does_not_record_returns(structure_api, kit):
    response = structure_api.post(url(kit, "return"), {"returned": devices_of(kit)}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert Loan.objects.get(pk=kit.pk).units_out == 3


def test_another_organisations_loan_is_not_found_and_stays_as_it_was(other_workshop_staff, kit):
    client = token_client(other_workshop_staff)
    replies = [
        client.post(url(kit, "return"), {"returned": devices_of(kit)}, format="json"),
        client.post(
            url(kit, "extend"), {"due_on": later(), "reason": "x"}, format="json", HTTP_IF_MATCH="1"
        ),
    ]
    assert [(r.status_code, r.json()["code"]) for r in replies] == [(404, "not_found")] * 2
    assert Loan.objects.get(pk=kit.pk).version == 1


@pytest.mark.parametrize(
    ("returned", "field"),
    [
        ({}, "returned"),
        ({"returned": [], "lost": []}, "returned"),
        ({"returned": "1,2"}, "returned"),
        ({"returned": [True]}, "returned"),
        ({"lost": [1.0]}, "lost"),
        ({"lost": [10**30]}, "lost"),
        ({"returned": [1], "lost": [1]}, "lost"),
        ({"returned": [1], "note": 5}, "note"),
    ],
)
def test_a_return_that_is_not_valid_is_refused(coord, kit, returned, field):
    response = coord.post(url(kit, "return"), returned, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])
    assert Loan.objects.get(pk=kit.pk).units_out == 3


@pytest.mark.parametrize("raw", ["null", "[1]", "{not json", '{"returned": [1' + "0" * 5000 + "]}"])
def test_a_body_that_is_no_object_is_refused(coord, kit, raw):
    response = coord.post(url(kit, "return"), raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert Loan.objects.get(pk=kit.pk).units_out == 3


# What structures report


def test_a_structure_announces_a_return_once(structure_api, kit):
    device = devices_of(kit)[0]
    first = structure_api.post(REPORTS, {"device": device, "kind": "return"}, format="json")
    assert first.status_code == 201, first.content
    report = first.json()
    assert (report["kind"], report["open"], report["device"]["id"]) == ("return", True, device)
    again = structure_api.post(REPORTS, {"device": device, "kind": "return"}, format="json")
    assert (again.status_code, again.json()["id"]) == (200, report["id"])
    other = structure_api.post(REPORTS, {"device": device, "kind": "broken"}, format="json")
    assert (other.status_code, other.json()["code"]) == (409, "report_open")
    assert DeviceReport.objects.count() == 1


def test_a_retried_report_with_its_idempotency_key_is_replayed(structure_api, kit):
    device = devices_of(kit)[0]
    headers = {"HTTP_IDEMPOTENCY_KEY": "report-1"}
    first = structure_api.post(
        REPORTS, {"device": device, "kind": "broken"}, format="json", **headers
    )
    again = structure_api.post(
        REPORTS, {"device": device, "kind": "broken"}, format="json", **headers
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    other = structure_api.post(
        REPORTS, {"device": device, "kind": "lost"}, format="json", **headers
    )
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert (DeviceReport.objects.count(), IdempotencyRecord.objects.count()) == (1, 1)


def test_a_loss_reported_is_declared_at_once_and_the_rest_of_the_kit_stays_out(structure_api, kit):
    device = devices_of(kit)[0]
    response = structure_api.post(
        REPORTS, {"device": device, "kind": "lost", "note": "Volé"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["open"] is False
    assert reload_device(device).status == Status.LOST
    loan = Loan.objects.get(pk=kit.pk)
    assert (loan.status, loan.units_out) == (LoanStatus.OPEN, 2)


def test_a_device_the_structure_does_not_hold_is_not_found(structure_api, at_other_workshop):
    response = structure_api.post(
        REPORTS, {"device": at_other_workshop.pk, "kind": "broken"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert not DeviceReport.objects.exists()


def test_a_report_the_device_status_does_not_allow_is_refused(structure_api, kit):
    response = structure_api.post(
        REPORTS, {"device": devices_of(kit)[0], "kind": "end_of_life"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "report_not_applicable")


@pytest.mark.parametrize("persona", ["coordinator", "workshop_staff", "fund_reader", "reader"])
def test_only_a_structures_staff_report(request, structure_org, kit, persona):
    if persona == "reader":
        user = make_user(organisation=structure_org, role=Role.READER)
    else:
        user = request.getfixturevalue(persona)
    response = token_client(user).post(
        REPORTS, {"device": devices_of(kit)[0], "kind": "broken"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert not DeviceReport.objects.exists()


def test_the_coordination_reads_open_reports_and_closes_them(
    coord, structure_api, structure_staff, kit
):
    first, second, _third = devices_of(kit)
    loans.device_report_create(actor=structure_staff, device_id=first, kind="broken")
    loans.device_report_create(actor=structure_staff, device_id=second, kind="return")
    listed = coord.get(REPORTS).json()["results"]
    assert [r["device"]["id"] for r in listed] == [second, first]
    report = listed[1]["id"]
    refused = structure_api.post(f"{REPORTS}{report}/close/", {"note": "x"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "action_forbidden")
    empty = coord.post(f"{REPORTS}{report}/close/", {"note": ""}, format="json")
    assert (empty.status_code, list(empty.json()["fields"])) == (400, ["note"])
    closed = coord.post(f"{REPORTS}{report}/close/", {"note": "Réparé sur place"}, format="json")
    assert closed.status_code == 200, closed.content
    assert (closed.json()["open"], closed.json()["closing_note"]) == (False, "Réparé sur place")
    assert (
        coord.post(f"{REPORTS}{report}/close/", {"note": "bis"}, format="json").json()[
            "closing_note"
        ]
        == "Réparé sur place"
    )
    assert [r["id"] for r in coord.get(REPORTS).json()["results"]] == [listed[0]["id"]]
    assert len(coord.get(REPORTS, {"all": "1"}).json()["results"]) == 2
    assert len(structure_api.get(REPORTS, {"all": "true"}).json()["results"]) == 2


def test_reports_are_read_by_their_structure_and_the_coordination_only(
    structure_staff, kit, other_workshop_staff, fund_reader, workshop_staff
):
    loans.device_report_create(actor=structure_staff, device_id=devices_of(kit)[0], kind="broken")
    report = DeviceReport.objects.get()
    stranger = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    assert token_client(stranger).get(REPORTS).json()["results"] == []
    closing = token_client(stranger).post(
        f"{REPORTS}{report.pk}/close/", {"note": "x"}, format="json"
    )
    assert (closing.status_code, closing.json()["code"]) == (404, "not_found")
    for user in (workshop_staff, other_workshop_staff, fund_reader):
        assert token_client(user).get(REPORTS).status_code == 403
    assert DeviceReport.objects.get().closed_at is None


@pytest.mark.parametrize(
    ("report", "field"),
    [
        ({"device": "1", "kind": "broken"}, "device"),
        ({"device": True, "kind": "broken"}, "device"),
        ({"device": 2**64, "kind": "broken"}, "device"),
        ({"kind": "broken"}, "device"),
        ({"device": 1, "kind": "stolen"}, "kind"),
        ({"device": 1, "kind": 3}, "kind"),
        ({"device": 1, "kind": "broken", "note": "x" * 1001}, "note"),
        ({"device": 1, "kind": "broken", "note": "a\x00"}, "note"),
    ],
)
def test_a_report_that_is_not_valid_is_refused(structure_api, report, field):
    response = structure_api.post(REPORTS, json.dumps(report), content_type="application/json")
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])
    assert not DeviceReport.objects.exists()


@pytest.mark.parametrize(("query", "field"), [({"all": "yes"}, "all"), ({"all": ""}, "all")])
def test_a_report_filter_that_is_not_valid_is_refused(coord, query, field):
    response = coord.get(REPORTS, query)
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])


@pytest.mark.parametrize("persona", ["coordinator", "structure_staff"])
def test_the_report_list_reads_as_many_queries_for_twelve_as_for_two(
    request, coordinator, structure_staff, workshop_org, persona
):
    devices = devices_of(lend(coordinator, structure_staff, workshop_org, count=12))
    client = token_client(request.getfixturevalue(persona))
    for device in devices[:2]:
        loans.device_report_create(actor=structure_staff, device_id=device, kind="broken")
    two = queries_of_get(client, REPORTS)
    for device in devices[2:]:
        loans.device_report_create(actor=structure_staff, device_id=device, kind="return")
    assert client.get(REPORTS).json()["count"] == 12
    assert queries_of_get(client, REPORTS) == two


def test_the_schema_documents_every_loan_operation(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    extend = paths[f"{LOANS}{{id}}/extend/"]["post"]
    assert {"412", "428"} <= set(extend["responses"])
    assert "If-Match" in {p["name"] for p in extend["parameters"]}
    returned = paths[f"{LOANS}{{id}}/return/"]["post"]
    assert "412" in returned["responses"] and "428" not in returned["responses"]
    filters = {p["name"] for p in paths[LOANS]["get"]["parameters"]}
    assert {"status", "overdue", "structure", "page_size"} <= filters
    assert set(paths[REPORTS]) == {"get", "post"}
    assert "post" in paths[f"{REPORTS}{{id}}/close/"]
