"""A workshop's queue: its devices by step, what each still needs, and its turnaround."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from inventory.models import Device, Role
from inventory.reconditioning import services as bench
from inventory.services import device_transition
from inventory.states import Status
from logistics.shipments.selectors import (
    pair_receipts,
    percentile,
    turnaround_of,
    workshop_queue,
    workshop_turnaround,
)
from logistics.shipments.services import shipment_receive
from tests.builders import make_user, shipped, walk

QUEUE = reverse("logistics:workshop_queue")
History = Device.history.model

# Pure figures


def test_percentile_interpolates_between_ranks():
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5
    assert percentile([float(n) for n in range(1, 11)], 0.9) == pytest.approx(9.1)


def test_each_ready_counts_from_the_receipt_just_before_it():
    day = datetime(2026, 3, 1, tzinfo=UTC)
    receipts = [(1, day), (1, day + timedelta(days=20)), (2, day + timedelta(days=1))]
    ready = [
        (1, day + timedelta(days=3)),  # first pass: 3 days
        (1, day + timedelta(days=25)),  # second pass, after the second receipt: 5 days
        (2, day + timedelta(days=1, hours=12)),  # half a day
        (3, day),  # registered at the workshop, never received: no turnaround
    ]
    assert pair_receipts(ready, receipts) == [
        timedelta(days=3),
        timedelta(days=5),
        timedelta(hours=12),
    ]


def test_turnaround_gives_count_median_and_90th_percentile():
    figures = turnaround_of([timedelta(days=n) for n in (2, 4, 10)])
    assert (figures.count, figures.median_days) == (3, 4.0)
    assert figures.p90_days == pytest.approx(8.8)
    empty = turnaround_of([])
    assert (empty.count, empty.median_days, empty.p90_days) == (0, None, None)


# The queue


def _set_history_date(device, reason: str, when) -> None:
    History.objects.filter(id=device.pk, history_change_reason=reason).update(history_date=when)


def test_the_queue_groups_the_workshops_devices_by_step(
    workshop_staff, workshop_org, queue_devices
):
    queue = workshop_queue(workshop_staff, workshop_org)
    assert [(step.status, step.count) for step in queue.steps] == [
        (Status.SENT_TO_WORKSHOP, 2),
        (Status.AT_WORKSHOP, 1),
        (Status.IN_RECONDITIONING, 2),
    ]
    sent, at_workshop, reconditioning = queue.steps
    assert {d.pk for d in sent.devices} == {d.pk for d in queue_devices["sent"]}
    assert [d.pk for d in at_workshop.devices] == [queue_devices["received"].pk]
    assert queue.total == 5


def test_devices_in_reconditioning_show_what_is_missing_before_ready(
    workshop_staff, workshop_org, queue_devices
):
    reconditioning = workshop_queue(workshop_staff, workshop_org).steps[-1]
    missing = {device.pk: [p.code for p in device.missing] for device in reconditioning.devices}
    assert missing[queue_devices["complete"].pk] == []
    assert {"tests_incomplete", "media_missing", "grade_missing"} <= set(
        missing[queue_devices["partial"].pk]
    )


def test_the_oldest_device_of_each_step_and_its_age(workshop_staff, workshop_org, queue_devices):
    old = queue_devices["sent"][1]
    # Sent five days ago: the move's history row and the device's own "status since".
    five_days_ago = timezone.now() - timedelta(days=5)
    _set_history_date(old, "send_to_workshop", five_days_ago)
    Device.objects.filter(pk=old.pk).update(status_changed_at=five_days_ago)
    sent = workshop_queue(workshop_staff, workshop_org).steps[0]
    assert sent.devices[0].pk == old.pk
    assert sent.oldest_age.days == 5
    assert sent.devices[0].since == sent.oldest_since


def test_a_step_starts_when_the_lifecycle_moved_the_device_into_it(
    workshop_staff, workshop_org, queue_devices
):
    received = queue_devices["received"]
    before = Device.objects.get(pk=received.pk).status_changed_at
    device_transition(actor=workshop_staff, device_id=received.pk, action="start_reconditioning")
    moved = Device.objects.get(pk=received.pk)
    entered = History.objects.filter(id=received.pk, history_change_reason="start_reconditioning")
    assert moved.status_changed_at > before
    assert abs(moved.status_changed_at - entered.get().history_date) < timedelta(seconds=1)
    reconditioning = workshop_queue(workshop_staff, workshop_org).steps[-1]
    assert reconditioning.devices[-1].pk == received.pk
    assert reconditioning.devices[-1].since == moved.status_changed_at


def test_a_repeated_move_keeps_the_step_start(workshop_staff, queue_devices):
    received = queue_devices["received"]
    device_transition(actor=workshop_staff, device_id=received.pk, action="start_reconditioning")
    entered = Device.objects.get(pk=received.pk).status_changed_at
    device_transition(actor=workshop_staff, device_id=received.pk, action="start_reconditioning")
    assert Device.objects.get(pk=received.pk).status_changed_at == entered


def test_one_page_at_most_per_step(workshop_staff, workshop_org, queue_devices):
    reconditioning = workshop_queue(workshop_staff, workshop_org, page=1).steps[-1]
    assert (reconditioning.count, len(reconditioning.devices)) == (2, 1)


# Turnaround


@pytest.fixture
def made_ready(coordinator, workshop_org, workshop_staff):
    """Three devices received, then made ready now; their receipts moved 2, 4 and 10 days back."""
    shipment, devices = shipped(coordinator, workshop_org, 3)
    for device, days in zip(devices, (2, 4, 10), strict=True):
        shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
        walk(actor=workshop_staff, device=device, actions=("mark_ready",))
        _set_history_date(device, "receive_at_workshop", timezone.now() - timedelta(days=days))
    return devices


def test_turnaround_median_and_90th_percentile_of_the_last_90_days(
    coordinator, workshop_org, other_workshop_org, workshop_staff, made_ready
):
    # Made ready 100 days ago: out of the window.
    shipment, [old] = shipped(coordinator, workshop_org, 1)
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=old.label_code_id)
    walk(actor=workshop_staff, device=old, actions=("mark_ready",))
    _set_history_date(old, "mark_ready", timezone.now() - timedelta(days=100))
    _set_history_date(old, "receive_at_workshop", timezone.now() - timedelta(days=101))
    # Another workshop's device: not this workshop's figure.
    elsewhere_staff = make_user(organisation=other_workshop_org)
    shipment, [elsewhere] = shipped(coordinator, other_workshop_org, 1)
    shipment_receive(actor=elsewhere_staff, shipment=shipment, raw=elsewhere.label_code_id)
    walk(actor=elsewhere_staff, device=elsewhere, actions=("mark_ready",))

    figures = workshop_turnaround(workshop_org)
    assert figures.count == 3
    assert figures.median_days == pytest.approx(4.0, abs=0.01)
    assert figures.p90_days == pytest.approx(8.8, abs=0.01)


def test_a_coordinator_marking_ready_for_the_workshop_counts_for_it(
    coordinator, workshop_org, workshop_staff
):
    shipment, [device] = shipped(coordinator, workshop_org, 1)
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
    walk(actor=coordinator, device=device, actions=("mark_ready",), recorder=workshop_staff)
    _set_history_date(device, "receive_at_workshop", timezone.now() - timedelta(days=3))
    assert workshop_turnaround(workshop_org).median_days == pytest.approx(3.0, abs=0.01)


def test_turnaround_takes_a_fixed_number_of_queries(workshop_org, made_ready, coordinator):
    with CaptureQueriesContext(connection) as few:
        workshop_turnaround(workshop_org)
    shipment, devices = shipped(coordinator, workshop_org, 5)
    for device in devices:
        device_transition(actor=coordinator, device_id=device.pk, action="receive_at_workshop")
        walk(actor=coordinator, device=device, actions=("mark_ready",))
    with CaptureQueriesContext(connection) as many:
        assert workshop_turnaround(workshop_org).count == 8
    assert len(few) == len(many) == 2


# The page


def test_a_workshop_reads_its_own_queue(login, workshop_staff, workshop_org, queue_devices):
    response = login(workshop_staff).get(QUEUE)
    assert response.status_code == 200
    assert response.context["queue"].workshop == workshop_org
    text = response.text
    for device in (*queue_devices["sent"], queue_devices["received"], queue_devices["partial"]):
        assert reverse("inventory:device_detail", args=[device.pk]) in text
    assert 'data-code="grade_missing"' in text
    # A device on its way links to the receipt screen of its shipment.
    shipment = queue_devices["sent"][0].shipment_items.get().shipment
    assert reverse("logistics:shipment_receive", args=[shipment.pk]) in text


def test_a_workshop_reader_reads_the_queue_too(login, workshop_org, queue_devices):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    response = login(reader).get(QUEUE)
    assert response.status_code == 200
    # A reader may not receive: a device on its way links to its shipment's page instead.
    shipment = queue_devices["sent"][0].shipment_items.get().shipment
    assert reverse("logistics:shipment_detail", args=[shipment.pk]) in response.text
    assert reverse("logistics:shipment_receive", args=[shipment.pk]) not in response.text


def test_another_workshops_queue_is_not_found(login, workshop_staff, other_workshop_org):
    response = login(workshop_staff).get(QUEUE, {"workshop": other_workshop_org.pk})
    assert response.status_code == 404


def test_the_coordination_picks_the_workshop(login, coordinator, workshop_org, queue_devices):
    client = login(coordinator)
    chooser = client.get(QUEUE)
    assert chooser.status_code == 200
    assert chooser.context["queue"] is None
    assert workshop_org in chooser.context["choice"].fields["workshop"].queryset
    picked = client.get(QUEUE, {"workshop": workshop_org.pk})
    assert picked.context["queue"].workshop == workshop_org
    assert picked.context["queue"].total == 5
    for wrong in ("999999", "abc"):
        assert client.get(QUEUE, {"workshop": wrong}).status_code == 404


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(QUEUE).status_code == 200
    return len(queries)


def test_the_queue_page_query_count_does_not_grow_with_the_devices(
    login, coordinator, workshop_org, workshop_staff
):
    client = login(workshop_staff)

    def add(count):
        shipment, devices = shipped(coordinator, workshop_org, count)
        for device in devices[: count // 2]:
            shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)

    add(2)
    with_two = _queue_queries(client)
    add(40)
    with_forty_two = _queue_queries(client)
    assert with_two == with_forty_two
    # The session, its user with the membership; the counters; the pages of the two steps with
    # devices; their categories at once; the turnaround's ready moves (none: no receipts); the
    # allocated devices to prepare, counted and listed.
    assert with_two == 9


def test_what_devices_in_reconditioning_miss_costs_the_same_queries_for_one_or_many(
    login, coordinator, workshop_org, workshop_staff
):

    client = login(workshop_staff)

    def on_the_bench(count):
        shipment, devices = shipped(coordinator, workshop_org, count)
        for device in devices:
            shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
            bench.lock_checks_record(
                actor=workshop_staff, device_id=device.pk, outcomes={"mdm": "blocked"}
            )
            bench.medium_add(
                actor=workshop_staff, device_id=device.pk, kind="ssd", interface="nvme"
            )

    on_the_bench(1)
    with_one = _queue_queries(client)
    on_the_bench(6)
    with_seven = _queue_queries(client)
    assert with_one == with_seven
    page = client.get(QUEUE).text
    assert page.count('data-code="lock_blocked"') == 7


def test_the_queue_shows_the_devices_allocated_to_prepare_with_their_structure(
    login, coordinator, workshop_staff, workshop_org, structure_staff, structure_org
):
    from logistics.deliveries.services import delivery_create
    from tests.builders import allocated

    made = allocated(
        coordinator=coordinator, structure_actor=structure_staff, workshop=workshop_org, count=2
    )
    page = login(workshop_staff).get(reverse("logistics:workshop_queue")).text
    assert 'id="to-prepare-heading"' in page and structure_org.name in page
    for allocation in made:
        assert allocation.device.label_display in page
    assert reverse("logistics:delivery_prepare") in page
    # Once packed in a delivery, a device is no longer "to prepare".
    delivery_create(actor=workshop_staff, allocation_ids=[made[0].pk])
    page = login(workshop_staff).get(reverse("logistics:workshop_queue")).text
    assert made[0].device.label_display not in page and made[1].device.label_display in page
