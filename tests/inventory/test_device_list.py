"""The device list: scoping, search, filters, pagination and a constant query budget."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inventory import pagination
from inventory import views as inventory_views
from inventory.codes import group_label_code
from inventory.states import Status
from tests.builders import make_device, queries_of_get, valid_imei

LIST = reverse("inventory:device_list")


def listed(response) -> list[int]:
    return [device.pk for device in response.context["page"].object_list]


def test_coordinator_lists_every_device_with_its_grouped_code(login, coordinator, device):
    response = login(coordinator).get(LIST)
    assert response.status_code == 200
    assert listed(response) == [device.pk]
    assert group_label_code(device.label_code_id) in response.text
    assert str(Status.REGISTERED.label) in response.text


def test_workshop_lists_only_its_custody(
    login, workshop_staff, workshop_device, other_org_device, device
):
    response = login(workshop_staff).get(LIST)
    assert listed(response) == [workshop_device.pk]
    assert 'name="custody"' not in response.text


def test_structure_lists_what_it_holds(login, structure_staff, lent_device, device):
    response = login(structure_staff).get(LIST)
    assert response.status_code == 200
    assert listed(response) == [lent_device.pk]


def test_fund_reader_gets_no_device_list(login, fund_reader, device):
    response = login(fund_reader).get(LIST)
    assert response.status_code == 403
    assert device.serial_number not in response.text


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: group_label_code(code).lower(),
        lambda code: code.lower(),
        lambda code: " ".join(group_label_code(code).split("-")),
    ],
    ids=["grouped-lowercase", "plain-lowercase", "spaces"],
)
def test_search_finds_a_device_by_its_label_code_however_typed(login, coordinator, typed):
    wanted = make_device(actor=coordinator)
    make_device(actor=coordinator)
    response = login(coordinator).get(LIST, {"q": typed(wanted.label_code_id)})
    assert listed(response) == [wanted.pk]


def test_search_finds_a_device_by_serial_number(login, coordinator):
    wanted = make_device(actor=coordinator, serial_number="5CG7281XYZ")
    make_device(actor=coordinator)
    response = login(coordinator).get(LIST, {"q": "5cg7281xyz"})
    assert listed(response) == [wanted.pk]


def test_search_finds_a_phone_by_imei(login, coordinator):
    imei = valid_imei(42)
    wanted = make_device(actor=coordinator, category="smartphone", imei1=imei)
    make_device(actor=coordinator, category="smartphone", imei1=valid_imei(43))
    response = login(coordinator).get(LIST, {"q": imei})
    assert listed(response) == [wanted.pk]


def test_search_finds_devices_by_model(login, coordinator):
    wanted = make_device(actor=coordinator, model_name="ThinkPad T480")
    make_device(actor=coordinator, model_name="Latitude 5490")
    response = login(coordinator).get(LIST, {"q": "thinkpad"})
    assert listed(response) == [wanted.pk]


def test_filters_by_status_category_and_custody(
    login, coordinator, workshop_org, workshop_device, device
):
    phone = make_device(actor=coordinator, category="smartphone", imei1=valid_imei(7))
    client = login(coordinator)
    assert listed(client.get(LIST, {"status": Status.SENT_TO_WORKSHOP})) == [workshop_device.pk]
    assert listed(client.get(LIST, {"category": "smartphone"})) == [phone.pk]
    assert listed(client.get(LIST, {"custody": workshop_org.pk})) == [workshop_device.pk]
    both = client.get(LIST, {"status": Status.REGISTERED, "category": "laptop"})
    assert listed(both) == [device.pk]


def test_unknown_filter_values_are_ignored_not_errors(login, coordinator, device):
    response = login(coordinator).get(LIST, {"status": "nonsense", "category": "nope"})
    assert response.status_code == 200
    assert listed(response) == [device.pk]


def test_empty_search_says_so_and_offers_to_clear(login, coordinator, device):
    response = login(coordinator).get(LIST, {"q": "no-such-thing"})
    assert listed(response) == []
    assert 'class="empty"' in response.text
    assert f'href="{LIST}"' in response.text


def next_link(response, rel: str) -> str:
    """The href of the pagination link with this rel, unescaped for the test client."""
    match = re.search(rf'<a href="([^"]+)" rel="{rel}">', response.text)
    assert match, f"no {rel} link"
    return html.unescape(match[1])


def test_list_is_paginated_by_fifty_and_page_links_keep_the_filters(login, coordinator):
    for _ in range(60):
        make_device(actor=coordinator)
    make_device(actor=coordinator, category="smartphone", imei1=valid_imei(9))
    client = login(coordinator)
    first = client.get(LIST, {"category": "laptop"})
    assert len(listed(first)) == 50
    assert (first.context["page"].count, first.context["page"].count_exact) == (60, True)
    assert "60 appareils" in first.text and "page 1 sur 2" in first.text
    assert 'rel="prev"' not in first.text and 'rel="first"' not in first.text
    link = next_link(first, "next")
    assert link.startswith("?category=laptop&cursor=")
    second = client.get(LIST + link)
    assert len(listed(second)) == 10
    assert not set(listed(first)) & set(listed(second))
    assert "page 2 sur 2" in second.text and 'rel="next"' not in second.text
    back = client.get(LIST + next_link(second, "prev"))
    assert listed(back) == listed(first)
    last = client.get(LIST + next_link(first, "last"))
    assert listed(last) == listed(second)
    assert "category=laptop" in next_link(last, "first")


def test_a_middle_page_links_every_way_in_french(login, coordinator, monkeypatch):
    monkeypatch.setattr(inventory_views, "PAGE_SIZE", 1)
    for _ in range(3):
        make_device(actor=coordinator)
    client = login(coordinator)
    middle = client.get(LIST + next_link(client.get(LIST), "next"))
    nav = re.search(r'<nav class="pagination" aria-label="Pages">.*?</nav>', middle.text, re.S)[0]
    words = re.findall(r">([^<>]+)</(?:a|span)>", nav)
    assert words == ["Première", "Précédente", "Page 2", "Suivante", "Dernière"]
    assert '<span aria-current="page">' in nav


@pytest.mark.parametrize(
    "query", [{"cursor": "forged!"}, {"cursor": "eyJrIjoiYSJ9"}, {"page": "x"}]
)
def test_a_broken_page_link_shows_the_first_page_with_a_message(login, coordinator, query):
    devices = [make_device(actor=coordinator) for _ in range(3)]
    response = login(coordinator).get(LIST, query)
    assert response.status_code == 200
    assert set(listed(response)) == {d.pk for d in devices}
    assert "Ce lien de page ne mène nulle part" in response.text


def test_a_page_number_past_the_window_shows_the_first_page_with_a_message(
    login, coordinator, monkeypatch
):
    monkeypatch.setattr(pagination, "CAP", 60)
    devices = [make_device(actor=coordinator) for _ in range(3)]
    response = login(coordinator).get(LIST, {"page": "2"})
    assert set(listed(response)) == {d.pk for d in devices}
    assert "suivez les liens «\u00a0Suivante\u00a0»" in response.text


def test_beyond_the_cap_the_list_says_more_than(login, coordinator, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 2)
    for _ in range(3):
        make_device(actor=coordinator)
    response = login(coordinator).get(LIST, {"category": "laptop"})
    assert "plus de 2\u00a0appareils" in response.text or "plus de 2 appareils" in response.text
    assert len(listed(response)) == 3
    assert "all=1" not in response.text  # printing every label found needs an exact total


def test_a_search_is_counted_to_the_search_cap_only(login, coordinator, monkeypatch):
    monkeypatch.setattr(pagination, "SEARCH_CAP", 2)
    devices = [make_device(actor=coordinator) for _ in range(3)]
    client = login(coordinator)
    found = client.get(LIST, {"q": "Latitude"})
    assert "plus de 2\u00a0appareils" in found.text or "plus de 2 appareils" in found.text
    assert set(listed(found)) == {d.pk for d in devices}
    assert "3 appareils" in client.get(LIST).text.replace("\u00a0", " ")
    # A page number past the search's window: the first page, and why.
    response = client.get(LIST, {"q": "Latitude", "page": "2"})
    assert set(listed(response)) == {d.pk for d in devices}
    assert "s'arrêtent aux 2 premières lignes" in response.text.replace("&#x27;", "'")


def test_beyond_ten_thousand_the_number_is_grouped_with_a_narrow_space(
    login, coordinator, monkeypatch
):
    monkeypatch.setattr(pagination, "CAP", 10_000)
    monkeypatch.setattr(pagination, "capped_count", lambda queryset, cap=None: (10_000, False))
    make_device(actor=coordinator)
    # A search: the total is counted, not read from the counters.
    assert "plus de 10\u202f000 appareils" in login(coordinator).get(LIST, {"q": "Dell"}).text


def test_the_totals_the_counters_keep_are_not_counted_on_the_rows(
    login, coordinator, workshop_staff, workshop_org, workshop_device, device
):
    """Unfiltered, or filtered by status or custody: the total is the counters' sum, the
    same as a count of the rows, and the devices are not counted."""
    make_device(actor=coordinator, category="smartphone", imei1=valid_imei(7))
    cases = [
        (coordinator, {}),
        (coordinator, {"status": Status.REGISTERED}),
        (coordinator, {"custody": workshop_org.pk}),
        (coordinator, {"custody": workshop_org.pk, "status": Status.REGISTERED}),
        (workshop_staff, {}),
        (workshop_staff, {"status": Status.SENT_TO_WORKSHOP}),
    ]
    for user, query in cases:
        with CaptureQueriesContext(connection) as queries:
            response = login(user).get(LIST, query)
        page = response.context["page"]
        assert page.count_exact and page.count == len(listed(response)), (user, query)
        assert not [q for q in queries if "COUNT(" in q["sql"]], (user, query)
    # Any other filter: the rows are counted.
    with CaptureQueriesContext(connection) as queries:
        response = login(coordinator).get(LIST, {"category": "smartphone"})
    assert response.context["page"].count == 1
    assert [q for q in queries if "COUNT(" in q["sql"]]


def test_beyond_the_cap_the_counters_total_says_more_than(login, coordinator, monkeypatch):
    monkeypatch.setattr(pagination, "CAP", 2)
    for _ in range(3):
        make_device(actor=coordinator)
    response = login(coordinator).get(LIST)
    assert not response.context["page"].count_exact
    assert "plus de 2\u00a0appareils" in response.text or "plus de 2 appareils" in response.text


def test_a_deep_page_costs_the_queries_of_the_first(login, coordinator):
    client = login(coordinator)
    for _ in range(60):
        make_device(actor=coordinator)
    first = queries_of_get(client, LIST)
    second = queries_of_get(client, LIST + next_link(client.get(LIST), "next"))
    last = queries_of_get(client, LIST + next_link(client.get(LIST), "last"))
    assert first == second == last


def test_list_query_count_does_not_grow_with_the_rows(login, coordinator, workshop_org):
    client = login(coordinator)
    for _ in range(10):
        make_device(actor=coordinator)
    with_ten = queries_of_get(client, LIST)
    for _ in range(50):
        make_device(actor=coordinator, donor=None)
    with_sixty = queries_of_get(client, LIST)
    assert with_ten == with_sixty
    # Session, user with membership; the total (counters) and the page; the filters'
    # categories and organisations (one query for both lists of organisations).
    assert with_ten == 2 + 2 + 2
    # A search counts its rows (up to the cap) instead of reading the counters: as many.
    assert queries_of_get(client, LIST + "?q=Dell") == with_ten
