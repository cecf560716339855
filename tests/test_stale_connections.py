"""Issue 9: after PostgreSQL ends the app's connections (a restart, a failover), the next
request of each worker is answered, not a 500: connections kept between requests
(CONN_MAX_AGE) are checked before reuse (CONN_HEALTH_CHECKS, config/settings.py)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from pathlib import Path

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from rest_framework.authtoken.models import Token

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL ends connections"),
]


def terminate_backends(keep: int = 0) -> int:
    """What a restart does to the app: the connections to its database are ended (but `keep`,
    the test's own when the app runs in another process)."""
    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"],
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND pid <> %s",
            [settings["NAME"], keep],
        ).fetchall()
    return len(rows)


def wsgi_get(app, path: str, token: str) -> int:
    statuses = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_AUTHORIZATION": f"Token {token}",
        "wsgi.input": BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.url_scheme": "http",
    }
    response = app(environ, lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(response)
    response.close()  # request_finished: the connection is kept for the next request
    return int(statuses[0].split()[0])


@pytest.fixture
def token(transactional_db, coordinator) -> str:
    return Token.objects.create(user=coordinator).key


def test_a_request_after_the_server_ended_the_connection_is_answered(token, settings):
    # The real request cycle (request_started/finished signals), not the test client's, which
    # leaves connections alone.
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] > 0
    app = WSGIHandler()
    assert [wsgi_get(app, "/api/organisations/", token) for _ in range(3)] == [200] * 3
    assert terminate_backends() >= 1
    assert [wsgi_get(app, "/api/organisations/", token) for _ in range(5)] == [200] * 5


def free_port() -> int:
    if os.environ.get("REEMPLOI_TEST_PORT"):
        return int(os.environ["REEMPLOI_TEST_PORT"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_gunicorn_workers_answer_after_the_server_ended_their_connections(token):
    settings = connection.settings_dict
    port = free_port()
    database_url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST']}:"
        f"{settings['PORT']}/{settings['NAME']}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env["DATABASE_URL"] = database_url
    server = subprocess.Popen(  # noqa: S603 — our own app under gunicorn, fixed arguments
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "2"]
        + ["--bind", f"127.0.0.1:{port}", "--worker-class", "sync"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/api/organisations/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if http_status(url, token) == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        # Requests sent at once, so that both sync workers answer some and hold a connection
        # (in sequence, one worker may well answer them all).
        with ThreadPoolExecutor(max_workers=8) as pool:
            warm = list(pool.map(lambda _: http_status(url, token), range(40)))
        assert set(warm) == {200}
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            own = cursor.fetchone()[0]
        assert terminate_backends(keep=own) >= 1  # each worker's that held one
        after = [http_status(url, token) for _ in range(20)]
        assert after == [200] * 20
    finally:
        server.terminate()
        server.wait(timeout=30)
