"""Password guesses sent all at once: each attempt is counted before its password is checked,
so a burst gets no more checks than the allowance, on the site's login and the admin's."""

import html
import threading

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.test import Client
from django.urls import reverse
from django.utils import translation

from inventory import login
from inventory.login import ThrottledAuthenticationForm
from tests.builders import PASSWORD
from tests.concurrency import run_at_once

# Serialized like every transactional test of the suite: a plain flush after it would bring
# back content types that the next serialized test then fails to restore.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

DOORS = ["login", "admin:login"]
THROTTLED = ["throttled", "throttled_device"]


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was checked (every door ends in ModelBackend.authenticate)."""
    checked = []
    lock = threading.Lock()
    check = ModelBackend.authenticate

    def counting(backend, request, username=None, password=None, **kwargs):
        with lock:
            checked.append(username)
        return check(backend, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return checked


@pytest.fixture
def boss(db):
    return get_user_model().objects.create_superuser(username="boss", password=PASSWORD)


def post_password(door, password, *, address, client=None):
    client = client or Client()
    return client.post(
        reverse(door), {"username": "boss", "password": password}, REMOTE_ADDR=address
    )


def outcome(response) -> str:
    # From the page itself: the test client's response.context mixes up threads' templates.
    assert response.status_code == 200
    with translation.override("fr"):
        messages = ThrottledAuthenticationForm.error_messages
        throttled = [str(messages[key]).split("%(wait)s")[0] for key in THROTTLED]
    page = html.unescape(response.text)
    return "throttled" if any(text in page for text in throttled) else "refused"


@pytest.mark.parametrize("door", DOORS)
def test_thirty_guesses_at_once_from_many_addresses_get_five_checks(door, boss, password_checks):
    results, errors = run_at_once(
        lambda i: outcome(post_password(door, f"guess{i}", address=f"198.51.100.{i + 1}")),
        count=30,
    )
    assert errors == []
    assert len(password_checks) == login.ACCOUNT_FREE_FAILURES
    assert results.count("throttled") == 30 - login.ACCOUNT_FREE_FAILURES


def test_thirty_usernames_at_once_from_one_address_get_the_address_allowance(db, password_checks):
    results, errors = run_at_once(
        lambda i: outcome(
            Client().post(
                reverse("login"),
                {"username": f"nobody{i}", "password": "guess"},
                REMOTE_ADDR="203.0.113.66",
            )
        ),
        count=30,
    )
    assert errors == []
    assert len(password_checks) == login.ADDRESS_FREE_FAILURES
    assert results.count("throttled") == 30 - login.ADDRESS_FREE_FAILURES


def test_thirty_guesses_at_once_from_a_known_device_get_five_checks(boss, password_checks):
    device = Client()
    assert post_password("login", PASSWORD, address="192.0.2.1", client=device).status_code == 302
    device.post(reverse("logout"))
    password_checks.clear()
    cookie = device.cookies[login.DEVICE_COOKIE].value

    def guess(i):
        client = Client()
        client.cookies[login.DEVICE_COOKIE] = cookie
        return outcome(post_password("login", f"guess{i}", address="192.0.2.1", client=client))

    results, errors = run_at_once(guess, count=30)
    assert errors == []
    assert len(password_checks) == login.DEVICE_FREE_FAILURES
    assert results.count("throttled") == 30 - login.DEVICE_FREE_FAILURES
