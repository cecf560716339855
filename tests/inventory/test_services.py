"""The lifecycle service and device registration: guards, custody, history, scoping."""

import pytest
from simple_history.models import HistoricalChanges  # noqa: F401  (ensures the app is loaded)

from inventory.errors import DomainError
from inventory.models import Category, Device, LabelCode, Membership, Organisation, Role
from inventory.services import device_register, device_transition, membership_set
from inventory.states import WORKFLOW_MOVES, OrgKind, Status
from tests.builders import (
    make_device,
    make_organisation,
    make_user,
    record_reconditioning,
    reload,
    valid_imei,
    walk,
)


def history_of(device):
    return list(device.history.order_by("history_id"))


def move(actor, device, action, **kwargs):
    """A move; those a workflow owns applied as that workflow does (tested in their apps)."""
    kwargs.setdefault("workflow", action in WORKFLOW_MOVES)
    return device_transition(actor=actor, device_id=device.pk, action=action, **kwargs)


# Registration


def test_registration_issues_a_label_code_and_normalises_the_serial(coordinator, coordinator_org):
    device = make_device(actor=coordinator, serial_number="  ab 12cd ")
    assert device.serial_number == "AB 12CD"
    assert LabelCode.objects.filter(code=device.label_code_id).exists()
    assert device.status == Status.REGISTERED
    assert device.custodian == coordinator_org
    [row] = history_of(device)
    assert row.history_user == coordinator
    assert row.history_change_reason == "register"


def test_serial_is_unique_per_manufacturer_whatever_its_case(coordinator):
    make_device(actor=coordinator, manufacturer="Dell", serial_number="7XK2L3")
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=coordinator, manufacturer="DELL ", serial_number="7xk2l3")
    assert excinfo.value.code == "duplicate"
    assert "serial_number" in excinfo.value.params["fields"]
    # The same serial at another manufacturer is another device.
    make_device(actor=coordinator, manufacturer="Lenovo", serial_number="7XK2L3")
    assert Device.objects.count() == 2


def test_the_database_refuses_a_duplicate_serial_that_bypasses_the_service(coordinator):
    from django.db import IntegrityError, transaction

    device = make_device(actor=coordinator, manufacturer="HP", serial_number="CND123")
    with pytest.raises(IntegrityError), transaction.atomic():
        Device.objects.create(
            label_code=LabelCode.objects.create(code="000000000"),
            category=device.category,
            manufacturer="hp",
            serial_number="CND123",
            custodian=device.custodian,
        )


def test_phone_imeis_are_luhn_checked_and_unique(coordinator):
    imei = valid_imei(42)
    make_device(actor=coordinator, category="smartphone", manufacturer="Samsung", imei1=imei)
    bad = imei[:-1] + str((int(imei[-1]) + 1) % 10)
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=coordinator, category="smartphone", manufacturer="Samsung", imei1=bad)
    assert excinfo.value.code == "invalid"
    assert "imei1" in excinfo.value.params["fields"]
    with pytest.raises(DomainError) as excinfo:
        make_device(
            actor=coordinator,
            category="smartphone",
            manufacturer="Apple",
            imei1=valid_imei(7),
            imei2=imei,
        )
    assert excinfo.value.code == "duplicate"
    assert Device.objects.count() == 1


def test_a_laptop_has_no_imei(coordinator):
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=coordinator, imei1=valid_imei(3))
    assert "imei1" in excinfo.value.params["fields"]


def test_invalid_registration_writes_nothing(coordinator):
    with pytest.raises(DomainError):
        device_register(actor=coordinator, category=None, manufacturer=" ")
    assert Device.objects.count() == 0
    assert Device.history.count() == 0
    assert LabelCode.objects.count() == 0


def test_workshop_staff_register_into_their_own_custody(
    workshop_staff, workshop_org, coordinator_org
):
    device = make_device(actor=workshop_staff, custodian=coordinator_org)
    assert device.custodian == workshop_org


@pytest.mark.parametrize("persona", ["structure_staff", "fund_reader"])
def test_structures_and_funds_cannot_register_devices(db, request, persona):
    with pytest.raises(DomainError) as excinfo:
        make_device(actor=request.getfixturevalue(persona))
    assert excinfo.value.code == "action_forbidden"
    assert Device.objects.count() == 0


# Transitions


def test_sending_to_a_workshop_moves_custody_and_records_who_and_why(
    coordinator, device, workshop_org
):
    result = move(coordinator, device, "send_to_workshop", target=workshop_org, note="lot 12")
    assert result.changed
    device = reload(device)
    assert device.status == Status.SENT_TO_WORKSHOP
    assert device.custodian == workshop_org
    last = history_of(device)[-1]
    assert last.history_user == coordinator
    assert last.history_change_reason == "send_to_workshop"
    assert last.history_note == "lot 12"
    assert last.status == Status.SENT_TO_WORKSHOP


def test_the_same_move_repeated_is_a_no_op(coordinator, device, workshop_org):
    move(coordinator, device, "send_to_workshop", target=workshop_org)
    rows = len(history_of(device))
    again = move(coordinator, device, "send_to_workshop", target=workshop_org)
    assert again.changed is False
    assert len(history_of(device)) == rows


def test_the_same_move_to_another_target_is_refused(
    coordinator, device, workshop_org, other_workshop_org
):
    move(coordinator, device, "send_to_workshop", target=workshop_org)
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "send_to_workshop", target=other_workshop_org)
    assert excinfo.value.code == "transition_not_allowed"
    assert reload(device).custodian == workshop_org


def test_an_illegal_move_raises_a_stable_code_and_changes_nothing(coordinator, device):
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "mark_ready")
    assert excinfo.value.code == "transition_not_allowed"
    assert excinfo.value.status == 409
    assert reload(device).status == Status.REGISTERED
    assert len(history_of(device)) == 1


def test_an_unknown_action_is_a_bad_request(coordinator, device):
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "teleport")
    assert (excinfo.value.code, excinfo.value.status) == ("unknown_action", 400)


def test_a_move_that_changes_custody_needs_a_target_of_the_right_kind(
    coordinator, device, structure_org
):
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "send_to_workshop")
    assert excinfo.value.code == "target_required"
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "send_to_workshop", target=structure_org)
    assert excinfo.value.code == "target_wrong_kind"
    assert reload(device).status == Status.REGISTERED


def test_an_inactive_target_is_refused(coordinator, device, workshop_org):
    Organisation.objects.filter(pk=workshop_org.pk).update(is_active=False)
    workshop_org.refresh_from_db()
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, device, "send_to_workshop", target=workshop_org)
    assert excinfo.value.code == "target_inactive"


def test_workshop_receives_into_its_own_custody_and_reconditions(
    coordinator, workshop_staff, device, workshop_org
):
    move(coordinator, device, "send_to_workshop", target=workshop_org)
    for action in ("receive_at_workshop", "start_reconditioning"):
        assert move(workshop_staff, device, action).changed
    record_reconditioning(actor=workshop_staff, device=device)
    assert move(workshop_staff, device, "mark_ready").changed
    device = reload(device)
    assert device.status == Status.READY
    assert device.custodian == workshop_org
    users = {row.history_user for row in history_of(device)[2:]}
    assert users == {workshop_staff}


def test_a_loan_goes_to_the_structure_and_comes_back(
    coordinator, device, workshop_org, structure_org, coordinator_org
):
    move(coordinator, device, "send_to_workshop", target=workshop_org)
    walk(
        actor=coordinator,
        device=device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    move(coordinator, device, "lend", target=structure_org)
    assert reload(device).custodian == structure_org
    move(coordinator, device, "return_loan")
    device = reload(device)
    assert device.status == Status.RETURNED
    assert device.custodian == coordinator_org


def test_return_to_donor_needs_a_donor_and_gives_custody_back(coordinator, donor_org):
    no_donor = make_device(actor=coordinator)
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, no_donor, "return_to_donor")
    assert excinfo.value.code == "no_donor"
    with_donor = make_device(actor=coordinator, donor=donor_org)
    move(coordinator, with_donor, "return_to_donor")
    with_donor = reload(with_donor)
    assert (with_donor.status, with_donor.custodian) == (Status.RETURNED_TO_DONOR, donor_org)


def test_a_phone_is_not_ready_without_its_imei(coordinator, workshop_org):
    phone = make_device(actor=coordinator, category="smartphone", manufacturer="Samsung")
    move(coordinator, phone, "send_to_workshop", target=workshop_org)
    move(coordinator, phone, "receive_at_workshop")
    move(coordinator, phone, "start_reconditioning")
    record_reconditioning(actor=coordinator, device=phone)
    with pytest.raises(DomainError) as excinfo:
        move(coordinator, phone, "mark_ready")
    assert excinfo.value.code == "imei_missing"
    assert reload(phone).status == Status.IN_RECONDITIONING


def test_guards_registered_by_later_work_block_the_move(coordinator, device, workshop_org):
    from inventory import guards

    def erasure_missing(context):
        return DomainError("erasure_missing", "no erasure")

    guards.register("send_to_workshop", erasure_missing)
    try:
        with pytest.raises(DomainError) as excinfo:
            move(coordinator, device, "send_to_workshop", target=workshop_org)
        assert excinfo.value.code == "erasure_missing"
    finally:
        guards.unregister("send_to_workshop", erasure_missing)
    assert move(coordinator, device, "send_to_workshop", target=workshop_org).changed


# Roles and scoping


def test_a_workshop_cannot_see_a_device_outside_its_custody(workshop_staff, device):
    with pytest.raises(DomainError) as excinfo:
        move(workshop_staff, device, "receive_at_workshop")
    assert (excinfo.value.code, excinfo.value.status) == ("not_found", 404)
    assert len(history_of(device)) == 1


def test_a_workshop_cannot_act_on_another_workshops_device(
    coordinator, device, other_workshop_org, workshop_staff
):
    move(coordinator, device, "send_to_workshop", target=other_workshop_org)
    with pytest.raises(DomainError) as excinfo:
        move(workshop_staff, device, "receive_at_workshop")
    assert excinfo.value.code == "not_found"


def test_a_reader_cannot_move_devices_and_leaves_no_trace(coordinator, coordinator_org, device):
    reader = make_user(organisation=coordinator_org, role=Role.READER)
    with pytest.raises(DomainError) as excinfo:
        move(reader, device, "declare_lost")
    assert excinfo.value.code == "action_forbidden"
    assert reload(device).status == Status.REGISTERED
    assert len(history_of(device)) == 1


def test_a_structure_sees_no_device_outside_its_custody(coordinator, device, structure_staff):
    move(coordinator, device, "send_to_workshop", target=make_organisation(kind=OrgKind.WORKSHOP))
    # Out of the structure's custody: the device does not exist for it.
    with pytest.raises(DomainError) as excinfo:
        move(structure_staff, device, "declare_lost")
    assert excinfo.value.code == "not_found"


def test_a_structure_may_declare_lost_a_device_it_holds_but_not_recondition_it(
    coordinator, device, workshop_org, structure_org, structure_staff
):
    move(coordinator, device, "send_to_workshop", target=workshop_org)
    walk(
        actor=coordinator,
        device=device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    move(coordinator, device, "lend", target=structure_org)
    with pytest.raises(DomainError) as excinfo:
        move(structure_staff, device, "return_loan")
    assert excinfo.value.code == "action_forbidden"
    assert move(structure_staff, device, "declare_lost").changed
    assert reload(device).status == Status.LOST


def test_a_user_without_organisation_sees_nothing(device):
    stranger = make_user()
    with pytest.raises(DomainError) as excinfo:
        move(stranger, device, "declare_lost")
    assert excinfo.value.code == "not_found"


def test_a_fault_before_commit_leaves_no_row_and_no_history(
    coordinator, device, workshop_org, monkeypatch
):
    from simple_history.models import HistoricalRecords

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(HistoricalRecords, "create_historical_record", broken)
    with pytest.raises(RuntimeError):
        move(coordinator, device, "send_to_workshop", target=workshop_org)
    monkeypatch.undo()
    device = reload(device)
    assert device.status == Status.REGISTERED
    assert len(history_of(device)) == 1


def test_membership_changes_are_tracked_with_their_author(coordinator, workshop_org, structure_org):
    user = make_user()
    membership_set(actor=coordinator, user=user, organisation=workshop_org, role=Role.MEMBER)
    membership_set(actor=coordinator, user=user, organisation=structure_org, role=Role.MEMBER)
    membership_set(actor=coordinator, user=user, organisation=structure_org, role=Role.MEMBER)
    membership = Membership.objects.get(user=user)
    assert membership.organisation == structure_org
    rows = list(membership.history.order_by("history_id"))
    assert [row.organisation_id for row in rows] == [workshop_org.pk, structure_org.pk]
    assert {row.history_user for row in rows} == {coordinator}


def test_categories_are_reference_data_loaded_by_migration(db):
    assert Category.objects.filter(code="smartphone", has_imei=True).exists()
    assert Category.objects.count() >= 9


def test_custody_cannot_go_to_a_fund_or_a_donor(coordinator, fund_org, donor_org):
    for organisation in (fund_org, donor_org):
        with pytest.raises(DomainError) as excinfo:
            make_device(actor=coordinator, custodian=organisation)
        assert "custodian" in excinfo.value.params["fields"]
    assert Device.objects.count() == 0
