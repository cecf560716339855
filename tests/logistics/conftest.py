"""Logistics fixtures: a shipment of three devices by van, and a device recycled at a workshop."""

import pytest

from logistics.shipments.services import shipment_create
from tests.builders import recycled


@pytest.fixture
def shipment(coordinator, workshop_org, devices):
    return shipment_create(
        actor=coordinator,
        workshop=workshop_org,
        devices=[device.pk for device in devices],
        carrier="Van",
    )


@pytest.fixture
def workshop_recycled(coordinator, workshop_org, workshop_staff):
    return recycled(actor=coordinator, workshop=workshop_org, workshop_actor=workshop_staff)
