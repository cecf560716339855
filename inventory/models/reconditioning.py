"""The reconditioning record: lock checks, storage media and erasures, tests, repairs, grade."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models.devices import Category, Device
from inventory.models.organisations import Organisation


class Grade(models.TextChoices):
    A = "A", _("A: very good cosmetic condition")
    B = "B", _("B: light signs of use")
    C = "C", _("C: visible signs of use")
    D = "D", _("D: not reusable")


class Reconditioning(models.Model):
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="reconditionings", verbose_name=_("device")
    )
    workshop = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reconditionings",
        verbose_name=_("workshop"),
    )
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    # When the workshop received the device this cycle works on (its entry into "at the
    # workshop"): the fund's turnaround runs from it to "ready".
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    battery_health = models.PositiveSmallIntegerField(
        _("battery health (%)"), null=True, blank=True
    )
    os_installed = models.CharField(_("operating system installed"), max_length=120, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reconditioning")
        verbose_name_plural = _("reconditionings")
        ordering = ["-started_at", "-id"]
        # The fund's figures: cycles completed in a period, by outcome (ready, recycled…).
        indexes = [
            models.Index(fields=["completed_at", "outcome"], name="recond_completed_idx"),
        ]
        constraints = [
            # One open cycle per device: two benches cannot start parallel records.
            models.UniqueConstraint(
                fields=["device"],
                condition=Q(completed_at__isnull=True),
                name="reconditioning_one_open_per_device",
            ),
            models.CheckConstraint(
                condition=Q(grade="") | Q(grade__in=Grade.values), name="reconditioning_grade_valid"
            ),
            models.CheckConstraint(
                condition=Q(battery_health__isnull=True) | Q(battery_health__lte=100),
                name="reconditioning_battery_health_percent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.device_id} @ {self.started_at:%Y-%m-%d}"


class LockKind(models.TextChoices):
    ACTIVATION = "activation_lock", _("Apple Activation Lock / Lost Mode")
    FRP = "frp", _("Google FRP / Samsung Reactivation Lock")
    MDM = "mdm", _("MDM enrolment (ABM, Autopilot, Zero-touch, Chromebook)")
    FIRMWARE = "firmware_password", _("BIOS/UEFI password")
    DISK_ENCRYPTION = "disk_encryption", _("BitLocker / FileVault")
    STOLEN_LIST = "stolen_list", _("GSMA stolen-device list")


class LockOutcome(models.TextChoices):
    CLEARED = "cleared", _("Cleared")
    BLOCKED = "blocked", _("Blocked")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class LockCheck(models.Model):
    reconditioning = models.ForeignKey(
        Reconditioning, on_delete=models.PROTECT, related_name="lock_checks"
    )
    kind = models.CharField(_("lock"), max_length=30, choices=LockKind.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=LockOutcome.choices)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_at = models.DateTimeField(_("checked at"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lock check")
        verbose_name_plural = _("lock checks")
        constraints = [
            models.UniqueConstraint(
                fields=["reconditioning", "kind"], name="lockcheck_one_per_kind"
            ),
            models.CheckConstraint(condition=Q(kind__in=LockKind.values), name="lockcheck_kind"),
            models.CheckConstraint(
                condition=Q(outcome__in=LockOutcome.values), name="lockcheck_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.get_outcome_display()}"


class MediumKind(models.TextChoices):
    HDD = "hdd", _("Hard disk (HDD)")
    SSD = "ssd", _("SSD")
    FLASH = "flash", _("Flash memory (eMMC, UFS, phone storage)")
    OTHER = "other", _("Other")


class MediumInterface(models.TextChoices):
    SATA = "sata", "SATA"
    NVME = "nvme", "NVMe"
    EMMC = "emmc", "eMMC"
    USB = "usb", "USB"
    EMBEDDED = "embedded", _("Built in (phone, tablet)")
    OTHER = "other", _("Other")


class HiddenAreas(models.TextChoices):
    UNKNOWN = "", _("Not checked")
    NONE = "none", _("None found")
    REMOVED = "removed", _("HPA/DCO found and removed")
    PRESENT = "present", _("HPA/DCO found, not removable")


class MediumState(models.TextChoices):
    IN_DEVICE = "in_device", _("In the device")
    DESTROYED = "destroyed", _("Destroyed")
    REMOVED = "removed", _("Removed from the device")


class StorageMedium(models.Model):
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, related_name="media", verbose_name=_("device")
    )
    kind = models.CharField(_("type"), max_length=10, choices=MediumKind.choices)
    interface = models.CharField(_("interface"), max_length=10, choices=MediumInterface.choices)
    manufacturer = models.CharField(_("make"), max_length=80, blank=True)
    model_name = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    capacity_gb = models.PositiveIntegerField(_("capacity (GB)"), null=True, blank=True)
    hidden_areas = models.CharField(
        _("hidden areas (HPA/DCO)"), max_length=10, choices=HiddenAreas.choices, blank=True
    )
    state = models.CharField(
        _("state"), max_length=10, choices=MediumState.choices, default=MediumState.IN_DEVICE
    )
    # A factory-new medium fitted at the workshop held no one's data: nothing to erase.
    is_new = models.BooleanField(
        _("new (never used)"),
        default=False,
        help_text=_("A factory-new replacement fitted at the workshop: it holds no one's data."),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("storage medium")
        verbose_name_plural = _("storage media")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=MediumKind.values), name="medium_kind"),
            models.CheckConstraint(condition=Q(state__in=MediumState.values), name="medium_state"),
        ]

    def __str__(self) -> str:
        parts = [self.get_kind_display(), self.manufacturer, self.model_name, self.serial_number]
        return " ".join(part for part in parts if part)


class ErasureLevel(models.TextChoices):
    CLEAR = "clear", _("Clear")
    PURGE = "purge", _("Purge")
    DESTRUCT = "destruct", _("Destruct")


class ErasureMethod(models.TextChoices):
    OVERWRITE = "overwrite", _("Overwrite")
    ATA_SECURE_ERASE = "ata_secure_erase", _("ATA Secure Erase")
    NVME_SANITIZE = "nvme_sanitize", _("NVMe Sanitize")
    CRYPTO_ERASE = "crypto_erase", _("Cryptographic erase")
    FACTORY_RESET = "factory_reset", _("Encrypted factory reset")
    SHRED = "shred", _("Physical destruction: shredding")
    CRUSH = "crush", _("Physical destruction: crushing or drilling")
    DEGAUSS = "degauss", _("Physical destruction: degaussing")


DESTRUCTION_METHODS = frozenset({ErasureMethod.SHRED, ErasureMethod.CRUSH, ErasureMethod.DEGAUSS})


class Verification(models.TextChoices):
    NONE = "none", _("None")
    SAMPLE = "sample", _("Sample")
    FULL = "full", _("Full")


class ErasureResult(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    UNVERIFIABLE = "unverifiable", _("Could not be verified")


class ErasureRecord(models.Model):
    """One erasure (or the destruction) of one medium, with everything an auditor asks for."""

    medium = models.ForeignKey(
        StorageMedium, on_delete=models.PROTECT, related_name="erasures", verbose_name=_("medium")
    )
    reconditioning = models.ForeignKey(
        Reconditioning, on_delete=models.PROTECT, related_name="erasures"
    )
    level = models.CharField(_("level"), max_length=10, choices=ErasureLevel.choices)
    method = models.CharField(_("method"), max_length=20, choices=ErasureMethod.choices)
    tool = models.CharField(_("tool"), max_length=80, blank=True)
    tool_version = models.CharField(_("tool version"), max_length=40, blank=True)
    verification = models.CharField(_("verification"), max_length=10, choices=Verification.choices)
    verification_percent = models.PositiveSmallIntegerField(
        _("share verified (%)"), null=True, blank=True
    )
    result = models.CharField(_("result"), max_length=15, choices=ErasureResult.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    report = models.FileField(_("tool report"), upload_to="erasure-reports/%Y/%m/", blank=True)
    report_sha256 = models.CharField(_("SHA-256 of the report"), max_length=64, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("erasure record")
        verbose_name_plural = _("erasure records")
        ordering = ["started_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__in=ErasureLevel.values), name="erasure_level"
            ),
            models.CheckConstraint(
                condition=Q(method__in=ErasureMethod.values), name="erasure_method"
            ),
            models.CheckConstraint(
                condition=Q(result__in=ErasureResult.values), name="erasure_result"
            ),
            models.CheckConstraint(
                condition=Q(ended_at__gte=models.F("started_at")), name="erasure_times_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.medium} — {self.get_method_display()} ({self.get_result_display()})"

    @property
    def is_destruction(self) -> bool:
        return self.level == ErasureLevel.DESTRUCT


class TestItem(models.Model):
    """One line of a category's functional-test checklist; data a coordinator edits."""

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="test_items", verbose_name=_("category")
    )
    code = models.SlugField(_("code"), max_length=40)
    label_fr = models.CharField(_("label (French)"), max_length=120)
    label_en = models.CharField(_("label (English)"), max_length=120)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    is_active = models.BooleanField(_("in use"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("test checklist item")
        verbose_name_plural = _("test checklist items")
        ordering = ["category", "sort_order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="testitem_code_per_category")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr


class TestOutcome(models.TextChoices):
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class TestResult(models.Model):
    reconditioning = models.ForeignKey(
        Reconditioning, on_delete=models.PROTECT, related_name="test_results"
    )
    item = models.ForeignKey(TestItem, on_delete=models.PROTECT, related_name="results")
    outcome = models.CharField(_("result"), max_length=20, choices=TestOutcome.choices)
    tested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tested_at = models.DateTimeField(_("tested at"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        constraints = [
            models.UniqueConstraint(
                fields=["reconditioning", "item"], name="testresult_one_per_item"
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=TestOutcome.values), name="testresult_outcome"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item}: {self.get_outcome_display()}"


class Repair(models.Model):
    reconditioning = models.ForeignKey(
        Reconditioning, on_delete=models.PROTECT, related_name="repairs"
    )
    part = models.CharField(_("part or work"), max_length=200)
    cost = models.DecimalField(_("cost (€)"), max_digits=8, decimal_places=2, null=True, blank=True)
    minutes = models.PositiveIntegerField(_("time spent (minutes)"), null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    performed_at = models.DateTimeField(_("done at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("repair")
        verbose_name_plural = _("repairs")
        ordering = ["performed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="repair_cost_positive"
            )
        ]

    def __str__(self) -> str:
        return self.part
