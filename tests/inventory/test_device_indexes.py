"""The indexes of the device and device history tables, which every move writes: a move changes
indexed columns (status, custody), so each index of the device table gets an entry, and its
history row one in each index of the history table. The set is the one Issue 10's audit kept
(inventory 0020): an index added here should serve a query no other index serves, and say so
in Device.Meta; the plan tests (test_list_indexes.py, test_home_indexes.py,
tests/logistics/shipments/test_queue_indexes.py) check that the kept ones serve the app."""

import importlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from inventory.models import Device

DEVICE_INDEXES = {
    "inventory_device_pkey",
    # Unique: they enforce data (one label per device, one device per IMEI, per serial and
    # manufacturer); label_code's serves the scans' look-up by code.
    "inventory_device_label_code_key",
    "device_imei1_unique",
    "device_imei2_unique",
    "device_serial_unique_per_manufacturer",
    # The lists' filters then their order; the home page's waiting steps; a workshop's queue.
    "device_created_idx",
    "device_custody_created_idx",
    "device_status_created_idx",
    "device_cust_status_created_idx",
    "device_custody_waiting_idx",
    "device_custody_queue_idx",
    # The devices awaiting a WEEE disposal (partial: a move writes an entry only for them).
    "device_awaiting_disposal_idx",
    "device_custody_disposal_idx",
    "device_category_disposal_idx",
    "device_cust_cat_disposal_idx",
    # The fund's figures: devices recycled or dismantled in a period (partial: only those,
    # which never move again, have an entry).
    "device_exit_idx",
    # The search: case-insensitive exact matches (the serial's also serves the duplicate check
    # of registration and import), IMEI prefixes, the model's substring.
    "device_serial_upper_idx",
    "device_asset_tag_upper_idx",
    "device_manufacturer_upper_idx",
    "device_imei1_prefix_idx",
    "device_imei2_prefix_idx",
    "device_model_trgm_idx",
    # The lists' filters by category, donor and donation (a donation's devices, its to-do).
    "inventory_device_category_id_9c165f5f",
    "inventory_device_donor_id_a7914065",
    "inventory_device_donation_id_85029460",
}

HISTORY_INDEXES = {
    "inventory_historicaldevice_pkey",
    "inventory_historicaldevice_id_afb5190e",  # a device's history
    "inventory_historicaldevice_history_date_334982d4",
    "inventory_historicaldevice_history_user_id_20436d7c",  # a user's deletion sets it null
    "histdevice_reason_custody_idx",  # a workshop's turnaround
}

LABEL_CODE_INDEXES = {
    "inventory_labelcode_pkey",  # a code's look-up; random codes: every insert lands anywhere
    "inventory_labelcode_issued_by_id_142e6158",  # a user's deletion sets it null
    "labelcode_run_idx",  # a pre-printed run's codes
}

# What inventory 0020 dropped, on every database; PostgreSQL also had the `_like` twins.
DROPPED = {
    "inventory_device": {
        "device_status_idx",
        "device_custody_status_idx",
        "device_serial_idx",
        "device_imei1_idx",
        "inventory_device_custodian_id_ae4cb81b",
    },
    "inventory_historicaldevice": {
        "inventory_historicaldevice_category_id_f2de6d54",
        "inventory_historicaldevice_custodian_id_68265bdf",
        "inventory_historicaldevice_donation_id_edf906c1",
        "inventory_historicaldevice_donor_id_29d2f84b",
        "inventory_historicaldevice_label_code_24986697",
    },
}
DROPPED_LIKE = {
    "inventory_device": {
        "inventory_device_label_code_9ed3838c_like",
        "inventory_device_category_id_9c165f5f_like",
    },
    "inventory_historicaldevice": {
        "inventory_historicaldevice_category_id_f2de6d54_like",
        "inventory_historicaldevice_label_code_24986697_like",
    },
}


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    # A unique constraint is its index (label_code's), reported as a constraint.
    return {
        name
        for name, info in constraints.items()
        if info["index"] or info["primary_key"] or info["unique"]
    }


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's own index names")
@pytest.mark.parametrize(
    "table, expected",
    [
        ("inventory_device", DEVICE_INDEXES),
        ("inventory_historicaldevice", HISTORY_INDEXES),
        ("inventory_labelcode", LABEL_CODE_INDEXES),
    ],
)
def test_a_write_fills_only_the_indexes_the_app_reads(table, expected):
    assert index_names(table) == expected


def test_the_custodian_has_no_index_of_its_own_but_every_custody_index_begins_with_it():
    assert not Device._meta.get_field("custodian").db_index
    custody = [index for index in Device._meta.indexes if index.name.startswith("device_cust")]
    # The partial one (devices awaiting a disposal) holds a few rows: the others serve a
    # look-up by custodian alone.
    assert len([index for index in custody if index.condition is None]) == 4
    assert all(index.fields[0] == "custodian" for index in custody)


# Real transactions (DROP INDEX CONCURRENTLY refuses a transaction block); the reference data
# the flush removes comes back with serialized_rollback.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_migration_drops_the_indexes_and_gives_them_back():
    migration = importlib.import_module("inventory.migrations.0020_drop_redundant_device_indexes")
    assert migration.Migration.atomic is False  # DROP INDEX CONCURRENTLY refuses a transaction
    postgres = connection.vendor == "postgresql"
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("inventory", "0019_history_reason_custody_index")])
        for table, names in DROPPED.items():
            expected = names | (DROPPED_LIKE[table] if postgres else set())
            assert expected <= index_names(table), table
        executor = MigrationExecutor(connection)
        executor.migrate([("inventory", "0020_drop_redundant_device_indexes")])
        for table, names in DROPPED.items():
            assert not (names | DROPPED_LIKE[table]) & index_names(table), table
    finally:
        MigrationExecutor(connection).migrate(latest)
    if postgres:
        assert index_names("inventory_device") == DEVICE_INDEXES
        assert index_names("inventory_historicaldevice") == HISTORY_INDEXES


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_label_codes_like_twin_is_dropped_and_given_back():
    migration = importlib.import_module("inventory.migrations.0022_drop_label_code_like_index")
    assert migration.Migration.atomic is False
    twin = "inventory_labelcode_code_90556f02_like"
    postgres = connection.vendor == "postgresql"
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        MigrationExecutor(connection).migrate([("inventory", "0021_device_awaiting_disposal")])
        assert (twin in index_names("inventory_labelcode")) is postgres
        MigrationExecutor(connection).migrate([("inventory", "0022_drop_label_code_like_index")])
        assert twin not in index_names("inventory_labelcode")
    finally:
        MigrationExecutor(connection).migrate(latest)
    if postgres:
        assert index_names("inventory_labelcode") == LABEL_CODE_INDEXES
