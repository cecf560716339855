"""Migration 0016 fills the device counters from the devices; migration 0017 closes the
donations already settled and leaves open every one the coordination's to-do counts; migration
0018 flags the to-do lines that count each open donation."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from inventory.documents.selectors import TODO_FLAGS, certificate_states, todo_flags
from inventory.models import DeviceCount, Donation
from tests.builders import ATTESTED, assert_counts_match, make_device, make_donation, shipped

pytestmark = pytest.mark.django_db

counts_migration = importlib.import_module("inventory.migrations.0016_device_counts")
todo_migration = importlib.import_module("inventory.migrations.0017_donation_todo_open")


class StatementsOnly:
    """What the migration uses of a schema editor (SQLite refuses a real one in a test's
    transaction)."""

    connection = connection

    def execute(self, sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def test_the_counters_are_filled_from_the_devices(coordinator, workshop_org):
    shipped(coordinator, workshop_org, 3)
    make_device(actor=coordinator)
    DeviceCount.objects.all().delete()

    counts_migration.fill_from_devices(apps, StatementsOnly())

    assert DeviceCount.objects.count() == 2
    assert_counts_match()


def test_settled_donations_are_closed_and_the_others_stay_open(coordinator, donor_org):
    settled = make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    unattested = make_donation(actor=coordinator, donor=donor_org)
    counted = make_donation(actor=coordinator, donor=donor_org, received_count=2, **ATTESTED)
    make_device(actor=coordinator, donation=counted, category="screen")
    Donation.objects.update(todo_open=True)

    todo_migration.close_settled(apps, None)

    open_ids = set(Donation.objects.filter(todo_open=True).values_list("pk", flat=True))
    assert open_ids == {unattested.pk, counted.pk}
    assert settled.pk not in open_ids
    # Never closed while the to-do would count it.
    for pk, state in certificate_states(Donation.objects.filter(todo_open=False)).items():
        assert not state.on_coordination_todo, pk


lines_migration = importlib.import_module("inventory.migrations.0018_donation_todo_lines")


def test_the_open_donations_get_the_flags_of_their_lines(coordinator, donor_org):
    unattested = make_donation(actor=coordinator, donor=donor_org)
    counted = make_donation(actor=coordinator, donor=donor_org, received_count=2, **ATTESTED)
    make_device(actor=coordinator, donation=counted, category="screen")
    settled = make_donation(actor=coordinator, donor=donor_org, **ATTESTED)
    Donation.objects.update(todo_certificate=False, todo_attestation=False, todo_counts=False)

    lines_migration.fill_flags(apps, None)

    rows = {row["pk"]: row for row in Donation.objects.values("pk", *TODO_FLAGS)}
    assert rows[unattested.pk]["todo_attestation"] and not rows[unattested.pk]["todo_counts"]
    assert rows[counted.pk]["todo_counts"] and not rows[counted.pk]["todo_attestation"]
    assert not any(rows[settled.pk][flag] for flag in TODO_FLAGS)
    for pk, state in certificate_states(Donation.objects.all()).items():
        assert {"pk": pk, **todo_flags(state)} == rows[pk], pk
