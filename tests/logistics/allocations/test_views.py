"""The matching and allocation screens as the coordination, the structures and the workshops use
them: a run started from its form, its proposal explained, trimmed and approved or discarded,
the policy edited, the allocations each role reads, and a cancellation with its reason."""

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.codes import group_label_code
from inventory.models import Role
from inventory.states import OrgKind, Status
from inventory.web import device_facts
from logistics.allocations import services as allocations
from logistics.allocations.selectors import allocation_facts
from logistics.models import Allocation, AllocationStatus, MatchingRun, RunLine, RunStatus
from tests.builders import (
    accepted_need,
    make_device,
    make_organisation,
    make_user,
    reconditioned,
    reload,
)

pytestmark = pytest.mark.django_db

RUNS = reverse("logistics:run_list")
POLICY = reverse("logistics:matching_policy")
ALLOCATIONS = reverse("logistics:allocation_list")


@pytest.fixture(autouse=True)
def in_english(settings):
    # The screens' words as written in the code (the French catalogue is filled later).
    settings.LANGUAGE_CODE = "en"


def run_url(run) -> str:
    return reverse("logistics:run_detail", args=[run.pk])


def ready(coordinator, workshop, count=1, **fields) -> list:
    devices = []
    for _ in range(count):
        device = make_device(actor=coordinator, **fields)
        reconditioned(coordinator, device, workshop)
        devices.append(reload(device))
    return devices


def count_shown(page: str) -> str:
    """The list's count as its heading says it: "3 allocations"."""
    return re.search(r'id="results-heading">\s*(.*?)\s*<', page, re.S)[1]


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


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


@pytest.fixture
def coordination_reader(coordinator_org):
    return make_user(organisation=coordinator_org, role=Role.READER, username="coord-reader")


# Starting a run


def test_the_coordination_starts_a_run_from_the_form_and_lands_on_its_proposal(
    login, coordinator, stock, need
):
    client = login(coordinator)
    page = client.get(RUNS)
    assert "New matching run" in page.text and "No matching run yet." in page.text
    response = client.post(RUNS, {"token": "t-1", "territory": "", "category": ""})
    run = MatchingRun.objects.get()
    assert response["Location"] == run_url(run)
    assert run.created_by == coordinator and run.units_proposed == 2
    detail = client.get(run_url(run)).text
    assert need.reference in detail and need.structure.name in detail
    for device in run.lines.values_list("device__label_code_id", flat=True):
        assert group_label_code(device) in detail
    listed = client.get(RUNS).text
    assert run.reference in listed and "All territories · All categories" in listed


def test_the_same_run_form_posted_twice_starts_one_run(login, coordinator, stock, need):
    client = login(coordinator)
    data = {"token": "t-twice", "territory": "T2", "category": "laptop"}
    first = client.post(RUNS, data)
    second = client.post(RUNS, data)
    run = MatchingRun.objects.get()
    assert first["Location"] == second["Location"] == run_url(run)
    assert (run.territory_id, run.category_id) == ("T2", "laptop")


def test_a_scope_no_screen_offers_is_refused_and_starts_nothing(login, coordinator):
    response = login(coordinator).post(RUNS, {"token": "t", "territory": "T9", "category": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["territory"]
    assert not MatchingRun.objects.exists()


# A run's proposal, explained


def test_the_proposal_says_what_each_device_meets_and_what_it_costs(login, coordinator, run):
    page = login(coordinator).get(run_url(run)).text
    assert "Category: Laptop" in page and "RAM: 4 GB or more" in page
    for words in ("Distance", "Spec slack", "Waiting", "Priority"):
        assert words in page
    # Devices of 8 GB for a line asking 4: the slack is named; the structure's territory
    # is known, the workshop's is not.
    assert "More than the line needs: RAM 16" in page
    assert "territory is unknown" in page
    assert "Approve 2 lines" in page
    assert "Weights and limits this run used" in page


def test_unserved_lines_say_why_in_words(login, coordinator, structure_staff, stock):
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[
            {"category": "tablet", "quantity": 1},
            {"category": "laptop", "quantity": 1, "min_ram_gb": 64},
        ],
    )
    run = allocations.matching_run_create(actor=coordinator)
    page = login(coordinator).get(run_url(run)).text
    assert "No device of this category in stock" in page
    assert "No device in stock meets the line&#x27;s requirements" in page
    assert "3 devices of the category are in stock, and none meets every requirement." in page
    assert "Devices meeting each one: RAM 0." in page


def test_a_line_is_taken_out_then_put_back(login, coordinator, run):
    client = login(coordinator)
    line = run.lines.order_by("id").first()
    response = client.post(run_url(run), {"action": "remove", "line": line.pk})
    assert response["Location"] == f"{run_url(run)}#line-{line.pk}"
    line.refresh_from_db()
    assert line.removed
    page = client.get(run_url(run)).text
    assert "Put back" in page and "Approve 1 line<" in page
    client.post(run_url(run), {"action": "restore", "line": line.pk})
    line.refresh_from_db()
    assert not line.removed
    assert "Approve 2 lines" in client.get(run_url(run)).text


def test_a_swap_to_an_unsuitable_device_shows_the_services_error_on_the_line(
    login, coordinator, workshop_org, run
):
    client = login(coordinator)
    line = run.lines.order_by("id").first()
    small = ready(coordinator, workshop_org, 1, ram_gb=2)[0]
    response = client.post(
        run_url(run), {"action": "swap", "line": line.pk, "device": small.label_code_id}
    )
    assert response.status_code == 200
    assert "This device does not meet the need line: RAM." in response.text
    assert 'aria-invalid="true"' in response.text
    assert RunLine.objects.get(pk=line.pk).device_id == line.device_id
    spare = ready(coordinator, workshop_org, 1, ram_gb=8)[0]
    response = client.post(
        run_url(run),
        {"action": "swap", "line": line.pk, "device": group_label_code(spare.label_code_id)},
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.device_id == spare.pk and line.swapped
    assert "Swapped by hand" in client.get(run_url(run)).text


def test_an_unknown_code_in_a_swap_is_refused_on_its_field(login, coordinator, run):
    line = run.lines.first()
    response = login(coordinator).post(
        run_url(run), {"action": "swap", "line": line.pk, "device": "not a code"}
    )
    assert response.status_code == 200
    assert "Choose a device that is ready for reuse." in response.text
    assert "data-error-summary" in response.text


# Deciding


def test_approving_reserves_the_devices_and_shows_the_allocations(login, coordinator, run, need):
    client = login(coordinator)
    response = client.post(run_url(run), {"action": "approve"})
    assert response["Location"] == f"{ALLOCATIONS}?run={run.pk}"
    made = Allocation.objects.filter(run=run)
    assert made.count() == 2
    assert all(reload(allocation.device).status == Status.RESERVED for allocation in made)
    listed = client.get(response["Location"]).text
    assert count_shown(listed) == "2 allocations" and need.reference in listed
    page = client.get(run_url(run)).text
    assert "Approved by" in page and "Approve 2 lines" not in page
    # A second click on the button: the run is where the first one left it.
    again = client.post(run_url(run), {"action": "approve"}, follow=True)
    assert "is already “Approved”: nothing changed." in " ".join(messages_of(again))
    assert Allocation.objects.count() == 2


def test_an_approval_refused_for_a_taken_device_names_it_and_writes_nothing(
    login, coordinator, stock, need
):
    first = allocations.matching_run_create(actor=coordinator)
    second = allocations.matching_run_create(actor=coordinator)
    allocations.matching_run_approve(actor=coordinator, run_id=first.pk)
    response = login(coordinator).post(run_url(second), {"action": "approve"})
    assert response.status_code == 200
    taken = set(first.lines.values_list("device__label_code_id", flat=True))
    shown = " ".join(messages_of(response))
    assert "Nothing was approved" in shown
    assert any(group_label_code(code) in shown for code in taken)
    assert "No longer available" in response.text
    assert Allocation.objects.filter(run=second).count() == 0
    # Read again later, the page still says which lines cannot be approved.
    page = login(coordinator).get(run_url(second)).text
    assert "2 lines propose a device that is no longer available" in page
    second.refresh_from_db()
    assert second.status == RunStatus.PROPOSED


def test_discarding_a_run_reserves_nothing(login, coordinator, run, stock):
    client = login(coordinator)
    response = client.post(run_url(run), {"action": "discard", "reason": "Stock à revoir"})
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == RunStatus.DISCARDED and run.decided_by == coordinator
    assert run.history.latest("history_date").history_note == "Stock à revoir"
    assert all(reload(device).status == Status.READY for device in stock)
    page = client.get(run_url(run)).text
    assert "Discarded by" in page and 'value="approve"' not in page


def test_the_coordinations_readers_read_runs_but_start_and_decide_none(
    login, coordination_reader, run
):
    client = login(coordination_reader)
    page = client.get(RUNS).text
    assert run.reference in page and "New matching run" not in page
    assert client.post(RUNS, {"token": "x"}).status_code == 403
    detail = client.get(run_url(run)).text
    assert 'value="approve"' not in detail and 'value="remove"' not in detail
    assert client.post(run_url(run), {"action": "approve"}).status_code == 403
    assert MatchingRun.objects.get().status == RunStatus.PROPOSED


@pytest.mark.parametrize("persona", ["structure_staff", "workshop_staff", "fund_reader"])
def test_runs_and_the_policy_are_the_coordinations(request, login, persona, run):
    client = login(request.getfixturevalue(persona))
    for url in (RUNS, run_url(run), POLICY):
        assert client.get(url).status_code == 403, url


# The policy


def policy_data(**overrides) -> dict:
    weights = allocations.policy_weights().to_dict()
    data = {
        name: value
        for name, value in weights.items()
        if not isinstance(value, dict) and name != "structure_fairness"
    }
    data["structure_fairness"] = "on"
    return data | overrides


def test_the_policy_form_saves_the_weights_the_next_runs_use(login, coordinator):
    client = login(coordinator)
    page = client.get(POLICY).text
    assert "Bonus per public served" in page and "Seniors" in page
    response = client.post(
        POLICY,
        policy_data(
            distance_other_side="90", public_bonus__seniors="30", purpose_bonus__staff_use="-5"
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    weights = allocations.policy_weights()
    assert weights.distance_other_side == 90 and weights.structure_fairness
    assert dict(weights.public_bonus) == {"seniors": 30}
    assert dict(weights.purpose_bonus) == {"staff_use": -5}
    assert 'value="90"' in client.get(POLICY).text


@pytest.mark.parametrize(
    ("field", "value"),
    [("ram_per_gb", "-1"), ("waiting_cap_days", "1000001"), ("distance_same_side", "vingt")],
)
def test_a_bad_weight_is_refused_and_nothing_changes(login, coordinator, field, value):
    before = allocations.policy_weights()
    response = login(coordinator).post(POLICY, policy_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert "The policy was not saved" in response.text
    assert allocations.policy_weights() == before


def test_the_coordinations_readers_read_the_policy_only(login, coordination_reader):
    client = login(coordination_reader)
    page = client.get(POLICY).text
    assert "Current values" in page and '<form method="post" novalidate' not in page
    assert client.post(POLICY, policy_data()).status_code == 403


# Allocations, as each role reads them


@pytest.fixture
def allocated(coordinator, workshop_org, other_workshop_org, structure_staff):
    """Three allocations: two of the structure persona's (devices at ECODAIR), one of another
    structure (its device at the other workshop); and a cancelled one at ECODAIR."""
    ready(coordinator, workshop_org, 3, ram_gb=8)
    mine = accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 3}],
    )
    run = allocations.matching_run_create(actor=coordinator)
    made = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    cancelled = made[0]
    allocations.allocation_cancel(actor=coordinator, allocation_id=cancelled.pk, reason="Doublon")
    other = make_organisation(kind=OrgKind.STRUCTURE, name="CCAS Boulogne")
    other_staff = make_user(organisation=other, username="boulogne")
    ready(coordinator, other_workshop_org, 1, category="tablet")
    theirs = accepted_need(
        structure_actor=other_staff,
        coordinator=coordinator,
        lines=[{"category": "tablet", "quantity": 1}],
    )
    run = allocations.matching_run_create(actor=coordinator, category="tablet")
    [other_allocation] = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    return {
        "mine": [a for a in made if a.pk != cancelled.pk],
        "cancelled": cancelled,
        "other": other_allocation,
        "my_need": mine,
        "their_need": theirs,
        "other_structure": other,
    }


def test_the_coordination_reads_every_allocation_and_filters_them(login, coordinator, allocated):
    client = login(coordinator)
    page = client.get(ALLOCATIONS).text
    assert count_shown(page) == "4 allocations" and "CCAS Boulogne" in page
    active = client.get(ALLOCATIONS, {"status": "active"}).text
    assert count_shown(active) == "3 allocations"
    theirs = client.get(ALLOCATIONS, {"structure": allocated["other_structure"].pk}).text
    assert count_shown(theirs) == "1 allocation" and allocated["other"].reference in theirs
    wrong = client.get(ALLOCATIONS, {"status": "lost"})
    assert wrong.status_code == 200 and wrong.context["filters"].errors["status"]


def test_a_structure_reads_its_own_allocations_only(login, structure_staff, allocated):
    page = login(structure_staff).get(ALLOCATIONS).text
    # Its active allocations and the cancelled one, with the coordination's reason.
    assert count_shown(page) == "3 allocations"
    for allocation in [*allocated["mine"], allocated["cancelled"]]:
        assert allocation.reference in page
    assert "Doublon" in page
    assert allocated["other"].reference not in page
    # Its device pages are not its own until the hand-over: codes without links.
    assert reverse("inventory:device_detail", args=[allocated["mine"][0].device_id]) not in page
    assert 'value="allocation"' not in page and 'name="allocation"' not in page


def test_a_workshop_reads_the_active_allocations_of_the_devices_it_holds(
    login, workshop_staff, allocated
):
    page = login(workshop_staff).get(ALLOCATIONS).text
    assert "Allocated, to prepare" in page and count_shown(page) == "2 allocations"
    assert allocated["cancelled"].reference not in page
    assert allocated["other"].reference not in page
    assert "Centre social Antony" in page


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_the_fund_and_donors_read_no_allocation(request, login, persona):
    assert login(request.getfixturevalue(persona)).get(ALLOCATIONS).status_code == 403


def test_a_cancellation_needs_its_reason_then_releases_the_device(login, coordinator, allocated):
    client = login(coordinator)
    allocation = allocated["mine"][0]
    response = client.post(ALLOCATIONS, {"allocation": allocation.pk, "reason": "  "})
    assert response.status_code == 200
    assert "Say why the allocation is cancelled." in response.text
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE
    response = client.post(
        f"{ALLOCATIONS}?status=active", {"allocation": allocation.pk, "reason": "Structure fermée"}
    )
    assert response["Location"] == f"{ALLOCATIONS}?status=active"
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.CANCELLED
    assert allocation.reason == "Structure fermée"
    assert reload(allocation.device).status == Status.READY


def test_only_the_coordination_cancels(login, structure_staff, coordination_reader, allocated):
    allocation = allocated["mine"][0]
    for user in (structure_staff, coordination_reader):
        response = login(user).post(ALLOCATIONS, {"allocation": allocation.pk, "reason": "x"})
        assert response.status_code == 403
    allocation.refresh_from_db()
    assert allocation.status == AllocationStatus.ACTIVE


def make_allocations(coordinator, workshop, structure_staff, count: int) -> None:
    ready(coordinator, workshop, count)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": count}],
    )
    run = allocations.matching_run_create(actor=coordinator)
    allocations.matching_run_approve(actor=coordinator, run_id=run.pk)


def page_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["coordinator", "structure_staff", "workshop_staff"])
def test_the_allocation_list_reads_as_many_queries_for_fifteen_as_for_three(
    request, login, coordinator, workshop_org, structure_staff, persona
):
    client = login(request.getfixturevalue(persona))
    make_allocations(coordinator, workshop_org, structure_staff, 3)
    three = page_queries(client, ALLOCATIONS)
    make_allocations(coordinator, workshop_org, structure_staff, 12)
    assert Allocation.objects.count() == 15
    assert page_queries(client, ALLOCATIONS) == three


def test_the_run_list_reads_as_many_queries_for_many_runs_as_for_one(login, coordinator, run):
    client = login(coordinator)
    allocations.matching_run_discard(actor=coordinator, run_id=run.pk)
    one = page_queries(client, RUNS)
    for _ in range(4):
        more = allocations.matching_run_create(actor=coordinator)
        allocations.matching_run_discard(actor=coordinator, run_id=more.pk)
    assert count_shown(client.get(RUNS).text) == "5 runs"
    assert page_queries(client, RUNS) == one


def test_the_run_page_reads_as_many_queries_for_many_lines_as_for_few(
    login, coordinator, workshop_org, structure_staff
):
    client = login(coordinator)
    ready(coordinator, workshop_org, 2)
    accepted_need(structure_actor=structure_staff, coordinator=coordinator)
    few = allocations.matching_run_create(actor=coordinator)
    count = page_queries(client, run_url(few))
    ready(coordinator, workshop_org, 8)
    accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "laptop", "quantity": 8}],
    )
    many = allocations.matching_run_create(actor=coordinator)
    assert many.lines.count() == 10
    assert page_queries(client, run_url(many)) == count


# The device page and the menu


def test_the_device_page_says_whom_a_reserved_device_is_allocated_to(
    login, coordinator, workshop_staff, run, need
):
    assert allocation_facts in device_facts.registered()
    [allocation, _second] = allocations.matching_run_approve(actor=coordinator, run_id=run.pk)
    url = reverse("inventory:device_detail", args=[allocation.device_id])
    page = login(coordinator).get(url).text
    assert "Allocated to" in page
    assert f"{need.structure.name} (need {need.reference})" in page
    assert reverse("logistics:need_detail", args=[need.pk]) in page
    # The workshop that holds it reads it too, without the need's page it may not open.
    page = login(workshop_staff).get(url).text
    assert f"{need.structure.name} (need {need.reference})" in page
    assert reverse("logistics:need_detail", args=[need.pk]) not in page


def test_a_ready_device_has_no_allocation_line(login, coordinator, stock):
    url = reverse("inventory:device_detail", args=[stock[0].pk])
    assert "Allocated to" not in login(coordinator).get(url).text


@pytest.mark.parametrize(
    ("persona", "matching", "allocations_link"),
    [
        ("coordinator", True, True),
        ("structure_staff", False, True),
        ("workshop_staff", False, True),
        ("fund_reader", False, False),
    ],
)
def test_the_menu_leads_to_the_matching_and_the_allocations(
    request, login, persona, matching, allocations_link
):
    page = login(request.getfixturevalue(persona)).get(reverse("home")).text
    menu = re.search(r'<ul id="site-menu">(.*?)</ul>', page, re.S)[1]
    assert (f'href="{RUNS}"' in menu) == matching
    assert (f'href="{ALLOCATIONS}"' in menu) == allocations_link


def test_lines_outside_a_scoped_run_are_listed_apart_and_not_counted_unserved(
    login, coordinator, structure_staff, stock, need
):
    tablets = accepted_need(
        structure_actor=structure_staff,
        coordinator=coordinator,
        lines=[{"category": "tablet", "quantity": 3}],
    )
    run = allocations.matching_run_create(actor=coordinator, category="laptop")
    page = login(coordinator).get(run_url(run))
    assert page.context["units_unserved"] == 0
    assert [row.need_line.need_id for row in page.context["outside"]] == [tablets.pk]
    assert "1 need line outside the run" in page.text
