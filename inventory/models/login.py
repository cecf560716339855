"""Failed sign-ins counted in the database, where concurrent attempts can be counted atomically."""

from django.db import models


class LoginCounter(models.Model):
    """The failures of one account, one client address or one known device (inventory/login.py).

    `key` is a keyed hash, never the username or the address itself (an address is personal
    data); rows untouched for a day are deleted as sign-ins go.
    """

    class Scope(models.TextChoices):
        ACCOUNT = "account"
        ADDRESS = "address"
        DEVICE = "device"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=64)
    failures = models.PositiveIntegerField(default=0)
    # When a failure was last counted (or the row made): what forgetting and clean-up go by.
    counted_at = models.DateTimeField(db_index=True)
    # No password is checked for this account, address or device before this moment.
    blocked_until = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="login_counter_scope_key_unique")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]}: {self.failures}"
