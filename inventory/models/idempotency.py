"""Replies kept for API requests retried with an Idempotency-Key."""

from django.conf import settings
from django.db import models

from inventory.compiled import CompiledSaveMixin


class IdempotencyRecord(CompiledSaveMixin, models.Model):
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
