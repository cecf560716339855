"""The workshop's turnaround on the queue reads the device history through indexes on
PostgreSQL: the "mark_ready" rows of the period by move, custody and date
(histdevice_reason_custody_idx, inventory 0019), the receipts by device, never a scan of the
workshop's whole history."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.services import device_transition
from logistics.shipments.selectors import workshop_turnaround
from tests.builders import make_device, record_reconditioning, to_bench
from tests.inventory.test_list_indexes import nodes

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only"),
]

HISTORY = "inventory_historicaldevice"


def history_plans(queries) -> list[dict]:
    plans = []
    for query in queries:
        if HISTORY not in query["sql"]:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN (FORMAT JSON) {query['sql']}")
            (row,) = cursor.fetchone()
        plans.append((json.loads(row) if isinstance(row, str) else row)[0]["Plan"])
    return plans


def test_the_turnaround_reads_the_history_through_indexes(
    coordinator, workshop_org, workshop_staff
):
    for _ in range(3):
        device = make_device(actor=coordinator)
        to_bench(coordinator, device, workshop_org)
        record_reconditioning(actor=workshop_staff, device=device)
        device_transition(actor=workshop_staff, device_id=device.pk, action="mark_ready")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {HISTORY}")
    with CaptureQueriesContext(connection) as queries:
        turnaround = workshop_turnaround(workshop_org)
    assert turnaround.count == 3
    plans = history_plans(queries.captured_queries)
    assert len(plans) == 2  # the ready rows, then those devices' receipts
    for plan in plans:
        scans = [node for node in nodes(plan) if node.get("Relation Name") == HISTORY]
        assert scans, plan
        for node in scans:
            assert node["Node Type"] != "Seq Scan", plan
            assert "Index Cond" in node or node["Node Type"] == "Bitmap Heap Scan", plan
    [ready_plan, _receipts] = plans
    assert "histdevice_reason_custody_idx" in str(ready_plan), ready_plan
