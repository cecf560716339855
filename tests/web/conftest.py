"""Web-test devices: one at another workshop, and one lent to the structure persona's
organisation (the personas, workshop_device and the clean cache are in tests/conftest.py)."""

import pytest

from inventory.services import device_transition
from tests.builders import make_device, walk


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
