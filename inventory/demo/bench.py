"""Demo bench records: what the workshops recorded for the demo devices, through the services.

Called by the demo while it plays each device's story; the timestamps are moved afterwards to
the story's calendar like the rest of the demo.
"""

from datetime import timedelta

from django.utils import timezone

from inventory.models import (
    Device,
    ErasureRecord,
    LockCheck,
    LockKind,
    Reconditioning,
    Repair,
    StorageMedium,
    TestItem,
    TestResult,
)
from inventory.reconditioning import services as bench

RECORD_MODELS = (Reconditioning, LockCheck, StorageMedium, ErasureRecord, TestResult, Repair)
# Which locks a bench checks, by category; the others are not applicable.
LOCKS = {
    "laptop": ("firmware_password", "disk_encryption", "mdm"),
    "desktop": ("firmware_password", "disk_encryption"),
    "all_in_one": ("firmware_password", "disk_encryption", "mdm"),
    "smartphone": ("activation_lock", "frp", "mdm", "stolen_list"),
    "feature_phone": ("stolen_list",),
    "tablet": ("activation_lock", "frp", "mdm"),
}
OS_BY_CATEGORY = {
    "laptop": ("Windows 11 Professionnel", "Ubuntu 24.04 LTS", "Linux Mint 22", "ChromeOS Flex"),
    "desktop": ("Windows 11 Professionnel", "Ubuntu 24.04 LTS", "Linux Mint 22"),
    "all_in_one": ("Windows 11 Professionnel", "Linux Mint 22"),
    "smartphone": ("Android 14", "iOS 17", "Android 13"),
    "tablet": ("Android 14", "iPadOS 17"),
}
REPAIRS = (
    ("Batterie remplacée", "39.90", 25),
    ("Clavier remplacé", "24.50", 40),
    ("Chargeur fourni (compatible)", "12.00", 5),
    ("SSD 256 Go installé", "27.00", 20),
    ("Nettoyage et pâte thermique", None, 30),
    ("Vitre arrière remplacée", "18.00", 35),
)


def _locks(actor, device: Device, blocked: str = "") -> None:
    checked = LOCKS.get(device.category_id, ())
    outcomes = {
        kind: ("cleared" if kind in checked else "not_applicable") for kind in LockKind.values
    }
    if blocked:
        outcomes[blocked] = "blocked"
    bench.lock_checks_record(actor=actor, device_id=device.pk, outcomes=outcomes)


def _erase(actor, device: Device, rng) -> None:
    if bench.erased_by_factory_reset(device.category):
        bench.factory_reset_record(actor=actor, device_id=device.pk)
        return
    if not device.category.holds_data:
        return
    medium = device.media.filter(state="in_device").first()
    if medium is None:
        nvme = device.storage_type != "hdd" and rng.random() < 0.7
        medium = bench.medium_add(
            actor=actor,
            device_id=device.pk,
            kind="hdd" if device.storage_type == "hdd" else "ssd",
            interface="nvme" if nvme else "sata",
            manufacturer=rng.choice(("Samsung", "SK hynix", "Kioxia", "Western Digital")),
            serial_number=f"S{rng.randrange(10**9, 10**10)}",
            capacity_gb=device.storage_gb or rng.choice((128, 256, 512)),
            hidden_areas="none",
        )
    now = timezone.now()
    method = (
        "overwrite"
        if medium.kind == "hdd"
        else ("nvme_sanitize" if medium.interface == "nvme" else "ata_secure_erase")
    )
    bench.erasure_record(
        actor=actor,
        medium_id=medium.pk,
        level="clear" if method == "overwrite" else "purge",
        method=method,
        tool="Blancco Drive Eraser",
        tool_version="7.11",
        verification="full" if rng.random() < 0.8 else "sample",
        verification_percent=10,
        result="passed",
        started_at=now - timedelta(minutes=rng.randint(20, 180)),
        ended_at=now,
    )


def _tests(actor, device: Device, *, share: float = 1.0, rng=None) -> None:
    items = list(TestItem.objects.filter(category_id=device.category_id, is_active=True))
    if share < 1.0 and rng is not None:
        items = items[: max(1, int(len(items) * share))]
    outcomes = {
        item.pk: "not_applicable" if item.code in {"biometrics", "bluetooth"} else "passed"
        for item in items
    }
    if outcomes:
        bench.test_results_record(actor=actor, device_id=device.pk, outcomes=outcomes)


def record_full(actor, device: Device, rng) -> None:
    """A complete reconditioning, just before the device is marked ready."""
    _locks(actor, device)
    _erase(actor, device, rng)
    _tests(actor, device)
    if rng.random() < 0.2:
        part, cost, minutes = rng.choice(REPAIRS)
        bench.repair_record(actor=actor, device_id=device.pk, part=part, cost=cost, minutes=minutes)
    has_battery = device.category_id in {"laptop", "smartphone", "tablet", "feature_phone"}
    bench.assessment_record(
        actor=actor,
        device_id=device.pk,
        grade=rng.choices("ABC", weights=(3, 5, 2))[0],
        battery_health=rng.randint(72, 98) if has_battery else None,
        os_installed=rng.choice(OS_BY_CATEGORY.get(device.category_id, ("",))),
    )


def record_partial(actor, device: Device, rng) -> None:
    """A device on the bench today: locks checked, some tests done."""
    _locks(actor, device)
    _tests(actor, device, share=rng.choice((0.3, 0.5, 0.8)), rng=rng)


def record_blocked(actor, device: Device) -> None:
    """The lock that sends a device back to its donor."""
    blocked = "activation_lock" if device.manufacturer == "Apple" else "mdm"
    if device.category_id in {"smartphone", "tablet"} and device.manufacturer != "Apple":
        blocked = "frp"
    _locks(actor, device, blocked=blocked)


def record_destroyed(actor, device: Device, rng) -> None:
    """A drive whose erasure failed, then destroyed: the device goes to recycling."""
    if bench.erased_by_factory_reset(device.category) or not device.category.holds_data:
        return
    medium = bench.medium_add(
        actor=actor,
        device_id=device.pk,
        kind="hdd",
        interface="sata",
        manufacturer="Seagate",
        serial_number=f"Z{rng.randrange(10**7, 10**8)}",
        capacity_gb=500,
        hidden_areas="none",
    )
    now = timezone.now()
    bench.erasure_record(
        actor=actor,
        medium_id=medium.pk,
        level="clear",
        method="overwrite",
        tool="Blancco Drive Eraser",
        tool_version="7.11",
        verification="full",
        result="failed",
        started_at=now - timedelta(hours=3),
        ended_at=now - timedelta(hours=1),
    )
    bench.erasure_record(
        actor=actor,
        medium_id=medium.pk,
        level="destruct",
        method="shred",
        tool="Broyeur HDD",
        verification="full",
        result="passed",
        started_at=now - timedelta(minutes=20),
        ended_at=now,
    )


def open_cycle_id(device: Device) -> int | None:
    cycle = Reconditioning.objects.filter(device=device, completed_at__isnull=True).first()
    return cycle.pk if cycle else None


def backdate(moments: dict[int, object], set_columns) -> None:
    """Move each cycle's records to its story time ({reconditioning pk: moment of its end})."""
    if not moments:
        return
    ids = list(moments)
    cycles = Reconditioning.objects.filter(pk__in=ids).values_list(
        "pk", "device_id", "completed_at"
    )
    first_by_device: dict[int, object] = {}
    values = {}
    for pk, device_id, completed in cycles:
        end = moments[pk]
        first_by_device[device_id] = min(end, first_by_device.get(device_id, end))
        values[pk] = {
            "started_at": end - timedelta(hours=3),
            "completed_at": end if completed else None,
        }
    set_columns(Reconditioning, values)
    specs = (
        (LockCheck, {"checked_at": timedelta(hours=2, minutes=50)}),
        (TestResult, {"tested_at": timedelta(hours=1)}),
        (Repair, {"performed_at": timedelta(minutes=40)}),
        (
            ErasureRecord,
            {
                "started_at": timedelta(hours=2, minutes=30),
                "ended_at": timedelta(hours=1, minutes=30),
                "recorded_at": timedelta(hours=1, minutes=29),
            },
        ),
    )
    for model, offsets in specs:
        rows = model.objects.filter(reconditioning_id__in=ids).values_list(
            "pk", "reconditioning_id"
        )
        set_columns(
            model,
            {
                pk: {name: moments[cycle] - delta for name, delta in offsets.items()}
                for pk, cycle in rows
            },
        )
        history = model.history.model.objects.filter(reconditioning_id__in=ids)
        set_columns(
            model.history.model,
            {
                hid: {"history_date": moments[cycle] - timedelta(minutes=30)}
                for hid, cycle in history.values_list("history_id", "reconditioning_id")
            },
        )
    media = StorageMedium.objects.filter(device_id__in=list(first_by_device)).values_list(
        "pk", "device_id"
    )
    set_columns(
        StorageMedium,
        {pk: {"added_at": first_by_device[device] - timedelta(hours=2)} for pk, device in media},
    )
    history = StorageMedium.history.model.objects.filter(device_id__in=list(first_by_device))
    set_columns(
        StorageMedium.history.model,
        {
            hid: {"history_date": first_by_device[device] - timedelta(hours=2)}
            for hid, device in history.values_list("history_id", "device_id")
        },
    )
    history = Reconditioning.history.model.objects.filter(id__in=ids)
    set_columns(
        Reconditioning.history.model,
        {hid: {"history_date": moments[pk]} for hid, pk in history.values_list("history_id", "id")},
    )
