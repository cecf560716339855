"""Shipments to workshops: sent all or nothing, received by scanning, whichever screen scans."""

import pytest

from inventory.codes import check_symbol, group_label_code
from inventory.errors import DomainError
from inventory.models import Device, Role
from inventory.scanning.services import scan_apply
from inventory.services import device_transition
from inventory.states import OrgKind, Status
from logistics.models import Shipment, ShipmentItem
from logistics.shipments.services import shipment_create, shipment_receive
from tests.builders import make_device, make_organisation, make_user, reload, walk, wrong_check
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


# Sending


def test_a_shipment_sends_every_device_to_the_workshop(coordinator, coordinator_org, workshop_org):
    by_id, by_code = make_device(actor=coordinator), make_device(actor=coordinator)
    shipment = shipment_create(
        actor=coordinator,
        workshop=workshop_org,
        # A typed code, in lower case with dashes, is as good as a ticked box.
        devices=[by_id.pk, group_label_code(by_code.label_code_id).lower()],
        carrier="Camionnette 2",
    )
    assert shipment.reference == f"EXP-{shipment.pk:05d}"
    assert (shipment.sent_by, shipment.sender, shipment.carrier) == (
        coordinator,
        coordinator_org,
        "Camionnette 2",
    )
    assert shipment.sent_on is not None
    assert sorted(shipment.items.values_list("device_id", flat=True)) == [by_id.pk, by_code.pk]
    for device in (by_id, by_code):
        device = reload(device)
        assert (device.status, device.custodian) == (Status.SENT_TO_WORKSHOP, workshop_org)


def test_a_device_listed_twice_travels_once(coordinator, workshop_org, device):
    shipment = shipment_create(
        actor=coordinator, workshop=workshop_org, devices=[device.pk, device.label_code_id]
    )
    assert shipment.items.count() == 1


def test_every_row_written_names_the_coordinator_in_its_history(
    coordinator, workshop_org, shipment, devices
):
    assert [row.history_user for row in shipment.history.all()] == [coordinator]
    item_rows = ShipmentItem.history.filter(shipment_id=shipment.pk)
    assert item_rows.count() == len(devices)
    assert {row.history_user for row in item_rows} == {coordinator}
    sent = Device.history.filter(history_change_reason="send_to_workshop")
    assert sent.count() == len(devices)
    assert {row.history_user for row in sent} == {coordinator}


def test_one_device_not_at_intake_refuses_the_whole_shipment(coordinator, workshop_org, devices):
    ready = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=ready.pk, action="send_to_workshop", target=workshop_org
    )
    walk(
        actor=coordinator,
        device=ready,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready"),
    )
    with pytest.raises(DomainError) as refused:
        shipment_create(
            actor=coordinator,
            workshop=workshop_org,
            devices=[devices[0].pk, ready.pk, devices[1].pk],
        )
    assert refused.value.code == "devices_refused"
    [problem] = refused.value.params["problems"]
    assert (problem.device, problem.code) == (group_label_code(ready.label_code_id), "not_sendable")
    assert group_label_code(ready.label_code_id) in str(refused.value.message)
    assert not Shipment.objects.exists()
    assert not ShipmentItem.objects.exists()
    assert not Shipment.history.exists()
    assert not ShipmentItem.history.exists()
    sent = Device.history.filter(history_change_reason="send_to_workshop")
    assert not sent.filter(id__in=[device.pk for device in devices]).exists()
    assert {reload(device).status for device in devices} == {Status.REGISTERED}


def test_a_refusal_midway_through_the_moves_leaves_no_row_behind(
    monkeypatch, coordinator, workshop_org, devices
):
    import logistics.shipments.services

    calls = []
    real = logistics.shipments.services.device_transition

    def refuse_the_second(**kwargs):
        calls.append(kwargs["device_id"])
        if len(calls) == 2:
            raise DomainError("some_guard", "Refused by a guard.")
        return real(**kwargs)

    monkeypatch.setattr(logistics.shipments.services, "device_transition", refuse_the_second)
    with pytest.raises(DomainError) as refused:
        shipment_create(actor=coordinator, workshop=workshop_org, devices=[d.pk for d in devices])
    assert calls == sorted(d.pk for d in devices)[:2]  # primary-key order
    [problem] = refused.value.params["problems"]
    second = Device.objects.get(pk=calls[1])
    assert (problem.device, problem.code) == (group_label_code(second.label_code_id), "some_guard")
    assert not Shipment.objects.exists() and not Shipment.history.exists()
    assert not ShipmentItem.objects.exists() and not ShipmentItem.history.exists()
    assert {reload(device).status for device in devices} == {Status.REGISTERED}
    assert not Device.history.filter(history_change_reason="send_to_workshop").exists()


def test_every_bad_line_is_named_with_its_reason(coordinator, workshop_org, device):
    unknown = "7QK2M9XH" + check_symbol("7QK2M9XH")
    with pytest.raises(DomainError) as refused:
        shipment_create(
            actor=coordinator,
            workshop=workshop_org,
            devices=[device.pk, wrong_check(device.label_code_id), unknown],
        )
    codes = [(problem.device, problem.code) for problem in refused.value.params["problems"]]
    assert codes == [
        (wrong_check(device.label_code_id), "code_check"),
        (group_label_code(unknown), "not_found"),
    ]
    assert reload(device).status == Status.REGISTERED


def test_a_returned_loan_can_be_shipped_again(coordinator, workshop_org, structure_org, device):
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    walk(
        actor=coordinator,
        device=device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    device_transition(
        actor=coordinator, device_id=device.pk, action="lend", target=structure_org, workflow=True
    )
    device_transition(actor=coordinator, device_id=device.pk, action="return_loan")
    shipment = shipment_create(actor=coordinator, workshop=workshop_org, devices=[device.pk])
    assert reload(device).status == Status.SENT_TO_WORKSHOP
    assert shipment.items.get().device == device


@pytest.mark.parametrize("persona", ["reader", "workshop", "structure"])
def test_only_coordination_members_send_shipments(
    persona, coordinator_org, workshop_org, workshop_staff, structure_staff, device
):
    actor = {
        "reader": make_user(organisation=coordinator_org, role=Role.READER),
        "workshop": workshop_staff,
        "structure": structure_staff,
    }[persona]
    with pytest.raises(DomainError) as refused:
        shipment_create(actor=actor, workshop=workshop_org, devices=[device.pk])
    assert (refused.value.code, refused.value.status) == ("action_forbidden", 403)
    assert not Shipment.objects.exists()
    assert reload(device).status == Status.REGISTERED


def test_a_shipment_goes_to_an_active_workshop(coordinator, structure_org, device):
    closed = make_organisation(kind=OrgKind.WORKSHOP, is_active=False)
    for workshop in (structure_org, closed, None):
        with pytest.raises(DomainError) as refused:
            shipment_create(actor=coordinator, workshop=workshop, devices=[device.pk])
        assert refused.value.code == "invalid"
        assert "workshop" in refused.value.params["fields"]
    assert reload(device).status == Status.REGISTERED


def test_an_empty_list_or_an_arrival_before_sending_is_invalid(coordinator, workshop_org, device):
    import datetime

    with pytest.raises(DomainError) as empty:
        shipment_create(actor=coordinator, workshop=workshop_org, devices=["", "  "])
    assert "devices" in empty.value.params["fields"]
    with pytest.raises(DomainError) as dates:
        shipment_create(
            actor=coordinator,
            workshop=workshop_org,
            devices=[device.pk],
            sent_on=datetime.date(2026, 3, 10),
            expected_on=datetime.date(2026, 3, 9),
        )
    assert "expected_on" in dates.value.params["fields"]


# Receiving on the shipment's screen


def test_the_workshop_receives_a_device_of_the_shipment_by_scanning_it(
    workshop_staff, workshop_org, shipment, devices
):
    result = shipment_receive(
        actor=workshop_staff,
        shipment=shipment,
        raw=f"http://localhost:8000/D/{devices[0].label_code_id}",
    )
    assert result.changed
    item = ShipmentItem.objects.get(shipment=shipment, device=devices[0])
    assert item.received_at is not None
    assert item.received_by == workshop_staff
    device = reload(devices[0])
    assert (device.status, device.custodian) == (Status.AT_WORKSHOP, workshop_org)
    assert ShipmentItem.history.filter(id=item.pk).first().history_user == workshop_staff
    assert ShipmentItem.objects.filter(shipment=shipment, received_at__isnull=True).count() == 2


def test_scanning_a_received_device_again_changes_nothing(workshop_staff, shipment, devices):
    code = devices[0].label_code_id
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=code)
    item = ShipmentItem.objects.get(shipment=shipment, device=devices[0])
    again = shipment_receive(actor=workshop_staff, shipment=shipment, raw=code.lower())
    assert not again.changed
    assert ShipmentItem.objects.get(pk=item.pk).received_at == item.received_at
    assert devices[0].history.filter(history_change_reason="receive_at_workshop").count() == 1
    assert ShipmentItem.history.filter(id=item.pk).count() == 2  # created, received


def test_a_device_of_another_shipment_is_refused_and_stays_in_transit(
    coordinator, workshop_org, workshop_staff, shipment
):
    stray = make_device(actor=coordinator)
    shipment_create(actor=coordinator, workshop=workshop_org, devices=[stray.pk])
    with pytest.raises(DomainError) as refused:
        shipment_receive(actor=workshop_staff, shipment=shipment, raw=stray.label_code_id)
    assert refused.value.code == "not_in_shipment"
    assert group_label_code(stray.label_code_id) in str(refused.value.message)
    assert reload(stray).status == Status.SENT_TO_WORKSHOP
    assert not ShipmentItem.objects.filter(received_at__isnull=False).exists()


def test_a_misread_code_is_refused_with_the_scan_reason(workshop_staff, shipment, devices):
    with pytest.raises(DomainError) as refused:
        shipment_receive(
            actor=workshop_staff, shipment=shipment, raw=wrong_check(devices[0].label_code_id)
        )
    assert refused.value.code == "code_check"


def test_another_workshop_cannot_receive_the_shipment(other_workshop_org, shipment, devices):
    stranger = make_user(organisation=other_workshop_org)
    with pytest.raises(DomainError) as refused:
        shipment_receive(actor=stranger, shipment=shipment, raw=devices[0].label_code_id)
    assert (refused.value.code, refused.value.status) == ("not_found", 404)
    assert reload(devices[0]).status == Status.SENT_TO_WORKSHOP


def test_a_workshop_reader_cannot_receive(workshop_org, shipment, devices):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    with pytest.raises(DomainError) as refused:
        shipment_receive(actor=reader, shipment=shipment, raw=devices[0].label_code_id)
    assert refused.value.status == 403
    assert not ShipmentItem.history.filter(history_change_reason="receive_at_workshop").exists()


def test_the_coordination_receives_on_the_workshops_behalf(
    coordinator, workshop_org, shipment, devices
):
    assert shipment_receive(actor=coordinator, shipment=shipment, raw=devices[1].label_code_id)
    device = reload(devices[1])
    assert (device.status, device.custodian) == (Status.AT_WORKSHOP, workshop_org)
    assert ShipmentItem.objects.get(device=devices[1]).received_by == coordinator


# Receiving on any other screen


def test_a_receipt_on_the_general_scan_page_marks_the_shipment_received(
    workshop_staff, shipment, devices
):
    outcome = scan_apply(
        actor=workshop_staff, raw=devices[2].label_code_id, action="receive_at_workshop"
    )
    assert outcome.result == "applied"
    item = ShipmentItem.objects.get(shipment=shipment, device=devices[2])
    assert item.received_by == workshop_staff
    assert item.received_at is not None
    latest = ShipmentItem.history.filter(id=item.pk).order_by("-history_date").first()
    assert (latest.history_user, latest.history_change_reason) == (
        workshop_staff,
        "receive_at_workshop",
    )
    # The shipment's own screen then answers "already received".
    assert not shipment_receive(
        actor=workshop_staff, shipment=shipment, raw=devices[2].label_code_id
    ).changed


def test_a_refused_receipt_leaves_the_shipment_open(coordinator, workshop_staff, shipment, devices):
    device_transition(actor=coordinator, device_id=devices[0].pk, action="declare_lost")
    outcome = scan_apply(
        actor=coordinator, raw=devices[0].label_code_id, action="receive_at_workshop"
    )
    assert outcome.result == "refused"
    assert ShipmentItem.objects.get(device=devices[0]).received_at is None


def test_a_device_sent_without_a_shipment_is_received_as_before(
    coordinator, workshop_org, workshop_staff, device
):
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    device_transition(actor=workshop_staff, device_id=device.pk, action="receive_at_workshop")
    assert reload(device).status == Status.AT_WORKSHOP
    assert not ShipmentItem.objects.exists()


def test_a_device_received_can_travel_in_a_later_shipment(
    coordinator, workshop_org, workshop_staff, structure_org, shipment, devices
):
    device = devices[0]
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=device.label_code_id)
    walk(
        actor=workshop_staff,
        device=device,
        actions=("start_reconditioning", "mark_ready"),
    )
    device_transition(actor=coordinator, device_id=device.pk, action="reserve", workflow=True)
    device_transition(
        actor=coordinator, device_id=device.pk, action="lend", target=structure_org, workflow=True
    )
    device_transition(actor=coordinator, device_id=device.pk, action="return_loan")
    later = shipment_create(actor=coordinator, workshop=workshop_org, devices=[device.pk])
    shipment_receive(actor=workshop_staff, shipment=later, raw=device.label_code_id)
    assert ShipmentItem.objects.filter(device=device, received_at__isnull=False).count() == 2


# Two coordinators at once


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_shipments_of_the_same_devices_at_once_send_them_once(
    coordinator, workshop_org, other_workshop_org
):
    devices = [make_device(actor=coordinator) for _ in range(3)]
    workshops = [workshop_org, other_workshop_org]
    results, errors = run_at_once(
        lambda i: (
            shipment_create(
                actor=coordinator,
                workshop=workshops[i % 2],
                # Listed in opposite orders: the primary-key lock order must prevent a deadlock.
                devices=[d.pk for d in (devices if i % 2 else devices[::-1])],
            ).pk
        ),
        count=6,
    )
    assert len(results) == 1
    assert len(errors) == 5
    assert all(isinstance(e, DomainError) for e in errors), errors
    assert {e.code for e in errors} <= {"devices_refused", "device_in_other_shipment"}
    [shipment] = Shipment.objects.all()
    assert shipment.items.count() == 3
    for device in devices:
        device = reload(device)
        assert device.status == Status.SENT_TO_WORKSHOP
        assert device.custodian_id == shipment.workshop_id
        assert device.history.filter(history_change_reason="send_to_workshop").count() == 1
