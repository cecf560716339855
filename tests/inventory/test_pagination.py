"""The shared keyset pagination (inventory.pagination): every row once, in order, both ways;
cursors that cannot be forged into an error; a count that stops at the cap; and no query that
skips (OFFSET) or counts through the whole table."""

import base64
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from inventory import pagination, selectors
from inventory.models import Device
from inventory.pagination import (
    InvalidCursor,
    InvalidPage,
    PageOutOfWindow,
    capped_count,
    cursor_after,
    decode_cursor,
    last_cursor,
    paginate,
)
from tests.builders import make_device

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(coordinator):
    """23 devices, most sharing one created_at: only the id tells their order apart."""
    made = [make_device(actor=coordinator) for _ in range(23)]
    same = timezone.now()
    Device.objects.filter(pk__in=[d.pk for d in made[3:20]]).update(created_at=same)
    return made


def expected_order(user) -> list[int]:
    rows = selectors.device_list(user).values_list("created_at", "id")
    return [pk for _, pk in sorted(rows, reverse=True)]


def walk_forward(queryset, size):
    page = paginate(queryset, size=size)
    pages = [page]
    while page.has_next:
        page = paginate(queryset, size=size, cursor=page.next_cursor)
        pages.append(page)
    return pages


def test_walking_forward_lists_every_row_once_in_order(coordinator, many):
    pages = walk_forward(selectors.device_list(coordinator), 5)
    assert [d.pk for page in pages for d in page.object_list] == expected_order(coordinator)
    assert [len(p.object_list) for p in pages] == [5, 5, 5, 5, 3]
    assert [p.first_index for p in pages] == [1, 6, 11, 16, 21]
    assert [p.page_number for p in pages] == [1, 2, 3, 4, 5]
    assert pages[0].is_first and not pages[0].has_previous
    assert pages[-1].is_last and not pages[-1].has_next


@pytest.mark.parametrize(
    ("cap", "sizes", "starts"),
    [
        # Counted exactly, the last page is the last numbered one.
        pytest.param(100, [5, 5, 5, 5, 3], [1, 6, 11, 16, 21], id="exact count"),
        # Past the cap, pages line up from the end: the first one reached backwards is short.
        pytest.param(10, [3, 5, 5, 5, 5], [None, None, None, None, None], id="capped count"),
    ],
)
def test_walking_back_from_the_last_page_lists_every_row_once_in_order(
    coordinator, many, cap, sizes, starts
):
    queryset = selectors.device_list(coordinator)
    page = paginate(queryset, size=5, cursor=last_cursor(), cap=cap)
    assert page.is_last and not page.has_next
    pages = [page]
    while page.has_previous:
        page = paginate(queryset, size=5, cursor=page.previous_cursor, cap=cap)
        pages.insert(0, page)
    assert [d.pk for page in pages for d in page.object_list] == expected_order(coordinator)
    assert [len(p.object_list) for p in pages] == sizes
    assert [p.first_index for p in pages[1:]] == starts[1:]
    assert pages[0].is_first and pages[0].first_index == 1


def test_previous_from_a_page_walked_forward_is_the_page_before(coordinator, many):
    pages = walk_forward(selectors.device_list(coordinator), 5)
    for before, page in zip(pages, pages[1:], strict=False):
        back = paginate(selectors.device_list(coordinator), size=5, cursor=page.previous_cursor)
        assert [d.pk for d in back.object_list] == [d.pk for d in before.object_list]
        assert back.first_index == before.first_index


def test_next_from_a_page_reached_backwards_continues_to_the_end(coordinator, many):
    queryset = selectors.device_list(coordinator)
    last = paginate(queryset, size=5, cursor=last_cursor(), cap=10)
    before_last = paginate(queryset, size=5, cursor=last.previous_cursor, cap=10)
    again = paginate(queryset, size=5, cursor=before_last.next_cursor, cap=10)
    assert [d.pk for d in again.object_list] == [d.pk for d in last.object_list]
    assert again.is_last
    # Placed from the end; with the total capped its place from the start is unknown.
    assert (again.rows_after, again.first_index) == (0, None)
    exact = paginate(queryset, size=5, cursor=before_last.next_cursor)
    assert exact.first_index == 19


def test_a_filtered_list_pages_within_its_filter(coordinator, workshop_org, many):
    Device.objects.filter(pk__in=[d.pk for d in many[::2]]).update(custodian=workshop_org)
    queryset = selectors.device_list(coordinator, custodian=workshop_org.pk)
    pages = walk_forward(queryset, 4)
    listed = [d.pk for page in pages for d in page.object_list]
    assert listed == list(queryset.values_list("id", flat=True))
    assert set(listed) == {d.pk for d in many[::2]}


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        "x" * 700,
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": "x"}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": [1]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": ["yesterday", 3]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": ["2026-01-01T00:00:00", "x"]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": [null, 3]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": ["2026-01-01", 99999999999999999999]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "a", "v": ["2026-01-01", true]}').decode(),
        base64.urlsafe_b64encode(b'{"k": "b", "v": ["2026-01-01", 1], "s": -4}').decode(),
        base64.urlsafe_b64encode(b'{"k": "z"}').decode(),
        "é",
    ],
)
def test_a_forged_cursor_is_refused_as_such(coordinator, many, cursor):
    with pytest.raises(InvalidCursor):
        paginate(selectors.device_list(coordinator), size=5, cursor=cursor)


def test_a_cursor_is_opaque_but_carries_the_rows_order_values(coordinator, many):
    page = paginate(selectors.device_list(coordinator), size=5)
    payload = decode_cursor(page.next_cursor)
    last = page.object_list[-1]
    assert payload["v"] == [last.created_at.isoformat(), last.pk]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", page.next_cursor)


def test_cursor_after_opens_the_page_after_any_row(coordinator, many):
    order = expected_order(coordinator)
    row = Device.objects.get(pk=order[9])
    cursor = cursor_after([row.created_at, row.pk], order=("-created_at", "-id"), start=10)
    page = paginate(selectors.device_list(coordinator), size=5, cursor=cursor)
    assert [d.pk for d in page.object_list] == order[10:15]
    assert page.first_index == 11
    assert cursor_after(row, order=("-created_at", "-id")) != cursor  # no position: unknown
    unplaced = cursor_after(row, order=("-created_at", "-id"))
    assert paginate(selectors.device_list(coordinator), size=5, cursor=unplaced).first_index is None


def test_page_numbers_are_served_within_the_window_only(coordinator, many, monkeypatch):
    queryset = selectors.device_list(coordinator)
    second = paginate(queryset, size=5, page="2")
    assert [d.pk for d in second.object_list] == expected_order(coordinator)[5:10]
    assert second.has_next and second.has_previous
    with pytest.raises(InvalidPage):
        paginate(queryset, size=5, page="9")
    for bad in ("0", "-1", "1.5", "", "²"):
        with pytest.raises(InvalidPage):
            paginate(queryset, size=5, page=bad)
    with pytest.raises(PageOutOfWindow):
        paginate(queryset, size=5, page="4", cap=15)


def test_the_count_stops_at_the_cap(coordinator, many):
    queryset = selectors.device_list(coordinator)
    assert capped_count(queryset, 30) == (23, True)
    assert capped_count(queryset, 23) == (23, True)
    assert capped_count(queryset, 22) == (22, False)
    page = paginate(queryset, size=5, cap=10)
    assert (page.count, page.count_exact, page.num_pages) == (10, False, None)
    # Pages are still served past the cap: only the total is capped.
    assert len([d for p in walk_forward(queryset, 5) for d in p.object_list]) == 23


def test_the_cap_reads_the_french_way():
    page = pagination.Page([], 10_000, False, 50)
    with translation.override("fr"):
        assert page.count_display == "10\u202f000"


def sql_of_a_deep_page(user, monkeypatch) -> list[str]:
    monkeypatch.setattr(pagination, "CAP", 10)
    queryset = selectors.device_list(user)
    pages = walk_forward(queryset, 5)
    with CaptureQueriesContext(connection) as queries:
        paginate(selectors.device_list(user), size=5, cursor=pages[3].next_cursor)
    return [q["sql"].upper() for q in queries.captured_queries]


def test_a_deep_page_neither_skips_nor_counts_the_whole_table(coordinator, many, monkeypatch):
    statements = sql_of_a_deep_page(coordinator, monkeypatch)
    assert len(statements) == 2
    assert not any("OFFSET" in sql for sql in statements), statements
    counts = [sql for sql in statements if "COUNT(" in sql]
    assert len(counts) == 1 and "LIMIT 11" in counts[0], counts
    assert "ORDER BY" not in counts[0]


def test_the_cursor_json_is_plain(coordinator, many):
    page = paginate(selectors.device_list(coordinator), size=5)
    text = page.next_cursor
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert json.loads(raw)["k"] == "a"
