"""Signing in and out, and the throttle that stops password guessing."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from inventory.login import (
    LOGIN_MAX_FAILURES_PER_IP,
    LOGIN_MAX_FAILURES_PER_USERNAME,
    ThrottledAuthenticationForm,
)
from tests.builders import PASSWORD, make_user


def sign_in(client, username, password, ip="203.0.113.7", url="login"):
    return client.post(reverse(url), {"username": username, "password": password}, REMOTE_ADDR=ip)


def sign_in_to_admin(client, username, password, ip="203.0.113.7"):
    return sign_in(client, username, password, ip=ip, url="admin:login")


def error_codes(response) -> set[str]:
    return {error.code for error in response.context["form"].non_field_errors().as_data()}


def is_signed_in(client) -> bool:
    return "_auth_user_id" in client.session


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


def test_wrong_password_is_refused_with_the_usual_message(client, coordinator):
    response = sign_in(client, "coord", "wrong")
    assert response.status_code == 200
    assert error_codes(response) == {"invalid_login"}
    assert not is_signed_in(client)


def test_five_failures_lock_the_username_even_against_the_right_password(client, coordinator):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME):
        assert error_codes(sign_in(client, "coord", "wrong")) == {"invalid_login"}
    response = sign_in(client, "coord", PASSWORD)
    assert error_codes(response) == {"throttled"}
    assert not is_signed_in(client)
    # The lock is per username whatever its case, and from another address too.
    response = sign_in(client, "COORD", PASSWORD, ip="198.51.100.1")
    assert error_codes(response) == {"throttled"}


def test_four_failures_do_not_lock(client, coordinator):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME - 1):
        sign_in(client, "coord", "wrong")
    sign_in(client, "coord", PASSWORD)
    assert is_signed_in(client)


def test_a_locked_username_does_not_lock_other_people(client, coordinator, workshop_staff):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME):
        sign_in(client, "coord", "wrong")
    sign_in(client, "bench", PASSWORD)
    assert is_signed_in(client)


def test_the_lock_lifts_after_fifteen_minutes(client, coordinator, monkeypatch):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME):
        sign_in(client, "coord", "wrong")
    assert error_codes(sign_in(client, "coord", PASSWORD)) == {"throttled"}
    # The database cache reads the clock through timezone.now: move it past the lock's expiry.
    later = timezone.now() + timedelta(minutes=15, seconds=1)
    monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: later)
    sign_in(client, "coord", PASSWORD)
    assert is_signed_in(client)


def test_twenty_failures_from_one_address_lock_that_address(client, db):
    # Many usernames, one address: a password-spraying pattern.
    for index in range(LOGIN_MAX_FAILURES_PER_IP):
        sign_in(client, f"nobody{index}", "wrong")
    make_user(username="newcomer")
    assert error_codes(sign_in(client, "newcomer", PASSWORD)) == {"throttled"}
    sign_in(client, "newcomer", PASSWORD, ip="198.51.100.2")
    assert is_signed_in(client)


def test_the_throttle_message_is_shown_on_the_page(client, coordinator):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME):
        sign_in(client, "coord", "wrong")
    response = sign_in(client, "coord", PASSWORD)
    message = ThrottledAuthenticationForm.error_messages["throttled"] % {"minutes": 15}
    assert 'role="alert"' in response.text
    assert escape(message) in response.text


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser(username="boss", password=PASSWORD)


def test_the_admin_login_signs_a_superuser_in(client, superuser):
    response = sign_in_to_admin(client, "boss", PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(client)


def test_the_admin_login_locks_after_as_many_failures_as_the_site_login(client, superuser):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME):
        assert error_codes(sign_in_to_admin(client, "boss", "wrong")) == {"invalid_login"}
    response = sign_in_to_admin(client, "boss", PASSWORD)
    assert response.status_code == 200
    assert error_codes(response) == {"throttled"}
    assert not is_signed_in(client)
    response = sign_in_to_admin(client, "BOSS", PASSWORD, ip="198.51.100.1")
    assert error_codes(response) == {"throttled"}


def test_the_admin_login_does_not_lock_before_the_limit(client, superuser):
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME - 1):
        sign_in_to_admin(client, "boss", "wrong")
    sign_in_to_admin(client, "boss", PASSWORD)
    assert is_signed_in(client)


def test_failures_on_the_site_login_lock_the_admin_login_too(client, superuser):
    # One throttle behind both doors: guessing cannot be spread over the two.
    for _ in range(LOGIN_MAX_FAILURES_PER_USERNAME - 1):
        sign_in(client, "boss", "wrong")
    sign_in_to_admin(client, "boss", "wrong")
    assert error_codes(sign_in_to_admin(client, "boss", PASSWORD)) == {"throttled"}
    assert error_codes(sign_in(client, "boss", PASSWORD)) == {"throttled"}
    assert not is_signed_in(client)


def test_logout_is_a_post_and_ends_the_session(login, coordinator):
    client = login(coordinator)
    assert client.get(reverse("logout")).status_code == 405
    assert is_signed_in(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not is_signed_in(client)


def test_behind_declared_proxies_the_client_is_read_from_x_forwarded_for(rf, settings):
    from inventory.login import client_ip

    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    # The left entry was written by the client itself: only our proxy's entry is believed.
    assert client_ip(request) == "203.0.113.9"
