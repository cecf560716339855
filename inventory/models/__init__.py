"""The models of the inventory app, one module per noun; every class is re-exported here so
that the app label, the table names and `from inventory.models import X` stay as they were."""

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
    "IdempotencyRecord",
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
