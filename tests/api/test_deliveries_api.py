"""Deliveries on the API: prepared from allocations (idempotent), per structure in one call,
dispatched (through the depot or not), received device by device by scanning or ticking,
cancelled; each organisation its own share, in a flat number of queries; hostile bodies
answered 400, never 500."""

import pytest

from inventory.models import IdempotencyRecord
from inventory.states import OrgKind
from logistics.deliveries import services as deliveries
from logistics.models import DeliveryStage, Shipment, ShipmentItem
from tests.builders import allocated, make_organisation, make_user, queries_of_get, token_client

pytestmark = pytest.mark.django_db

DELIVERIES = "/api/deliveries/"


def url(delivery, step: str = "") -> str:
    return f"{DELIVERIES}{delivery if isinstance(delivery, int) else delivery.pk}/" + (
        f"{step}/" if step else ""
    )


def written() -> tuple[int, int, int]:
    return Shipment.objects.count(), ShipmentItem.objects.count(), Shipment.history.count()


@pytest.fixture
def made(coordinator, structure_staff, workshop_org):
    """Three allocations of laptops at ECODAIR for the structure persona's organisation."""
    return allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=3,
    )


@pytest.fixture
def bench(workshop_staff):
    return token_client(workshop_staff)


@pytest.fixture
def structure_api(structure_staff):
    return token_client(structure_staff)


def prepared(workshop_staff, made, **fields) -> Shipment:
    return deliveries.delivery_create(
        actor=workshop_staff, allocation_ids=[a.pk for a in made], **fields
    )


# Preparing


def test_a_workshop_prepares_a_delivery_of_a_structures_allocations(
    bench, made, structure_org, workshop_org
):
    body = {"structure": structure_org.pk, "carrier": "Kangoo", "expected_on": "2099-01-05"}
    response = bench.post(DELIVERIES, body, format="json")
    assert response.status_code == 201, response.content
    delivery = response.json()
    assert delivery["stage"] == "preparing" and delivery["reference"].startswith("LIV-")
    assert delivery["structure"]["id"] == structure_org.pk
    assert delivery["sender"]["id"] == workshop_org.pk
    assert (delivery["device_count"], delivery["received_count"]) == (3, 0)
    assert {item["allocation"] for item in delivery["items"]} == {a.pk for a in made}
    assert delivery["items"][0]["device"]["status"] == "reserved"
    assert delivery["items"][0]["need_reference"].startswith("BES-")
    assert (delivery["carrier"], delivery["expected_on"]) == ("Kangoo", "2099-01-05")


def test_a_delivery_of_named_allocations_takes_them_only(bench, made):
    response = bench.post(DELIVERIES, {"allocations": [made[0].pk]}, format="json")
    assert response.status_code == 201, response.content
    assert [item["allocation"] for item in response.json()["items"]] == [made[0].pk]


def test_a_retried_delivery_with_its_idempotency_key_is_prepared_once(bench, made):
    headers = {"HTTP_IDEMPOTENCY_KEY": "delivery-1"}
    body = {"allocations": [made[0].pk, made[1].pk]}
    first = bench.post(DELIVERIES, body, format="json", **headers)
    again = bench.post(DELIVERIES, body, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert written()[:2] == (1, 2)

    other = bench.post(DELIVERIES, {"allocations": [made[2].pk]}, format="json", **headers)
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert written()[:2] == (1, 2)
    assert IdempotencyRecord.objects.count() == 1


def test_a_device_already_on_its_way_refuses_the_whole_delivery(bench, made, workshop_staff):
    prepared(workshop_staff, made[:1])
    before = written()
    response = bench.post(DELIVERIES, {"allocations": [a.pk for a in made]}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "devices_refused")
    assert written() == before


def test_another_workshops_allocation_is_not_found_and_its_device_stays_unnamed(
    other_workshop_staff, made
):
    response = token_client(other_workshop_staff).post(
        DELIVERIES, {"allocations": [made[0].pk]}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert made[0].device.label_code_id not in response.content.decode().replace("-", "")
    assert written() == (0, 0, 0)


def test_the_coordination_builds_one_delivery_per_structure(
    coord, coordinator, made, workshop_org, structure_org
):
    other = make_organisation(kind=OrgKind.STRUCTURE, name="CCAS Boulogne")
    allocated(
        coordinator=coordinator,
        structure_actor=make_user(organisation=other),
        workshop=workshop_org,
        count=1,
    )
    response = coord.post(f"{DELIVERIES}build/", {"via_depot": True}, format="json")
    assert response.status_code == 201, response.content
    built = {d["structure"]["id"]: d for d in response.json()}
    assert set(built) == {structure_org.pk, other.pk}
    assert built[structure_org.pk]["device_count"] == 3
    assert all(d["via_depot"] and d["stage"] == "preparing" for d in built.values())
    again = coord.post(f"{DELIVERIES}build/", {}, format="json")
    assert (again.status_code, list(again.json()["fields"])) == (400, ["allocations"])
    assert Shipment.objects.count() == 2


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader", "donor_user"])
def test_only_the_coordination_and_workshops_prepare(request, made, structure_org, persona):
    client = token_client(request.getfixturevalue(persona))
    for path, body in ((DELIVERIES, {"structure": structure_org.pk}), (f"{DELIVERIES}build/", {})):
        response = client.post(path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")
    assert written() == (0, 0, 0)


# Its stages


def test_a_direct_delivery_leaves_once_and_arrives_device_by_device(
    bench, structure_api, workshop_staff, made
):
    delivery = prepared(workshop_staff, made[:2])
    left = bench.post(url(delivery, "dispatch"))
    assert (left.status_code, left.json()["stage"]) == (200, "to_structure")
    dispatched_at = left.json()["dispatched_at"]
    twice = bench.post(url(delivery, "dispatch"))
    assert (twice.status_code, twice.json()["dispatched_at"]) == (200, dispatched_at)

    scanned = structure_api.post(
        url(delivery, "receive"), {"code": made[0].device.label_code_id}, format="json"
    )
    assert scanned.status_code == 200, scanned.content
    assert scanned.json()["changed"] is True
    assert scanned.json()["item"]["received_by"] == "structure"
    assert scanned.json()["delivery"]["received_count"] == 1
    again = structure_api.post(
        url(delivery, "receive"), {"code": made[0].device.label_code_id}, format="json"
    )
    assert (again.status_code, again.json()["changed"]) == (200, False)

    item = delivery.items.get(allocation=made[1])
    ticked = structure_api.post(url(delivery, "receive"), {"item": item.pk}, format="json")
    assert ticked.json()["changed"] is True
    assert ticked.json()["delivery"]["stage"] == "delivered"
    assert ticked.json()["delivery"]["delivered_at"] is not None


def test_a_delivery_through_the_depot_waits_for_the_coordination(
    bench, coord, workshop_staff, made
):
    delivery = prepared(workshop_staff, made, via_depot=True)
    assert bench.post(url(delivery, "dispatch")).json()["stage"] == "to_depot"
    refused = bench.post(url(delivery, "receive-at-depot"))
    assert (refused.status_code, refused.json()["code"]) == (403, "action_forbidden")
    assert coord.post(url(delivery, "receive-at-depot")).json()["stage"] == "at_depot"
    assert coord.post(url(delivery, "receive-at-depot")).status_code == 200
    from_depot = bench.post(url(delivery, "dispatch"))
    assert (from_depot.status_code, from_depot.json()["code"]) == (403, "action_forbidden")
    assert coord.post(url(delivery, "dispatch")).json()["stage"] == "to_structure"


def test_a_delivery_not_yet_left_is_not_received(structure_api, workshop_staff, made):
    delivery = prepared(workshop_staff, made[:1])
    response = structure_api.post(
        url(delivery, "receive"), {"code": made[0].device.label_code_id}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "delivery_stage")
    assert not ShipmentItem.objects.filter(received_at__isnull=False).exists()


def test_a_device_of_another_delivery_or_no_code_is_refused(
    structure_api, bench, workshop_staff, made
):
    delivery = prepared(workshop_staff, made[:1])
    bench.post(url(delivery, "dispatch"))
    stranger = structure_api.post(
        url(delivery, "receive"), {"code": made[2].device.label_code_id}, format="json"
    )
    assert (stranger.status_code, stranger.json()["code"]) == (409, "not_in_shipment")
    garbage = structure_api.post(url(delivery, "receive"), {"code": "hello"}, format="json")
    assert garbage.status_code == 400 and garbage.json()["code"].startswith("code_")
    other_item = structure_api.post(url(delivery, "receive"), {"item": 10**9}, format="json")
    assert (other_item.status_code, other_item.json()["code"]) == (409, "not_in_shipment")


@pytest.mark.parametrize(
    "body", [{}, {"code": "ABC", "item": 1}, {"item": "1"}, {"item": True}, {"code": 5}]
)
def test_a_receipt_names_one_device_by_code_or_by_item(
    structure_api, bench, workshop_staff, made, body
):
    delivery = prepared(workshop_staff, made[:1])
    bench.post(url(delivery, "dispatch"))
    response = structure_api.post(url(delivery, "receive"), body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert set(response.json()["fields"]) <= {"code", "item"}


def test_a_workshop_does_not_receive_a_delivery(bench, workshop_staff, made):
    delivery = prepared(workshop_staff, made[:1])
    bench.post(url(delivery, "dispatch"))
    response = bench.post(url(delivery, "receive"), {"item": 1}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "action_forbidden")


def test_a_delivery_being_prepared_is_cancelled_and_its_devices_may_leave_again(
    bench, workshop_staff, made, structure_org
):
    delivery = prepared(workshop_staff, made)
    response = bench.post(url(delivery, "cancel"), {"reason": "Camion en panne"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["items"]) == ("cancelled", [])
    assert delivery.history.latest().history_change_reason == "delivery_cancel"
    assert bench.post(url(delivery, "cancel"), {}, format="json").status_code == 200
    again = bench.post(DELIVERIES, {"structure": structure_org.pk}, format="json")
    assert (again.status_code, again.json()["device_count"]) == (201, 3)


def test_a_delivery_that_left_is_not_cancelled(bench, workshop_staff, made):
    delivery = prepared(workshop_staff, made)
    bench.post(url(delivery, "dispatch"))
    response = bench.post(url(delivery, "cancel"), {}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "delivery_stage")
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.TO_STRUCTURE and delivery.items.count() == 3


# Who reads and moves which


def test_each_organisation_reads_its_own_deliveries(
    coord, bench, structure_api, other_workshop_staff, workshop_staff, made
):
    delivery = prepared(workshop_staff, made)
    for client in (coord, bench, structure_api):
        assert [d["id"] for d in client.get(DELIVERIES).json()["results"]] == [delivery.pk]
        assert client.get(url(delivery)).json()["device_count"] == 3
    stranger = make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE))
    for user in (other_workshop_staff, stranger):
        client = token_client(user)
        assert client.get(DELIVERIES).json()["results"] == []
        assert client.get(url(delivery)).status_code == 404


def test_another_organisations_delivery_is_not_found_and_stays_as_it_was(
    other_workshop_staff, workshop_staff, made
):
    delivery = prepared(workshop_staff, made)
    client = token_client(other_workshop_staff)
    before = written()
    replies = [
        client.post(url(delivery, "dispatch")),
        client.post(url(delivery, "receive-at-depot")),
        client.post(url(delivery, "receive"), {"item": 1}, format="json"),
        client.post(url(delivery, "cancel"), {}, format="json"),
    ]
    assert [(r.status_code, r.json()["code"]) for r in replies] == [(404, "not_found")] * 4
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.PREPARING and written() == before


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_the_fund_and_donors_read_no_delivery(request, workshop_staff, made, persona):
    delivery = prepared(workshop_staff, made)
    client = token_client(request.getfixturevalue(persona))
    assert client.get(DELIVERIES).status_code == 403
    assert client.get(url(delivery)).status_code == 403
    assert client.post(url(delivery, "dispatch")).status_code == 403
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.PREPARING


def test_a_delivery_id_beyond_any_integer_is_not_found(coord):
    response = coord.get(url(10**30))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# The list


def test_the_list_filters_by_stage_and_structure(coord, bench, workshop_staff, made, structure_org):
    first = prepared(workshop_staff, made[:1])
    second = prepared(workshop_staff, made[1:])
    bench.post(url(second, "dispatch"))

    def ids(query) -> list[int]:
        response = coord.get(DELIVERIES, query)
        assert response.status_code == 200, response.content
        return [d["id"] for d in response.json()["results"]]

    assert ids({"stage": "preparing"}) == [first.pk]
    assert ids({"stage": "open"}) == [second.pk, first.pk]
    assert ids({"stage": "delivered"}) == []
    assert ids({"structure": structure_org.pk}) == [second.pk, first.pk]
    assert ids({"structure": structure_org.pk + 1000}) == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"stage": "lost"}, "stage"),
        ({"stage": ""}, "stage"),
        ({"structure": "3.0"}, "structure"),
        ({"structure": "-1"}, "structure"),
        ({"structure": str(10**30)}, "structure"),
    ],
)
def test_a_filter_that_is_not_valid_is_refused(coord, query, field):
    response = coord.get(DELIVERIES, query)
    assert (response.status_code, list(response.json()["fields"])) == (400, [field])


@pytest.mark.parametrize("persona", ["coordinator", "workshop_staff", "structure_staff"])
def test_the_list_reads_as_many_queries_for_twelve_deliveries_as_for_two(
    request, coordinator, structure_staff, workshop_org, workshop_staff, persona
):
    made = allocated(
        coordinator=coordinator,
        structure_actor=structure_staff,
        workshop=workshop_org,
        count=24,
    )
    client = token_client(request.getfixturevalue(persona))
    for allocation in made[:2]:
        prepared(workshop_staff, [allocation])
    two = queries_of_get(client, DELIVERIES)
    for index in range(2, 12):
        # Deliveries of two devices, some on their way: the counts per row change, not the
        # number of queries.
        delivery = prepared(workshop_staff, made[index * 2 : index * 2 + 2])
        if index % 2:
            deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    assert client.get(DELIVERIES).json()["count"] == 12
    assert queries_of_get(client, DELIVERIES) == two


# Hostile input


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"allocations": "1,2"}, "allocations"),
        ({"allocations": [True]}, "allocations"),
        ({"allocations": [1.5]}, "allocations"),
        ({"allocations": []}, "allocations"),
        ({"allocations": {"1": 1}}, "allocations"),
        ({"allocations": [10**30]}, "allocations"),
        ({"structure": True}, "structure"),
        ({"structure": "3"}, "structure"),
        ({"structure": 2**64}, "structure"),
        ({"structure": 10**9}, "structure"),
        ({"via_depot": "yes"}, "via_depot"),
        ({"expected_on": 5}, "expected_on"),
        ({"carrier": ["a"]}, "carrier"),
        ({"notes": "x" * 1001}, "notes"),
        ({"notes": "a\x00b"}, "notes"),
        ({}, "structure"),
    ],
)
def test_hostile_bodies_are_refused_never_a_server_error(bench, body, field):
    response = bench.post(DELIVERIES, body, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "invalid")
    assert field in response.json()["fields"]
    assert written() == (0, 0, 0)


def test_an_expected_arrival_before_today_is_refused(bench, made):
    body = {"allocations": [made[0].pk], "expected_on": "2020-01-01"}
    response = bench.post(DELIVERIES, body, format="json")
    assert (response.status_code, list(response.json()["fields"])) == (400, ["expected_on"])


@pytest.mark.parametrize(
    "raw", ["null", "[1]", "{not json", '"\\u0000"', '{"allocations": [1' + "0" * 5000 + "]}"]
)
def test_a_body_that_is_no_object_is_refused(bench, raw):
    response = bench.post(DELIVERIES, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid", "parse_error"}
    assert written() == (0, 0, 0)


def test_the_schema_documents_every_delivery_operation(coord):
    paths = coord.get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths[DELIVERIES]) == {"get", "post"}
    assert "post" in paths[f"{DELIVERIES}build/"]
    for step in ("dispatch", "receive-at-depot", "receive", "cancel"):
        assert "409" in paths[f"{DELIVERIES}{{id}}/{step}/"]["post"]["responses"]
    filters = {p["name"] for p in paths[DELIVERIES]["get"]["parameters"]}
    assert {"stage", "structure", "page_size"} <= filters
    create = paths[DELIVERIES]["post"]
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
