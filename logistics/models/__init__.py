"""Batches that move devices between organisations, one module per noun (shipments, disposals;
needs, allocations, loans and reports come next); every class is re-exported here so that the app
label and the table names stay as they are."""

from inventory.history import historical_models_home
from logistics.models.disposals import DisposalBatch, DisposalItem
from logistics.models.shipments import Shipment, ShipmentItem

__all__ = ["DisposalBatch", "DisposalItem", "Shipment", "ShipmentItem"]

historical_models_home(globals())
