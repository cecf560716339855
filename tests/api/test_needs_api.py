"""The needs register on the API: declaring (idempotent), the register scoped and filtered in a
flat number of queries, its units, a need's ETag and If-Match, the moves of its lifecycle, and
hostile bodies answered 400, never 500."""

import datetime
import json

import pytest
from django.utils import timezone

from api.views.needs import nested_fields
from inventory.models import Commune, IdempotencyRecord, Role
from inventory.states import OrgKind
from logistics.models import Need, NeedLine
from logistics.needs import services as needs
from logistics.needs.lifecycle import NeedStatus
from tests.builders import (
    accepted_need,
    make_need,
    make_organisation,
    make_user,
    need_fields,
    queries_of_get,
    token_client,
)

pytestmark = pytest.mark.django_db

LAPTOPS = [{"category": "laptop", "quantity": 2}]


def need_body(**overrides) -> dict:
    return need_fields() | {"lines": LAPTOPS} | overrides


def need_url(need) -> str:
    return f"/api/needs/{need.pk}/"


def written() -> tuple[int, int, int]:
    return Need.objects.count(), NeedLine.objects.count(), Need.history.count()


def reload(need) -> Need:
    return Need.objects.get(pk=need.pk)


@pytest.fixture
def structure_api(structure_staff):
    return token_client(structure_staff)


@pytest.fixture
def boulogne(db):
    """Another structure, a CCAS of another commune and territory (Boulogne, T3)."""
    return make_organisation(
        kind=OrgKind.STRUCTURE,
        name="CCAS Boulogne",
        structure_type="CCAS",
        commune=Commune.objects.get(insee_code="92012"),
    )


@pytest.fixture
def boulogne_staff(boulogne):
    return make_user(organisation=boulogne, username="boulogne")


# Declaring


def test_a_structure_declares_a_draft_need_for_itself(
    structure_api, structure_staff, structure_org
):
    body = need_body(
        lines=[
            {"category": "laptop", "quantity": 3, "min_ram_gb": 8, "os_family": "windows"},
            {"category": "tablet", "quantity": 1, "min_screen_inches": "10.1", "min_grade": "B"},
        ]
    )
    response = structure_api.post("/api/needs/", body, format="json")
    assert response.status_code == 201, response.content
    need = response.json()
    saved = Need.objects.get(pk=need["id"])
    assert need["reference"] == saved.reference
    assert need["structure"] == {
        "id": structure_org.pk,
        "name": structure_org.name,
        "structure_type": "CS",
        "commune": {"insee_code": "92002", "name": "Antony"},
        "territory": "T2",
    }
    assert (need["status"], need["submitted_at"], need["version"]) == ("draft", None, 1)
    assert (need["purpose"], need["public"], need["mode"], need["urgency"]) == (
        "public_access",
        "everyone",
        "gift",
        "normal",
    )
    assert need["created_by"] == "structure"
    assert need["actions"] == ["submit", "cancel", "edit"]
    laptop, tablet = need["lines"]
    assert laptop["category"]["code"] == "laptop"
    assert (laptop["quantity"], laptop["quantity_accepted"], laptop["quantity_served"]) == (
        3,
        None,
        0,
    )
    assert (laptop["min_ram_gb"], laptop["os_family"], laptop["min_grade"]) == (8, "windows", "")
    assert (tablet["min_screen_inches"], tablet["min_grade"]) == ("10.1", "B")
    assert saved.history.get().history_user == structure_staff


def test_a_need_submitted_at_once_is_dated(structure_api):
    response = structure_api.post("/api/needs/", need_body(submit=True), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "submitted"
    assert response.json()["submitted_at"] is not None
    assert response.json()["actions"] == ["cancel", "edit"]


def test_the_author_is_named_by_full_name_and_the_email_stays_private(structure_org):
    user = make_user(organisation=structure_org, username="mroux")
    user.first_name, user.last_name = "Marie", "Roux"
    user.email = "marie.roux@structure.example"
    user.save()
    response = token_client(user).post("/api/needs/", need_body(), format="json")
    assert response.json()["created_by"] == "Marie Roux"
    assert "structure.example" not in response.content.decode()


def test_the_coordination_declares_for_the_structure_it_names(coord, coordinator, structure_org):
    response = coord.post("/api/needs/", need_body(structure=structure_org.pk), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["structure"]["id"] == structure_org.pk
    assert Need.objects.get().created_by == coordinator

    unnamed = coord.post("/api/needs/", need_body(), format="json")
    assert unnamed.status_code == 400
    assert list(unnamed.json()["fields"]) == ["structure"]


def test_a_structure_cannot_declare_for_another(structure_api, structure_org, boulogne):
    response = structure_api.post("/api/needs/", need_body(structure=boulogne.pk), format="json")
    assert response.status_code == 201
    assert Need.objects.get().structure == structure_org


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"category": "spaceship", "quantity": 1}, "category"),
        ({"category": "laptop", "quantity": 0}, "quantity"),
        ({"category": "laptop", "quantity": 501}, "quantity"),
        ({"category": "laptop", "quantity": 10**30}, "quantity"),
        ({"category": "laptop", "quantity": "2"}, "quantity"),
        ({"category": "laptop", "quantity": 1.5}, "quantity"),
        ({"category": "laptop", "quantity": True}, "quantity"),
        ({"category": "laptop", "quantity": None}, "quantity"),
        ({"category": "laptop"}, "quantity"),
        ({"category": 7, "quantity": 1}, "category"),
        ({"category": "laptop", "quantity": 1, "min_ram_gb": 0}, "min_ram_gb"),
        ({"category": "laptop", "quantity": 1, "min_storage_gb": 10**20}, "min_storage_gb"),
        ({"category": "laptop", "quantity": 1, "min_screen_inches": "NaN"}, "min_screen_inches"),
        ({"category": "laptop", "quantity": 1, "min_screen_inches": "1e999"}, "min_screen_inches"),
        ({"category": "laptop", "quantity": 1, "min_screen_inches": 15.6}, "min_screen_inches"),
        ({"category": "laptop", "quantity": 1, "os_family": "beos"}, "os_family"),
        ({"category": "laptop", "quantity": 1, "min_grade": "D"}, "min_grade"),
        ({"category": "laptop", "quantity": 1, "min_grade": ["A"]}, "min_grade"),
    ],
)
def test_a_bad_line_is_named_by_its_position_and_field(structure_api, line, field):
    body = need_body(lines=[{"category": "tablet", "quantity": 1}, line])
    response = structure_api.post("/api/needs/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    fields = response.json()["fields"]
    assert (list(fields), list(fields["lines"]), list(fields["lines"]["1"])) == (
        ["lines"],
        ["1"],
        [field],
    )
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"purpose": "fun"}, "purpose"),
        ({"purpose": 5}, "purpose"),
        ({"public": ["everyone"]}, "public"),
        ({"mode": "loan"}, "loan_weeks"),  # a loan needs its length
        ({"mode": "loan", "loan_weeks": 105}, "loan_weeks"),
        ({"mode": "loan", "loan_weeks": "12"}, "loan_weeks"),
        ({"urgency": "yesterday"}, "urgency"),
        ({"justification": "x" * 1001}, "justification"),
        ({"justification": "a\x00b"}, "justification"),
        ({"lines": []}, "lines"),
        ({"lines": LAPTOPS * 21}, "lines"),
        ({"lines": "laptop"}, "lines"),
        ({"lines": {"category": "laptop", "quantity": 1}}, "lines"),
        ({"lines": None}, "lines"),
        ({"submit": "yes"}, "submit"),
        ({"structure": "12"}, "structure"),
    ],
)
def test_bad_need_fields_are_named_and_nothing_is_written(structure_api, overrides, field):
    response = structure_api.post("/api/needs/", need_body(**overrides), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    "raw",
    [
        "[1, 2]",
        '"need"',
        "null",
        "{not json",
        "[" * 50_000 + "]" * 50_000,
        '{"purpose": 1' + "0" * 5000 + "}",  # beyond Python's digits for an int
    ],
)
def test_a_body_that_is_no_object_is_refused_never_a_server_error(coord, raw):
    response = coord.post(
        "/api/needs/", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="hostile"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert written() == (0, 0, 0)


@pytest.mark.parametrize(
    ("lines", "place"),
    [
        ('[["laptop", 2]]', ["0"]),
        ("[null]", ["0"]),
        ('{"0": {"category": "laptop", "quantity": 1}}', []),
        ('[{"category": "lap\\u0000top", "quantity": 1}]', ["0", "category"]),
        ('[{"category": "\\ud800", "quantity": 1}]', ["0", "category"]),
        (
            '[{"category": "laptop", "quantity": 1, "min_screen_inches": "1\\u0000"}]',
            ["0", "min_screen_inches"],
        ),
        ('[{"category": "laptop", "quantity": 1e400}]', ["0", "quantity"]),
        ('[{"category": "laptop", "quantity": {"n": 1}}]', ["0", "quantity"]),
    ],
)
def test_hostile_lines_are_refused_where_they_are(coord, structure_org, lines, place):
    fields = json.dumps(need_fields(structure=structure_org.pk))
    raw = fields[:-1] + f', "lines": {lines}}}'
    response = coord.post("/api/needs/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    node = response.json()["fields"]
    assert list(node) == ["lines"]
    node = node["lines"]
    for step in place:
        assert list(node) == [step]
        node = node[step]
    assert isinstance(node, list | dict)
    assert written() == (0, 0, 0)


def test_a_huge_structure_id_is_refused_not_looked_up(coord):
    response = coord.post("/api/needs/", need_body(structure=2**64), format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["structure"]


@pytest.mark.parametrize("persona", ["workshop_staff", "fund_reader", "donor_user"])
def test_only_structures_and_the_coordination_declare_needs(request, structure_org, persona):
    user = request.getfixturevalue(persona)
    body = need_body(structure=structure_org.pk)
    response = token_client(user).post("/api/needs/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert written() == (0, 0, 0)


def test_a_structures_reader_declares_nothing(structure_org):
    reader = make_user(organisation=structure_org, role=Role.READER)
    response = token_client(reader).post("/api/needs/", need_body(), format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")


def test_a_structure_at_its_quota_of_open_needs_is_refused(settings, structure_api):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 1
    assert structure_api.post("/api/needs/", need_body(), format="json").status_code == 201
    response = structure_api.post("/api/needs/", need_body(), format="json")
    assert (response.status_code, response.json()["code"]) == (409, "too_many_open_needs")
    assert Need.objects.count() == 1


def test_a_retried_need_with_its_idempotency_key_is_declared_once(structure_api):
    headers = {"HTTP_IDEMPOTENCY_KEY": "need-5c1e"}
    first = structure_api.post("/api/needs/", need_body(), format="json", **headers)
    again = structure_api.post("/api/needs/", need_body(), format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert written() == (1, 1, 1)

    other = structure_api.post("/api/needs/", need_body(urgency="high"), format="json", **headers)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Need.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


# The register


def test_the_coordination_reads_every_need_and_a_structure_its_own(
    coord, structure_api, structure_staff, boulogne_staff
):
    own = make_need(actor=structure_staff)
    other = make_need(actor=boulogne_staff, submit=False)
    everything = coord.get("/api/needs/")
    assert everything.status_code == 200
    assert [n["id"] for n in everything.json()["results"]] == [other.pk, own.pk]
    assert everything.json()["count"] == 2
    mine = structure_api.get("/api/needs/")
    assert [n["id"] for n in mine.json()["results"]] == [own.pk]
    assert mine.json()["results"][0]["actions"] == ["cancel", "edit"]
    assert everything.json()["results"][1]["actions"] == ["cancel", "edit", "accept", "decline"]


@pytest.mark.parametrize("persona", ["workshop_staff", "fund_reader", "donor_user"])
def test_workshops_the_fund_and_donors_read_no_need(request, structure_staff, persona):
    need = make_need(actor=structure_staff)
    client = token_client(request.getfixturevalue(persona))
    for url in ("/api/needs/", "/api/needs/units/", need_url(need)):
        response = client.get(url)
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_another_structures_need_is_not_found_and_stays_as_it_was(structure_api, boulogne_staff):
    other = make_need(actor=boulogne_staff, submit=False)
    before = (reload(other).status, reload(other).version)
    headers = {"HTTP_IF_MATCH": '"1"'}
    replies = [
        structure_api.get(need_url(other)),
        structure_api.patch(need_url(other), {"urgency": "high"}, format="json", **headers),
        structure_api.post(f"{need_url(other)}submit/", format="json"),
        structure_api.post(f"{need_url(other)}cancel/", {}, format="json"),
    ]
    assert [(r.status_code, r.json()["code"]) for r in replies] == [(404, "not_found")] * 4
    assert (reload(other).status, reload(other).version) == before


def test_a_need_id_beyond_any_integer_is_not_found(coord):
    response = coord.get(f"/api/needs/{10**30}/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.fixture
def register(structure_staff, boulogne_staff, coordinator):
    """Three needs: Antony's submitted laptops for everyone, declared 40 days ago; Antony's
    draft tablets for seniors; Boulogne's accepted smartphones lent to job seekers."""
    old = make_need(actor=structure_staff)
    Need.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=40))
    tablets = make_need(
        actor=structure_staff,
        submit=False,
        public="seniors",
        lines=[{"category": "tablet", "quantity": 4}],
    )
    phones = accepted_need(
        structure_actor=boulogne_staff,
        coordinator=coordinator,
        purpose="lent_to_people",
        public="job_seekers",
        lines=[{"category": "smartphone", "quantity": 5}, {"category": "laptop", "quantity": 1}],
    )
    return {"old": old, "tablets": tablets, "phones": phones}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["phones", "tablets", "old"]),
        ({"status": "draft"}, ["tablets"]),
        ({"status": "accepted"}, ["phones"]),
        ({"territory": "T3"}, ["phones"]),
        ({"commune": "92002"}, ["tablets", "old"]),
        ({"structure_type": "CCAS"}, ["phones"]),
        ({"category": "laptop"}, ["phones", "old"]),
        ({"public": "seniors"}, ["tablets"]),
        ({"purpose": "lent_to_people"}, ["phones"]),
        ({"older_than_days": "30"}, ["old"]),
        ({"territory": "T9"}, []),
    ],
)
def test_the_register_filters(coord, register, query, expected):
    response = coord.get("/api/needs/", query)
    assert response.status_code == 200, response.content
    names = {need.pk: name for name, need in register.items()}
    assert [names[n["id"]] for n in response.json()["results"]] == expected


def test_the_register_filters_by_structure(coord, register, boulogne):
    response = coord.get("/api/needs/", {"structure": boulogne.pk})
    assert [n["id"] for n in response.json()["results"]] == [register["phones"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": ""}, "status"),
        ({"structure": "abc"}, "structure"),
        ({"structure": "1.5"}, "structure"),
        ({"structure": "0"}, "structure"),
        ({"structure": str(10**30)}, "structure"),
        ({"structure_type": "castle"}, "structure_type"),
        ({"public": "everyone", "purpose": "fun"}, "purpose"),
        ({"older_than_days": "-1"}, "older_than_days"),
        ({"older_than_days": "99999999"}, "older_than_days"),
        ({"territory": "T2" * 10}, "territory"),
        ({"commune": ""}, "commune"),
    ],
)
def test_a_filter_value_that_is_not_valid_is_refused(coord, query, field):
    for url in ("/api/needs/", "/api/needs/units/"):
        response = coord.get(url, query)
        assert response.status_code == 400, (url, response.content)
        assert response.json()["code"] == "invalid"
        assert list(response.json()["fields"]) == [field]


def test_the_register_reads_as_many_queries_for_twenty_needs_as_for_three(
    settings, coordinator, structure_staff, boulogne_staff
):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 50
    lines = [{"category": "laptop", "quantity": 2}, {"category": "tablet", "quantity": 1}]
    client = token_client(coordinator)
    for staff in (structure_staff, boulogne_staff, structure_staff):
        make_need(actor=staff, lines=lines)
    url = "/api/needs/?page_size=200"
    three = queries_of_get(client, url)
    assert three <= 4  # the token, the capped count, the page of needs, their lines
    for index in range(17):
        make_need(actor=(structure_staff, boulogne_staff)[index % 2], lines=lines)
    assert client.get(url).json()["count"] == 20
    assert queries_of_get(client, url) == three


def test_units_count_what_was_asked_accepted_and_served_under_the_filters(
    coord, structure_api, register
):
    phones = register["phones"]
    smartphones = phones.lines.get(category="smartphone")
    # The allocations keep quantity_served; none exist here.
    NeedLine.objects.filter(pk=smartphones.pk).update(quantity_served=2)
    # Antony's 2 laptops and Boulogne's 5 smartphones and 1 laptop: the draft asks nothing yet.
    assert coord.get("/api/needs/units/").json() == {"asked": 8, "accepted": 6, "served": 2}
    laptops = coord.get("/api/needs/units/", {"category": "laptop"}).json()
    assert laptops == {"asked": 3, "accepted": 1, "served": 0}
    assert coord.get("/api/needs/units/", {"territory": "T3"}).json() == {
        "asked": 6,
        "accepted": 6,
        "served": 2,
    }
    assert coord.get("/api/needs/units/", {"status": "draft"}).json() == {
        "asked": 0,
        "accepted": 0,
        "served": 0,
    }
    # A structure counts its own needs only.
    assert structure_api.get("/api/needs/units/").json() == {
        "asked": 2,
        "accepted": 0,
        "served": 0,
    }


# One need, its ETag and If-Match


def test_a_need_reads_with_its_etag(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.get(need_url(need))
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert response.json()["version"] == 1
    assert response.json()["status_label"] == str(NeedStatus.DRAFT.label)


def test_a_change_without_if_match_is_refused(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.patch(need_url(need), {"urgency": "high"}, format="json")
    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert reload(need).urgency == "normal"


def test_a_change_on_a_stale_read_is_refused(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    needs.need_update(actor=structure_staff, need_id=need.pk, urgency="low")
    response = structure_api.patch(
        need_url(need), {"urgency": "high"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert (response.status_code, response.json()["code"]) == (412, "stale")
    assert (reload(need).urgency, reload(need).version) == ("low", 2)


@pytest.mark.parametrize("if_match", ['"1"', "1", '"7", "1"'])
def test_a_change_with_the_current_etag_is_saved_and_answers_the_next(
    structure_api, structure_staff, if_match
):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.patch(
        need_url(need),
        {"urgency": "high", "mode": "loan", "loan_weeks": 12},
        format="json",
        HTTP_IF_MATCH=if_match,
    )
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    body = response.json()
    assert (body["urgency"], body["mode"], body["loan_weeks"], body["version"]) == (
        "high",
        "loan",
        12,
        2,
    )
    # Lines left out are kept.
    assert [(li["category"]["code"], li["quantity"]) for li in body["lines"]] == [("laptop", 2)]


def test_lines_given_in_a_change_replace_every_line(structure_api, structure_staff):
    need = make_need(actor=structure_staff, lines=LAPTOPS + [{"category": "screen", "quantity": 1}])
    lines = [{"category": "smartphone", "quantity": 4, "min_storage_gb": 64}]
    response = structure_api.patch(
        need_url(need), {"lines": lines}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.content
    assert [
        (li["category"]["code"], li["quantity"], li["min_storage_gb"])
        for li in response.json()["lines"]
    ] == [("smartphone", 4, 64)]
    assert list(reload(need).lines.values_list("category_id", flat=True)) == ["smartphone"]


def test_a_bad_line_in_a_change_is_named_and_nothing_changes(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.patch(
        need_url(need),
        {"lines": [{"category": "laptop", "quantity": 1000}]},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["lines"]
    assert list(response.json()["fields"]["lines"]["0"]) == ["quantity"]
    assert reload(need).version == 1
    assert list(reload(need).lines.values_list("quantity", flat=True)) == [2]


def test_a_decided_need_can_no_longer_be_changed(structure_api, structure_staff, coordinator):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    response = structure_api.patch(
        need_url(need), {"urgency": "high"}, format="json", HTTP_IF_MATCH=f'"{need.version}"'
    )
    assert (response.status_code, response.json()["code"]) == (409, "need_not_editable")


# Moves


def test_a_draft_is_submitted_and_answers_its_new_etag(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.post(f"{need_url(need)}submit/", HTTP_IF_MATCH='"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == '"2"'
    assert (response.json()["status"], response.json()["version"]) == ("submitted", 2)
    assert response.json()["submitted_at"] is not None

    again = structure_api.post(f"{need_url(need)}submit/")
    assert (again.status_code, again.json()["code"]) == (409, "need_transition_not_allowed")


def test_a_move_with_a_stale_if_match_is_refused(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    needs.need_update(actor=structure_staff, need_id=need.pk, urgency="low")
    response = structure_api.post(f"{need_url(need)}submit/", HTTP_IF_MATCH='"1"')
    assert (response.status_code, response.json()["code"]) == (412, "stale")
    assert reload(need).status == NeedStatus.DRAFT


def test_the_coordination_accepts_with_fewer_units_on_a_line(coord, structure_staff):
    need = make_need(
        actor=structure_staff,
        lines=[{"category": "laptop", "quantity": 5}, {"category": "tablet", "quantity": 2}],
    )
    laptops, tablets = need.lines.order_by("id")
    response = coord.post(
        f"{need_url(need)}accept/", {"quantities": {str(laptops.pk): 3}}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["version"], response["ETag"]) == ("accepted", 2, '"2"')
    assert body["decided_at"] is not None
    assert [li["quantity_accepted"] for li in body["lines"]] == [3, 2]
    assert body["actions"] == ["cancel"]


@pytest.mark.parametrize(
    "quantities",
    [
        lambda line: {str(line.pk): 6},
        lambda line: {str(line.pk): -1},
        lambda line: {str(line.pk): 10**30},
        lambda line: {str(line.pk): "3"},
        lambda line: {str(line.pk): None},
        lambda line: {str(line.pk): 0},  # not one unit left: decline it instead
        lambda line: {"9223372036854775807": 1},  # no line of this need
        lambda line: {"9223372036854775808": 1},
        lambda line: {"laptop": 1},
        lambda line: {"1.5": 1},
        lambda line: [line.pk, 3],
        lambda line: "all",
    ],
)
def test_accepted_quantities_that_are_not_valid_are_refused(coord, structure_staff, quantities):
    need = make_need(actor=structure_staff, lines=[{"category": "laptop", "quantity": 5}])
    body = {"quantities": quantities(need.lines.get())}
    response = coord.post(f"{need_url(need)}accept/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["quantities"]
    assert reload(need).status == NeedStatus.SUBMITTED


def test_a_line_of_another_need_is_no_line_of_this_one(coord, structure_staff):
    need = make_need(actor=structure_staff)
    other = make_need(actor=structure_staff)
    line = other.lines.get()
    response = coord.post(
        f"{need_url(need)}accept/", {"quantities": {str(line.pk): 1}}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]["quantities"]) == [str(line.pk)]


def test_structures_do_not_decide(structure_api, structure_staff):
    need = make_need(actor=structure_staff)
    for move, body in (("accept", {}), ("decline", {"reason": "Non"})):
        response = structure_api.post(f"{need_url(need)}{move}/", body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert reload(need).status == NeedStatus.SUBMITTED


def test_a_draft_cannot_be_accepted(coord, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = coord.post(f"{need_url(need)}accept/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "need_transition_not_allowed")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": 3}])
def test_a_decline_needs_its_reason(coord, structure_staff, body):
    need = make_need(actor=structure_staff)
    response = coord.post(f"{need_url(need)}decline/", body, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["fields"]) == ["reason"]
    assert reload(need).status == NeedStatus.SUBMITTED


def test_the_coordination_declines_telling_why(coord, structure_api, structure_staff):
    need = make_need(actor=structure_staff)
    reason = "Plus de tablettes avant l'été."
    response = coord.post(
        f"{need_url(need)}decline/", {"reason": reason}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == ("declined", reason)
    seen = structure_api.get(need_url(need)).json()
    assert (seen["reason"], seen["actions"]) == (reason, [])


def test_the_structure_cancels_its_need_once(structure_api, structure_staff, coordinator):
    need = accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    response = structure_api.post(
        f"{need_url(need)}cancel/", {"reason": "Besoin couvert par la mairie."}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == (
        "cancelled",
        "Besoin couvert par la mairie.",
    )
    assert response["ETag"] == f'"{need.version + 1}"'
    again = structure_api.post(f"{need_url(need)}cancel/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "need_transition_not_allowed")


def test_a_cancel_without_a_body_needs_no_reason(structure_api, structure_staff):
    need = make_need(actor=structure_staff, submit=False)
    response = structure_api.post(f"{need_url(need)}cancel/")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == ("cancelled", "")


def test_the_api_history_names_the_api_user_and_the_move(coord, coordinator, structure_staff):
    need = make_need(actor=structure_staff)
    coord.post(f"{need_url(need)}accept/", {}, format="json")
    rows = reload(need).history.order_by("history_id")
    assert [(row.history_user, row.history_change_reason) for row in rows] == [
        (structure_staff, "need_submit"),
        (coordinator, "need_accept"),
    ]


def test_the_schema_documents_every_need_operation(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths["/api/needs/"]) == {"get", "post"}
    assert set(paths["/api/needs/{id}/"]) == {"get", "patch"}
    for move in ("submit", "accept", "decline", "cancel"):
        assert f"/api/needs/{{id}}/{move}/" in paths
    filters = {p["name"] for p in paths["/api/needs/"]["get"]["parameters"]}
    assert {"status", "territory", "commune", "structure_type", "structure"} <= filters
    assert {"category", "public", "purpose", "older_than_days", "page_size"} <= filters
    patch = paths["/api/needs/{id}/"]["patch"]
    assert {"412", "428"} <= set(patch["responses"])
    assert "If-Match" in {p["name"] for p in patch["parameters"]}


@pytest.mark.parametrize(
    ("flat", "nested"),
    [
        ({"purpose": ["a"]}, {"purpose": ["a"]}),
        (
            {"lines.0.quantity": ["a"], "lines.0.category": ["b"], "lines.2": ["c"]},
            {"lines": {"0": {"quantity": ["a"], "category": ["b"]}, "2": ["c"]}},
        ),
        ({"quantities.42": ["a"]}, {"quantities": {"42": ["a"]}}),
        # A field's own messages beside its parts', whichever comes first.
        (
            {"lines": ["a"], "lines.0.quantity": ["b"]},
            {"lines": {"non_field_errors": ["a"], "0": {"quantity": ["b"]}}},
        ),
        (
            {"lines.0.quantity": ["b"], "lines": ["a"]},
            {"lines": {"non_field_errors": ["a"], "0": {"quantity": ["b"]}}},
        ),
    ],
)
def test_the_services_field_names_nest_as_drf_nests_its_own(flat, nested):
    assert nested_fields(flat) == nested
