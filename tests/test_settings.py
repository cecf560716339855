"""Settings read from the environment: safe development defaults, a strict production."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "SITE_URL"))
    }
    environment.update(env)
    return subprocess.run(  # noqa: S603 — our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides):
    env = {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "reemploi.example.org",
        "SITE_URL": "https://reemploi.example.org",
        "EMAIL_HOST": "smtp.example.org",
    }
    env.update(overrides)
    return env


@pytest.mark.slow
def test_development_defaults_need_no_variable():
    result = manage("check")
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_a_short_secret_key():
    result = manage("check", **production_env(DJANGO_SECRET_KEY="short"))
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


@pytest.mark.slow
def test_check_deploy_passes_without_warning_with_the_documented_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr


@pytest.mark.slow
def test_production_without_an_smtp_server_is_refused_by_the_deploy_check():
    # Invitations written to a server's console would reach nobody.
    env = production_env()
    del env["EMAIL_HOST"]
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode != 0
    assert "mail.E001" in result.stderr


def test_french_is_the_default_language_and_paris_the_time_zone(settings):
    assert settings.LANGUAGE_CODE == "fr"
    assert [code for code, _name in settings.LANGUAGES] == ["fr", "en"]
    assert settings.TIME_ZONE == "Europe/Paris"


def test_sqlite_writers_queue_instead_of_failing(db, settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings only apply to SQLite")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 5000
