"""GET /api/devices/: scope, filters, pagination and a query count that does not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inventory.services import device_transition
from inventory.states import Status
from tests.builders import make_device, valid_imei

URL = "/api/devices/"


def ids(response) -> set[int]:
    return {row["id"] for row in response.json()["results"]}


def queries_for_list(client, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, {"page_size": 200, **params})
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def add_devices(actor, count, *, donor, workshop):
    """Devices with a donor, some moved to a workshop, so every joined relation is read."""
    for n in range(count):
        device = make_device(actor=actor, donor=donor if n % 2 else None)
        if n % 3 == 0:
            device_transition(
                actor=actor, device_id=device.pk, action="receive_at_workshop", target=workshop
            )


@pytest.mark.slow
def test_list_query_count_is_the_same_for_10_and_200_devices(
    api, coordinator, donor_org, workshop_org
):
    client = api(coordinator)
    add_devices(coordinator, 10, donor=donor_org, workshop=workshop_org)
    small, rows = queries_for_list(client)
    assert rows == 10
    add_devices(coordinator, 190, donor=donor_org, workshop=workshop_org)
    large, rows = queries_for_list(client)
    assert rows == 200
    assert small == large


@pytest.mark.slow
def test_workshop_list_query_count_is_the_same_for_10_and_200_devices(
    api, coordinator, workshop_staff, workshop_org, donor_org
):
    client = api(workshop_staff)
    for n in range(200):
        make_device(actor=workshop_staff, donor=donor_org if n % 2 else None)
        if n == 9:
            small, rows = queries_for_list(client)
            assert rows == 10
    large, rows = queries_for_list(client)
    assert rows == 200
    assert small == large


def test_workshop_sees_only_the_devices_in_its_custody(
    api, workshop_staff, at_workshop, at_other_workshop, device
):
    response = api(workshop_staff).get(URL)
    assert response.status_code == 200
    assert ids(response) == {at_workshop.pk}


def test_coordinator_sees_every_device(api, coordinator, at_workshop, at_other_workshop, device):
    assert ids(api(coordinator).get(URL)) == {at_workshop.pk, at_other_workshop.pk, device.pk}


def test_fund_reader_gets_an_empty_list(api, fund_reader, at_workshop, device):
    response = api(fund_reader).get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_filters_by_status_category_and_custodian(
    api, coordinator, at_workshop, device, workshop_org
):
    phone = make_device(actor=coordinator, category="smartphone", imei1=valid_imei(41))
    client = api(coordinator)
    assert ids(client.get(URL, {"status": Status.AT_WORKSHOP})) == {at_workshop.pk}
    assert ids(client.get(URL, {"category": "smartphone"})) == {phone.pk}
    assert ids(client.get(URL, {"custodian": workshop_org.pk})) == {at_workshop.pk}
    assert ids(client.get(URL, {"status": Status.REGISTERED, "category": "laptop"})) == {device.pk}


def test_search_finds_a_device_by_serial_imei_and_grouped_label_code(api, coordinator, device):
    phone = make_device(
        actor=coordinator, category="smartphone", serial_number="PHONE-1", imei1=valid_imei(42)
    )
    client = api(coordinator)
    assert ids(client.get(URL, {"q": device.serial_number.lower()})) == {device.pk}
    assert ids(client.get(URL, {"q": valid_imei(42)[:8]})) == {phone.pk}
    code = phone.label_code_id.lower()
    assert ids(client.get(URL, {"q": f"{code[:3]}-{code[3:6]} {code[6:]}"})) == {phone.pk}


def test_search_does_not_reach_outside_the_scope(api, workshop_staff, at_other_workshop):
    response = api(workshop_staff).get(URL, {"q": at_other_workshop.serial_number})
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"status": "shipped"},
        {"custodian": "abc"},
        {"custodian": "1.5"},
        {"custodian": str(10**30)},
        {"q": "x" * 201},
    ],
)
def test_a_bad_filter_value_answers_400_with_the_field(api, coordinator, params):
    response = api(coordinator).get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == set(params)


def test_list_is_paginated(api, coordinator):
    for _n in range(3):
        make_device(actor=coordinator)
    body = api(coordinator).get(URL, {"page_size": 2}).json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert api(coordinator).get(URL, {"page_size": 2, "page": 9}).json()["code"] == "not_found"
