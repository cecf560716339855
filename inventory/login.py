"""Signing in: the throttle that slows password guessing, behind the site's login and the admin's.

Every attempt is counted as a failure BEFORE its password is checked, in one transaction with
its counters' rows locked, so guesses sent all at once cannot slip past the count; a right
password gives the attempt back. An account, and a client address, get a few free failures;
after that each failure doubles the wait before the next password is checked, up to an hour.

A browser that signed in to an account before holds a signed "known device" cookie (OWASP's
device cookies): its attempts at that account are counted on that device alone, so a stranger's
guesses, which keep the account waiting, never keep its owner out.
"""

import math
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from inventory.compiled import CompiledLookup
from inventory.models import LoginCounter

Scope = LoginCounter.Scope

ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
DEVICE_FREE_FAILURES = 5
FREE_FAILURES = {
    Scope.ACCOUNT: ACCOUNT_FREE_FAILURES,
    Scope.ADDRESS: ADDRESS_FREE_FAILURES,
    Scope.DEVICE: DEVICE_FREE_FAILURES,
}
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
# Failures are forgotten this long after the last one (and its wait). An address forgets
# sooner: the people of one office share it, and what it must catch is a burst of guesses.
FORGET_AFTER = {
    Scope.ACCOUNT: timedelta(days=1),
    Scope.ADDRESS: timedelta(minutes=15),
    Scope.DEVICE: timedelta(days=1),
}

DEVICE_COOKIE = "reemploi_device"
DEVICE_COOKIE_AGE = timedelta(days=180)
DEVICE_COOKIE_ACCOUNTS = 5  # a bench computer shared by a workshop remembers this many accounts
_DEVICE_SALT = "inventory.login.known-device"
_COOKIE_TO_SET = "_reemploi_known_device_cookie"


class MembershipBackend(ModelBackend):
    """Django's password backend, which reads a signed-in user with their membership and its
    organisation in one query: every page needs them for its scope (selectors.user_scope),
    which took a second query of its own. (Changing the backend's path in the settings signs
    out the sessions opened before: they sign in again once.)"""

    def get_user(self, user_id):
        user = _SESSION_USER.first(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


# Read on every page: its SQL is compiled once per process (inventory.compiled).
_SESSION_USER = CompiledLookup(
    lambda user_id: (
        get_user_model()
        ._default_manager.select_related("membership__organisation")
        .filter(pk=user_id)
        .order_by()[:1]
    )
)


def _now():
    return timezone.now()


def _key(scope: str, value: str) -> str:
    # Keyed: the table never holds a username or an address that could be read back.
    return salted_hmac(f"inventory.login.{scope}", value, algorithm="sha256").hexdigest()


def _account_key(username: str) -> str:
    return _key(Scope.ACCOUNT, username.strip().casefold())


def wait_after(failures: int, free: int) -> timedelta | None:
    """The wait before the next password check once `failures` are counted (None: no wait)."""
    if failures < free:
        return None
    return min(FIRST_WAIT * 2 ** min(failures - free, 12), LONGEST_WAIT)


class _CounterVanished(Exception):
    """A counter row was swept away between its insert and its lock: the attempt starts over."""


class LoginThrottle:
    """The counters one sign-in attempt is charged to.

    From a known device: that device's counter for the account. Otherwise: the account's and
    the client address's counters.
    """

    def __init__(self, *, username: str, address: str, device_nonce: str | None):
        self.known_device = device_nonce is not None
        if self.known_device:
            self.counters = [(Scope.DEVICE, _key(Scope.DEVICE, device_nonce))]
        else:
            self.counters = [
                (Scope.ACCOUNT, _account_key(username)),
                (Scope.ADDRESS, _key(Scope.ADDRESS, address or "unknown")),
            ]
        # One order for every attempt, so that two attempts sharing a row never deadlock.
        self.counters.sort()

    def _rows(self):
        match = Q()
        for scope, key in self.counters:
            match |= Q(scope=scope, key=key)
        return LoginCounter.objects.filter(match)

    def reserve(self) -> timedelta | None:
        """Counts this attempt as a failure before its password is checked, or says how long
        to wait first (and then counts nothing)."""
        for _round in range(3):
            try:
                return self._reserve(_now())
            except _CounterVanished:
                continue
        raise RuntimeError("The login counters were swept away three times in a row.")

    @transaction.atomic
    def _reserve(self, now) -> timedelta | None:
        LoginCounter.objects.bulk_create(
            [LoginCounter(scope=scope, key=key, counted_at=now) for scope, key in self.counters],
            ignore_conflicts=True,
        )
        # The lock that makes counting atomic: simultaneous attempts on one account or address
        # queue here (on SQLite, the IMMEDIATE transaction already holds the write lock).
        rows = list(self._rows().select_for_update().order_by("scope", "key"))
        if len(rows) != len(self.counters):
            raise _CounterVanished
        waits = [row.blocked_until - now for row in rows if (row.blocked_until or now) > now]
        if waits:
            return max(waits)
        for row in rows:
            quiet_since = max(row.counted_at, row.blocked_until or row.counted_at)
            if now - quiet_since > FORGET_AFTER[row.scope]:
                row.failures = 0
            row.failures += 1
            row.counted_at = now
            wait = wait_after(row.failures, FREE_FAILURES[row.scope])
            row.blocked_until = now + wait if wait else None
            row.save(update_fields=["failures", "counted_at", "blocked_until"])
        return None

    @transaction.atomic
    def give_back(self) -> None:
        """The password was right: the attempt reserved as a failure was not one."""
        for scope, key in self.counters:
            rows = LoginCounter.objects.filter(scope=scope, key=key)
            if scope == Scope.ADDRESS:
                # Only this attempt: one person signing in must not clear others' failures at
                # a shared address. Below the allowance again, the address waits no more.
                rows.filter(failures__gt=0).update(
                    failures=F("failures") - 1,
                    blocked_until=Case(
                        When(failures__lte=ADDRESS_FREE_FAILURES, then=None),
                        default=F("blocked_until"),
                    ),
                )
            else:
                rows.update(failures=0, blocked_until=None)


def forget_stale_counters() -> None:
    """Deletes the counters nothing was counted on for longer than any of them remembers."""
    cutoff = _now() - max(FORGET_AFTER.values()) - LONGEST_WAIT
    with transaction.atomic():
        # SKIP LOCKED (PostgreSQL): a row an attempt holds is left for a later sweep, and this
        # sweep never waits on a sign-in.
        stale = list(
            LoginCounter.objects.select_for_update(skip_locked=True)
            .filter(counted_at__lt=cutoff)
            .values_list("pk", flat=True)[:1000]
        )
        if stale:
            LoginCounter.objects.filter(pk__in=stale).delete()


def _known_devices(request) -> dict[str, str]:
    """The accounts this browser signed in to before: account key → device nonce."""
    raw = request.COOKIES.get(DEVICE_COOKIE) if request is not None else None
    if not raw:
        return {}
    try:
        entries = signing.loads(raw, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_AGE)
    except signing.BadSignature:
        return {}
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, str)}


def _remember_device(request, username: str) -> None:
    """Asks KnownDeviceMiddleware to (re)issue the cookie, with a fresh nonce for this account."""
    if request is None:
        return
    account = _account_key(username)
    others = {k: v for k, v in _known_devices(request).items() if k != account}
    entries = {account: secrets.token_urlsafe(18), **others}
    entries = dict(list(entries.items())[:DEVICE_COOKIE_ACCOUNTS])
    setattr(request, _COOKIE_TO_SET, signing.dumps(entries, salt=_DEVICE_SALT))


class KnownDeviceMiddleware:
    """Sets the known-device cookie a successful sign-in asked for, whichever door it used."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = getattr(request, _COOKIE_TO_SET, None)
        if value:
            response.set_cookie(
                DEVICE_COOKIE,
                value,
                max_age=int(DEVICE_COOKIE_AGE.total_seconds()),
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response


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


def wait_text(wait: timedelta) -> str:
    minutes = max(1, math.ceil(wait.total_seconds() / 60))
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class ThrottledLoginMixin:
    """Reserves the attempt in the throttle before the password is checked.

    Goes before an AuthenticationForm in the bases; the admin's form refusing a non-staff
    account counts as a failure too, like a wrong password.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _(
            "Too many failed sign-in attempts for this account. For safety, the next try is "
            "possible in %(wait)s. On a device you have already signed in with, you can sign "
            "in now; otherwise wait, or ask your coordinator to reset your password."
        ),
        "throttled_device": _(
            "Too many failed sign-in attempts on this device. For safety, the next try is "
            "possible in %(wait)s; or ask your coordinator to reset your password."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if not (username and password):
            return super().clean()  # no password is checked without both
        device_nonce = _known_devices(self.request).get(_account_key(username))
        throttle = LoginThrottle(
            username=username, address=client_ip(self.request), device_nonce=device_nonce
        )
        try:
            wait = throttle.reserve()
            if wait is not None:
                raise ValidationError(
                    self.error_messages[
                        "throttled_device" if throttle.known_device else "throttled"
                    ],
                    code="throttled",
                    params={"wait": wait_text(wait)},
                )
            # A ValidationError from here on leaves the attempt counted as a failure.
            cleaned = super().clean()
        finally:
            forget_stale_counters()
        throttle.give_back()
        _remember_device(self.request, username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": ThrottledLoginMixin.error_messages["throttled"],
        "throttled_device": ThrottledLoginMixin.error_messages["throttled_device"],
    }
