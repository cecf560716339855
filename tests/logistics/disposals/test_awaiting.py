"""The flag that puts a device on the list of those awaiting a WEEE disposal: set by the move
into "recycled", cleared by the batch that takes it, off for every other status; the migration
that filled it for the devices recycled before it; and, on PostgreSQL, the list's page and count
read from its partial indexes only."""

import dataclasses
import importlib
import json

import pytest
from django.apps import apps
from django.db import connection

from inventory.codes import generate_label_code
from inventory.errors import DomainError
from inventory.models import Device, LabelCode
from inventory.pagination import paginate
from inventory.services import device_transition
from inventory.states import MOVES, OrgKind, Status
from logistics.disposals.selectors import devices_awaiting_disposal
from tests.builders import dispose, make_device, recycled, reload
from tests.inventory.test_list_indexes import nodes, page_statements

pytestmark = pytest.mark.django_db

fill_migration = importlib.import_module("logistics.migrations.0002_fill_awaiting_disposal")


def awaiting(device) -> bool:
    return Device.objects.values_list("awaiting_disposal", flat=True).get(pk=device.pk)


def test_a_recycled_device_awaits_its_disposal(coordinator, workshop_org, workshop_staff):
    registered = make_device(actor=coordinator)
    assert not awaiting(registered)
    assert awaiting(recycled(actor=coordinator))
    assert awaiting(
        recycled(actor=coordinator, workshop=workshop_org, workshop_actor=workshop_staff)
    )


def test_recycling_twice_keeps_it_waiting(coordinator):
    device = recycled(actor=coordinator)
    result = device_transition(actor=coordinator, device_id=device.pk, action="recycle")
    assert not result.changed
    assert awaiting(device)


def test_the_other_exits_do_not_await_a_disposal(coordinator, workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    device_transition(actor=coordinator, device_id=device.pk, action="receive_at_workshop")
    device_transition(actor=coordinator, device_id=device.pk, action="dismantle")
    assert reload(device).status == Status.DISMANTLED
    assert not awaiting(device)


def test_a_device_leaving_in_a_batch_no_longer_awaits(coordinator):
    gone, waiting = recycled(actor=coordinator), recycled(actor=coordinator)
    dispose(actor=coordinator, devices=[gone.pk])
    assert not awaiting(gone)
    assert awaiting(waiting)
    # The flag is no part of the history: the batch item's own row records the exit.
    assert reload(gone).history.count() == 2
    assert list(devices_awaiting_disposal(coordinator)) == [waiting]


def test_a_refused_batch_leaves_its_devices_waiting(coordinator):
    waiting, registered = recycled(actor=coordinator), make_device(actor=coordinator)
    with pytest.raises(DomainError):
        dispose(actor=coordinator, devices=[waiting.pk, registered.pk])
    assert awaiting(waiting)


def test_a_move_out_of_recycled_takes_the_device_off_the_list(coordinator, monkeypatch):
    # No move leaves "recycled" today; one added later must not leave the flag behind.
    undo = dataclasses.replace(
        MOVES["recycle"],
        action="undo_recycle",
        sources=frozenset({Status.RECYCLED}),
        target=Status.REGISTERED,
        actors=frozenset({OrgKind.COORDINATOR}),
    )
    monkeypatch.setitem(MOVES, "undo_recycle", undo)
    device = recycled(actor=coordinator)
    device_transition(actor=coordinator, device_id=device.pk, action="undo_recycle")
    assert reload(device).status == Status.REGISTERED
    assert not awaiting(device)


def test_the_migration_marks_the_recycled_devices_in_no_batch(coordinator):
    waiting, gone = recycled(actor=coordinator), recycled(actor=coordinator)
    registered = make_device(actor=coordinator)
    dispose(actor=coordinator, devices=[gone.pk])
    # As before the flag existed: every device off; one wrongly on, as a race could leave it.
    Device.objects.update(awaiting_disposal=False)
    Device.objects.filter(pk=gone.pk).update(awaiting_disposal=True)

    fill_migration.fill(apps, None)

    assert awaiting(waiting)
    assert not awaiting(gone)
    assert not awaiting(registered)


# PostgreSQL plans

DEVICE = "inventory_device"


@pytest.fixture
def history(coordinator, workshop_org, workshop_staff):
    """Waiting devices at the coordination and at a workshop, after many that already left."""
    waiting = [recycled(actor=coordinator) for _ in range(3)]
    waiting += [
        recycled(actor=coordinator, workshop=workshop_org, workshop_actor=workshop_staff)
        for _ in range(3)
    ]
    template = waiting[0]
    codes = LabelCode.objects.bulk_create(
        [LabelCode(code=code) for code in {generate_label_code() for _ in range(200)}]
    )
    # The channel's history: recycled devices that left, at both, the oldest.
    Device.objects.bulk_create(
        Device(
            label_code=code,
            category_id=template.category_id,
            manufacturer="Dell",
            serial_number=f"GONE{n:04d}",
            custodian=workshop_org if n % 2 else template.custodian,
            status=Status.RECYCLED,
        )
        for n, code in enumerate(codes)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {DEVICE}")
    return waiting


def plan_of(sql: str) -> dict:
    with connection.cursor() as cursor:
        # A few hundred rows: make every path an index gives cheaper, and a sort impossible
        # where an index gives the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (row,) = cursor.fetchone()
    return (json.loads(row) if isinstance(row, str) else row)[0]["Plan"]


def device_scans(plan: dict) -> list[dict]:
    scans = [node for node in nodes(plan) if node.get("Relation Name") == DEVICE]
    shown = json.dumps(plan, indent=1)
    assert scans, shown
    for node in nodes(plan):
        assert node["Node Type"] not in {"Sort", "Incremental Sort"}, shown
    return scans


PARTIAL = {
    "device_awaiting_disposal_idx",
    "device_custody_disposal_idx",
    "device_category_disposal_idx",
    "device_cust_cat_disposal_idx",
}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only")
@pytest.mark.parametrize(
    ("persona", "by_category", "index"),
    [
        ("coordinator", False, "device_awaiting_disposal_idx"),
        ("workshop_staff", False, "device_custody_disposal_idx"),
        ("coordinator", True, "device_category_disposal_idx"),
        ("workshop_staff", True, "device_cust_cat_disposal_idx"),
    ],
)
def test_the_page_and_its_count_read_the_partial_indexes(
    request, history, persona, by_category, index
):
    user = request.getfixturevalue(persona)
    category = history[0].category_id if by_category else ""
    queryset = devices_awaiting_disposal(user, category=category)
    first = paginate(queryset, size=2)
    for cursor in (None, first.next_cursor):
        count, page = page_statements(queryset, cursor=cursor)
        # The page: its rows in order from a partial index of the waiting devices, with no
        # sort. By category, the category's own one at scale; on a test table the planner may
        # walk the persona's plain one and filter the category: still the waiting devices only.
        [scan] = device_scans(plan_of(page))
        assert scan["Node Type"] in {"Index Scan", "Index Only Scan"}, scan
        plain = {"coordinator": "device_awaiting_disposal_idx"}.get(
            persona, "device_custody_disposal_idx"
        )
        assert scan["Index Name"] in {index, plain}, scan
        if persona == "workshop_staff":
            assert "custodian_id" in scan["Index Cond"], scan
        # The count reads the waiting devices alone (an index scan or a bitmap of one): never
        # the category's index, which holds every device of the category. (On a test table
        # the planner may count a category's few waiting devices from the plain partial index:
        # still the waiting devices only.)
        plan = plan_of(count)
        device_scans(plan)
        read = [node for node in nodes(plan) if "Index Name" in node]
        assert read, plan
        for node in read:
            assert node["Index Name"] in PARTIAL, plan
            if persona == "workshop_staff":
                assert "custodian_id" in node["Index Cond"], plan
