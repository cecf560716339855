"""The network's organisations, their people and the territory they serve."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.codes import is_valid_rna, is_valid_siret
from inventory.states import OrgKind


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
    # Identifiers in the directories the network already uses, to link a structure's record.
    soliguide_id = models.CharField(_("Soliguide identifier"), max_length=64, blank=True)
    dora_id = models.CharField(_("DORA identifier"), max_length=64, blank=True)
    # A donor that is a public body (loi 3DS): its gifts may be resold only at the capped
    # "prix solidaires", which the hand-over receipt states.
    is_public_body = models.BooleanField(_("public body"), default=False)
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
