"""Réemploi settings: one module, read from the environment, safe defaults for development."""

import base64
import hashlib
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from inventory.demo.address import binds_all_interfaces, demo_url, lan_address

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def inline_style_hashes(template: Path) -> list[str]:
    """CSP hash sources of the <style> elements of a template that holds no template tag."""
    styles = re.findall(r"<style>(.*?)</style>", template.read_text(), re.DOTALL)
    digests = (hashlib.sha256(style.encode()).digest() for style in styles)
    return [f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests]


DEBUG = env_bool("DJANGO_DEBUG", True)

_DEV_SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0 "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a real secret of at least 50 characters.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

# `make demo HOST=…` passes runserver's address on; the demo is then served at DEMO_URL (the
# machine's LAN address when HOST listens on every interface, so a phone there can open it).
DEMO_HOST = os.environ.get("REEMPLOI_DEMO_HOST", "").strip()
DEMO_URL = demo_url(DEMO_HOST, lan_address() if binds_all_interfaces(DEMO_HOST) else None)
if DEBUG and DEMO_URL:
    ALLOWED_HOSTS.append(urlsplit(DEMO_URL).netloc.rsplit(":", 1)[0])

# Public base URL of the site: what QR labels encode, so it must not depend on the request.
# Unset, the demo's labels encode the address the demo is served at.
SITE_URL = (os.environ.get("SITE_URL") or DEMO_URL or "http://localhost:8000").rstrip("/")
NETWORK_NAME = os.environ.get("REEMPLOI_NETWORK_NAME", "Réseau inclusion numérique 92")
# Shown on the public page a found device's QR code opens (an e-mail address or a phone).
NETWORK_CONTACT = os.environ.get("REEMPLOI_NETWORK_CONTACT", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # For OpClass in inventory's trigram index (migration 0014): its ready() registers the
    # wrapper; on SQLite it only adds unused lookups (its PostgreSQL hooks check the vendor).
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "inventory",
    "logistics",
    "labels",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: a cookie holding a NUL must not reach the session table.
    "inventory.web.middleware.RefuseControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the CSRF check, which reads a form: bodies are refused by size before any read.
    "config.body_limits.BodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "inventory.login.KnownDeviceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "inventory.web.context_processors.membership",
            ],
        },
    },
]

# SQLite by default: WAL lets readers run beside the writer, IMMEDIATE takes the write lock
# at BEGIN so two writers queue on the busy timeout instead of failing with "database is
# locked" halfway through a transaction (select_for_update is a no-op on SQLite).
DATA_DIR = Path(os.environ.get("REEMPLOI_DATA_DIR", BASE_DIR / "var"))
DATA_DIR.mkdir(parents=True, exist_ok=True)
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
    "init_command": (
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        "PRAGMA foreign_keys=ON;"
        "PRAGMA busy_timeout=30000;"
    ),
}
_DATABASE_URL = os.environ.get("DATABASE_URL", "")
if _DATABASE_URL:
    # Connections are kept a minute between requests; each is checked before reuse, so one
    # that the server closed meanwhile (a restart, a failover) is replaced, not a 500.
    DATABASES = {
        "default": dj_database_url.parse(_DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(_SQLITE_OPTIONS)
    elif env_bool("REEMPLOI_PREPARED_STATEMENTS", True):
        # The few statements every write sends (inventory/compiled.py: a device by its key,
        # the token check, single-row inserts and updates) are prepared once per connection
        # and sent by name afterwards; psycopg never prepares anything else (Django's
        # client-side cursors cannot), whatever the threshold. Set
        # REEMPLOI_PREPARED_STATEMENTS=0 behind a pooler that does not keep prepared
        # statements (PgBouncer before 1.21, or without max_prepared_statements).
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "reemploi.sqlite3",
            "OPTIONS": dict(_SQLITE_OPTIONS),
            # A file, not memory: concurrency tests need real separate connections. One file
            # per process, so that two test runs on one machine never share (or delete) it.
            "TEST": {"NAME": DATA_DIR / f"test-reemploi-{os.getpid()}.sqlite3"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's password check; the signed-in user is read with their membership (inventory.login).
AUTHENTICATION_BACKENDS = ["inventory.login.MembershipBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A form refused for its CSRF token (session expired, cookies blocked): a page in the user's
# language with a way back, instead of Django's technical one.
CSRF_FAILURE_VIEW = "inventory.views.csrf_failure"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "config" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = DATA_DIR / "media"
# Request bodies (config/body_limits.py refuses them by size before they are read): 64 KB from
# anyone not signed in (a login form is under 1 KB), 1 MB from a signed-in user (a batch of 500
# scans, a WEEE batch of 1,000 codes), and a file's own cap plus 64 KB only on the views that
# take a file. The reverse proxy refuses anything above the largest (deploy/nginx/).
REEMPLOI_ANONYMOUS_BODY_MAX_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# A label selection posts up to labels.stock.MAX_LABELS (1,000) device ids and its own fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1100
DATA_UPLOAD_MAX_NUMBER_FILES = 5  # every upload form takes one file
# An uploaded file above this goes to a temporary file rather than memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Donors' spreadsheets: refused above these sizes before any parsing.
REEMPLOI_IMPORT_MAX_BYTES = int(os.environ.get("REEMPLOI_IMPORT_MAX_BYTES", 5 * 1024 * 1024))
REEMPLOI_IMPORT_MAX_ROWS = int(os.environ.get("REEMPLOI_IMPORT_MAX_ROWS", 5000))
# E-mail (invitations, reminders), in Django 6.1's MAILERS: SMTP when EMAIL_HOST is set, else
# written to the console, which is what development and the demo want. (Tests get Django's
# in-memory backend.)
if os.environ.get("EMAIL_HOST"):
    _email_port = int(os.environ.get("EMAIL_PORT", 587))
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ["EMAIL_HOST"],
                "port": _email_port,
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", _email_port == 587),
                "use_ssl": env_bool("EMAIL_USE_SSL", _email_port == 465),
                "timeout": 20,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"{NETWORK_NAME} <no-reply@localhost>")
# An invitation's link to choose a password (Django's password-reset token) lasts this long.
PASSWORD_RESET_TIMEOUT = int(os.environ.get("REEMPLOI_INVITATION_DAYS", 7)) * 24 * 3600

# The needs register: how many open needs (draft, submitted, accepted, partly served) one
# structure may hold, and after how many days a submitted need nobody answered expires
# (`manage.py expire_needs`, run daily).
REEMPLOI_NEEDS_OPEN_CAP = int(os.environ.get("REEMPLOI_NEEDS_OPEN_CAP", 10))
REEMPLOI_NEEDS_EXPIRY_DAYS = int(os.environ.get("REEMPLOI_NEEDS_EXPIRY_DAYS", 60))

REST_FRAMEWORK = {
    # Token first: a request without credentials then gets 401 (with WWW-Authenticate), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Réemploi API",
    "DESCRIPTION": "Devices of the reuse channel: identity, custody, lifecycle and history.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# A database cache: shared by every app server and worker, so a form's replay key is seen
# whatever process answers (the table is created by a migration). Login throttling does not
# use it: it counts in its own table (inventory.login), where counting can be atomic.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "reemploi_cache",
    }
}
# How many reverse proxies in front append to X-Forwarded-For (0: REMOTE_ADDR is the client).
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))

# Content-Security-Policy on every response: only our own scripts, styles, images and fonts;
# inline <script> and <style> only with the request's nonce (csp_nonce in templates), never
# an inline event handler or style attribute. data: images for the favicon placeholder and the
# icons in the API documentation's stylesheet. The camera's stream is a MediaStream, which
# media-src does not govern. The standalone 500 page renders without a request, so its inline
# style is allowed by its hash instead.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE, *inline_style_hashes(BASE_DIR / "templates" / "500.html")],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Production hardening: on whenever DEBUG is off, each switch overridable for a TLS proxy.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# The health check answers over plain HTTP too: nginx or a load balancer probes the app
# server on the loopback, where there is no TLS to redirect to (config/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 31536000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", SITE_URL)
    SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}
