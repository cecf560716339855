"""The needs register: what a structure asks for, line by line, and what the coordination
decided. Allocations (the next noun) serve the accepted lines."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import Category, Grade, HistoryNote, Organisation
from logistics.needs.lifecycle import NeedStatus

# The spec's bounds: far above any device the channel gives, low enough to catch a typo.
MAX_QUANTITY = 500
MAX_RAM_GB = 256
MAX_STORAGE_GB = 16384


class Purpose(models.TextChoices):
    PUBLIC_ACCESS = "public_access", _("Public access in the structure")
    LENT_TO_PEOPLE = "lent_to_people", _("Lent to the people it accompanies")
    STAFF = "staff_use", _("Staff use")
    KIT = "itinerant_kit", _("Itinerant mediation kit")


class Public(models.TextChoices):
    SENIORS = "seniors", _("Seniors")
    JOB_SEEKERS = "job_seekers", _("Job seekers")
    YOUNG = "young_people", _("Young people")
    DISABILITIES = "disabilities", _("People with disabilities")
    ALLOPHONES = "allophones", _("Allophones")
    FAMILIES = "families", _("Families")
    EVERYONE = "everyone", _("Everyone")


class Mode(models.TextChoices):
    GIFT = "gift", _("Gift")
    LOAN = "loan", _("Loan")


class Urgency(models.TextChoices):
    LOW = "low", _("Can wait")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("Urgent")


class OsFamily(models.TextChoices):
    ANY = "", _("Any")
    WINDOWS = "windows", _("Windows")
    MACOS = "macos", _("macOS")
    CHROMEOS = "chromeos", _("ChromeOS")
    LINUX = "linux", _("Linux")
    ANDROID = "android", _("Android")
    IOS = "ios", _("iOS / iPadOS")


class Need(models.Model):
    structure = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="needs",
        verbose_name=_("structure"),
        db_index=False,  # served by need_structure_created_idx
    )
    status = models.CharField(
        _("status"), max_length=20, choices=NeedStatus.choices, default=NeedStatus.DRAFT
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    public = models.CharField(_("public served"), max_length=20, choices=Public.choices)
    mode = models.CharField(_("gift or loan"), max_length=10, choices=Mode.choices)
    loan_weeks = models.PositiveSmallIntegerField(_("loan length (weeks)"), null=True, blank=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    justification = models.TextField(_("justification"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("declared by"),
    )
    created_at = models.DateTimeField(_("declared at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # Why the coordination declined, or why the structure cancelled.
    reason = models.TextField(_("reason"), max_length=1000, blank=True)
    # Bumped by every save of the need or of its lines: the API's ETag, compared under the
    # row lock, so that an edit made on a stale read is refused instead of overwriting.
    version = models.PositiveIntegerField(_("version"), default=1)
    # The note typed with a decision (an acceptance's remark, a refusal's reason) is kept on the
    # history row, as with devices.
    history = HistoricalRecords(
        excluded_fields=["version"], no_db_index=["structure"], bases=[HistoryNote]
    )

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=NeedStatus.values), name="need_status_valid"
            ),
            models.CheckConstraint(condition=Q(mode__in=Mode.values), name="need_mode_valid"),
            models.CheckConstraint(
                condition=(Q(mode=Mode.LOAN) & Q(loan_weeks__gte=1) & Q(loan_weeks__lte=104))
                | (Q(mode=Mode.GIFT) & Q(loan_weeks__isnull=True)),
                name="need_loan_weeks_valid",
            ),
        ]
        # The register's and a structure's pages, newest first, read from an index (the flat
        # list pattern of the devices): all needs, by status, a structure's, a structure's by
        # status.
        indexes = [
            models.Index(fields=["created_at", "id"], name="need_created_idx"),
            models.Index(fields=["status", "created_at", "id"], name="need_status_created_idx"),
            models.Index(
                fields=["structure", "created_at", "id"], name="need_structure_created_idx"
            ),
            models.Index(
                fields=["structure", "status", "created_at", "id"],
                name="need_struct_status_idx",
            ),
            # The daily expiry: the submitted needs oldest first.
            models.Index(
                fields=["submitted_at"],
                condition=Q(status=NeedStatus.SUBMITTED),
                name="need_awaiting_answer_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def reference(self) -> str:
        return f"BES-{self.pk:05d}" if self.pk else ""


class NeedLine(models.Model):
    need = models.ForeignKey(
        Need, on_delete=models.CASCADE, related_name="lines", verbose_name=_("need")
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="need_lines", verbose_name=_("category")
    )
    quantity = models.PositiveSmallIntegerField(_("quantity asked"))
    # Set by the coordination when it accepts: it may give fewer units than asked.
    quantity_accepted = models.PositiveSmallIntegerField(
        _("quantity accepted"), null=True, blank=True
    )
    # Kept by the allocations, in their transactions.
    quantity_served = models.PositiveSmallIntegerField(_("quantity served"), default=0)
    min_ram_gb = models.PositiveSmallIntegerField(_("minimum RAM (GB)"), null=True, blank=True)
    min_storage_gb = models.PositiveIntegerField(_("minimum storage (GB)"), null=True, blank=True)
    min_screen_inches = models.DecimalField(
        _("minimum screen (inches)"), max_digits=4, decimal_places=1, null=True, blank=True
    )
    os_family = models.CharField(
        _("operating system"), max_length=10, choices=OsFamily.choices, blank=True
    )
    min_grade = models.CharField(
        _("lowest acceptable grade"),
        max_length=1,
        choices=[(g.value, g.label) for g in Grade if g != Grade.D],
        blank=True,
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("need line")
        verbose_name_plural = _("need lines")
        ordering = ["need", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gte=1) & Q(quantity__lte=MAX_QUANTITY),
                name="needline_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(quantity_accepted__isnull=True)
                | Q(quantity_accepted__lte=F("quantity")),
                name="needline_accepted_le_asked",
            ),
            models.CheckConstraint(
                condition=Q(quantity_served__lte=F("quantity")), name="needline_served_le_asked"
            ),
            models.CheckConstraint(
                condition=Q(os_family__in=OsFamily.values), name="needline_os_valid"
            ),
            models.CheckConstraint(
                condition=Q(min_grade__in=["", "A", "B", "C"]), name="needline_grade_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.category_id}"

    @property
    def units_to_serve(self) -> int:
        return max((self.quantity_accepted or 0) - self.quantity_served, 0)
