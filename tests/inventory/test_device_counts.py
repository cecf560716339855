"""The device counters per custody and status: every path that creates or moves a device keeps
them equal to a count of the devices, and `manage.py device_counts` finds and fixes a drift."""

import io
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import selectors
from inventory.counts import Drift, device_counts_recount
from inventory.errors import DomainError
from inventory.models import Category, Device, DeviceCount
from inventory.scanning.services import scan_apply
from inventory.services import device_register, device_transition
from inventory.states import MOVES, Status
from logistics.shipments.services import shipment_create, shipment_receive
from tests.builders import (
    assert_counts_match,
    dispose,
    hand_over,
    import_laptops,
    make_device,
    make_donation,
    reconditioned,
    record_reconditioning,
    recycled,
    shipped,
    to_bench,
)


def counters() -> dict[tuple[int, str], int]:
    return {
        (custodian_id, status): count
        for custodian_id, status, count in DeviceCount.objects.exclude(count=0).values_list(
            "custodian_id", "status", "count"
        )
    }


# Each write path --------------------------------------------------------------------------------


def test_a_registration_counts_the_device_where_it_is(coordinator, coordinator_org):
    make_device(actor=coordinator)
    make_device(actor=coordinator)
    assert counters() == {(coordinator_org.pk, Status.REGISTERED): 2}
    assert_counts_match()


def test_a_workshop_registration_counts_in_its_own_custody(workshop_staff, workshop_org):
    make_device(actor=workshop_staff)
    assert counters() == {(workshop_org.pk, Status.REGISTERED): 1}
    assert_counts_match()


def test_a_refused_registration_counts_nothing(coordinator):
    make_device(actor=coordinator, serial_number="SAME")
    with pytest.raises(DomainError):
        make_device(actor=coordinator, serial_number="SAME")
    assert_counts_match()


def test_a_move_shifts_one_device_between_counters(
    coordinator, coordinator_org, workshop_org, workshop_staff
):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    assert counters() == {(workshop_org.pk, Status.SENT_TO_WORKSHOP): 1}
    device_transition(actor=workshop_staff, device_id=device.pk, action="receive_at_workshop")
    device_transition(actor=workshop_staff, device_id=device.pk, action="start_reconditioning")
    assert counters() == {(workshop_org.pk, Status.IN_RECONDITIONING): 1}
    assert_counts_match()


def test_a_repeated_or_refused_move_counts_nothing(coordinator, workshop_staff, workshop_device):
    device_transition(
        actor=workshop_staff, device_id=workshop_device.pk, action="receive_at_workshop"
    )
    before = counters()
    assert not device_transition(
        actor=workshop_staff, device_id=workshop_device.pk, action="receive_at_workshop"
    ).changed
    with pytest.raises(DomainError):
        device_transition(actor=workshop_staff, device_id=workshop_device.pk, action="mark_ready")
    assert counters() == before
    assert_counts_match()


def test_the_whole_lifecycle_keeps_the_counters(
    coordinator, workshop_org, workshop_staff, structure_org, donor_org
):
    given_device = make_device(actor=coordinator)
    reconditioned(coordinator, given_device, workshop_org)
    hand_over(coordinator, given_device, "hand_over_gift", structure_org)
    lent = make_device(actor=coordinator)
    reconditioned(coordinator, lent, workshop_org)
    hand_over(coordinator, lent, "lend", structure_org)
    device_transition(actor=coordinator, device_id=lent.pk, action="return_loan")
    to_donor = make_device(actor=coordinator, donor=donor_org)
    device_transition(actor=coordinator, device_id=to_donor.pk, action="return_to_donor")
    recycled(actor=coordinator, workshop=workshop_org, workshop_actor=workshop_staff)
    assert counters()[(donor_org.pk, Status.RETURNED_TO_DONOR)] == 1
    assert counters()[(structure_org.pk, Status.GIVEN)] == 1
    assert_counts_match()


def test_the_bulk_intake_counts_every_imported_device(coordinator, coordinator_org, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org)
    import_laptops(actor=coordinator, donation=donation, count=7)
    assert counters() == {(coordinator_org.pk, Status.REGISTERED): 7}
    assert_counts_match()


def test_a_refused_import_counts_nothing(coordinator, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org)
    import_laptops(actor=coordinator, donation=donation, count=3)
    with pytest.raises(DomainError):
        import_laptops(actor=coordinator, donation=donation, count=3)
    assert_counts_match()


def test_the_import_command_counts_its_devices(coordinator, tmp_path):
    coordinator.is_superuser = True
    coordinator.save()
    sheet = tmp_path / "don.csv"
    sheet.write_text("Catégorie;Marque;N° de série\nPC portable;Dell;IMP1\nPC portable;HP;IMP2\n")
    call_command("import_devices", str(sheet), "--donor", "Mairie", stdout=io.StringIO())
    assert Device.objects.count() == 2
    assert_counts_match()


def test_shipments_sent_and_received_keep_the_counters(
    coordinator, coordinator_org, workshop_org, workshop_staff
):
    shipment, devices = shipped(coordinator, workshop_org, 4)
    assert counters() == {(workshop_org.pk, Status.SENT_TO_WORKSHOP): 4}
    shipment_receive(actor=workshop_staff, shipment=shipment, raw=devices[0].label_code_id)
    assert counters() == {
        (workshop_org.pk, Status.SENT_TO_WORKSHOP): 3,
        (workshop_org.pk, Status.AT_WORKSHOP): 1,
    }
    assert_counts_match()


def test_a_refused_shipment_counts_nothing(coordinator, workshop_org, at_workshop):
    free = make_device(actor=coordinator)
    before = counters()
    with pytest.raises(DomainError):
        shipment_create(actor=coordinator, workshop=workshop_org, devices=[free.pk, at_workshop.pk])
    assert counters() == before
    assert_counts_match()


def test_a_disposal_leaves_the_counters_as_they_are(coordinator, workshop_org, workshop_staff):
    device = recycled(actor=coordinator, workshop=workshop_org, workshop_actor=workshop_staff)
    before = counters()
    dispose(actor=coordinator, devices=[device.pk])
    assert counters() == before
    assert_counts_match()


def test_a_scan_keeps_the_counters(workshop_staff, workshop_device):
    scan_apply(
        actor=workshop_staff, raw=workshop_device.label_code_id, action="receive_at_workshop"
    )
    assert_counts_match()


def test_the_admin_cannot_change_status_or_custody(login, device):
    admin = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    url = reverse("admin:inventory_device_change", args=[device.pk])
    login(admin).post(url, {"model_name": "Latitude 7490", "status": Status.READY, "notes": ""})
    assert Device.objects.get(pk=device.pk).status == Status.REGISTERED
    assert_counts_match()


# A random mix of every path -----------------------------------------------------------------------

OPERATIONS = ("register", "register_at_workshop", "import", "move", "ship", "receive", "dispose")


@pytest.mark.django_db
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 1000), st.integers(0, 1000)),
        min_size=1,
        max_size=25,
    )
)
def test_any_sequence_of_writes_keeps_the_counters_equal_to_a_count(
    steps,
    coordinator,
    workshop_staff,
    workshop_org,
    other_workshop_org,
    structure_org,
    donor_org,
):
    # The examples share the database: the counters must match after each one all the same.
    laptop = Category.objects.get(code="laptop")
    targets = {
        "workshop": [workshop_org, other_workshop_org],
        "structure": [structure_org],
    }
    for operation, pick, other in steps:
        devices = list(Device.objects.order_by("pk"))
        device = devices[pick % len(devices)] if devices else None
        try:
            if operation == "register":
                make_device(actor=coordinator)
            elif operation == "register_at_workshop":
                device_register(actor=workshop_staff, category=laptop, manufacturer="HP")
            elif operation == "import":
                donation = make_donation(actor=coordinator, donor=donor_org)
                import_laptops(actor=coordinator, donation=donation, count=1 + other % 3)
            elif operation == "move" and device is not None:
                moves = [m for m in MOVES.values() if device.status in m.sources]
                if moves:
                    move = moves[other % len(moves)]
                    if move.action == "mark_ready":
                        record_reconditioning(actor=coordinator, device=device)
                    kind = move.target_kind.value if move.target_kind else "structure"
                    options = targets.get(kind, [None])
                    device_transition(
                        actor=coordinator,
                        device_id=device.pk,
                        action=move.action,
                        target=options[other % len(options)],
                    )
            elif operation == "ship":
                waiting = [d.pk for d in devices if d.status == Status.REGISTERED][: 1 + other % 4]
                if waiting:
                    shipment_create(actor=coordinator, workshop=workshop_org, devices=waiting)
            elif operation == "receive":
                sent = [d for d in devices if d.status == Status.SENT_TO_WORKSHOP]
                if sent:
                    item = sent[pick % len(sent)].shipment_items.filter(received_at=None).first()
                    if item is not None:
                        shipment_receive(
                            actor=workshop_staff,
                            shipment=item.shipment,
                            raw=item.device.label_code_id,
                        )
            elif operation == "dispose":
                gone = [d.pk for d in devices if d.status == Status.RECYCLED][:2]
                if gone:
                    dispose(actor=coordinator, devices=gone)
        except DomainError:
            pass  # a refused write must count nothing either
        assert_counts_match()


# The recount command ------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    with translation.override("en"):
        call_command("device_counts", *args, stdout=out)
    return out.getvalue()


def test_the_recount_finds_and_fixes_a_planted_drift(
    coordinator, coordinator_org, workshop_device, workshop_org
):
    make_device(actor=coordinator)
    DeviceCount.objects.filter(custodian=coordinator_org).update(count=5)
    DeviceCount.objects.filter(custodian=workshop_org).delete()
    expected = [
        Drift(coordinator_org.pk, Status.REGISTERED, 5, 1),
        Drift(workshop_org.pk, Status.SENT_TO_WORKSHOP, 0, 1),
    ]
    assert device_counts_recount(fix=False) == sorted(
        expected, key=lambda d: (d.custodian_id, d.status)
    )
    with pytest.raises(CommandError) as excinfo:
        run("--check")
    assert excinfo.value.returncode == 1
    # --check fixed nothing.
    assert DeviceCount.objects.get(custodian=coordinator_org).count == 5
    output = run()
    assert f"{coordinator_org.pk}\tCoordination 92\tregistered\t5\t1\t+4" in output
    assert f"{workshop_org.pk}\tECODAIR\tsent_to_workshop\t0\t1\t-1" in output
    assert_counts_match()
    assert "no drift" in run("--check")


def test_the_recount_says_so_when_there_is_no_drift(coordinator):
    make_device(actor=coordinator)
    assert "no drift" in run("--check")
    assert "no drift" in run()


def test_the_recount_zeroes_a_counter_whose_devices_are_gone(coordinator, coordinator_org):
    make_device(actor=coordinator)
    DeviceCount.objects.create(custodian=coordinator_org, status=Status.LOST, count=3)
    run()
    assert DeviceCount.objects.get(custodian=coordinator_org, status=Status.LOST).count == 0
    assert_counts_match()


# What a write costs -------------------------------------------------------------------------------


def counter_statements(queries) -> list[str]:
    table = DeviceCount._meta.db_table
    return [q["sql"] for q in queries if table in q["sql"]]


def test_a_move_and_a_registration_write_their_counters_in_one_statement(coordinator, workshop_org):
    make_device(actor=coordinator)  # the coordinator's counter row exists
    with CaptureQueriesContext(connection) as registering:
        device = make_device(actor=coordinator)
    assert len(counter_statements(registering.captured_queries)) == 1
    with CaptureQueriesContext(connection) as moving:
        device_transition(
            actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
        )
    assert len(counter_statements(moving.captured_queries)) == 1


def test_a_shipment_writes_its_counters_once_whatever_its_size(coordinator, workshop_org):
    devices = [make_device(actor=coordinator).pk for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        shipment_create(actor=coordinator, workshop=workshop_org, devices=devices)
    assert len(counter_statements(queries.captured_queries)) == 1
    assert_counts_match()


def test_an_import_writes_its_counters_once_whatever_its_size(coordinator, donor_org):
    donation = make_donation(actor=coordinator, donor=donor_org)
    with CaptureQueriesContext(connection) as queries:
        import_laptops(actor=coordinator, donation=donation, count=12)
    assert len(counter_statements(queries.captured_queries)) == 1


def test_to_bench_and_reconditioning_keep_the_counters(coordinator, workshop_org, workshop_staff):
    device = make_device(actor=coordinator)
    to_bench(coordinator, device, workshop_org)
    record_reconditioning(actor=workshop_staff, device=device)
    device_transition(actor=workshop_staff, device_id=device.pk, action="mark_ready")
    assert counters() == {(workshop_org.pk, Status.READY): 1}
    assert_counts_match()


# What the home pages read -----------------------------------------------------------------


def counts_queries(user) -> list[str]:
    selectors.user_scope(user)  # the membership, read once per request
    with CaptureQueriesContext(connection) as queries:
        selectors.status_counts(user)
    return [query["sql"] for query in queries.captured_queries]


@pytest.mark.parametrize(
    "persona", ["coordinator", "workshop_staff", "structure_staff", "fund_reader"]
)
def test_the_home_counts_read_the_counters_not_the_devices(
    request, persona, lent_device, at_workshop
):
    user = request.getfixturevalue(persona)
    (sql,) = counts_queries(user)
    assert '"inventory_devicecount"' in sql
    assert '"inventory_device"' not in sql
    # The same figures as a count of the devices the user may see (the network's, for a fund).
    scope = selectors.user_scope(user)
    devices = Device.objects.all() if scope.kind == "fund" else selectors.devices_visible_to(user)
    expected = Counter(devices.values_list("status", flat=True))
    assert selectors.status_counts(user) == {status: expected[status] for status in Status.values}
    assert sum(expected.values()) == (2 if persona in ("coordinator", "fund_reader") else 1)
