"""A form recorded once per display: a double click or a reload of the same form finds what
the first submission recorded instead of a refusal (the web screens' Idempotency-Key). Here in
inventory, so that every app's screens use it (inventory imports nothing from logistics)."""

import time
from collections.abc import Callable

from django.core.cache import cache

REPLAY_WAIT_SECONDS = 5
TOKEN_SECONDS = 3600


def _replayed(key: str):
    """The pk a first submission recorded, waiting briefly while it is still running."""
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while time.monotonic() < deadline:
        value = cache.get(key)
        if value:
            return value
        if value is None:  # the first submission failed and released the form
            return None
        time.sleep(0.2)
    return None


def record_once(*, user, name: str, token: str, create: Callable):
    """(record, None) after running `create`, or (None, pk) of what an earlier submission of
    the same form token recorded. A failed `create` releases the token and raises."""
    key = f"{name}-form:{user.pk}:{token}"
    if not cache.add(key, 0, TOKEN_SECONDS):
        earlier = _replayed(key)
        if earlier:
            return None, earlier
    try:
        record = create()
    except Exception:
        cache.delete(key)
        raise
    cache.set(key, record.pk, TOKEN_SECONDS)
    return record, None
