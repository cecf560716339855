"""API-test helpers: a client logged in as a persona, and a few devices in known places."""

import pytest
from rest_framework.test import APIClient

from inventory.services import device_transition
from tests.builders import make_device


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)  # a real session: the query counts include its lookup
        return client

    return client_for


@pytest.fixture
def at_workshop(coordinator, workshop_org):
    """A device received at ECODAIR, so in ECODAIR's custody."""
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="receive_at_workshop", target=workshop_org
    )
    return device


@pytest.fixture
def at_other_workshop(coordinator, other_workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="receive_at_workshop",
        target=other_workshop_org,
    )
    return device
