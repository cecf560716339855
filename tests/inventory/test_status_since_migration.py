"""Migration 0015 fills each device's "status since" with what the workshop's queue used to
read from the history: the latest move into its step, else its last update."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from inventory.models import Device
from tests.builders import make_device, shipped

pytestmark = pytest.mark.django_db

migration = importlib.import_module("inventory.migrations.0015_device_status_changed_at")
History = Device.history.model


@pytest.mark.parametrize("batch", [1, 10_000])
def test_the_queue_steps_start_at_their_move_and_other_statuses_at_the_last_update(
    coordinator, workshop_org, monkeypatch, batch
):
    monkeypatch.setattr(migration, "BATCH", batch)
    _shipment, [sent] = shipped(coordinator, workshop_org, 1)
    registered = make_device(actor=coordinator)
    sent_on = timezone.now() - timedelta(days=3)
    updated_on = timezone.now() - timedelta(days=7)
    History.objects.filter(id=sent.pk, history_change_reason="send_to_workshop").update(
        history_date=sent_on
    )
    Device.objects.update(status_changed_at=timezone.now(), updated_at=updated_on)

    migration.fill_from_history(apps, None)

    assert Device.objects.get(pk=sent.pk).status_changed_at == sent_on
    assert Device.objects.get(pk=registered.pk).status_changed_at == updated_on


def test_a_queue_device_without_its_move_in_the_history_starts_at_its_last_update(
    coordinator, workshop_org
):
    _shipment, [sent] = shipped(coordinator, workshop_org, 1)
    History.objects.filter(id=sent.pk, history_change_reason="send_to_workshop").delete()
    updated_on = timezone.now() - timedelta(days=2)
    Device.objects.update(updated_at=updated_on)

    migration.fill_from_history(apps, None)

    assert Device.objects.get(pk=sent.pk).status_changed_at == updated_on
