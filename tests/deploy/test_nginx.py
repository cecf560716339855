"""The production topology (deploy/): gunicorn behind the repository's nginx configuration.

Slow clients trickling headers and bodies hold nginx connections, not gunicorn's workers; a
100 MB anonymous POST is refused by nginx before Django hears of it. nginx runs as the current
user from a temporary prefix, on ports 8130-8132; the test skips without nginx.
"""

import functools
import http.client
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection

from config.body_limits import largest_body

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATE = ROOT / "deploy" / "nginx" / "reemploi.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
HOST = "reemploi.test"
HTTP_PORT, HTTPS_PORT, APP_PORT = 8130, 8131, 8132
MB = 1024 * 1024


def render_site(**values: str) -> str:
    """The site with its placeholders replaced, as the README's sed command does."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    return text


def test_every_placeholder_is_named_in_the_header_and_nginx_lets_the_largest_upload_through():
    text = TEMPLATE.read_text(encoding="utf-8")
    header = "".join(line for line in text.splitlines() if line.startswith("#"))
    placeholders = set(re.findall(r"@([A-Z_]+)@", text))
    assert placeholders == {
        "SERVER_NAME",
        "HTTP_PORT",
        "HTTPS_PORT",
        "TLS_CERTIFICATE",
        "TLS_CERTIFICATE_KEY",
        "STATIC_ROOT",
        "UPSTREAM",
    }
    assert all(f"@{name}@" in header for name in placeholders)
    cap = text.split("client_max_body_size ")[1].split(";")[0]
    assert cap.endswith("m") and int(cap[:-1]) * MB > largest_body()


def test_the_gunicorn_configuration_binds_the_loopback_with_request_limits():
    namespace = {"__file__": str(GUNICORN_CONF)}
    exec(compile(GUNICORN_CONF.read_text(), str(GUNICORN_CONF), "exec"), namespace)  # noqa: S102
    assert namespace["bind"].startswith(("127.0.0.1:", "unix:"))
    assert namespace["limit_request_line"] <= 4094 and namespace["limit_request_fields"] <= 100
    assert namespace["timeout"] == 30


# The running topology


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}:\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on port {port}:\n{log.read_text()}")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Topology:
    """nginx (the repository's site, TLS on HTTPS_PORT) → gunicorn (deploy/gunicorn.conf.py, two
    sync workers) → the test database, from one temporary directory."""

    def __init__(self, root: Path):
        self.root = root
        self.mark = 0

    def _log_through_marker(self) -> list[str]:
        """The whole access log once a marker request is in it: gunicorn logs a request after
        answering it, so the log is complete up to a request only once that line is there."""
        marker = f"/login/?end={secrets.token_hex(4)}"
        assert request("GET", marker)[0] == 200
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            lines = (self.root / "gunicorn-access.log").read_text().splitlines()
            if any(marker in line for line in lines[self.mark :]):
                return lines
            time.sleep(0.05)
        raise AssertionError(f"gunicorn did not log {marker}")

    def start_test(self) -> None:
        """Where this test's lines begin: after every line of the requests made before it
        (a warm-up request may be logged after its reply reached the client)."""
        self.mark = len(self._log_through_marker())

    def app_lines(self) -> list[str]:
        """gunicorn's access log since the test began: what reached Django."""
        lines = self._log_through_marker()[self.mark :]
        return [line for line in lines if "/login/?end=" not in line]

    def proxy_errors(self) -> str:
        return (self.root / "nginx-error.log").read_text()


@pytest.fixture(scope="module")
def running(tmp_path_factory, django_db_setup, django_db_blocker):
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run installs it)")
    openssl = shutil.which("openssl")
    if not openssl or not Path("/etc/nginx/mime.types").exists():
        pytest.skip("openssl or Debian's /etc/nginx/mime.types is missing")
    with django_db_blocker.unblock():
        database_url = _database_url()
    tmp_path = tmp_path_factory.mktemp("topology")
    data = tmp_path / "data"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "SITE_URL", "GUNICORN_", "REEMPLOI_"))
    } | {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "SITE_URL": f"https://{HOST}",
        "DJANGO_BEHIND_TLS_PROXY": "1",
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
        "REEMPLOI_DATA_DIR": str(data),
        "DATABASE_URL": database_url,
        "GUNICORN_BIND": f"127.0.0.1:{APP_PORT}",
        "GUNICORN_WORKERS": "2",
        "GUNICORN_ACCESS_LOG": str(tmp_path / "gunicorn-access.log"),
    }
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
    collected = subprocess.run(  # noqa: S603 — our own manage.py
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"], **run
    )
    assert collected.returncode == 0, collected.stderr
    subprocess.run(  # noqa: S603 — a throwaway self-signed certificate
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = render_site(
        SERVER_NAME=HOST,
        HTTP_PORT=str(HTTP_PORT),
        HTTPS_PORT=str(HTTPS_PORT),
        TLS_CERTIFICATE=str(tmp_path / "cert.pem"),
        TLS_CERTIFICATE_KEY=str(tmp_path / "key.pem"),
        STATIC_ROOT=str(data / "static"),
        UPSTREAM=f"127.0.0.1:{APP_PORT}",
    )
    (tmp_path / "reemploi.conf").write_text(site, encoding="utf-8")
    # What Debian's /etc/nginx/nginx.conf holds, with every path in the temporary prefix.
    # As root (CI), the workers would otherwise switch to nobody, who cannot read tmp_path.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    (tmp_path / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {tmp_path}/nginx-access.log;
    client_body_temp_path {tmp_path}/client_body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    include {tmp_path}/reemploi.conf;
}}
""",
        encoding="utf-8",
    )
    app_log, proxy_log = tmp_path / "gunicorn.out", tmp_path / "nginx.out"
    with app_log.open("w") as app_out, proxy_log.open("w") as proxy_out:
        app = subprocess.Popen(  # noqa: S603 — our own gunicorn configuration
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "config.wsgi"],
            cwd=ROOT, env=env, stdout=app_out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proxy = None
        try:
            _wait_for_port(APP_PORT, app, app_log)
            proxy = subprocess.Popen(  # noqa: S603 — nginx with the repository's site
                [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                 "-e", str(tmp_path / "nginx-error.log")],
                stdout=proxy_out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            _wait_for_port(HTTPS_PORT, proxy, tmp_path / "nginx-error.log")
            for _ in range(4):  # both workers warm: a first request loads URLs and templates
                assert request("GET", "/login/")[0] == 200
            yield Topology(tmp_path)
        finally:
            if proxy is not None:
                _stop(proxy)
            _stop(app)


@pytest.fixture
def topology(running):
    running.start_test()
    return running


@functools.cache
def _tls() -> ssl.SSLContext:
    # One context for every connection: building one loads the system's CA store (slow).
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate
    return context


def _connect(port: int = HTTPS_PORT) -> socket.socket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return _tls().wrap_socket(raw, server_hostname=HOST)


class _Connection(http.client.HTTPSConnection):
    # To 127.0.0.1, naming the site in TLS (SNI): nginx refuses a handshake for any other name.
    def connect(self):
        http.client.HTTPConnection.connect(self)
        self.sock = _tls().wrap_socket(self.sock, server_hostname=HOST)


def request(method: str, path: str, body: bytes = b"", headers=None):
    client = _Connection("127.0.0.1", HTTPS_PORT, timeout=30)
    client.request(method, path, body=body, headers={"Host": HOST, **(headers or {})})
    response = client.getresponse()
    reply = (response.status, dict(response.getheaders()), response.read())
    client.close()
    return reply


def announced(path: str, length: int, content_type: str) -> tuple[bytes, bytes]:
    """A POST announcing `length` bytes, of which only the first 64 KB are sent: the reply's
    status line and body."""
    with _connect() as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n".encode()
        )
        sock.sendall(b"a" * 65536)
        # Up to the end of the reply only: nginx lingers a few seconds before it closes.
        reply = b""
        while b"\r\n\r\n" not in reply:
            reply += sock.recv(65536)
        head, _, body = reply.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += sock.recv(65536)
    return head.split(b"\r\n")[0], body


def trickle(first: bytes, drip: bytes, until: float) -> None:
    """A slow client: `first`, then one byte of `drip` every half second until `until`."""
    try:
        with _connect() as sock:
            sock.sendall(first)
            for byte in drip:
                if time.monotonic() > until:
                    return
                sock.sendall(bytes([byte]))
                time.sleep(0.5)
    except OSError:
        return  # nginx closed it: what a timeout does to a slow client


FORM = "application/x-www-form-urlencoded"


def timed_login_page() -> float:
    started = time.monotonic()
    status, headers, page = request("GET", "/login/")
    # Served over the TLS hand-off: no redirect to https, and HSTS set by Django.
    assert status == 200 and "Strict-Transport-Security" in headers
    assert "csrfmiddlewaretoken" in page.decode()
    return time.monotonic() - started


@pytest.mark.slow
def test_a_normal_request_is_answered_within_a_second_while_eight_clients_trickle(topology):
    baseline = [timed_login_page() for _ in range(3)]
    until = time.monotonic() + 8
    headers = f"GET /login/ HTTP/1.1\r\nHost: {HOST}\r\n".encode()
    body_head = (
        f"POST /login/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {FORM}\r\n"
        "Content-Length: 4000\r\n\r\n"
    ).encode()
    slow = [
        threading.Thread(target=trickle, args=(headers, b"X-Slow: " + b"a" * 100, until))
        for _ in range(4)
    ] + [threading.Thread(target=trickle, args=(body_head, b"a" * 4000, until)) for _ in range(4)]
    for thread in slow:
        thread.start()
    time.sleep(1.5)  # every slow client connected and dripping (gunicorn has 2 workers)
    timings = [timed_login_page() for _ in range(5)]
    for thread in slow:
        thread.join()
    # Held by a slow client, a request would wait until the clients stop (6 s from here).
    figures = f"while trickling {timings}, before {baseline}"
    assert max(timings) < 1.0, figures
    # The slow clients never reached gunicorn: only the normal requests did.
    assert len(topology.app_lines()) == 3 + 5
    assert all('"GET /login/ HTTP/1.0" 200' in line for line in topology.app_lines())


@pytest.mark.slow
def test_a_100_mb_anonymous_post_is_refused_by_nginx_before_django_hears_of_it(topology):
    status, page = announced("/login/", 100 * MB, FORM)
    assert status == b"HTTP/1.1 413 Request Entity Too Large"
    assert "Envoi trop volumineux" in page.decode()
    # The same for the API, in its error shape.
    status, body = announced("/api/scan/", 100 * MB, "application/json")
    assert (status[9:12], json.loads(body)["code"]) == (b"413", "request_too_large")
    assert topology.proxy_errors().count("client intended to send too large body") >= 2
    # A small POST does reach Django (refused there for its missing CSRF token): the log works.
    assert request("POST", "/login/", b"username=a&password=b", {"Content-Type": FORM})[0] == 403
    assert len(topology.app_lines()) == 1
    assert '"POST /login/ HTTP/1.0" 403' in topology.app_lines()[0]


@pytest.mark.slow
def test_a_body_nginx_lets_through_is_still_refused_by_django_for_a_stranger(topology):
    status, _headers, page = request("POST", "/login/", b"a" * (200 * 1024), {"Content-Type": FORM})
    assert status == 413 and "Envoi trop volumineux" in page.decode()
    assert len(topology.app_lines()) == 1
    assert '"POST /login/ HTTP/1.0" 413' in topology.app_lines()[0]


@pytest.mark.slow
def test_static_files_come_from_nginx_with_long_caching_for_hashed_names(topology):
    static = topology.root / "data" / "static"
    hashed = json.loads((static / "staticfiles.json").read_text())["paths"]["css/app.css"]
    gzip = {"Accept-Encoding": "gzip"}
    status, headers, _body = request("GET", f"/static/{hashed}", headers=gzip)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers.get("Content-Encoding") == "gzip"  # collectstatic's .gz, as it is on disk
    status, headers, _body = request("GET", "/static/css/app.css")
    assert (status, headers["Cache-Control"]) == (200, "public, max-age=3600")
    assert topology.app_lines() == []  # gunicorn served none of them


@pytest.mark.slow
def test_an_unknown_host_name_is_refused_by_nginx(topology):
    raw = socket.create_connection(("127.0.0.1", HTTPS_PORT), timeout=5)
    with raw, pytest.raises(ssl.SSLError):
        _tls().wrap_socket(raw, server_hostname="other.example.org")
    with pytest.raises(http.client.RemoteDisconnected):
        request("GET", "/login/", headers={"Host": "other.example.org"})
    assert topology.app_lines() == []
