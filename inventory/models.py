"""The network's organisations, their people, the territory, and the devices with their history."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .codes import is_valid_rna, is_valid_siret
from .states import OrgKind, Status


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
