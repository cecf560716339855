"""Web-test helpers: a logged-in client per persona, and a clean cache for the login throttle."""

import pytest
from django.core.cache import cache

from inventory.services import device_transition
from tests.builders import make_device, walk


@pytest.fixture(autouse=True)
def clean_cache(db):
    # The throttle counts failures in the cache; one test's failures must not lock the next.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def workshop_device(coordinator, workshop_org, workshop_staff):
    """A device the coordinator sent to ECODAIR: ECODAIR sees it, the others do not."""
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    return device


@pytest.fixture
def other_org_device(coordinator, other_workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="send_to_workshop",
        target=other_workshop_org,
    )
    return device


@pytest.fixture
def lent_device(workshop_device, coordinator, structure_org):
    """A device reconditioned, reserved and lent to the structure persona's organisation."""
    walk(
        actor=coordinator,
        device=workshop_device,
        actions=("receive_at_workshop", "start_reconditioning", "mark_ready", "reserve"),
    )
    device_transition(
        actor=coordinator, device_id=workshop_device.pk, action="lend", target=structure_org
    )
    return workshop_device
