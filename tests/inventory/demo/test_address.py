"""`make demo HOST=…` prints the address it serves; its labels encode one a phone can open."""

import io
import ipaddress
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from inventory.demo import address
from inventory.demo.address import binds_all_interfaces, demo_url, lan_address
from inventory.management.commands.seed_demo import Command

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000/"),
        ("8001", "http://127.0.0.1:8001/"),
        ("localhost:8000", "http://localhost:8000/"),
        ("192.168.1.20:8000", "http://192.168.1.20:8000/"),
        ("[::1]:8000", "http://[::1]:8000/"),
        ("0.0.0.0:8000", "http://192.168.1.20:8000/"),
        ("0:8080", "http://192.168.1.20:8080/"),
        ("[::]:8000", "http://192.168.1.20:8000/"),
    ],
)
def test_the_demo_url_is_where_runserver_host_is_reached(host, url):
    assert demo_url(host, lan="192.168.1.20") == url


def test_listening_everywhere_without_a_network_falls_back_to_this_computer():
    assert demo_url("0.0.0.0:8000", lan=None) == "http://127.0.0.1:8000/"
    assert demo_url("[::]:8000", lan=None) == "http://[::1]:8000/"


@pytest.mark.parametrize("host", ["", "http://0.0.0.0:8000", "0.0.0.0:", "host name:80", "[/"])
def test_a_host_runserver_would_refuse_gives_no_url(host):
    assert demo_url(host, lan="192.168.1.20") is None


def test_only_the_wildcard_addresses_listen_on_every_interface():
    assert [binds_all_interfaces(h) for h in ("0.0.0.0:8000", "0:8000", "[::]:80")] == [True] * 3
    assert not any(binds_all_interfaces(h) for h in ("127.0.0.1:8000", "8000", "lan:8000"))


def test_the_lan_address_is_never_a_loopback_one():
    found = lan_address()
    assert found is None or not ipaddress.ip_address(found).is_loopback


def test_no_network_means_no_lan_address(monkeypatch):
    class NoRoute:
        def __init__(self, *args):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def connect(self, _address):
            raise OSError("Network is unreachable")

    monkeypatch.setattr(address.socket, "socket", NoRoute)
    assert lan_address() is None


def printed(**demo) -> str:
    out = io.StringIO()
    with override_settings(**demo):
        Command(stdout=out)._accounts(admin_created=True)
    return out.getvalue()


def test_a_demo_served_on_every_interface_prints_its_lan_address_and_logins():
    url = "http://192.168.1.20:8000/"
    text = printed(DEMO_HOST="0.0.0.0:8000", DEMO_URL=url, SITE_URL=url.rstrip("/"))
    assert url in text and "0.0.0.0" not in text  # noqa: S104
    assert f"{url}admin/" in text
    assert "coordination" in text and "demo-coordination-92" in text
    assert "SITE_URL" not in text  # the labels encode the address printed


def test_a_demo_served_to_this_computer_only_says_how_to_open_it_to_phones():
    url = "http://127.0.0.1:8000/"
    text = printed(DEMO_HOST="127.0.0.1:8000", DEMO_URL=url, SITE_URL=url.rstrip("/"))
    assert url in text
    assert "HOST=0.0.0.0:8000" in text


def test_a_site_url_of_its_own_is_named_when_it_is_not_the_address_served():
    url = "http://192.168.1.20:8000/"
    text = printed(DEMO_HOST="0:8000", DEMO_URL=url, SITE_URL="https://demo.example.org")
    assert url in text and "https://demo.example.org" in text


def settings_with(**env) -> list[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "SITE_URL", "REEMPLOI_DEMO"))
    }
    environment.update(env)
    code = (
        "from django.conf import settings; "
        "print(settings.SITE_URL); print(settings.DEMO_URL); print(*settings.ALLOWED_HOSTS)"
    )
    result = subprocess.run(  # noqa: S603 — our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.slow
def test_the_demos_labels_encode_the_address_it_serves_unless_site_url_says_otherwise():
    lan = lan_address() or "127.0.0.1"
    site, demo, hosts = settings_with(REEMPLOI_DEMO_HOST="0.0.0.0:8123")
    assert (site, demo) == (f"http://{lan}:8123", f"http://{lan}:8123/")
    assert lan in hosts.split()
    site, _demo, _hosts = settings_with(REEMPLOI_DEMO_HOST="127.0.0.1:8123")
    assert site == "http://127.0.0.1:8123"
    site, _demo, _hosts = settings_with(
        REEMPLOI_DEMO_HOST="0.0.0.0:8123", SITE_URL="https://demo.example.org"
    )
    assert site == "https://demo.example.org"
    site, demo, _hosts = settings_with()
    assert (site, demo) == ("http://localhost:8000", "None")
