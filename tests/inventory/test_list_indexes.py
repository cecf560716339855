"""Each device list, search and history query, as the app builds it, is served by an index on
PostgreSQL: no sequential scan of the device or history tables, no index read end to end
under a filter, and the lists' order read from an index instead of a sort. A change that loses
one of these indexes (or writes a query no index can serve) fails here, not at a million rows."""

import json

import pytest
from django.db import connection

from inventory import selectors
from inventory.codes import generate_label_code
from inventory.models import Device, LabelCode
from inventory.states import Status
from tests.builders import make_device, valid_imei

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans only"),
]

PAGE = 50
WATCHED = {"inventory_device", "inventory_historicaldevice"}


def plan_of(queryset, *, ordered: bool) -> dict:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # On a test table of a few rows the planner would rightly read it all: make every path
        # an index could give cheaper. A list must be read in order from an index, not sorted;
        # a search may sort its few matches, but must find them through an index condition
        # (bitmap scans only: else, under a LIMIT, reading the order index to the end and
        # filtering looks cheaper on a few rows, as it would without the search's indexes).
        cursor.execute("SET LOCAL enable_seqscan = off")
        if ordered:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_incremental_sort = off")
        else:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (row,) = cursor.fetchone()
    return (json.loads(row) if isinstance(row, str) else row)[0]["Plan"]


def nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def assert_served_by_index(queryset, *, ordered: bool, full_index_read: bool = False):
    assert_plan_served_by_index(
        plan_of(queryset, ordered=ordered), ordered=ordered, full_index_read=full_index_read
    )


@pytest.fixture
def devices(coordinator, workshop_org):
    made = [make_device(actor=coordinator, asset_tag=f"INV-{n}") for n in range(6)]
    made += [
        make_device(actor=coordinator, category="smartphone", imei1=valid_imei(n)) for n in range(3)
    ]
    Device.objects.filter(pk__in=[d.pk for d in made[:4]]).update(
        custodian=workshop_org, status=Status.IN_RECONDITIONING
    )
    # Filler at the coordination, as in a real register where one status or one custodian is
    # a small share of the devices: on nine rows, four of them in reconditioning, reading the
    # order index to the end and filtering is rightly the cheaper plan, and the test would
    # check the planner's arithmetic on a toy table instead of the indexes.
    codes = LabelCode.objects.bulk_create(
        [LabelCode(code=code) for code in {generate_label_code() for _ in range(80)}]
    )
    template = made[4]
    Device.objects.bulk_create(
        Device(
            label_code=code,
            category_id=template.category_id,
            manufacturer="Dell",
            serial_number=f"FILL{n:04d}",
            model_name="OptiPlex 7010",
            custodian_id=template.custodian_id,
            donor_id=template.donor_id,
            status=Status.REGISTERED,
        )
        for n, code in enumerate(codes)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE inventory_device")
    return made


def test_the_default_list_reads_its_page_from_the_order_index(coordinator, devices):
    assert_served_by_index(
        selectors.device_list(coordinator)[:PAGE], ordered=True, full_index_read=True
    )


def test_a_deep_page_reads_the_order_index_too(coordinator, devices):
    assert_served_by_index(
        selectors.device_list(coordinator)[5000 : 5000 + PAGE], ordered=True, full_index_read=True
    )


def test_the_list_by_status_is_served_in_order(coordinator, devices):
    queryset = selectors.device_list(coordinator, status=Status.IN_RECONDITIONING)
    assert_served_by_index(queryset[:PAGE], ordered=True)


def test_the_list_by_custodian_is_served_in_order(coordinator, workshop_org, devices):
    queryset = selectors.device_list(coordinator, custodian=workshop_org.pk)
    assert_served_by_index(queryset[:PAGE], ordered=True)


def test_a_workshops_own_list_is_served_in_order(workshop_staff, devices):
    assert_served_by_index(selectors.device_list(workshop_staff)[:PAGE], ordered=True)


def test_a_workshops_list_by_status_is_served_in_order(workshop_staff, devices):
    # The home page links each waiting step to this list.
    queryset = selectors.device_list(workshop_staff, status=Status.IN_RECONDITIONING)
    assert_served_by_index(queryset[:PAGE], ordered=True)


def test_the_api_list_is_served_in_order(workshop_staff, devices):
    from rest_framework.test import APIRequestFactory

    from api.views.devices import DeviceViewSet

    request = APIRequestFactory().get("/")
    request.user = workshop_staff
    view = DeviceViewSet(request=request, format_kwarg=None)
    assert_served_by_index(view.get_queryset()[:PAGE], ordered=True)


def test_the_home_preview_of_a_waiting_step_is_served_in_order(workshop_staff, devices):
    # The query inventory.views._waiting runs for each step that has devices.
    queryset = selectors.device_list(workshop_staff, status=Status.IN_RECONDITIONING).order_by(
        "updated_at", "id"
    )
    assert_served_by_index(queryset[:5], ordered=True)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(lambda d: d[0].serial_number.lower(), id="serial number, other case"),
        pytest.param(lambda d: "inv-2", id="asset tag, other case"),
        pytest.param(lambda d: d[7].imei1[:8], id="IMEI prefix"),
        pytest.param(lambda d: d[7].imei1, id="whole IMEI"),
        pytest.param(lambda d: d[1].label_display.lower(), id="label code"),
    ],
)
def test_an_exact_search_is_served_by_an_index(coordinator, workshop_staff, devices, text):
    q = text(devices)
    for user in (coordinator, workshop_staff):
        queryset = selectors.devices_visible_to(user).filter(selectors.device_exact_match_filter(q))
        assert_served_by_index(queryset[:PAGE], ordered=False)


def test_the_exact_search_finds_what_it_did(coordinator, devices):
    wanted = devices[0]
    found = selectors.devices_visible_to(coordinator).filter(
        selectors.device_exact_match_filter(wanted.serial_number.lower())
    )
    assert list(found) == [wanted]


def index_names(plan: dict) -> set[str]:
    return {node["Index Name"] for node in nodes(plan) if "Index Name" in node}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(lambda d: "atitud", id="model substring, other case"),
        pytest.param(lambda d: "LATITUDE 5490", id="whole model"),
        pytest.param(lambda d: d[0].serial_number.lower(), id="serial number"),
        pytest.param(lambda d: d[7].imei1[:8], id="IMEI prefix"),
        pytest.param(lambda d: d[1].label_display, id="label code"),
    ],
)
def test_the_whole_search_is_served_by_indexes(coordinator, workshop_staff, devices, text):
    # The list's search (web and API): each exact match OR the model substring, a BitmapOr of
    # the exact indexes and the model's trigram index (inventory 0014), then a sort of the
    # few matches in the list's order.
    q = text(devices)
    everywhere = selectors.device_list(coordinator, q=q)[:PAGE]
    assert_served_by_index(everywhere, ordered=False)
    plan = plan_of(everywhere, ordered=False)
    shown = json.dumps(plan, indent=1)
    assert "device_model_trgm_idx" in index_names(plan), shown
    assert any(node["Node Type"] == "BitmapOr" for node in nodes(plan)), shown
    # A workshop's search may as well start from its custody index: no sequential scan either.
    assert_served_by_index(selectors.device_list(workshop_staff, q=q)[:PAGE], ordered=False)


def test_the_model_substring_search_finds_what_it_did(coordinator, devices):
    # LIKE through the trigram index: its recheck keeps the same rows as a scan would.
    Device.objects.filter(pk=devices[2].pk).update(model_name="ThinkPad T480")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    found = selectors.device_list(coordinator, q="inkpad t4")
    assert list(found) == [devices[2]]
    assert selectors.device_list(coordinator, q="atitude 54").count() == len(devices) - 1
    assert not selectors.device_list(coordinator, q="50%").exists()


def test_a_devices_history_is_served_by_an_index(devices):
    assert_served_by_index(selectors.device_history(devices[0])[:PAGE], ordered=False)


# A workshop's queue (logistics.shipments.selectors.workshop_queue): its figures read only the
# workshop's devices at its steps, and each step's page comes in order from an index, whatever
# the size of the device and history tables. When a device entered its step is on its own row
# (status_changed_at): a look-up in the history for each device would cost a probe per device.


def assert_reads_no_history(queryset):
    plan = plan_of(queryset, ordered=False)
    tables = {node.get("Relation Name") for node in nodes(plan)}
    assert "inventory_historicaldevice" not in tables, json.dumps(plan, indent=1)


def test_the_queue_figures_read_only_the_workshops_steps(workshop_org, devices):
    from logistics.shipments.selectors import queue_figures

    assert_served_by_index(queue_figures(workshop_org), ordered=False)
    assert_reads_no_history(queue_figures(workshop_org))


@pytest.mark.parametrize(
    "status", [Status.SENT_TO_WORKSHOP, Status.AT_WORKSHOP, Status.IN_RECONDITIONING]
)
def test_each_queue_step_is_served_in_order(workshop_org, devices, status):
    from logistics.shipments.selectors import QUEUE_PAGE, queue_step_devices

    queryset = queue_step_devices(workshop_org, status)[:QUEUE_PAGE]
    assert_served_by_index(queryset, ordered=True)
    assert_reads_no_history(queryset)


# Keyset pages (inventory.pagination): the first page, a deep page after a cursor, the page
# before a cursor and the last page are each read from an index in the list's order, and the
# capped count stops at the cap through an index: no query reads the table end to end.


def plan_of_sql(sql: str, *, ordered: bool, bitmaps_only: bool = True) -> dict:
    """As plan_of; a count (ordered=False, bitmaps_only=False) may read any index, and must
    stop at the cap whichever it reads."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if ordered:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_incremental_sort = off")
        elif bitmaps_only:
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("SET LOCAL enable_indexonlyscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (row,) = cursor.fetchone()
    return (json.loads(row) if isinstance(row, str) else row)[0]["Plan"]


def assert_plan_served_by_index(plan: dict, *, ordered: bool, full_index_read: bool):
    shown = json.dumps(plan, indent=1)
    for node in nodes(plan):
        table = node.get("Relation Name")
        assert not (node["Node Type"] == "Seq Scan" and table in WATCHED), shown
        if table in WATCHED and node["Node Type"] in {"Index Scan", "Index Only Scan"}:
            # An index read end to end is a table read in index order: only the unfiltered
            # list may do it, as it stops at the page's last row.
            assert full_index_read or "Index Cond" in node, shown
        if ordered:
            assert node["Node Type"] not in {"Sort", "Incremental Sort"}, shown


def page_statements(queryset, *, cursor=None, cap=None) -> tuple[str, str]:
    """The capped count and the page query that paginate runs, as sent to PostgreSQL."""
    from django.test.utils import CaptureQueriesContext

    from inventory.pagination import paginate

    with CaptureQueriesContext(connection) as queries:
        # A page of 50 as the lists have (cursors made on pages of 2 point at any row): on a
        # test table a page of 2 is cheaper read from the plain order index and filtered.
        paginate(queryset, size=PAGE, cursor=cursor, cap=cap)
    count, page = [q["sql"] for q in queries.captured_queries]
    assert "COUNT(" in count and "LIMIT" in count, count
    return count, page


LISTS = {
    "every device": (lambda users, org: selectors.device_list(users["coordinator"]), True),
    "by status": (
        lambda users, org: selectors.device_list(
            users["coordinator"], status=Status.IN_RECONDITIONING
        ),
        False,
    ),
    "by custodian": (
        lambda users, org: selectors.device_list(users["coordinator"], custodian=org.pk),
        False,
    ),
    "a workshop's own": (lambda users, org: selectors.device_list(users["workshop"]), False),
    "a workshop's by status": (
        lambda users, org: selectors.device_list(
            users["workshop"], status=Status.IN_RECONDITIONING
        ),
        False,
    ),
}


@pytest.fixture
def users(coordinator, workshop_staff):
    return {"coordinator": coordinator, "workshop": workshop_staff}


@pytest.mark.parametrize("name", LISTS)
@pytest.mark.parametrize("where", ["first", "deep", "previous", "last", "last within the cap"])
def test_each_keyset_page_is_read_in_order_from_an_index(users, workshop_org, devices, name, where):
    from inventory.pagination import last_cursor, paginate

    build, unfiltered = LISTS[name]
    queryset = build(users, workshop_org)
    cursor, cap = None, 1  # a capped count: the last page is the reversed order's first
    second = paginate(queryset, size=2, cap=cap)
    if where == "deep":
        cursor = second.next_cursor
    elif where == "previous":
        cursor = paginate(queryset, size=2, cursor=second.next_cursor, cap=cap).previous_cursor
    elif where == "last":
        cursor = last_cursor()
    elif where == "last within the cap":
        cursor, cap = last_cursor(), None
    assert cursor or where == "first"
    count, page = page_statements(queryset, cursor=cursor, cap=cap)
    # Only the unfiltered list may read its index from one end (it stops at the page's end).
    reads_from_an_end = unfiltered and where in {"first", "last", "last within the cap"}
    assert_plan_served_by_index(
        plan_of_sql(page, ordered=True), ordered=True, full_index_read=reads_from_an_end
    )
    if where != "first":
        assert "OFFSET" not in page, page
    # The capped count: a LIMIT under the COUNT, read through an index as well.
    count_plan = plan_of_sql(count, ordered=False, bitmaps_only=False)
    assert_plan_served_by_index(count_plan, ordered=False, full_index_read=unfiltered)
    assert count_plan["Plans"][0]["Node Type"] == "Limit", json.dumps(count_plan, indent=1)


def test_a_deep_page_uses_the_cursor_as_its_index_condition(coordinator, workshop_org, devices):
    # Not a filter applied to every row before the cursor: the row comparison bounds the scan.
    from inventory.pagination import paginate

    for queryset in (
        selectors.device_list(coordinator),
        selectors.device_list(coordinator, custodian=workshop_org.pk),
        selectors.device_list(coordinator, status=Status.IN_RECONDITIONING),
    ):
        cursor = paginate(queryset, size=2).next_cursor
        _, page = page_statements(queryset, cursor=cursor)
        plan = plan_of_sql(page, ordered=True)
        conditions = [
            node.get("Index Cond", "")
            for node in nodes(plan)
            if node.get("Relation Name") == "inventory_device"
        ]
        assert any("created_at" in c and "id" in c for c in conditions), json.dumps(plan, indent=1)


@pytest.mark.parametrize("q", ["atitud", "INV-2"])
def test_a_searchs_keyset_pages_are_found_through_indexes(coordinator, workshop_staff, devices, q):
    # A search has few matches: found through its indexes (the BitmapOr of the search), then
    # sorted; its cursor pages and its capped count read no table end to end either.
    from inventory.pagination import paginate

    for user in (coordinator, workshop_staff):
        queryset = selectors.device_list(user, q=q)
        first = paginate(queryset, size=1)
        for cursor in (None, first.next_cursor):
            count, page = page_statements(queryset, cursor=cursor)
            for sql in (count, page):
                assert_plan_served_by_index(
                    plan_of_sql(sql, ordered=False), ordered=False, full_index_read=False
                )


def test_the_duplicate_check_of_registration_and_import_is_served_by_indexes(devices):
    # inventory.identity.registered_holders: the serials through the search's UPPER index, the
    # IMEIs through their unique or prefix indexes (inventory 0020 dropped the plain ones).
    from django.test.utils import CaptureQueriesContext

    from inventory import identity

    serial = devices[0].serial_number
    with CaptureQueriesContext(connection) as queries:
        by_serial, by_imei = identity.registered_holders(
            serials=[identity.serial_key("Dell", serial)], imeis=[devices[7].imei1]
        )
    assert by_serial == {identity.serial_key("Dell", serial): devices[0].label_code_id}
    assert by_imei == {devices[7].imei1: devices[7].label_code_id}
    serials, imeis = [query["sql"] for query in queries.captured_queries]
    # Named: a condition on the second column of the unique (manufacturer, serial) index is an
    # "Index Cond" too, but reads that index end to end (a sequential scan at a million rows).
    for sql, indexes in (
        (serials, {"device_serial_upper_idx"}),
        (imeis, {"device_imei1_unique", "device_imei1_prefix_idx", "device_imei2_unique"}),
    ):
        plan = plan_of_sql(sql, ordered=False)
        assert_plan_served_by_index(plan, ordered=False, full_index_read=False)
        assert index_names(plan) and index_names(plan) <= indexes, json.dumps(plan, indent=1)
