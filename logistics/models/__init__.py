"""Batches that move devices between organisations, one module per noun (shipments, disposals;
needs, allocations, loans and reports come next); every class is re-exported here so that the app
label and the table names stay as they are."""

from inventory.history import historical_models_home
from logistics.models.allocations import (
    Allocation,
    AllocationStatus,
    MatchingPolicy,
    MatchingRun,
    RunLine,
    RunStatus,
    RunUnserved,
)
from logistics.models.disposals import DisposalBatch, DisposalItem
from logistics.models.funding import FundingProgramme, FundReport
from logistics.models.handovers import HandOver, HandOverItem, SignatureKind
from logistics.models.loans import (
    DeviceReport,
    Loan,
    LoanExtension,
    LoanItem,
    LoanItemOutcome,
    LoanReminder,
    LoanStatus,
    ReminderStage,
    ReportKind,
)
from logistics.models.needs import (
    MAX_QUANTITY,
    Mode,
    Need,
    NeedLine,
    OsFamily,
    Public,
    Purpose,
    Urgency,
)
from logistics.models.shipments import DeliveryStage, Shipment, ShipmentItem, ShipmentKind

__all__ = [
    "MAX_QUANTITY",
    "Allocation",
    "AllocationStatus",
    "MatchingPolicy",
    "MatchingRun",
    "RunLine",
    "RunStatus",
    "RunUnserved",
    "DisposalBatch",
    "DisposalItem",
    "FundingProgramme",
    "FundReport",
    "DeliveryStage",
    "DeviceReport",
    "HandOver",
    "HandOverItem",
    "Loan",
    "LoanExtension",
    "LoanItem",
    "LoanItemOutcome",
    "LoanReminder",
    "LoanStatus",
    "ReminderStage",
    "ReportKind",
    "SignatureKind",
    "Mode",
    "Need",
    "NeedLine",
    "OsFamily",
    "Public",
    "Purpose",
    "Shipment",
    "ShipmentItem",
    "ShipmentKind",
    "Urgency",
]

historical_models_home(globals())
