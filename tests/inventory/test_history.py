"""History survives the move of the models into packages: the historical tables keep their
names, and a note typed with a move still reaches its historical row."""

from django.apps import apps

from inventory.services import device_transition
from tests.builders import make_device

# The tables as they were before the models were split into one module per noun; a change
# here is a migration that renames audit tables, never a side effect of moving code.
HISTORICAL_TABLES = {
    "inventory_historicalcategory",
    "inventory_historicalcommune",
    "inventory_historicaldevice",
    "inventory_historicaldonation",
    "inventory_historicalerasurerecord",
    "inventory_historicallockcheck",
    "inventory_historicalmembership",
    "inventory_historicalorganisation",
    "inventory_historicalreconditioning",
    "inventory_historicalrepair",
    "inventory_historicalstoragemedium",
    "inventory_historicalterritory",
    "inventory_historicaltestitem",
    "inventory_historicaltestresult",
    "logistics_historicalallocation",
    "logistics_historicaldisposalbatch",
    "logistics_historicaldevicereport",
    "logistics_historicaldisposalitem",
    "logistics_historicalfundingprogramme",
    "logistics_historicalhandover",
    "logistics_historicalloan",
    "logistics_historicalloanitem",
    "logistics_historicalmatchingpolicy",
    "logistics_historicalmatchingrun",
    "logistics_historicalneed",
    "logistics_historicalneedline",
    "logistics_historicalshipment",
    "logistics_historicalshipmentitem",
}


def test_the_historical_tables_keep_their_names():
    tables = {
        model._meta.db_table
        for app in ("inventory", "logistics")
        for model in apps.get_app_config(app).get_models()
        if model.__name__.startswith("Historical")
    }
    assert tables == HISTORICAL_TABLES


def test_every_tracked_model_keeps_its_app_label_and_table():
    for app in ("inventory", "logistics"):
        for model in apps.get_app_config(app).get_models():
            history = getattr(model, "history", None)
            if history is None or model.__name__.startswith("Historical"):
                continue
            assert model._meta.app_label == app
            assert model._meta.db_table == f"{app}_{model._meta.model_name}"
            assert history.model._meta.db_table == f"{app}_historical{model._meta.model_name}"


def test_a_note_typed_with_a_move_reaches_its_history_row(coordinator, workshop_org):
    device = make_device(actor=coordinator)
    device_transition(
        actor=coordinator,
        device_id=device.pk,
        action="send_to_workshop",
        target=workshop_org,
        note="  Carton 3, étagère B  ",
    )
    row = device.history.order_by("-history_id").first()
    assert row.history_note == "Carton 3, étagère B"
    assert row.history_change_reason == "send_to_workshop"
    assert row.history_user == coordinator


def test_historical_models_live_in_their_apps_models_package():
    # Where `manage.py shell`, pickling and `from inventory.models import HistoricalDevice`
    # look for them, as before the models were split into one module per noun.
    import importlib

    for app in ("inventory", "logistics"):
        package = importlib.import_module(f"{app}.models")
        for model in apps.get_app_config(app).get_models():
            if model.__name__.startswith("Historical"):
                assert model.__module__ == f"{app}.models"
                assert getattr(package, model.__name__) is model
