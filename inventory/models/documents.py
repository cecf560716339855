"""Documents issued to donors: erasure certificates."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.models.intake import Donation


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
