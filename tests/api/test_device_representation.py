"""The device's representation is written out by hand for speed (DeviceSerializer
.to_representation): it must give exactly what DRF's field-by-field path gives from the declared
fields (drf_representation), which the schema describes, for every kind of device, status,
empty field, user and language, and for a device still in memory after a move."""

from decimal import Decimal

import pytest
from django.utils import translation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.serializers.devices import DeviceSerializer, TransitionResultSerializer
from inventory.models import Device, Role
from inventory.services import device_transition
from inventory.states import Status
from tests.builders import (
    hand_over,
    make_device,
    make_user,
    reconditioned,
    token_client,
    valid_imei,
)


def serializer_for(user) -> DeviceSerializer:
    request = Request(APIRequestFactory().get("/api/devices/"))
    request.user = user
    return DeviceSerializer(context={"request": request})


def assert_same(serializer: DeviceSerializer, device: Device) -> dict:
    fast, reference = serializer.to_representation(device), serializer.drf_representation(device)
    assert fast == reference
    # The same keys in the same order, and the same JSON text (types included: "14.0", not 14).
    assert JSONRenderer().render(fast) == JSONRenderer().render(reference)
    return fast


@pytest.fixture
def varied(coordinator, donor_org, workshop_org, structure_org):
    """Devices with every field given, with none, a phone, and devices in several statuses and
    custodians."""
    full = make_device(
        actor=coordinator,
        donor=donor_org,
        manufacturer="Lenovo",
        model_name="ThinkPad T480 « reconditionné »",
        serial_number="pf1abc",
        asset_tag="IT-0042",
        cpu="Intel Core i5-8350U",
        ram_gb=8,
        storage_gb=256,
        storage_type="ssd",
        screen_inches=14,
        operating_system="Windows 11",
        notes="Rayure sur le capot.\nChargeur absent.",
    )
    bare = make_device(actor=coordinator, serial_number="", model_name="")
    phone = make_device(
        actor=coordinator,
        category="smartphone",
        manufacturer="Samsung",
        imei1=valid_imei(1),
        imei2=valid_imei(2),
        screen_inches=Decimal("6.1"),
        storage_gb=0,
        ram_gb=0,
    )
    sent = make_device(actor=coordinator)
    device_transition(
        actor=coordinator, device_id=sent.pk, action="send_to_workshop", target=workshop_org
    )
    ready = make_device(actor=coordinator, donor=donor_org)
    reconditioned(coordinator, ready, workshop_org)
    given = make_device(actor=coordinator)
    reconditioned(coordinator, given, workshop_org)
    hand_over(coordinator, given, "hand_over_gift", structure_org)
    return [full, bare, phone, sent, ready, given]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_fast_representation_equals_drf_for_every_device_user_and_language(
    language, varied, coordinator, workshop_staff, structure_staff, fund_reader, workshop_org
):
    reader = make_user(organisation=workshop_org, role=Role.READER)
    statuses = set()
    with translation.override(language):
        for user in (coordinator, workshop_staff, structure_staff, fund_reader, reader):
            serializer = serializer_for(user)
            # As a list reads them (select_related), and as saved and read back plainly.
            rows = Device.objects.select_related("category", "custodian", "donor")
            for device in [*rows.filter(pk__in=[d.pk for d in varied]), *varied]:
                body = assert_same(serializer, device)
                statuses.add(body["status"])
    # The data did vary: several statuses, moves offered and not, labels in the language.
    assert {Status.REGISTERED, Status.SENT_TO_WORKSHOP, Status.READY, Status.GIVEN} <= statuses
    with translation.override(language):
        coordinator_view = serializer_for(coordinator).to_representation(varied[0])
        assert serializer_for(fund_reader).to_representation(varied[0])["allowed_moves"] == []
    assert coordinator_view["allowed_moves"]
    assert coordinator_view["status_label"] == (
        "Enregistré" if language == "fr" else "Registered at intake"
    )


def test_a_device_in_memory_after_a_move_is_shown_as_drf_shows_it(coordinator, workshop_org):
    """After a move the device holds enum members and unsaved relations: same output."""
    device = make_device(actor=coordinator, screen_inches=Decimal("15.6"))
    result = device_transition(
        actor=coordinator, device_id=device.pk, action="send_to_workshop", target=workshop_org
    )
    assert isinstance(result.device.status, Status)
    body = assert_same(serializer_for(coordinator), result.device)
    assert body["status"] == "sent_to_workshop" and type(body["status"]) is str
    assert body["specs"]["screen_inches"] == "15.6"
    reply = TransitionResultSerializer(
        {"changed": True, "device": result.device},
        context=serializer_for(coordinator).context,
    ).data
    assert reply["device"] == body


def test_the_list_and_detail_replies_are_the_drf_representation(coordinator, varied):
    client = token_client(coordinator)
    serializer = serializer_for(coordinator)
    listed = client.get("/api/devices/", {"page_size": 50}).json()["results"]
    by_id = {row["id"]: row for row in listed}
    for device in Device.objects.filter(pk__in=[d.pk for d in varied]):
        reference = serializer.drf_representation(device)
        assert by_id[device.pk] == reference
        assert client.get(f"/api/devices/{device.pk}/").json() == reference
