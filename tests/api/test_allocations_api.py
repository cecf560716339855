"""Matching runs, the policy and allocations on the API: a run created once per Idempotency-Key
and explained line by line, trimmed, approved (409 naming the devices taken, nothing written)
or discarded; the policy read and set; allocations scoped as on the screens, in a flat number of
queries, and cancelled with a reason; hostile bodies answered 400, never 500."""

import pytest

from inventory.codes import group_label_code
from inventory.models import Role
from inventory.states import OrgKind, Status
from logistics.allocations import services as allocations
from logistics.models import (
    Allocation,
    AllocationStatus,
    MatchingRun,
    RunLine,
    RunStatus,
)
from tests.builders import (
    accepted_need,
    make_device,
    make_organisation,
    make_user,
    queries_of_get,
    reconditioned,
    reload,
    token_client,
)

pytestmark = pytest.mark.django_db

RUNS = "/api/matching-runs/"
POLICY = "/api/matching-policy/"
ALLOCATIONS = "/api/allocations/"


@pytest.fixture(autouse=True)
def in_english(settings):
    # The messages as written in the code (the French catalogue is filled later).
    settings.LANGUAGE_CODE = "en"


def ready(coordinator, workshop, count=1, **fields) -> list:
    devices = []
    for _ in range(count):
        device = make_device(actor=coordinator, **fields)
        reconditioned(coordinator, device, workshop)
        devices.append(reload(device))
    return devices


def run_url(run, *parts) -> str:
    return "/".join([f"{RUNS}{run.pk if hasattr(run, 'pk') else run}", *map(str, parts)]) + "/"


@pytest.fixture
def coord(coordinator):
    return token_client(coordinator)


@pytest.fixture
def reader(coordinator_org):
    return token_client(make_user(organisation=coordinator_org, role=Role.READER))


@pytest.fixture
def stock(coordinator, workshop_org):
    return ready(coordinator, workshop_org, 3, ram_gb=8, storage_gb=256)


@pytest.fixture
def need(structure_staff, coordinator):
    return accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 2, "min_ram_gb": 4}],
    )


@pytest.fixture
def run(coordinator, stock, need):
    return allocations.matching_run_create(actor=coordinator)


# Creating a run


def test_a_run_is_created_once_per_idempotency_key_and_explained(coord, stock, need):
    body = {"territory": "", "category": "laptop"}
    first = coord.post(RUNS, body, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert first.status_code == 201, first.content
    again = coord.post(RUNS, body, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert MatchingRun.objects.count() == 1
    run = first.json()
    assert (run["status"], run["category"], run["territory"]) == ("proposed", "laptop", None)
    assert (run["units_asked"], run["units_proposed"]) == (2, 2)
    line = run["lines"][0]
    assert line["need_line"]["need"]["reference"] == need.reference
    assert line["need_line"]["need"]["structure"]["id"] == need.structure_id
    assert line["device"]["grade"] == "B" and line["device"]["ram_gb"] == 8
    assert {"category", "ram"} <= set(line["met"])
    assert "RAM: 4 GB or more" in line["met_text"]
    assert [term["term"] for term in line["cost_terms"]] == [
        "distance",
        "slack",
        "waiting",
        "priority",
    ]
    assert sum(line["terms"].values()) == line["cost"]
    # Another body with the same key is refused.
    other = coord.post(RUNS, {"category": "tablet"}, format="json", HTTP_IDEMPOTENCY_KEY="run-1")
    assert other.status_code == 422


def test_weights_given_for_a_run_replace_the_policys_field_by_field(coordinator, coord, stock):
    allocations.policy_update(
        actor=coordinator,
        weights=allocations.policy_weights().to_dict() | {"distance_other_side": 90},
    )
    response = coord.post(
        RUNS, {"weights": {"structure_fairness": False, "ram_per_gb": 7}}, format="json"
    )
    assert response.status_code == 201, response.content
    weights = MatchingRun.objects.get().weights
    assert (weights["structure_fairness"], weights["ram_per_gb"]) == (False, 7)
    assert weights["distance_other_side"] == 90


def test_unserved_lines_come_with_their_reason(coordinator, coord, structure_staff, stock):
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[
            {"category": "tablet", "quantity": 1},
            {"category": "laptop", "quantity": 1, "min_ram_gb": 64},
        ],
    )
    run = allocations.matching_run_create(actor=coordinator)
    unserved = coord.get(run_url(run)).json()["unserved"]
    reasons = {row["need_line"]["category"]["code"]: row for row in unserved}
    assert reasons["tablet"]["reason"] == "no_stock"
    assert reasons["tablet"]["reason_label"] == "No device of this category in stock"
    assert reasons["laptop"]["reason"] == "spec_above_stock"
    assert reasons["laptop"]["detail"]["devices_meeting"] == {"ram": 0}
    assert "none meets every requirement" in reasons["laptop"]["reason_text"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"territory": "T9"}, "territory"),
        ({"category": "spaceship"}, "category"),
        ({"territory": 2}, "territory"),
        ({"weights": {"ram_per_gb": -1}}, "weights"),
        ({"weights": {"public_bonus": {"martians": 5}}}, "weights"),
        ({"weights": {"structure_fairness": "yes"}}, "weights"),
        ({"weights": "heavy"}, "weights"),
    ],
)
def test_a_bad_scope_or_weight_is_refused_and_nothing_is_run(coord, body, field):
    response = coord.post(RUNS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    assert not MatchingRun.objects.exists()


# Trimming a proposal


def test_a_line_is_taken_out_put_back_and_swapped(coord, workshop_org, coordinator, run):
    line = run.lines.order_by("id").first()
    removed = coord.post(run_url(run, "lines", line.pk, "remove"))
    assert removed.status_code == 200, removed.content
    assert (removed.json()["removed"], removed.json()["run_units_proposed"]) == (True, 1)
    restored = coord.post(run_url(run, "lines", line.pk, "restore"))
    assert (restored.json()["removed"], restored.json()["run_units_proposed"]) == (False, 2)
    small = ready(coordinator, workshop_org, 1, ram_gb=2)[0]
    refused = coord.post(
        run_url(run, "lines", line.pk, "swap"), {"device": small.pk}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "device_unsuitable")
    assert refused.json()["fields"] == {"device": ["Does not meet the need line."]}
    spare = ready(coordinator, workshop_org, 1, ram_gb=8)[0]
    swapped = coord.post(
        run_url(run, "lines", line.pk, "swap"),
        {"device": group_label_code(spare.label_code_id)},
        format="json",
    )
    assert swapped.status_code == 200, swapped.content
    assert swapped.json()["device"]["id"] == spare.pk and swapped.json()["swapped"]


def test_a_line_of_another_run_is_not_found(coord, coordinator, run):
    other = allocations.matching_run_create(actor=coordinator)
    line = other.lines.first()
    response = coord.post(run_url(run, "lines", line.pk, "remove"))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert coord.post(run_url(run, "lines", 10**30, "remove")).status_code == 404


# Deciding


def test_approving_answers_the_allocations_and_reserves_their_devices(coord, run, need):
    response = coord.post(run_url(run, "approve"), format="json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert len(made) == 2
    assert {a["need_line"]["need_reference"] for a in made} == {need.reference}
    assert {a["status"] for a in made} == {"active"} and {a["run"] for a in made} == {run.pk}
    for allocation in Allocation.objects.all():
        assert reload(allocation.device).status == Status.RESERVED
    again = coord.post(run_url(run, "approve"), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "run_decided")


def test_approving_named_lines_only(coord, run):
    first = run.lines.order_by("id").first()
    response = coord.post(run_url(run, "approve"), {"lines": [first.pk]}, format="json")
    assert response.status_code == 201
    assert [a["device"]["id"] for a in response.json()] == [first.device_id]


def test_a_taken_device_refuses_the_approval_naming_it_and_writes_nothing(
    coord, coordinator, stock, need
):
    first = allocations.matching_run_create(actor=coordinator)
    second = allocations.matching_run_create(actor=coordinator)
    allocations.matching_run_approve(actor=coordinator, run_id=first.pk)
    before = (Allocation.objects.count(), RunLine.objects.count())
    response = coord.post(run_url(second, "approve"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "devices_taken" and "Nothing was approved" in body["detail"]
    taken = {line.device_id: line.device.label_code_id for line in first.lines.all()}
    assert body["devices"]
    for device in body["devices"]:
        assert taken[device["id"]] == device["label_code"]
        assert device["label_code_display"] == group_label_code(device["label_code"])
    assert (Allocation.objects.count(), RunLine.objects.count()) == before
    second.refresh_from_db()
    assert second.status == RunStatus.PROPOSED
    # A refusal is not stored under the key: the retry runs again and says the same.
    retry = coord.post(run_url(second, "approve"), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retry.status_code == 409 and "Idempotent-Replayed" not in retry


def test_approving_lines_that_are_not_the_runs_is_refused(coord, run):
    response = coord.post(run_url(run, "approve"), {"lines": [10**6]}, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["lines"])
    assert not Allocation.objects.exists()


def test_discarding_a_run(coord, run, stock):
    response = coord.post(run_url(run, "discard"), {"reason": "Trop tôt"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "discarded" and response.json()["decided_by"] == "coord"
    assert all(reload(device).status == Status.READY for device in stock)
    again = coord.post(run_url(run, "discard"), format="json")
    assert (again.status_code, again.json()["code"]) == (409, "run_decided")


# Who may


def test_the_coordinations_readers_read_runs_and_the_policy_and_change_nothing(reader, run, stock):
    assert reader.get(RUNS).status_code == 200
    assert reader.get(run_url(run)).status_code == 200
    assert reader.get(POLICY).status_code == 200
    weights = allocations.policy_weights().to_dict()
    for method, url, body in [
        ("post", RUNS, {}),
        ("post", run_url(run, "approve"), {}),
        ("post", run_url(run, "discard"), {}),
        ("post", run_url(run, "lines", run.lines.first().pk, "remove"), {}),
        ("put", POLICY, weights),
    ]:
        response = getattr(reader, method)(url, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "action_forbidden"), url
    assert MatchingRun.objects.count() == 1 and not Allocation.objects.exists()
    run.refresh_from_db()
    assert run.status == RunStatus.PROPOSED


@pytest.mark.parametrize("persona", ["structure_staff", "workshop_staff", "fund_reader"])
def test_runs_and_the_policy_are_the_coordinations(request, persona, run):
    client = token_client(request.getfixturevalue(persona))
    for method, url in [
        ("get", RUNS),
        ("post", RUNS),
        ("get", run_url(run)),
        ("post", run_url(run, "approve")),
        ("get", POLICY),
        ("put", POLICY),
    ]:
        response = getattr(client, method)(url, {}, format="json")
        assert response.status_code == 403, (url, response.content)
    run.refresh_from_db()
    assert run.status == RunStatus.PROPOSED


def test_a_run_beyond_any_id_is_not_found(coord):
    assert coord.get(f"{RUNS}{10**30}/").status_code == 404


# The policy


def test_the_policy_is_read_and_set_whole(coord):
    current = coord.get(POLICY).json()
    assert current == allocations.policy_weights().to_dict()
    changed = current | {"distance_other_side": 90, "public_bonus": {"seniors": 30}}
    response = coord.put(POLICY, changed, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == changed
    assert allocations.policy_weights().public_bonus == {"seniors": 30}


@pytest.mark.parametrize(
    "change",
    [
        {"ram_per_gb": -1},
        {"ram_per_gb": 1.5},
        {"waiting_cap_days": 100_001},
        {"structure_fairness": 1},
        {"structure_type_bonus": {"XX": 1}},
        {"purpose_bonus": {"staff_use": "5"}},
        {"public_bonus": []},
    ],
)
def test_a_bad_policy_is_refused_and_nothing_changes(coord, change):
    before = allocations.policy_weights()
    body = before.to_dict() | change
    response = coord.put(POLICY, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == set(change)
    assert allocations.policy_weights() == before


def test_a_policy_without_every_field_is_refused(coord):
    body = allocations.policy_weights().to_dict()
    del body["waiting_per_day"]
    response = coord.put(POLICY, body, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["waiting_per_day"])


# Allocations


@pytest.fixture
def allocated(coordinator, workshop_org, other_workshop_org, structure_staff):
    """Two active allocations of the structure persona (devices at ECODAIR), one it had that was
    cancelled, and one of another structure (its device at the other workshop)."""
    ready(coordinator, workshop_org, 3)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 3}],
    )
    run = allocations.matching_run_create(actor=coordinator)
    made = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    allocations.allocation_cancel(actor=coordinator, allocation_id=made[0].pk, reason="Doublon")
    other = make_organisation(kind=OrgKind.STRUCTURE, name="CCAS Boulogne")
    ready(coordinator, other_workshop_org, 1, category="tablet")
    accepted_need(
        structure_actor=make_user(organisation=other),
        coordinator=coordinator,
        lines=[{"category": "tablet", "quantity": 1}],
    )
    tablets = allocations.matching_run_create(actor=coordinator, category="tablet")
    [theirs] = allocations.matching_run_approve(actor=coordinator, run_id=tablets.pk)
    return {"run": run, "mine": made[1:], "cancelled": made[0], "other": theirs, "org": other}


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {allocation["id"] for allocation in response.json()["results"]}


def test_allocations_are_read_as_each_role_may(coord, structure_staff, workshop_staff, allocated):
    mine = {a.pk for a in allocated["mine"]}
    everything = mine | {allocated["cancelled"].pk, allocated["other"].pk}
    assert ids(coord.get(ALLOCATIONS)) == everything
    structure = token_client(structure_staff)
    assert ids(structure.get(ALLOCATIONS)) == mine | {allocated["cancelled"].pk}
    workshop = token_client(workshop_staff)
    assert ids(workshop.get(ALLOCATIONS)) == mine
    other = allocated["other"]
    for client in (structure, workshop):
        response = client.get(f"{ALLOCATIONS}{other.pk}/")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    one = structure.get(f"{ALLOCATIONS}{allocated['mine'][0].pk}/").json()
    assert one["structure"]["id"] == structure_staff.membership.organisation_id
    assert one["device"]["label_code"] == allocated["mine"][0].device.label_code_id


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_the_fund_and_donors_read_no_allocation(request, persona, allocated):
    client = token_client(request.getfixturevalue(persona))
    assert client.get(ALLOCATIONS).status_code == 403
    assert client.get(f"{ALLOCATIONS}{allocated['other'].pk}/").status_code == 403


def test_the_allocations_filter_by_status_structure_and_run(coord, allocated):
    assert ids(coord.get(ALLOCATIONS, {"status": "cancelled"})) == {allocated["cancelled"].pk}
    assert ids(coord.get(ALLOCATIONS, {"structure": allocated["org"].pk})) == {
        allocated["other"].pk
    }
    assert len(ids(coord.get(ALLOCATIONS, {"run": allocated["run"].pk}))) == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": ""}, "status"),
        ({"structure": "3.0"}, "structure"),
        ({"run": "-1"}, "run"),
        ({"run": str(10**30)}, "run"),
    ],
)
def test_a_filter_that_is_not_valid_is_refused(coord, query, field):
    response = coord.get(ALLOCATIONS, query)
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])


def make_allocations(coordinator, workshop, structure_staff, count: int) -> None:
    ready(coordinator, workshop, count)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": count}],
    )
    run = allocations.matching_run_create(actor=coordinator)
    allocations.matching_run_approve(actor=coordinator, run_id=run.pk)


@pytest.mark.parametrize("persona", ["coordinator", "structure_staff", "workshop_staff"])
def test_the_list_reads_as_many_queries_for_fifteen_allocations_as_for_three(
    request, coordinator, workshop_org, structure_staff, persona
):
    client = token_client(request.getfixturevalue(persona))
    make_allocations(coordinator, workshop_org, structure_staff, 3)
    three = queries_of_get(client, ALLOCATIONS)
    make_allocations(coordinator, workshop_org, structure_staff, 12)
    assert len(ids(client.get(ALLOCATIONS))) == 15
    assert queries_of_get(client, ALLOCATIONS) == three


def test_the_run_list_reads_as_many_queries_for_many_runs_as_for_one(coord, coordinator, run):
    allocations.matching_run_discard(actor=coordinator, run_id=run.pk)
    one = queries_of_get(coord, RUNS)
    for _ in range(4):
        more = allocations.matching_run_create(actor=coordinator)
        allocations.matching_run_discard(actor=coordinator, run_id=more.pk)
    assert len(coord.get(RUNS).json()["results"]) == 5
    assert queries_of_get(coord, RUNS) == one


def test_a_cancellation_needs_its_reason_then_releases_the_device(coord, allocated):
    allocation = allocated["mine"][0]
    url = f"{ALLOCATIONS}{allocation.pk}/cancel/"
    for body in ({"reason": " "}, {}):
        response = coord.post(url, body, format="json")
        assert (response.status_code, list(response.json()["fields"])) == (400, ["reason"])
    response = coord.post(url, {"reason": "Structure fermée"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == (
        "cancelled",
        "Structure fermée",
    )
    assert reload(allocation.device).status == Status.READY
    again = coord.post(url, {"reason": "encore"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "allocation_not_active")


def test_a_structure_cannot_cancel_its_own_allocation(structure_staff, allocated):
    allocation = allocated["mine"][0]
    response = token_client(structure_staff).post(
        f"{ALLOCATIONS}{allocation.pk}/cancel/", {"reason": "Plus besoin"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE


# Hostile input


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("approve", {"lines": "1,2"}),
        ("approve", {"lines": [True]}),
        ("approve", {"lines": [1.5]}),
        ("approve", {"lines": []}),
        ("approve", {"lines": {"1": 1}}),
        ("approve", {"lines": [10**30]}),
        ("discard", {"reason": ["a"]}),
        ("discard", {"reason": "x" * 1001}),
        ("discard", {"reason": "a\x00b"}),
        ("swap", {"device": True}),
        ("swap", {"device": ["A"]}),
        ("swap", {"device": "ABC\x00"}),
        ("swap", {}),
    ],
)
def test_hostile_bodies_are_refused_never_a_server_error(coord, run, path, body):
    url = run_url(run, "lines", run.lines.first().pk, "swap") if path == "swap" else None
    response = coord.post(url or run_url(run, path), body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    run.refresh_from_db()
    assert run.status == RunStatus.PROPOSED and not Allocation.objects.exists()


@pytest.mark.parametrize(
    "raw", ['["a"]', "3", '"\\u0000"', '{"territory": "\\ud800"}', '{"weights": [1]}']
)
def test_a_run_body_that_is_not_an_object_of_text_is_refused(coord, raw):
    response = coord.post(RUNS, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert not MatchingRun.objects.exists()


def test_the_schema_documents_every_operation(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths[RUNS]) >= {"get", "post"}
    assert "409" in paths[f"{RUNS}{{id}}/approve/"]["post"]["responses"]
    for move in ("remove", "restore", "swap"):
        assert "post" in paths[f"{RUNS}{{id}}/lines/{{line_id}}/{move}/"]
    assert set(paths[POLICY]) >= {"get", "put"}
    assert "post" in paths[f"{ALLOCATIONS}{{id}}/cancel/"]
