"""The delivery screens as the coordination, the workshops and the structures use them: the list
each reads, deliveries prepared from the allocated devices, a delivery's moves from the bench
to the structure, its receipt at arrival by scanning or ticking, and its delivery note."""

import pytest
from django.conf import settings as django_settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory.codes import group_label_code
from inventory.models import Role
from inventory.states import OrgKind
from logistics.deliveries import services as deliveries
from logistics.models import DeliveryStage, Shipment, ShipmentItem, ShipmentKind
from tests.builders import allocated, make_organisation, make_user, queries_of_get

pytestmark = pytest.mark.django_db

LIST = reverse("logistics:delivery_list")
PREPARE = reverse("logistics:delivery_prepare")


@pytest.fixture(autouse=True)
def in_english(settings):
    # The screens' words as written in the code (the French catalogue is filled later).
    settings.LANGUAGE_CODE = "en"


def detail(delivery) -> str:
    return reverse("logistics:delivery_detail", args=[delivery.pk])


def note(delivery) -> str:
    return reverse("logistics:delivery_note", args=[delivery.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def deliveries_made():
    return Shipment.objects.filter(kind=ShipmentKind.DELIVERY)


@pytest.fixture
def made(coordinator, structure_staff, workshop_org):
    """Two laptops at ECODAIR allocated to the Antony social centre."""
    return allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )


@pytest.fixture
def other_structure_staff(db):
    structure = make_organisation(kind=OrgKind.STRUCTURE, name="CCAS Clamart")
    return make_user(organisation=structure, username="clamart")


@pytest.fixture
def made_elsewhere(coordinator, other_structure_staff, workshop_org):
    """One laptop at ECODAIR allocated to another structure."""
    return allocated(
        coordinator=coordinator,
        structure_actor=other_structure_staff,
        workshop=workshop_org,
        count=1,
    )


@pytest.fixture
def delivery(workshop_staff, structure_org, made):
    return deliveries.delivery_create(
        actor=workshop_staff, structure=structure_org, carrier="Kangoo"
    )


def on_its_way(delivery, workshop_staff):
    deliveries.delivery_dispatch(actor=workshop_staff, delivery_id=delivery.pk)
    return delivery


# Who sees what


def test_each_role_lists_the_deliveries_it_takes_part_in(
    login,
    coordinator,
    workshop_staff,
    structure_staff,
    other_structure_staff,
    structure_org,
    made,
    made_elsewhere,
    other_workshop_org,
):
    ours = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
    theirs = deliveries.delivery_create(actor=workshop_staff, structure=made_elsewhere[0].structure)
    listed = {}
    for user in (coordinator, workshop_staff, structure_staff, other_structure_staff):
        response = login(user).get(LIST)
        assert response.status_code == 200
        listed[user.username] = {row.pk for row in response.context["page"].object_list}
    assert listed == {
        "coord": {ours.pk, theirs.pk},
        "bench": {ours.pk, theirs.pk},
        "structure": {ours.pk},
        "clamart": {theirs.pk},
    }
    page = login(structure_staff).get(LIST).text
    assert ours.reference in page and theirs.reference not in page
    # Another workshop sends none of them.
    other = make_user(organisation=other_workshop_org)
    assert not login(other).get(LIST).context["page"].object_list


def test_the_list_shows_stage_progress_and_sender(login, coordinator, workshop_staff, delivery):
    on_its_way(delivery, workshop_staff)
    response = login(coordinator).get(LIST)
    text = response.text
    assert delivery.reference in text
    assert "On its way to the structure" in text and "status--info" in text
    assert "0 of 2" in text and "ECODAIR" in text and "Centre social Antony" in text
    assert reverse("logistics:delivery_prepare") in text


def test_the_list_filters_by_stage_and_by_structure(
    login, coordinator, workshop_staff, structure_org, made, made_elsewhere
):
    ours = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
    theirs = deliveries.delivery_create(actor=workshop_staff, structure=made_elsewhere[0].structure)
    deliveries.delivery_cancel(actor=workshop_staff, delivery_id=theirs.pk)
    client = login(coordinator)

    def shown(query: dict) -> set[int]:
        response = client.get(LIST, query)
        assert response.status_code == 200
        return {row.pk for row in response.context["page"].object_list}

    assert shown({"stage": "open"}) == {ours.pk}
    assert shown({"stage": "cancelled"}) == {theirs.pk}
    assert shown({"structure": structure_org.pk}) == {ours.pk}
    assert shown({"stage": "delivered"}) == set()
    # What no screen sends is left out, never an error.
    assert shown({"stage": "lost", "structure": "abc"}) == {ours.pk, theirs.pk}
    assert shown({"structure": "9" * 30}) == {ours.pk, theirs.pk}


def test_a_structure_has_no_structure_filter(login, structure_staff, delivery):
    response = login(structure_staff).get(LIST, {"structure": delivery.structure_id + 1})
    assert "structure" not in response.context["filters"].fields
    assert list(response.context["page"].object_list) == [delivery]


def test_the_empty_list_says_what_to_do(login, workshop_staff, structure_staff):
    workshop_page = login(workshop_staff).get(LIST).text
    assert 'class="empty"' in workshop_page and PREPARE in workshop_page
    structure_page = login(structure_staff).get(LIST).text
    assert "No delivery to your structure yet." in structure_page
    assert PREPARE not in structure_page


@pytest.mark.parametrize("persona", ["fund_reader", "donor_user"])
def test_funds_and_donors_have_no_delivery_screens(request, login, persona, delivery):
    client = login(request.getfixturevalue(persona))
    for url in (LIST, PREPARE, detail(delivery), note(delivery)):
        assert client.get(url).status_code == 403
    assert client.post(detail(delivery), {"action": "dispatch"}).status_code == 403


def test_structures_do_not_prepare_deliveries(login, structure_staff, made):
    client = login(structure_staff)
    assert client.get(PREPARE).status_code == 403
    assert client.post(PREPARE, {"allocation": [made[0].pk]}).status_code == 403
    assert not deliveries_made().exists()


def test_another_organisations_delivery_is_not_found(
    login, other_structure_staff, other_workshop_org, delivery
):
    for user in (other_structure_staff, make_user(organisation=other_workshop_org)):
        client = login(user)
        assert client.get(detail(delivery)).status_code == 404
        assert client.get(note(delivery)).status_code == 404
        assert client.post(detail(delivery), {"action": "receive", "raw": "X"}).status_code == 404
    client = login(other_structure_staff)
    for pk in (99999, 10**30):
        assert client.get(reverse("logistics:delivery_detail", args=[pk])).status_code == 404
        assert client.get(reverse("logistics:delivery_note", args=[pk])).status_code == 404


def test_the_list_query_count_does_not_grow_with_the_rows(
    login, coordinator, workshop_staff, structure_staff, workshop_org, structure_org
):
    client = login(coordinator)

    def prepare(count):
        for _ in range(count):
            allocated(
                coordinator=coordinator,
                structure_actor=structure_staff,
                workshop=workshop_org,
                count=1,
            )
            deliveries.delivery_create(actor=workshop_staff, structure=structure_org)

    prepare(2)
    with_two = queries_of_get(client, LIST)
    prepare(8)
    with_ten = queries_of_get(client, LIST)
    assert with_two == with_ten
    for user in (workshop_staff, structure_staff):
        assert queries_of_get(login(user), LIST) <= with_ten


# Preparing deliveries


def test_the_preparation_lists_the_allocated_devices_by_structure_all_ticked(
    login, workshop_staff, made, made_elsewhere
):
    response = login(workshop_staff).get(PREPARE)
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [len(group["allocations"]) for group in groups] == [1, 2]
    assert [group["structure"].name for group in groups] == [
        "CCAS Clamart",
        "Centre social Antony",
    ]
    text = response.text
    for allocation in [*made, *made_elsewhere]:
        assert group_label_code(allocation.device.label_code_id) in text
        assert f'value="{allocation.pk}" id="select-{allocation.pk}" checked' in text


def test_ticked_devices_make_one_delivery_per_structure(
    login, workshop_staff, made, made_elsewhere
):
    client = login(workshop_staff)
    response = client.post(
        PREPARE,
        {
            "token": "t-1",
            "allocation": [made[0].pk, made_elsewhere[0].pk],
            "via_depot": "on",
            "expected_on": "2099-01-15",
            "carrier": "Kangoo",
            "notes": "Fragile",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?stage=preparing"
    made_now = list(deliveries_made().order_by("pk"))
    assert len(made_now) == 2
    for shipment in made_now:
        assert shipment.stage == DeliveryStage.PREPARING and shipment.via_depot
        assert shipment.carrier == "Kangoo" and shipment.notes == "Fragile"
        assert str(shipment.expected_on) == "2099-01-15"
        assert shipment.items.count() == 1
    assert {s.structure_id for s in made_now} == {
        made[0].structure_id,
        made_elsewhere[0].structure_id,
    }
    assert "2 deliveries prepared, one per structure" in messages_of(response)[0]
    # The unticked device still waits to be prepared.
    waiting = client.get(PREPARE).context["groups"]
    assert [[a.pk for a in group["allocations"]] for group in waiting] == [[made[1].pk]]


def test_one_structure_lands_on_its_delivery(login, coordinator, made):
    response = login(coordinator).post(
        PREPARE, {"token": "t-1", "allocation": [a.pk for a in made]}
    )
    delivery = deliveries_made().get()
    assert response["Location"] == detail(delivery)
    assert delivery.items.count() == 2 and delivery.sender.name == "ECODAIR"
    assert "prepared: 2 devices for Centre social Antony" in messages_of(response)[0]


def test_a_refusal_for_one_structure_prepares_nothing(
    login, workshop_staff, structure_org, made, made_elsewhere
):
    client = login(workshop_staff)
    # A colleague put one of the ticked devices in a delivery meanwhile.
    earlier = deliveries.delivery_create(
        actor=workshop_staff, structure=made_elsewhere[0].structure
    )
    response = client.post(
        PREPARE, {"token": "t-1", "allocation": [made[0].pk, made_elsewhere[0].pk]}
    )
    assert response.status_code == 200
    assert "Nothing was prepared" in response.text
    assert "it is already in a delivery" in response.text
    assert list(deliveries_made()) == [earlier]
    assert not ShipmentItem.objects.filter(allocation=made[0]).exists()


def test_the_same_preparation_posted_twice_prepares_once(login, workshop_staff, made):
    client = login(workshop_staff)
    data = {"token": "t-twice", "allocation": [a.pk for a in made]}
    first = client.post(PREPARE, data)
    second = client.post(PREPARE, data)
    assert first.status_code == second.status_code == 302
    assert deliveries_made().count() == 1
    assert "These deliveries were already prepared." in messages_of(second)


def test_prepare_all_builds_one_delivery_per_structure(login, coordinator, made, made_elsewhere):
    client = login(coordinator)
    response = client.post(PREPARE, {"prepare_all": "1", "all-token": "t-a", "all-via_depot": "on"})
    assert response.status_code == 302
    made_now = deliveries_made()
    assert made_now.count() == 2 and all(d.via_depot for d in made_now)
    again = client.post(PREPARE, {"prepare_all": "1", "all-token": "t-b"})
    assert again.status_code == 200
    assert "No allocated device is waiting to leave." in again.text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"allocation": "abc"},
        {"allocation": ["1", "x"]},
        {"allocation": "-4"},
        {"allocation": "9" * 40},
        {"allocation": "999999"},
        {"allocation": "OK", "expected_on": "tomorrow"},
        {"allocation": "1", "carrier": "x" * 500},
        {"allocation": "1", "notes": "\x00"},
    ],
)
def test_wrong_preparation_input_is_answered_on_the_form(login, workshop_staff, made, data):
    response = login(workshop_staff).post(PREPARE, {"token": "t"} | data)
    assert response.status_code == 200
    assert "Nothing was prepared" in response.text
    assert not deliveries_made().exists()


def test_an_expected_arrival_in_the_past_is_the_services_field_error(login, workshop_staff, made):
    response = login(workshop_staff).post(
        PREPARE, {"token": "t", "allocation": made[0].pk, "expected_on": "2000-01-01"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["expected_on"]
    assert not deliveries_made().exists()


def test_a_workshop_reader_sees_the_list_but_prepares_nothing(login, workshop_org, made):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    client = login(reader)
    page = client.get(PREPARE)
    assert page.status_code == 200 and "Your role is read only" in page.text
    assert "Prepare all" not in page.text
    assert client.post(PREPARE, {"allocation": made[0].pk}).status_code == 403


# The journey: prepared, sent through the depot, received at arrival


def test_a_delivery_goes_from_the_bench_through_the_depot_to_the_structure(
    login, coordinator, workshop_staff, structure_staff, made
):
    bench, coordination, structure = (
        login(workshop_staff),
        login(coordinator),
        login(structure_staff),
    )
    bench.post(PREPARE, {"token": "t", "allocation": [a.pk for a in made], "via_depot": "on"})
    delivery = deliveries_made().get()
    page = bench.get(detail(delivery)).text
    assert "Send to the depot" in page and "Take out" in page
    assert note(delivery) in page
    assert "data-scan-input" not in page

    response = bench.post(detail(delivery), {"action": "dispatch"})
    assert response["Location"] == detail(delivery)
    assert messages_of(response) == [f"{delivery.reference} left for the depot."]
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.TO_DEPOT and delivery.dispatched_at
    # A double click changes nothing, and says so.
    again = bench.post(detail(delivery), {"action": "dispatch"})
    assert "nothing changed" in messages_of(again)[-1]

    assert "Received at the depot" in coordination.get(detail(delivery)).text
    coordination.post(detail(delivery), {"action": "receive_at_depot"})
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.AT_DEPOT
    # From the depot, only the coordination sends it on.
    assert "Send to the structure" not in bench.get(detail(delivery)).text
    assert bench.post(detail(delivery), {"action": "dispatch"}).status_code == 403
    coordination.post(detail(delivery), {"action": "dispatch"})
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.TO_STRUCTURE

    # At arrival: the first device scanned (its label's QR URL), the second ticked.
    page = structure.get(detail(delivery)).text
    assert "data-scan-input" in page and "js/scan.js" in page
    first, second = (a.device for a in made)
    url = f"{django_settings.SITE_URL}/d/{first.label_code_id}"
    scanned = structure.post(detail(delivery), {"action": "receive", "raw": url})
    assert scanned.status_code == 200
    assert scanned.context["outcome"]["result"] == "applied"
    assert f"{group_label_code(first.label_code_id)} received." in scanned.text
    twice = structure.post(
        detail(delivery), {"action": "receive", "raw": first.label_code_id.lower()}
    )
    assert twice.context["outcome"]["result"] == "already_done"
    assert "was already received: nothing changed." in twice.text
    assert "scan-result--same" in twice.text and "scan-result--refused" not in twice.text

    item = delivery.items.get(device=second)
    ticked = structure.post(detail(delivery), {"action": "receive", "item": item.pk})
    assert ticked.context["outcome"]["result"] == "applied"
    assert "Every device arrived: the delivery is delivered." in ticked.text
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.DELIVERED and delivery.delivered_at
    item.refresh_from_db()
    assert item.received_by == structure_staff
    stages = [step["state"] for step in ticked.context["timeline"]]
    assert stages == ["done"] * 5
    assert 'aria-current="step"' in ticked.text
    listed = structure.get(LIST, {"stage": "delivered"})
    assert list(listed.context["page"].object_list) == [delivery]


def test_the_hand_over_is_offered_once_devices_arrived(
    login, coordinator, workshop_staff, structure_staff, delivery, made
):
    on_its_way(delivery, workshop_staff)
    client = login(structure_staff)
    assert not client.get(detail(delivery)).context["hand_over_url"]
    deliveries.delivery_receive(
        actor=structure_staff, delivery_id=delivery.pk, raw=made[0].device.label_code_id
    )
    offered = client.get(detail(delivery)).context["hand_over_url"]
    url = reverse("logistics:hand_over_create")
    assert offered == f"{url}?delivery={delivery.pk}"
    assert offered in client.get(detail(delivery)).text


def test_a_workshop_sends_straight_to_the_structure(login, workshop_staff, delivery):
    client = login(workshop_staff)
    assert "Send to the structure" in client.get(detail(delivery)).text
    response = client.post(detail(delivery), {"action": "dispatch"})
    assert messages_of(response) == [f"{delivery.reference} left for Centre social Antony."]
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.TO_STRUCTURE
    page = client.get(detail(delivery))
    # The workshop follows the receipt; it does not confirm it.
    assert "receive" not in page.context["actions"]
    assert [step["state"] for step in page.context["timeline"]] == ["done", "current", "upcoming"]


def test_the_coordination_may_receive_for_the_structure(
    login, coordinator, workshop_staff, delivery, made
):
    on_its_way(delivery, workshop_staff)
    response = login(coordinator).post(
        detail(delivery), {"action": "receive", "raw": made[1].device.label_code_id}
    )
    assert response.context["outcome"]["result"] == "applied"


def test_a_device_is_taken_out_and_waits_to_be_prepared_again(
    login, workshop_staff, delivery, made
):
    client = login(workshop_staff)
    item = delivery.items.get(allocation=made[0])
    response = client.post(detail(delivery), {"action": "remove", "item": item.pk})
    assert response["Location"] == detail(delivery)
    code = group_label_code(made[0].device.label_code_id)
    assert messages_of(response) == [
        f"{code} taken out of {delivery.reference}: it waits to be prepared again."
    ]
    assert delivery.items.count() == 1
    waiting = client.get(PREPARE).context["groups"]
    assert [[a.pk for a in group["allocations"]] for group in waiting] == [[made[0].pk]]
    # Again: the device is no longer in it.
    again = client.post(detail(delivery), {"action": "remove", "item": item.pk})
    assert messages_of(again) == ["No such device in this delivery."]


def test_a_cancelled_delivery_gives_its_devices_back_to_the_preparation(
    login, workshop_staff, delivery, made
):
    client = login(workshop_staff)
    response = client.post(detail(delivery), {"action": "cancel", "reason": "Van broke down"})
    assert "cancelled: its devices wait to be prepared again." in messages_of(response)[0]
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.CANCELLED
    page = client.get(detail(delivery))
    assert not page.context["actions"]
    assert [s["state"] for s in page.context["timeline"]] == ["done", "done"]
    assert len(client.get(PREPARE).context["groups"][0]["allocations"]) == 2
    again = client.post(detail(delivery), {"action": "cancel"})
    assert "nothing changed" in messages_of(again)[-1]


def test_the_detail_query_count_does_not_grow_with_the_devices(
    login, coordinator, workshop_staff, structure_staff, workshop_org, structure_org
):
    client = login(coordinator)
    counts = []
    for count in (1, 6):
        allocated(
            coordinator=coordinator,
            structure_actor=structure_staff,
            workshop=workshop_org,
            count=count,
        )
        delivery = deliveries.delivery_create(actor=workshop_staff, structure=structure_org)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(detail(delivery)).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# Wrong input, stale pages


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"action": "launch"},
        {"action": "remove"},
        {"action": "remove", "item": "abc"},
        {"action": "remove", "item": "9" * 40},
        {"action": "remove", "item": "0"},
        {"action": "remove", "item": "999999"},
        {"action": "cancel", "reason": "x" * 2000},
        {"action": "cancel", "reason": "\x00"},
        {"action": "receive", "item": "abc"},
    ],
)
def test_wrong_moves_are_answered_with_a_message(login, workshop_staff, delivery, data):
    response = login(workshop_staff).post(detail(delivery), data)
    assert response.status_code == 302
    assert messages_of(response)
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.PREPARING and delivery.items.count() == 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("https://elsewhere.example/d/ABCDEFGHJ", "code_foreign_url"),
        ("not a code at all", None),
        ("x" * 5000, None),
        ("\x00", None),
    ],
)
def test_wrong_scans_are_refused_on_the_page(
    login, workshop_staff, structure_staff, delivery, raw, code
):
    on_its_way(delivery, workshop_staff)
    response = login(structure_staff).post(detail(delivery), {"action": "receive", "raw": raw})
    if response.status_code == 302:  # refused by the form (control characters)
        assert messages_of(response)
        return
    assert response.status_code == 200
    assert response.context["outcome"]["result"] == "refused"
    if code:
        assert response.context["outcome"]["code"] == code
    assert not delivery.items.filter(received_at__isnull=False).exists()


def test_a_device_of_another_delivery_is_refused(
    login, workshop_staff, structure_staff, delivery, made_elsewhere
):
    on_its_way(delivery, workshop_staff)
    response = login(structure_staff).post(
        detail(delivery),
        {"action": "receive", "raw": made_elsewhere[0].device.label_code_id},
    )
    assert response.context["outcome"]["code"] == "not_in_shipment"
    assert "is not in this delivery" in response.text


def test_stale_moves_say_why_they_are_refused(
    login, coordinator, workshop_staff, structure_staff, delivery, made
):
    # Received before it left: the page was stale.
    early = login(structure_staff).post(
        detail(delivery), {"action": "receive", "raw": made[0].device.label_code_id}
    )
    assert early.context["outcome"]["code"] == "delivery_stage"
    on_its_way(delivery, workshop_staff)
    client = login(workshop_staff)
    for action in ("cancel", "remove"):
        item = delivery.items.first()
        response = client.post(detail(delivery), {"action": action, "item": item.pk})
        assert response.status_code == 302
        assert "“On its way to the structure”" in messages_of(response)[0]
    depot = login(coordinator).post(detail(delivery), {"action": "receive_at_depot"})
    assert "is not on its way to the depot" in messages_of(depot)[0]


def test_structures_and_readers_cannot_move_a_delivery(
    login, structure_staff, coordinator_org, delivery
):
    structure = login(structure_staff)
    assert structure.get(detail(delivery)).context["actions"] == set()
    for action in ("dispatch", "cancel", "receive_at_depot"):
        assert structure.post(detail(delivery), {"action": action}).status_code == 403
    reader = login(make_user(organisation=coordinator_org, role=Role.READER))
    assert reader.get(detail(delivery)).context["actions"] == set()
    assert reader.post(detail(delivery), {"action": "dispatch"}).status_code == 403
    delivery.refresh_from_db()
    assert delivery.stage == DeliveryStage.PREPARING


# The delivery note


def test_the_delivery_note_is_a_printable_page_with_a_signature_box(
    login, structure_staff, structure_org, delivery, made
):
    structure_org.address = "12 rue de l'Église"
    structure_org.contact_name = "Awa Diallo"
    structure_org.save()
    response = login(structure_staff).get(note(delivery))
    assert response.status_code == 200
    text = response.text
    assert "@media print" in text and "data-print" in text and "onclick" not in text
    assert "site-nav" not in text
    assert f"Delivery note {delivery.reference}" in text
    assert "ECODAIR" in text and "Centre social Antony" in text
    assert "12 rue de l&#x27;Église" in text and "92160 Antony" in text
    assert "Awa Diallo" in text and "Kangoo" in text
    assert "Received for the structure by (name, date, signature)" in text
    for allocation in made:
        assert group_label_code(allocation.device.label_code_id) in text


def test_allocated_to_prepare_leads_to_the_preparation(
    login, coordinator, workshop_staff, structure_staff, made
):
    allocations = reverse("logistics:allocation_list")
    for user in (coordinator, workshop_staff):
        assert PREPARE in login(user).get(allocations).text
    assert PREPARE not in login(structure_staff).get(allocations).text


def test_a_wrong_prepare_all_form_says_so_and_prepares_nothing(login, workshop_staff, made):
    response = login(workshop_staff).post(
        PREPARE, {"prepare_all": "1", "all-token": "\x00", "all-via_depot": "on"}
    )
    assert response.status_code == 200
    assert 'class="message message--error"' in response.text
    assert not deliveries_made().exists()
