"""The models of the inventory app, one module per noun; every class is re-exported here so
that the app label, the table names and `from inventory.models import X` stay as they were."""

from inventory.history import historical_models_home
from inventory.models.counts import (
    DeviceCount,
)
from inventory.models.devices import (
    Category,
    Device,
    HistoryNote,
    LabelCode,
    StorageType,
)
from inventory.models.documents import (
    ErasureCertificate,
)
from inventory.models.idempotency import (
    IdempotencyRecord,
)
from inventory.models.intake import (
    DeviceImport,
    Donation,
)
from inventory.models.login import (
    LoginCounter,
)
from inventory.models.organisations import (
    Commune,
    Membership,
    Organisation,
    Role,
    StructureType,
    Territory,
)
from inventory.models.reconditioning import (
    DESTRUCTION_METHODS,
    ErasureLevel,
    ErasureMethod,
    ErasureRecord,
    ErasureResult,
    Grade,
    HiddenAreas,
    LockCheck,
    LockKind,
    LockOutcome,
    MediumInterface,
    MediumKind,
    MediumState,
    Reconditioning,
    Repair,
    StorageMedium,
    TestItem,
    TestOutcome,
    TestResult,
    Verification,
)
from inventory.models.scanning import (
    ScanEvent,
    ScanResult,
)

__all__ = [
    "Territory",
    "Commune",
    "StructureType",
    "Organisation",
    "Role",
    "Membership",
    "HistoryNote",
    "Category",
    "LabelCode",
    "StorageType",
    "Device",
    "DeviceCount",
    "IdempotencyRecord",
    "LoginCounter",
    "ScanResult",
    "ScanEvent",
    "Donation",
    "DeviceImport",
    "Grade",
    "Reconditioning",
    "LockKind",
    "LockOutcome",
    "LockCheck",
    "MediumKind",
    "MediumInterface",
    "HiddenAreas",
    "MediumState",
    "StorageMedium",
    "ErasureLevel",
    "ErasureMethod",
    "Verification",
    "ErasureResult",
    "ErasureRecord",
    "TestItem",
    "TestOutcome",
    "TestResult",
    "Repair",
    "DESTRUCTION_METHODS",
    "ErasureCertificate",
]

historical_models_home(globals())
