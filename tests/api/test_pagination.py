"""The API lists' pages: cursor links both ways, a count that says when it is capped, page
numbers within the window only, and deep pages that cost what the first one does."""

import base64
import json

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory import pagination, selectors
from inventory.models import Device
from inventory.pagination import cursor_after
from tests.builders import make_device, shipped

URL = "/api/devices/"


@pytest.fixture
def many(coordinator):
    """12 devices, 8 registered at the same instant: only the id orders them."""
    made = [make_device(actor=coordinator) for _ in range(12)]
    Device.objects.filter(pk__in=[d.pk for d in made[2:10]]).update(created_at=timezone.now())
    return made


def newest_first() -> list[int]:
    return [pk for _, pk in sorted(Device.objects.values_list("created_at", "id"), reverse=True)]


def walk(client, url, params, link="next"):
    body = client.get(url, params).json()
    pages = [body]
    while body[link]:
        body = client.get(body[link]).json()
        pages.append(body)
    return pages


def test_next_links_list_every_device_once_in_order(api, coordinator, many):
    pages = walk(api(coordinator), URL, {"page_size": 5})
    assert [row["id"] for page in pages for row in page["results"]] == newest_first()
    assert [len(page["results"]) for page in pages] == [5, 5, 2]
    assert {page["count"] for page in pages} == {12}
    assert all(page["count_is_exact"] for page in pages)
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    assert pages[-1]["last"] is None and pages[0]["last"]


def test_previous_links_from_the_last_page_list_every_device_once(api, coordinator, many):
    client = api(coordinator)
    last = client.get(client.get(URL, {"page_size": 5}).json()["last"]).json()
    pages = [last]
    while pages[0]["previous"]:
        pages.insert(0, client.get(pages[0]["previous"]).json())
    assert [row["id"] for page in pages for row in page["results"]] == newest_first()


def test_the_links_keep_the_filters(api, coordinator, workshop_org):
    shipped(coordinator, workshop_org, count=4)
    make_device(actor=coordinator)
    client = api(coordinator)
    pages = walk(client, URL, {"page_size": 3, "status": "sent_to_workshop"})
    assert "status=sent_to_workshop" in pages[0]["next"] and "page_size=3" in pages[0]["next"]
    assert [len(p["results"]) for p in pages] == [3, 1]
    assert {row["status"] for p in pages for row in p["results"]} == {"sent_to_workshop"}


def forged(kind: str, instant: str) -> str:
    raw = json.dumps({"k": kind, "v": [instant, 1]}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "forged!",
        "eyJrIjoiYSIsInYiOlsxXX0",
        "eyJrIjoibCJ9x",
        "a" * 700,
        # Instants no list gives: out of the calendar once in UTC (SQLite's adapter converts
        # and overflowed: a 500), or without a time zone.
        forged("a", "9999-12-31T23:59:59-14:00"),
        forged("b", "0001-01-01T00:00:00+14:00"),
        forged("a", "2026-01-01T00:00:00"),
    ],
)
def test_a_forged_cursor_answers_400_invalid_cursor(api, coordinator, many, cursor):
    response = api(coordinator).get(URL, {"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"
    assert "cursor" in response.json()["fields"]


def test_page_numbers_work_within_the_window_and_point_to_next_beyond(
    api, coordinator, many, monkeypatch
):
    client = api(coordinator)
    second = client.get(URL, {"page_size": 5, "page": 2}).json()
    assert [row["id"] for row in second["results"]] == newest_first()[5:10]
    assert "cursor=" in second["next"] and "page=" not in second["next"]
    monkeypatch.setattr(pagination, "CAP", 10)
    response = client.get(URL, {"page_size": 5, "page": 3})
    assert response.status_code == 400
    assert response.json()["code"] == "page_out_of_window"
    assert client.get(URL, {"page_size": 5, "page": 2}).status_code == 200
    both = client.get(URL, {"page": 1, "cursor": second["next"].split("cursor=")[1]})
    assert both.status_code == 400


def test_beyond_the_cap_the_count_says_it_is_not_exact(api, coordinator, many, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 10)
    client = api(coordinator)
    pages = walk(client, URL, {"page_size": 5})
    assert (pages[0]["count"], pages[0]["count_is_exact"]) == (10, False)
    assert len([row for page in pages for row in page["results"]]) == 12


def test_the_cursor_helper_opens_the_page_after_any_device(api, coordinator, many):
    order = newest_first()
    device = Device.objects.get(pk=order[6])
    cursor = cursor_after([device.created_at, device.pk], order=("-created_at", "-id"))
    body = api(coordinator).get(URL, {"cursor": cursor, "page_size": 3}).json()
    assert [row["id"] for row in body["results"]] == order[7:10]


def captured(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return [q["sql"].upper() for q in queries.captured_queries]


@pytest.fixture
def of_every_list(coordinator, donor_org, workshop_org):
    """Three rows in every list: devices, organisations, donations, shipments, disposals, and
    a donation's devices and a device's history."""
    from tests.builders import dispose, make_donation, recycled

    donation = make_donation(actor=coordinator, donor=donor_org)
    for _ in range(2):
        make_donation(actor=coordinator, donor=donor_org)
    for _ in range(3):
        make_device(actor=coordinator, donation=donation, donor=donor_org)
        shipped(coordinator, workshop_org)
        dispose(actor=coordinator, devices=[recycled(actor=coordinator, workshop=workshop_org)])
    return donation


LISTS = [
    URL,
    "/api/organisations/",
    "/api/donations/",
    "/api/shipments/",
    "/api/disposals/",
    "/api/donations/{donation}/devices/",
    "/api/devices/{device}/history/",
]


@pytest.mark.parametrize("url", LISTS)
def test_a_deep_page_neither_skips_nor_counts_through_the_table(
    api, coordinator, of_every_list, url, monkeypatch
):
    history = Device.history.model.objects.values("id").annotate(n=Count("history_id"))
    device = Device.objects.get(pk=history.order_by("-n").first()["id"])
    url = url.format(donation=of_every_list.pk, device=device.pk)
    monkeypatch.setattr(pagination, "CAP", 2)
    client = api(coordinator)
    first = client.get(url, {"page_size": 1}).json()
    second = client.get(first["next"]).json()
    assert second["next"], "three rows at least in each list"
    assert first["results"] != second["results"]
    assert (first["count"], first["count_is_exact"]) == (2, False)
    first_sql = captured(client, url, {"page_size": 1})
    deep_sql = captured(client, second["next"])
    assert len(deep_sql) == len(first_sql)
    assert not any("OFFSET" in sql for sql in deep_sql), deep_sql
    counted = [sql for sql in deep_sql if "COUNT(" in sql and "LIMIT 3" in sql]
    if url == URL:
        # The whole device list's total is the device counters' sum (inventory.counts).
        assert not counted and any("INVENTORY_DEVICECOUNT" in sql for sql in deep_sql)
    else:
        assert counted, deep_sql
    assert not any("COUNT(" in sql and "LIMIT" not in sql for sql in deep_sql), deep_sql


def test_a_page_costs_a_fixed_number_of_queries(api, coordinator, many, django_assert_num_queries):
    client = api(coordinator)
    first = client.get(URL, {"page_size": 5}).json()
    # Session, user with the user's scope, the capped count and the page.
    with django_assert_num_queries(4):
        client.get(first["next"])
    with django_assert_num_queries(4):
        client.get(first["last"])


def test_the_schema_says_when_the_count_is_capped(api, coordinator):
    schema = api(coordinator).get("/api/schema/", {"format": "json"}).json()
    page = schema["components"]["schemas"]["PaginatedDeviceList"]
    assert {"count", "count_is_exact", "next", "previous", "last", "results"} <= set(
        page["properties"]
    )
    assert "10,000" in page["properties"]["count"]["description"]
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"cursor", "page", "page_size"} <= parameters


def test_a_search_is_counted_to_the_search_cap_only(api, coordinator, many, monkeypatch):
    monkeypatch.setattr(pagination, "SEARCH_CAP", 5)
    client = api(coordinator)
    whole = client.get(URL, {"page_size": 5}).json()
    assert (whole["count"], whole["count_is_exact"]) == (12, True)
    found = client.get(URL, {"page_size": 5, "q": "latitude"}).json()
    assert (found["count"], found["count_is_exact"]) == (5, False)
    # Every match is still reached by the links, in the list's order.
    pages = walk(client, URL, {"page_size": 5, "q": "latitude"})
    assert [row["id"] for page in pages for row in page["results"]] == newest_first()
    refused = client.get(URL, {"page_size": 5, "page": 2, "q": "latitude"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "page_out_of_window"
    assert "s'arrêtent aux 5 premiers résultats" in refused.json()["detail"]
    assert client.get(URL, {"page_size": 5, "page": 2}).status_code == 200


@pytest.mark.parametrize(
    "query, counted",
    [
        ({}, True),
        ({"status": "registered"}, True),
        ({"status": "at_workshop", "custodian": "{workshop}"}, True),
        ({"custodian": "{workshop}", "page_size": 2}, True),
        ({"category": "laptop"}, False),
        ({"q": "Dell"}, False),
        ({"status": "registered", "unknown": "1"}, False),
    ],
)
def test_a_list_filtered_by_status_and_custody_only_is_counted_by_the_counters(
    api, coordinator, workshop_staff, workshop_org, query, counted
):
    for _ in range(3):
        make_device(actor=coordinator)
    shipped(coordinator, workshop_org, count=2)
    query = {key: str(value).format(workshop=workshop_org.pk) for key, value in query.items()}
    filters = {"status", "category", "q", "custodian"}
    for user in (coordinator, workshop_staff):
        client = api(user)
        rows = selectors.device_list(user, **{k: v for k, v in query.items() if k in filters})
        sql = captured(client, URL, query)
        body = client.get(URL, query).json()
        assert (body["count"], body["count_is_exact"]) == (rows.count(), True)
        # Staff see their custody only: a custody filter of their own is counted by rows.
        by_counters = counted and not (user == workshop_staff and "custodian" in query)
        assert any("INVENTORY_DEVICECOUNT" in s for s in sql) is by_counters, sql
        assert any("COUNT(" in s for s in sql) is not by_counters, sql
