"""Settings shared by every mode. Values from outside come from ``onaboard.web.config.env`` only."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

from onaboard.web.config.env import ENV, ImproperlyConfiguredError

BASE_DIR = Path(__file__).resolve().parents[2]

SECRET_KEY = ENV.secret_key or "dev-only-insecure-key-never-used-in-production"
DEBUG = ENV.debug
ALLOWED_HOSTS = list(ENV.allowed_hosts) or ["127.0.0.1", "localhost", "testserver"]
ONABOARD_TRUSTED_PROXIES = ENV.trusted_proxies
"""The reverse proxies whose X-Forwarded-For is believed (``onaboard.web.common.addresses.client_address``)."""
if ENV.api_token_days is not None:
    ONABOARD_API_TOKEN_DAYS = ENV.api_token_days
    """How many days an API token works after it is issued (``accounts.models.api_token_lifetime``)."""

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "onaboard.web.common",
    "onaboard.web.accounts",
    "onaboard.web.audit",
    "onaboard.web.patients",
    "onaboard.web.diary",
    "onaboard.web.injections",
    "onaboard.web.outcomes",
    "onaboard.web.clinic",
    "onaboard.web.coverage",
    "onaboard.web.interop",
    "onaboard.web.training",
    "onaboard.web.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # the load balancer's probe of /healthz, answered before the host check (CommonMiddleware) or anything else reads
    # the request: it comes over plain HTTP with the server's own address as Host (common/health.py)
    "onaboard.web.common.health.HealthCheckMiddleware",
    # first after security (the health check writes none): every audit event below it (a sign-out for idleness too)
    # knows its address and path
    "onaboard.web.audit.middleware.RequestContextMiddleware",
    "onaboard.web.common.security.ContentSecurityPolicyMiddleware",
    "onaboard.web.common.security.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "onaboard.web.accounts.middleware.SessionExpiryMiddleware",
    "onaboard.web.accounts.middleware.ApiRateLimitMiddleware",
    "onaboard.web.common.security.RequestSizeLimitMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "onaboard.web.accounts.middleware.OtpRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "onaboard.web.common.errors.ApiMethodNotAllowedMiddleware",
]

ROOT_URLCONF = "onaboard.web.config.urls"
WSGI_APPLICATION = "onaboard.web.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onaboard.web.common.context.navigation",
                "onaboard.web.common.context.rules",
            ],
        },
    },
]

DATA_DIR_UNUSABLE = "ONABOARD_DATA_DIR is {path}, which cannot be the data folder: {reason}"


def data_folder(path: Path) -> Path:
    """``path``, created if missing, or a refusal naming the setting and the path (it was a traceback at import):
    the SQLite file, uploads and collected static files are written there."""
    if path.exists() and not path.is_dir():
        raise ImproperlyConfiguredError(DATA_DIR_UNUSABLE.format(path=path, reason="it is not a folder"))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = f"it cannot be created ({error.strerror or error})"
        raise ImproperlyConfiguredError(DATA_DIR_UNUSABLE.format(path=path, reason=reason)) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ImproperlyConfiguredError(DATA_DIR_UNUSABLE.format(path=path, reason="this user may not write in it"))
    return path


data_folder(ENV.data_dir)
SQLITE_PATH = ENV.data_dir / "onaboard.sqlite3"

SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
"""Every SQLite database's options, the default file or one named by DATABASE_URL=sqlite:///...: WAL lets readers
carry on while one writer writes; IMMEDIATE takes the write lock at BEGIN, so two writers queue (up to the timeout)
instead of one failing with "database is locked" when it upgrades a read to a write."""

DATABASE_URL_UNUSABLE = (
    "DATABASE_URL is not a database address onaboard can use ({reason}): write "
    "postgres://USER:PASSWORD@HOST:5432/NAME, or sqlite:////path/to/file"
)


def database_from_url(url: str) -> dict:
    """Django's settings for the database at ``url``, or a refusal naming DATABASE_URL and what is wrong with it (it
    was dj_database_url's traceback at import). The reason never quotes the address, which holds the password."""
    try:
        return dj_database_url.parse(url, conn_max_age=60)
    except ValueError as error:  # UnknownSchemeError and ParseError are ValueErrors
        reason = str(error).split(" Did you forget", 1)[0]
        raise ImproperlyConfiguredError(DATABASE_URL_UNUSABLE.format(reason=reason)) from None


DATABASES = {
    "default": database_from_url(ENV.database_url)
    if ENV.database_url
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": SQLITE_PATH}
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # a SQLite connection is a file open: nothing to keep

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 20000}},
    # The worklist's computed pathway lines (clinic/selectors.py; keys change with any saved diary row or session),
    # shared by every app server process so a change is computed once, not once per gunicorn worker. The clinic
    # migration 0001 creates the table. Entries are small tuples living an hour; every write counts the table's rows
    # first (Django's culling), so MAX_ENTRIES is a few times a large clinic's live lines and no more. The backend
    # writes many lines in a few statements (common/cache.py; Django's writes each key in five).
    "pathways": {
        "BACKEND": "onaboard.web.common.cache.BulkDatabaseCache",
        "LOCATION": "onaboard_pathway_lines",
        "OPTIONS": {"MAX_ENTRIES": 20000},
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["onaboard.web.accounts.backends.LockoutBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "clinic:home"
LOGOUT_REDIRECT_URL = "accounts:login"

OTP_TOTP_ISSUER = "onaboard"

LOGIN_FAILURE_LIMIT = 5
"""Failed logins in a row before an account is locked for LOGIN_LOCKOUT_MINUTES."""
LOGIN_LOCKOUT_MINUTES = 15

RATE_LIMITS = {
    # "N/seconds": at most N events in each window of that many seconds (accounts/ratelimit.py explains each).
    "login_address": "30/900",  # failed sign-ins from one address (a clinic's staff may share one NAT address)
    "login_account": "10/3600",  # failed sign-ins for one account name: two lockout periods' worth an hour
    "api_token": "600/60",  # requests per API token: ten a second on average, bursts allowed
    "api_bad_token": "20/600",  # refused bearer tokens from one address
}

# Sessions (accounts/middleware.py SessionExpiryMiddleware): staff open patient records on shared clinic computers,
# so their sessions end after 30 minutes idle and after 10 hours (one clinic day) in any case; patients keep their
# own diary on their own phone and stay signed in for 30 days idle, 90 days at most, then sign in again.
SESSION_IDLE_SECONDS = {"staff": 30 * 60, "patient": 30 * 24 * 60 * 60}
SESSION_ABSOLUTE_SECONDS = {"staff": 10 * 60 * 60, "patient": 90 * 24 * 60 * 60}
SESSION_EXPLAIN_SECONDS = 24 * 60 * 60
"""How long past its absolute limit a session (the stored session and the browser's cookie) is kept, though no longer
usable, so that the next request can still say why it ended: coming back to the clinic's computer the next morning
shows "signed out after a while without activity" (and the trail records it), not a bare sign-in page
(``accounts.middleware.session_stored_until``)."""
SESSION_COOKIE_AGE = max(SESSION_ABSOLUTE_SECONDS.values()) + SESSION_EXPLAIN_SECONDS
"""The longest any session and its cookie last: the longest absolute limit (a patient's 90 days) and
``SESSION_EXPLAIN_SECONDS``, so the session middleware, not the cookie, ends an idle or too-long session, with a
message and an audit entry."""

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en"
TIME_ZONE = ENV.time_zone
"""The clinic's time zone (ONABOARD_TIME_ZONE): ``timezone.localdate()``, the app's "today", is the day there."""
USE_I18N = True
USE_TZ = True
LANGUAGES = [("en", "English")]
FORMAT_MODULE_PATH = ["onaboard.web.formats"]
"""Typed dates are YYYY-MM-DD only (formats/en/formats.py): never month/day guessed from a slash."""
LOCALE_PATHS = [BASE_DIR / "locale"]
"""The message catalogue: ``manage.py makemessages -l en`` writes locale/en/LC_MESSAGES/django.po."""

STATIC_URL = "static/"
STATIC_ROOT = ENV.data_dir / "static"

MAX_REQUEST_BYTES = 10 * 1024 * 1024
"""A request body (form, upload or API call) over this size is refused with 413 and a message naming the limit."""
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES

LOGGING = {
    # No patient data in logs (audit/logfilters.py): query strings are cut from every logged URL, request bodies are
    # never logged, and SQL (with its parameters) is never logged even with DEBUG on.
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"no_patient_data": {"()": "onaboard.web.audit.logfilters.NoPatientDataFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["no_patient_data"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
