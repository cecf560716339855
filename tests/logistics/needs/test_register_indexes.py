"""On PostgreSQL, the needs register's pages are read in order from an index of the need table
(the flat list pattern of the devices): no sort of every need in scope, however many there are,
for the coordination's register, a structure's own list, and their status filters."""

import json

import pytest
from django.db import connection

from inventory.states import OrgKind
from logistics.models import Need
from logistics.needs.lifecycle import NeedStatus
from logistics.needs.selectors import RegisterFilters, need_register
from tests.builders import make_need, make_organisation, make_user
from tests.inventory.test_list_indexes import nodes, page_statements

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only"),
]

NEED = Need._meta.db_table


@pytest.fixture
def register(structure_staff, settings):
    settings.REEMPLOI_NEEDS_OPEN_CAP = 100
    others = [make_user(organisation=make_organisation(kind=OrgKind.STRUCTURE)) for _ in range(3)]
    for author in [structure_staff, *others]:
        for n in range(4):
            make_need(actor=author, submit=bool(n % 2))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {NEED}")


def plan_of(sql: str) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (row,) = cursor.fetchone()
    return (json.loads(row) if isinstance(row, str) else row)[0]["Plan"]


@pytest.mark.parametrize(
    ("persona", "filters", "indexes"),
    [
        ("coordinator", RegisterFilters(), {"need_created_idx"}),
        # On a small test table the planner may also walk the dates' index and filter the
        # status (seen once in CI): still the needs in order from an index, no sort.
        (
            "coordinator",
            RegisterFilters(status=NeedStatus.SUBMITTED),
            {"need_status_created_idx", "need_created_idx"},
        ),
        (
            "structure_staff",
            RegisterFilters(),
            {"need_structure_created_idx", "need_struct_status_idx"},
        ),
        # On a test table the planner may walk the structure's index and filter the status:
        # still that structure's needs in order, no sort.
        (
            "structure_staff",
            RegisterFilters(status=NeedStatus.DRAFT),
            {"need_struct_status_idx", "need_structure_created_idx"},
        ),
    ],
)
def test_a_register_page_reads_its_needs_in_order_from_an_index(
    request, register, persona, filters, indexes
):
    user = request.getfixturevalue(persona)
    # The page and its count, without the lines' prefetch (a query by need ids).
    queryset = need_register(user, filters).prefetch_related(None)
    _count, page = page_statements(queryset)
    plan = plan_of(page)
    shown = json.dumps(plan, indent=1)
    scans = [node for node in nodes(plan) if node.get("Relation Name") == NEED]
    assert scans, shown
    for node in nodes(plan):
        assert node["Node Type"] not in {"Sort", "Incremental Sort", "Seq Scan"} or (
            node.get("Relation Name") not in {NEED, None}
        ), shown
    assert any(node.get("Index Name") in indexes for node in scans), shown
