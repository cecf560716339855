"""Devices, their categories and the label codes they carry."""

from functools import cached_property

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Upper
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.codes import group_label_code
from inventory.compiled import CompiledSaveMixin
from inventory.models.organisations import Organisation
from inventory.states import OrgKind, Status


class HistoryNote(models.Model):
    """Extra column on historical rows: the free note a user typed with a move."""

    history_note = models.TextField(_("note"), blank=True)

    class Meta:
        abstract = True


class Category(models.Model):
    """Reference data: the kinds of device the channel handles."""

    code = models.SlugField(_("code"), max_length=30, primary_key=True)
    name_fr = models.CharField(_("name (French)"), max_length=80)
    name_en = models.CharField(_("name (English)"), max_length=80)
    has_imei = models.BooleanField(_("has an IMEI"), default=False)
    # Whether a device of this kind holds users' data: then it needs a storage medium with a
    # passed erasure (or a destruction) before it is ready.
    holds_data = models.BooleanField(_("holds users' data"), default=True)
    # The lock checks a device of this kind needs before it is ready (LockKind values, comma-
    # separated): the bench must answer each one, cleared or not applicable.
    required_locks = models.CharField(
        _("lock checks required"),
        max_length=200,
        blank=True,
        help_text=_(
            "Comma-separated: activation_lock, frp, mdm, firmware_password, disk_encryption, "
            "stolen_list."
        ),
    )
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

    @property
    def required_lock_kinds(self) -> list[str]:
        return [kind for kind in (part.strip() for part in self.required_locks.split(",")) if kind]

    def clean(self) -> None:
        # Imported here: the lock kinds live with the reconditioning records.
        from inventory.models.reconditioning import LockKind

        unknown = [kind for kind in self.required_lock_kinds if kind not in LockKind.values]
        if unknown:
            raise ValidationError(
                {
                    "required_locks": _("Unknown lock check: %(kinds)s.")
                    % {"kinds": ", ".join(unknown)}
                }
            )
        self.required_locks = ",".join(dict.fromkeys(self.required_lock_kinds))


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
        return group_label_code(self.code)


class StorageType(models.TextChoices):
    HDD = "hdd", _("Hard disk (HDD)")
    SSD = "ssd", _("SSD")
    EMMC = "emmc", _("eMMC / flash")
    NONE = "none", _("None")


class Device(CompiledSaveMixin, models.Model):
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
    # No index of its own: every index of Meta that begins with the custodian (custody_created,
    # cust_status_created, custody_waiting, custody_queue) serves a look-up by custodian alone,
    # the PROTECT check of an organisation's deletion included.
    custodian = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="devices_in_custody",
        verbose_name=_("custody"),
        db_index=False,
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
    # When the device entered its current status, set by the lifecycle service with the move:
    # a workshop's queue orders and ages its steps by it from an index, where a look-up in the
    # history per device would cost a probe for each. The history rows' dates already hold it.
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)
    # True while the device is recycled and has not left in a WEEE batch: set by the lifecycle
    # service with the move into "recycled", cleared by the disposal that takes the device
    # (logistics.disposals.services), in the same transactions. A device keeps its "recycled"
    # status after it left, so the status alone cannot tell the devices still waiting from
    # the channel's whole history of them; the flag's partial indexes hold the waiting ones
    # only. Derived from the status and the batch item, both recorded: not in the history.
    awaiting_disposal = models.BooleanField(_("awaiting disposal"), default=False, editable=False)
    # The history is read by device (its `id` index), by move and custody
    # (histdevice_reason_custody_idx) and by date: no query looks its rows up by category,
    # custodian, donation, donor or label code, and the historical table has no foreign key
    # constraint to check on a delete. Each index django-simple-history would give those
    # columns was one more entry for every move to write (inventory 0020 dropped them).
    history = HistoricalRecords(
        excluded_fields=["updated_at", "status_changed_at", "awaiting_disposal"],
        bases=[HistoryNote],
        no_db_index=["category", "custodian", "donation", "donor", "label_code"],
    )

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
        # A move or a status change updates indexed columns: every index here gets a new entry
        # on each, so an index that another one already serves is dropped (inventory 0020), and
        # tests/inventory/test_device_indexes.py lists the set. A look-up by status alone is
        # served by status_created, by custodian or custodian and status by any custody index
        # below, an IMEI equality by the IMEI's prefix index (`=` is in the pattern opclass) or
        # its unique one, an exact serial by the UPPER index (inventory.identity).
        indexes = [
            # Each list's filter then its order (-created_at, -id, read backwards), so that a
            # page is read from the index instead of sorting every device in scope.
            models.Index(fields=["created_at", "id"], name="device_created_idx"),
            models.Index(
                fields=["custodian", "created_at", "id"], name="device_custody_created_idx"
            ),
            models.Index(fields=["status", "created_at", "id"], name="device_status_created_idx"),
            models.Index(
                fields=["custodian", "status", "created_at", "id"],
                name="device_cust_status_created_idx",
            ),
            # The home page's oldest devices per waiting step, in the user's custody.
            models.Index(
                fields=["custodian", "status", "updated_at", "id"],
                name="device_custody_waiting_idx",
            ),
            # A workshop's queue: each step's figures and its oldest devices first.
            models.Index(
                fields=["custodian", "status", "status_changed_at", "id"],
                name="device_custody_queue_idx",
            ),
            # The devices waiting for a WEEE disposal, oldest first (the new disposal form's
            # list), for the coordination and for a workshop, then each by category: partial,
            # so that a page and its count read the waiting devices only, never the ones that
            # already left, and a move writes an entry in them only for a waiting device.
            # Without the category's, a count by category ANDs the category's index, every
            # device of the category (11 ms for the laptops at a million devices).
            models.Index(
                fields=["updated_at", "id"],
                condition=Q(awaiting_disposal=True),
                name="device_awaiting_disposal_idx",
            ),
            models.Index(
                fields=["custodian", "updated_at", "id"],
                condition=Q(awaiting_disposal=True),
                name="device_custody_disposal_idx",
            ),
            models.Index(
                fields=["category", "updated_at", "id"],
                condition=Q(awaiting_disposal=True),
                name="device_category_disposal_idx",
            ),
            models.Index(
                fields=["custodian", "category", "updated_at", "id"],
                condition=Q(awaiting_disposal=True),
                name="device_cust_cat_disposal_idx",
            ),
            # The fund's figures: devices recycled or dismantled in a period. Partial: only
            # devices that left that way have an entry, and they never move again.
            models.Index(
                fields=["status_changed_at", "category"],
                condition=Q(status__in=[Status.RECYCLED, Status.DISMANTLED]),
                name="device_exit_idx",
            ),
            # The search's case-insensitive exact matches (`__iexact` is UPPER(col) = UPPER(%s)
            # on PostgreSQL) and its IMEI prefixes (LIKE 'digits%' needs the pattern opclass).
            models.Index(Upper("serial_number"), name="device_serial_upper_idx"),
            models.Index(Upper("asset_tag"), name="device_asset_tag_upper_idx"),
            models.Index(Upper("manufacturer"), name="device_manufacturer_upper_idx"),
            models.Index(
                fields=["imei1"], name="device_imei1_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["imei2"], name="device_imei2_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_display} {self.manufacturer} {self.model_name}".strip()

    @cached_property
    def label_display(self) -> str:
        """The label code as printed on the label: ABC-DEF-GHJ."""
        return group_label_code(self.label_code_id or "")
