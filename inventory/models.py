"""The network's organisations, their people, the territory, and the devices with their history."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.codes import is_valid_rna, is_valid_siret
from inventory.states import OrgKind, Status


class HistoryNote(models.Model):
    """Extra column on historical rows: the free note a user typed with a move."""

    history_note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True


class Territory(models.Model):
    """An EPT (établissement public territorial) of the Métropole du Grand Paris."""

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("territory")
        verbose_name_plural = _("territories")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Commune(models.Model):
    insee_code = models.CharField(_("INSEE code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    postal_code = models.CharField(_("postal code"), max_length=5)
    departement = models.CharField(_("département"), max_length=3)
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="communes", verbose_name=_("territory")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.insee_code})"


class StructureType(models.TextChoices):
    """Structure types of the data·inclusion schema used by the national mediation map."""

    CCAS = "CCAS", _("Municipal social action centre (CCAS)")
    CS = "CS", _("Social centre")
    BIB = "BIB", _("Library, media library")
    RFS = "RFS", _("France Services office")
    PIMMS = "PIMMS", _("PIMMS (mediation point)")
    ASSO = "ASSO", _("Association")
    MUNI = "MUNI", _("Town hall, municipal service")
    EPN = "EPN", _("Public digital space (EPN)")
    PE = "PE", _("France Travail agency")
    MDS = "MDS", _("Département social service (MDS)")
    CAF = "CAF", _("Family allowance office (CAF)")
    TIERS_LIEUX = "TIERS_LIEUX", _("Third place")
    OTHER = "AUTRE", _("Other")


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    rna = models.CharField(_("RNA number"), max_length=10, blank=True)
    structure_type = models.CharField(
        _("structure type"), max_length=20, choices=StructureType.choices, blank=True
    )
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("commune"),
    )
    address = models.CharField(_("address"), max_length=250, blank=True)
    # ISO 3166 code of where the organisation works: "reconditioned in France" is derived from it.
    country = models.CharField(_("country"), max_length=2, default="FR")
    contact_name = models.CharField(_("contact name"), max_length=120, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=OrgKind.values), name="organisation_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["siret"], condition=~Q(siret=""), name="organisation_siret_unique"
            ),
            models.UniqueConstraint(
                fields=["rna"], condition=~Q(rna=""), name="organisation_rna_unique"
            ),
            models.UniqueConstraint(Lower("name"), "kind", name="organisation_name_kind_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identifier(self) -> str:
        return self.siret or self.rna

    def clean(self) -> None:
        errors: dict[str, list] = {}
        self.siret = "".join(self.siret.split())
        self.rna = "".join(self.rna.split()).upper()
        if self.siret and not is_valid_siret(self.siret):
            errors["siret"] = [_("A SIRET has 14 digits and a valid check digit.")]
        if self.rna and not is_valid_rna(self.rna):
            errors["rna"] = [_("An RNA number is W followed by 9 digits.")]
        if self.kind == OrgKind.STRUCTURE:
            if not (self.siret or self.rna) and not errors:
                errors["siret"] = [_("A structure needs its SIRET or its RNA number.")]
            if not self.structure_type:
                errors["structure_type"] = [_("Choose the type of structure.")]
            if self.commune_id is None:
                errors["commune"] = [_("Choose the commune of the structure.")]
        if errors:
            raise ValidationError(errors)


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    MEMBER = "member", _("Member")
    READER = "reader", _("Reader (read only)")


class Membership(models.Model):
    """A user's organisation and role: the basis of every scoping rule."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="memberships",
        verbose_name=_("organisation"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.MEMBER)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.organisation} ({self.get_role_display()})"

    @property
    def kind(self) -> str:
        return self.organisation.kind

    @property
    def can_write(self) -> bool:
        return self.role != Role.READER


class Category(models.Model):
    """Reference data: the kinds of device the channel handles."""

    code = models.SlugField(_("code"), max_length=30, primary_key=True)
    name_fr = models.CharField(_("name (French)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    has_imei = models.BooleanField(_("has an IMEI"), default=False)
    # Whether a device of this kind holds users' data: then it needs a storage medium with a
    # passed erasure (or a destruction) before it is ready.
    holds_data = models.BooleanField(_("holds users' data"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=100)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "fr").startswith("en") else self.name_fr


class LabelCode(models.Model):
    """Every label code ever issued; a row is never deleted, so a code is never reused."""

    code = models.CharField(_("label code"), max_length=9, primary_key=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    # Pre-printed codes are issued in runs before any device exists; a run is one print job.
    preprint_run = models.PositiveIntegerField(_("pre-printed run"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued by"),
    )

    class Meta:
        verbose_name = _("label code")
        verbose_name_plural = _("label codes")
        indexes = [models.Index(fields=["preprint_run"], name="labelcode_run_idx")]

    def __str__(self) -> str:
        return self.code


class StorageType(models.TextChoices):
    HDD = "hdd", _("Hard disk (HDD)")
    SSD = "ssd", _("SSD")
    EMMC = "emmc", _("eMMC / flash")
    NONE = "none", _("None")


class Device(models.Model):
    label_code = models.OneToOneField(
        LabelCode,
        on_delete=models.PROTECT,
        db_column="label_code",
        related_name="device",
        verbose_name=_("label code"),
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="devices", verbose_name=_("category")
    )
    manufacturer = models.CharField(_("manufacturer"), max_length=80)
    model_name = models.CharField(_("model"), max_length=120, blank=True)
    serial_number = models.CharField(_("serial number"), max_length=80, blank=True)
    imei1 = models.CharField(_("IMEI 1"), max_length=15, blank=True)
    imei2 = models.CharField(_("IMEI 2"), max_length=15, blank=True)
    asset_tag = models.CharField(_("donor's asset tag"), max_length=80, blank=True)
    cpu = models.CharField(_("processor"), max_length=120, blank=True)
    ram_gb = models.PositiveSmallIntegerField(_("RAM (GB)"), null=True, blank=True)
    storage_gb = models.PositiveIntegerField(_("storage (GB)"), null=True, blank=True)
    storage_type = models.CharField(
        _("storage type"), max_length=10, choices=StorageType.choices, blank=True
    )
    screen_inches = models.DecimalField(
        _("screen (inches)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    operating_system = models.CharField(_("operating system"), max_length=120, blank=True)
    donor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="donated_devices",
        limit_choices_to={"kind": OrgKind.DONOR},
        verbose_name=_("donor"),
    )
    custodian = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="devices_in_custody",
        verbose_name=_("custody"),
    )
    donation = models.ForeignKey(
        "Donation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="devices",
        verbose_name=_("donation"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.REGISTERED
    )
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"], bases=[HistoryNote])

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="device_status_valid"
            ),
            # Uniqueness is the database's job: an application-level check races (Snipe-IT #14476).
            models.UniqueConstraint(
                Lower("manufacturer"),
                "serial_number",
                condition=~Q(serial_number=""),
                name="device_serial_unique_per_manufacturer",
            ),
            models.UniqueConstraint(
                fields=["imei1"], condition=~Q(imei1=""), name="device_imei1_unique"
            ),
            models.UniqueConstraint(
                fields=["imei2"], condition=~Q(imei2=""), name="device_imei2_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status"], name="device_status_idx"),
            models.Index(fields=["custodian", "status"], name="device_custody_status_idx"),
            models.Index(fields=["serial_number"], name="device_serial_idx"),
            models.Index(fields=["imei1"], name="device_imei1_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.label_code_id} {self.manufacturer} {self.model_name}".strip()


class IdempotencyRecord(models.Model):
    """A create request's Idempotency-Key and the reply it got, so a retry replays it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.endpoint})"


class ScanResult(models.TextChoices):
    FOUND = "found", _("Device found")
    APPLIED = "applied", _("Move applied")
    ALREADY_DONE = "already_done", _("Already done")
    REFUSED = "refused", _("Refused")
    UNASSIGNED = "unassigned", _("Label not yet assigned")
    INVALID = "invalid", _("Not a valid code")
    UNKNOWN = "unknown", _("Unknown code")


class ScanEvent(models.Model):
    """Every scan, refused ones too: who, when, what was read, what came of it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scans"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scanned_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    client_time = models.DateTimeField(_("scanned at (device clock)"), null=True, blank=True)
    # The scanning client's own id for this scan: uploading a batch again replays, never repeats.
    client_id = models.CharField(max_length=64, blank=True)
    # A batch-mode session (one move applied scan after scan); empty for single scans.
    batch = models.CharField(_("batch"), max_length=36, blank=True, db_index=True)
    raw = models.CharField(_("text read"), max_length=300)
    device = models.ForeignKey(
        Device, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    action = models.CharField(_("move"), max_length=40, blank=True)
    result = models.CharField(_("result"), max_length=20, choices=ScanResult.choices)
    error_code = models.CharField(_("error code"), max_length=60, blank=True)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("scan")
        verbose_name_plural = _("scans")
        ordering = ["-scanned_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "client_id"],
                condition=~Q(client_id=""),
                name="scan_client_id_unique_per_user",
            ),
            models.CheckConstraint(
                condition=Q(result__in=ScanResult.values), name="scan_result_valid"
            ),
        ]
        indexes = [models.Index(fields=["device", "-scanned_at"], name="scan_device_idx")]

    def __str__(self) -> str:
        return f"{self.raw} → {self.result}"


class Donation(models.Model):
    """A batch of devices one donor hands over, with the donor's release attestation."""

    donor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="donations",
        limit_choices_to={"kind": OrgKind.DONOR},
        verbose_name=_("donor"),
    )
    received_on = models.DateField(_("date of the donation"))
    pickup_address = models.CharField(_("pickup address"), max_length=250, blank=True)
    expected_count = models.PositiveIntegerField(_("devices announced"), null=True, blank=True)
    received_count = models.PositiveIntegerField(
        _("devices counted on arrival"), null=True, blank=True
    )
    # The donor's attestation that the devices are released for reuse.
    released_accounts = models.BooleanField(_("user accounts signed out"), default=False)
    released_management = models.BooleanField(
        _("MDM, Autopilot and Apple Business Manager released"), default=False
    )
    released_firmware = models.BooleanField(_("BIOS/UEFI passwords removed"), default=False)
    attested_by = models.CharField(_("attestation signed by"), max_length=120, blank=True)
    attested_on = models.DateField(_("attestation date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-received_on", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.donor}"

    @property
    def reference(self) -> str:
        return f"DON-{self.pk:05d}" if self.pk else ""

    @property
    def attestation_complete(self) -> bool:
        return bool(
            self.released_accounts
            and self.released_management
            and self.released_firmware
            and self.attested_by
            and self.attested_on
        )


class DeviceImport(models.Model):
    """A donor's spreadsheet imported into a donation; its digest keeps a file from twice."""

    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="imports", verbose_name=_("donation")
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, unique=True)
    row_count = models.PositiveIntegerField(_("rows"))
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.file_name


# Reconditioning: one cycle per pass through a workshop. Its records (locks, erasures, tests,
# repairs, grade) decide whether the device may be called reconditioned and become ready.


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


class ErasureCertificate(models.Model):
    """An erasure certificate issued for a donation; its code lets anyone check it online."""

    donation = models.ForeignKey(
        Donation, on_delete=models.PROTECT, related_name="certificates", verbose_name=_("donation")
    )
    verification_code = models.CharField(_("verification code"), max_length=20, unique=True)
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    media_count = models.PositiveIntegerField(_("media listed"))
    # SHA-256 of the certificate's canonical content (the rows it lists), not of the PDF bytes.
    content_sha256 = models.CharField(_("SHA-256 of the content"), max_length=64)

    class Meta:
        verbose_name = _("erasure certificate")
        verbose_name_plural = _("erasure certificates")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.verification_code
