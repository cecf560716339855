"""Signing in: the throttle that stops password guessing, for the site's login and the admin's.

The counters live in the Django cache, so with several server processes the cache must be
shared (database, file or Redis cache, not local memory).
"""

import hashlib

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOGIN_WINDOW_SECONDS = 15 * 60
LOGIN_LOCK_SECONDS = 15 * 60
LOGIN_MAX_FAILURES_PER_USERNAME = 5
LOGIN_MAX_FAILURES_PER_IP = 20


def _cache_key(prefix: str, value: str) -> str:
    # Hashed: usernames may hold characters that some cache backends refuse in keys.
    return f"login:{prefix}:{hashlib.sha256(value.encode()).hexdigest()}"


class LoginThrottle:
    """Failed sign-ins counted per username and per client address over a fixed window.

    Reaching a limit locks that username (or address) for LOGIN_LOCK_SECONDS; while locked,
    the password is not even checked, so guessing gains nothing.
    """

    def __init__(self, username: str, ip: str):
        self.limits = [(_cache_key("ip", ip or "unknown"), LOGIN_MAX_FAILURES_PER_IP)]
        if username:
            self.limits.append(
                (_cache_key("user", username.strip().lower()), LOGIN_MAX_FAILURES_PER_USERNAME)
            )

    def locked(self) -> bool:
        return any(cache.get(f"{key}:locked") for key, _limit in self.limits)

    def record_failure(self) -> None:
        for key, limit in self.limits:
            # add() starts the window only if none is running; incr() is atomic in the
            # cache backends, so two simultaneous failures both count.
            cache.add(key, 0, LOGIN_WINDOW_SECONDS)
            try:
                failures = cache.incr(key)
            except ValueError:  # the window expired between add() and incr()
                cache.set(key, 1, LOGIN_WINDOW_SECONDS)
                failures = 1
            if failures >= limit:
                cache.set(f"{key}:locked", True, LOGIN_LOCK_SECONDS)
                cache.delete(key)

    def record_success(self) -> None:
        # Only the username's counter: one person signing in must not clear a shared address.
        for key, limit in self.limits:
            if limit == LOGIN_MAX_FAILURES_PER_USERNAME:
                cache.delete(key)


def client_ip(request) -> str:
    # X-Forwarded-For is written by the client too: only the entries appended by our own
    # proxies (settings.TRUSTED_PROXY_COUNT of them, from the right) can be believed. With no
    # proxy declared, REMOTE_ADDR is the client.
    if request is None:
        return ""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


class ThrottledLoginMixin:
    """Checks the throttle before the password, and counts the failures.

    Goes before an AuthenticationForm in the bases; the admin's form refusing a non-staff
    account counts as a failure too, like a wrong password.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed sign-in attempts. Signing in is blocked for %(minutes)s minutes: "
            "try again later, or ask your coordinator to reset your password."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username") or self.data.get("username", "")
        throttle = LoginThrottle(username, client_ip(self.request))
        if throttle.locked():
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": LOGIN_LOCK_SECONDS // 60},
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure()
            raise
        if self.user_cache is not None:
            throttle.record_success()
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ThrottledLoginMixin.error_messages["throttled"],
    }
