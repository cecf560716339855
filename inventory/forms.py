"""Web forms: they turn posted text into arguments for one service call, and hold no rules.

The login form also throttles guessing: the counters live in the Django cache, so with several
server processes the cache must be shared (database, file or Redis cache, not local memory).
"""

import hashlib

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from inventory.models import Category, Organisation, StorageType
from inventory.selectors import organisations_of_kind
from inventory.services import DEVICE_SPEC_FIELDS
from inventory.states import EXITS, MOVES, OrgKind, Status

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


class ThrottledAuthenticationForm(AuthenticationForm):
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


class DeviceFilterForm(forms.Form):
    """The device list's query string; invalid values are ignored, not errors."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Label code, serial number, IMEI, model or manufacturer."),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *Status.choices]
    )
    category = forms.ModelChoiceField(
        label=_("Category"),
        required=False,
        queryset=Category.objects.all(),
        empty_label=_("All categories"),
    )
    custody = forms.ModelChoiceField(
        label=_("Custody"),
        required=False,
        queryset=Organisation.objects.exclude(kind=OrgKind.FUND).order_by("name"),
        empty_label=_("All organisations"),
    )
    # Donor and day of registration together find an intake batch (e.g. to print its labels).
    donor = forms.ModelChoiceField(
        label=_("Donor"),
        required=False,
        queryset=Organisation.objects.filter(kind=OrgKind.DONOR).order_by("name"),
        empty_label=_("All donors"),
    )
    registered_on = forms.DateField(
        label=_("Registered on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Set by the donation page's links (its devices, their labels); kept hidden in the form.
    donation = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, show_custody: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not show_custody:
            # Workshops and structures only see their own custody: the filter would be noise.
            del self.fields["custody"]

    def filters(self) -> dict:
        self.is_valid()
        data = self.cleaned_data
        custody = data.get("custody")
        category = data.get("category")
        return {
            "q": data.get("q") or "",
            "status": data.get("status") or "",
            "category": category.pk if category else "",
            "custodian": custody.pk if custody else None,
            "donor": data["donor"].pk if data.get("donor") else None,
            "registered_on": data.get("registered_on"),
            "donation": data.get("donation"),
        }


class DeviceRegistrationForm(forms.Form):
    """Intake of one device; every check happens in services.device_register."""

    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.all(), empty_label=_("Choose…")
    )
    manufacturer = forms.CharField(label=_("Manufacturer"), max_length=80)
    model_name = forms.CharField(label=_("Model"), max_length=120, required=False)
    serial_number = forms.CharField(label=_("Serial number"), max_length=80, required=False)
    imei1 = forms.CharField(
        label=_("IMEI 1"),
        max_length=20,
        required=False,
        help_text=_("Phones and cellular tablets: 15 digits (dial *#06# to read it)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    imei2 = forms.CharField(
        label=_("IMEI 2"),
        max_length=20,
        required=False,
        help_text=_("Dual-SIM phones only."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    asset_tag = forms.CharField(label=_("Donor's asset tag"), max_length=80, required=False)
    label_code = forms.CharField(
        label=_("Pre-printed label"),
        max_length=20,
        required=False,
        help_text=_("Leave empty to issue a new label code."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    cpu = forms.CharField(label=_("Processor"), max_length=120, required=False)
    ram_gb = forms.IntegerField(label=_("RAM (GB)"), min_value=0, max_value=4096, required=False)
    storage_gb = forms.IntegerField(
        label=_("Storage (GB)"), min_value=0, max_value=10_000_000, required=False
    )
    storage_type = forms.ChoiceField(
        label=_("Storage type"), required=False, choices=[("", "—"), *StorageType.choices]
    )
    screen_inches = forms.DecimalField(
        label=_("Screen (inches)"),
        max_digits=4,
        decimal_places=1,
        min_value=0,
        required=False,
        localize=True,
    )
    operating_system = forms.CharField(label=_("Operating system"), max_length=120, required=False)
    donor = forms.ModelChoiceField(
        label=_("Donor"),
        required=False,
        queryset=organisations_of_kind(OrgKind.DONOR),
        empty_label=_("Unknown or none"),
    )
    custodian = forms.ModelChoiceField(
        label=_("Custody"),
        required=False,
        queryset=Organisation.objects.filter(
            kind__in=[OrgKind.COORDINATOR, OrgKind.WORKSHOP], is_active=True
        ).order_by("name"),
        empty_label=_("My organisation"),
        help_text=_("The organisation that has the device now."),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, choose_custody: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not choose_custody:
            # Workshops register into their own custody: the service decides, not a field.
            del self.fields["custodian"]

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "manufacturer": data["manufacturer"],
            "serial_number": data["serial_number"],
            "imei1": data["imei1"],
            "imei2": data["imei2"],
            "donor": data["donor"],
            "custodian": data.get("custodian"),
            "label_code": data["label_code"],
            **{name: data[name] for name in DEVICE_SPEC_FIELDS},
        }

    def add_domain_error(self, error) -> None:
        """Place a DomainError's per-field messages on the fields this form shows."""
        fields = error.params.get("fields") or {}
        for name, messages in fields.items():
            if name == "__all__":
                continue
            for message in messages:
                # A field this form does not show (e.g. custody for a workshop) still
                # deserves its sentence, above the form.
                self.add_error(name if name in self.fields else None, message)
        if not fields or "__all__" in fields:
            # "__all__" may carry a raw database message: people get the service's sentence.
            self.add_error(None, error.message)


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(action, move.label) for action, move in MOVES.items()])
    target = forms.ModelChoiceField(
        label=_("Organisation"), required=False, queryset=Organisation.objects.all()
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)
    confirm = forms.BooleanField(required=False)

    def clean(self):
        data = super().clean()
        move = MOVES.get(data.get("action", ""))
        # Exits are final: a stray tap on a phone must not send a device to recycling.
        if move is not None and move.target in EXITS and not data.get("confirm"):
            raise forms.ValidationError(
                _("Tick the confirmation box: an exit is final."), code="confirm"
            )
        return data
