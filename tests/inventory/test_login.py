"""Signing in and out, and the throttle that slows password guessing without locking anyone out.

Attempts sent all at once are in test_login_races.py.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from inventory import login
from inventory.login import (
    ACCOUNT_FREE_FAILURES,
    ADDRESS_FREE_FAILURES,
    DEVICE_COOKIE,
    DEVICE_FREE_FAILURES,
    FIRST_WAIT,
    LONGEST_WAIT,
    ThrottledAuthenticationForm,
    client_ip,
    wait_after,
    wait_text,
)
from inventory.models import LoginCounter
from tests.builders import PASSWORD, make_user

STRANGER = "198.51.100.66"
HOME = "203.0.113.7"


def sign_in(client, username, password, ip=HOME, url="login"):
    return client.post(reverse(url), {"username": username, "password": password}, REMOTE_ADDR=ip)


def sign_in_to_admin(client, username, password, ip=HOME):
    return sign_in(client, username, password, ip=ip, url="admin:login")


def error_codes(response) -> set[str]:
    return {error.code for error in response.context["form"].non_field_errors().as_data()}


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def guess(username, times, *, ip=STRANGER, url="login"):
    """A stranger's wrong passwords, each from a fresh browser (no cookie of the account)."""
    for _ in range(times):
        sign_in(Client(), username, "wrong", ip=ip, url=url)


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved forward by hand: clock.advance(minutes=2)."""

    class Clock:
        now = timezone.now()

        def advance(self, **delta):
            self.now += timedelta(**delta)

    moved = Clock()
    monkeypatch.setattr(login, "_now", lambda: moved.now)
    return moved


@pytest.fixture
def known_device(coordinator):
    """The coordinator's own browser: it signed in once, then out, and keeps its device cookie."""
    client = Client()
    assert sign_in(client, "coord", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    assert not is_signed_in(client)
    return client


def test_login_page_renders_for_anonymous_visitors(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'for="id_username"' in response.content


@pytest.mark.parametrize("name", ["home", "inventory:device_list", "inventory:device_register"])
def test_pages_send_anonymous_visitors_to_the_login_page(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_correct_password_signs_in_and_lands_on_home(client, coordinator):
    response = sign_in(client, "coord", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert is_signed_in(client)


def test_signing_in_leaves_a_known_device_cookie_scripts_cannot_read(client, coordinator):
    response = sign_in(client, "coord", PASSWORD)
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 90 * 24 * 3600
    # Neither the username nor the address is written in it.
    assert "coord" not in cookie.value
    assert HOME not in cookie.value


def test_wrong_password_is_refused_with_the_usual_message(client, coordinator):
    response = sign_in(client, "coord", "wrong")
    assert response.status_code == 200
    assert error_codes(response) == {"invalid_login"}
    assert not is_signed_in(client)
    assert DEVICE_COOKIE not in response.cookies


def test_five_failures_make_the_account_wait_even_for_the_right_password(client, coordinator):
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert error_codes(sign_in(Client(), "coord", "wrong")) == {"invalid_login"}
    response = sign_in(client, "coord", PASSWORD)
    assert error_codes(response) == {"throttled"}
    assert not is_signed_in(client)
    # The wait is per account whatever its case, and from another address too.
    response = sign_in(client, "COORD", PASSWORD, ip="198.51.100.1")
    assert error_codes(response) == {"throttled"}


def test_a_password_is_not_even_checked_while_the_account_waits(client, coordinator, monkeypatch):
    guess("coord", ACCOUNT_FREE_FAILURES)
    checked = []
    monkeypatch.setattr(
        "django.contrib.auth.backends.ModelBackend.authenticate",
        lambda *args, **kwargs: checked.append(1),
    )
    assert error_codes(sign_in(client, "coord", "another guess")) == {"throttled"}
    assert checked == []


def test_four_failures_do_not_make_anyone_wait(client, coordinator):
    guess("coord", ACCOUNT_FREE_FAILURES - 1)
    sign_in(client, "coord", PASSWORD)
    assert is_signed_in(client)


def test_a_waiting_account_does_not_hold_up_other_people(client, coordinator, workshop_staff):
    guess("coord", ACCOUNT_FREE_FAILURES)
    sign_in(client, "bench", PASSWORD)
    assert is_signed_in(client)


def test_the_wait_doubles_with_each_failure_so_a_guesser_stays_slowed(coordinator, clock):
    guess("coord", ACCOUNT_FREE_FAILURES)
    wait = FIRST_WAIT
    for _ in range(8):
        clock.advance(seconds=wait.total_seconds() - 1)
        assert error_codes(sign_in(Client(), "coord", "wrong", ip=STRANGER)) == {"throttled"}
        clock.advance(seconds=1)
        assert error_codes(sign_in(Client(), "coord", "wrong", ip=STRANGER)) == {"invalid_login"}
        wait = min(wait * 2, LONGEST_WAIT)
    assert wait == LONGEST_WAIT


def test_after_the_wait_the_right_password_signs_in_and_clears_the_account(
    client, coordinator, clock
):
    guess("coord", ACCOUNT_FREE_FAILURES)
    clock.advance(seconds=FIRST_WAIT.total_seconds())
    assert sign_in(client, "coord", PASSWORD).status_code == 302
    # Cleared: the next failures start from the free allowance again.
    guess("coord", ACCOUNT_FREE_FAILURES - 1)
    assert sign_in(Client(), "coord", PASSWORD).status_code == 302


def test_failures_are_forgotten_a_day_after_the_last_wait(client, coordinator, clock):
    guess("coord", ACCOUNT_FREE_FAILURES)
    clock.advance(days=1, minutes=2)
    guess("coord", ACCOUNT_FREE_FAILURES - 1)
    sign_in(client, "coord", PASSWORD)
    assert is_signed_in(client)


def test_a_strangers_guesses_never_keep_the_owner_out_of_a_known_device(coordinator, known_device):
    guess("coord", 30)
    assert error_codes(sign_in(Client(), "coord", PASSWORD)) == {"throttled"}
    response = sign_in(known_device, "coord", PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(known_device)


def test_signing_in_on_a_known_device_does_not_let_the_stranger_off(coordinator, known_device):
    guess("coord", ACCOUNT_FREE_FAILURES)
    sign_in(known_device, "coord", PASSWORD)
    assert is_signed_in(known_device)
    assert error_codes(sign_in(Client(), "coord", "wrong", ip=STRANGER)) == {"throttled"}


def test_a_known_device_has_its_own_allowance(coordinator, known_device):
    for _ in range(DEVICE_FREE_FAILURES):
        assert error_codes(sign_in(known_device, "coord", "wrong")) == {"invalid_login"}
    response = sign_in(known_device, "coord", PASSWORD)
    assert error_codes(response) == {"throttled"}
    # Its failures are its own: the account is not held up elsewhere.
    assert sign_in(Client(), "coord", PASSWORD, ip="198.51.100.9").status_code == 302


def test_a_device_known_for_one_account_is_a_stranger_to_another(
    coordinator, workshop_staff, known_device
):
    guess("bench", ACCOUNT_FREE_FAILURES)
    assert error_codes(sign_in(known_device, "bench", PASSWORD)) == {"throttled"}


def test_a_forged_or_tampered_device_cookie_counts_for_nothing(client, coordinator, known_device):
    guess("coord", ACCOUNT_FREE_FAILURES)
    value = known_device.cookies[DEVICE_COOKIE].value
    for forged in (value[:-2] + "xx", "made-up", value.replace(":", ";", 1)):
        stranger = Client()
        stranger.cookies[DEVICE_COOKIE] = forged
        assert error_codes(sign_in(stranger, "coord", PASSWORD)) == {"throttled"}


def test_one_browser_remembers_several_accounts(coordinator, workshop_staff, known_device):
    assert sign_in(known_device, "bench", PASSWORD).status_code == 302
    known_device.post(reverse("logout"))
    guess("coord", ACCOUNT_FREE_FAILURES)
    guess("bench", ACCOUNT_FREE_FAILURES)
    assert sign_in(known_device, "coord", PASSWORD).status_code == 302
    known_device.post(reverse("logout"))
    assert sign_in(known_device, "bench", PASSWORD).status_code == 302


def test_twenty_failures_from_one_address_make_that_address_wait(client, db):
    # Many usernames, one address: a password-spraying pattern.
    for index in range(ADDRESS_FREE_FAILURES):
        sign_in(Client(), f"nobody{index}", "wrong")
    make_user(username="newcomer")
    assert error_codes(sign_in(client, "newcomer", PASSWORD)) == {"throttled"}
    sign_in(client, "newcomer", PASSWORD, ip="198.51.100.2")
    assert is_signed_in(client)


def test_signing_in_at_a_shared_address_does_not_clear_its_failures(db):
    for index in range(ADDRESS_FREE_FAILURES - 1):
        sign_in(Client(), f"nobody{index}", "wrong")
    make_user(username="colleague")
    make_user(username="newcomer")
    assert sign_in(Client(), "colleague", PASSWORD).status_code == 302
    sign_in(Client(), "nobody", "wrong")
    assert error_codes(sign_in(Client(), "newcomer", PASSWORD)) == {"throttled"}


def test_the_wait_is_explained_in_french_on_the_page(client, coordinator):
    guess("coord", ACCOUNT_FREE_FAILURES)
    response = sign_in(client, "coord", PASSWORD)
    with translation.override("fr"):
        message = ThrottledAuthenticationForm.error_messages["throttled"] % {
            "wait": wait_text(FIRST_WAIT)
        }
    assert "1\u00a0minute" in message
    assert "appareil" in message
    assert 'role="alert"' in response.text
    assert escape(message) in response.text


def test_the_counters_keep_neither_usernames_nor_addresses(coordinator):
    guess("coord", 1)
    keys = " ".join(LoginCounter.objects.values_list("key", flat=True))
    assert LoginCounter.objects.count() == 2
    assert "coord" not in keys
    assert STRANGER not in keys


def test_counters_untouched_for_a_day_are_swept_away(coordinator, clock):
    guess("coord", 3)
    guess("ghost", 1, ip="192.0.2.50")
    clock.advance(days=1, hours=2)
    guess("someone", 1, ip="192.0.2.51")
    assert LoginCounter.objects.count() == 2  # only the last attempt's account and address


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, None), (4, None), (5, FIRST_WAIT), (6, 2 * FIRST_WAIT), (9, 16 * FIRST_WAIT)]
    + [(11, LONGEST_WAIT), (10_000, LONGEST_WAIT)],
)
def test_the_wait_after_a_number_of_failures(failures, expected):
    assert wait_after(failures, ACCOUNT_FREE_FAILURES) == expected


def test_waits_are_told_in_whole_minutes_rounded_up():
    with translation.override("fr"):
        assert wait_text(timedelta(seconds=5)) == "1\u00a0minute"
        assert wait_text(timedelta(seconds=61)) == "2\u00a0minutes"
        assert wait_text(LONGEST_WAIT) == "60\u00a0minutes"


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="boss", password=PASSWORD)


def test_the_admin_login_signs_a_superuser_in(client, superuser):
    response = sign_in_to_admin(client, "boss", PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)
    assert DEVICE_COOKIE in response.cookies


def test_the_admin_login_makes_the_account_wait_after_as_many_failures(client, superuser):
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert error_codes(sign_in_to_admin(Client(), "boss", "wrong", ip=STRANGER)) == {
            "invalid_login"
        }
    response = sign_in_to_admin(client, "boss", PASSWORD)
    assert response.status_code == 200
    assert error_codes(response) == {"throttled"}
    assert not is_signed_in(client)
    response = sign_in_to_admin(client, "BOSS", PASSWORD, ip="198.51.100.1")
    assert error_codes(response) == {"throttled"}


def test_the_admin_login_does_not_hold_up_before_the_allowance(client, superuser):
    guess("boss", ACCOUNT_FREE_FAILURES - 1, url="admin:login")
    sign_in_to_admin(client, "boss", PASSWORD)
    assert is_signed_in(client)


def test_a_non_staff_account_at_the_admin_door_counts_as_a_failure(client, coordinator):
    for _ in range(ACCOUNT_FREE_FAILURES):
        assert error_codes(sign_in_to_admin(Client(), "coord", PASSWORD)) == {"invalid_login"}
    assert error_codes(sign_in(client, "coord", PASSWORD, ip="198.51.100.1")) == {"throttled"}


def test_failures_on_the_site_login_hold_up_the_admin_login_too(client, superuser):
    # One throttle behind both doors: guessing cannot be spread over the two.
    guess("boss", ACCOUNT_FREE_FAILURES - 1)
    guess("boss", 1, url="admin:login")
    assert error_codes(sign_in_to_admin(client, "boss", PASSWORD)) == {"throttled"}
    assert error_codes(sign_in(client, "boss", PASSWORD)) == {"throttled"}
    assert not is_signed_in(client)


def test_the_admin_lets_its_owner_in_from_a_known_device(client, superuser):
    assert sign_in(client, "boss", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    guess("boss", 30, url="admin:login")
    assert sign_in_to_admin(client, "boss", PASSWORD).status_code == 302
    assert is_signed_in(client)


def test_logout_is_a_post_and_ends_the_session(login, coordinator):
    client = login(coordinator)
    assert client.get(reverse("logout")).status_code == 405
    assert is_signed_in(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_behind_declared_proxies_the_client_is_read_from_x_forwarded_for(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    # The left entry was written by the client itself: only our proxy's entry is believed.
    assert client_ip(request) == "203.0.113.9"
