"""The home pages' counts and previews on PostgreSQL: the counts come from the counter rows of
the user's custody (or every custodian's, for the network's figures), the previews in order
from an index; no sequential scan of the device or history tables, whatever their size."""

import pytest
from django.db import connection

from inventory import selectors
from inventory.models import DeviceCount
from inventory.states import Status
from tests.inventory.test_list_indexes import assert_served_by_index, nodes, plan_of

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only"),
]


@pytest.fixture
def devices(coordinator, workshop_device, at_workshop, lent_device):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_device")
        cursor.execute("ANALYZE inventory_devicecount")


@pytest.mark.parametrize("persona", ["workshop_staff", "structure_staff"])
def test_an_organisations_counts_are_read_from_the_counter_index(request, persona, devices):
    scope = selectors.user_scope(request.getfixturevalue(persona))
    counts = DeviceCount.objects.filter(custodian=scope.organisation).values("status", "count")
    plan = plan_of(counts, ordered=False)
    assert not any(node["Node Type"] == "Seq Scan" for node in nodes(plan)), plan


def test_a_structures_home_preview_is_served_in_order(structure_staff, devices):
    # The query inventory.views._waiting runs for each step that has devices.
    queryset = selectors.device_list(structure_staff, status=Status.ON_LOAN).order_by(
        "updated_at", "id"
    )
    assert_served_by_index(queryset[:5], ordered=True)


def test_the_queue_figures_read_the_counters(workshop_org, devices):
    from logistics.shipments.selectors import queue_figures

    plan = plan_of(queue_figures(workshop_org), ordered=False)
    tables = {node.get("Relation Name") for node in nodes(plan)} - {None}
    assert tables == {"inventory_devicecount"}, plan
    assert not any(node["Node Type"] == "Seq Scan" for node in nodes(plan)), plan
