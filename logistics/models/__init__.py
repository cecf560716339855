"""Batches that move devices between organisations, one module per noun (shipments, disposals;
needs, allocations, loans and reports come next); every class is re-exported here so that the app
label and the table names stay as they are."""

from logistics.models.disposals import DisposalBatch, DisposalItem
from logistics.models.shipments import Shipment, ShipmentItem

__all__ = ["DisposalBatch", "DisposalItem", "Shipment", "ShipmentItem"]


def _historical_models_live_here() -> None:
    # django-simple-history names a historical model's module after the app ("inventory")
    # when the model is not defined in the app's `models` module itself, and leaves the class
    # in the submodule: `manage.py shell`, pickling and `inventory.models.HistoricalDevice`
    # would not find it. Give each one this package as its home, as before the split.
    for name in __all__:
        history = getattr(globals()[name], "history", None)
        model = getattr(history, "model", None)
        if model is not None and not name.startswith("Historical"):
            model.__module__ = __name__
            globals()[model.__name__] = model


_historical_models_live_here()
