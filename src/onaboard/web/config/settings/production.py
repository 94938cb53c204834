"""Production: refuses to start without a secret key and allowed hosts.

Served by gunicorn (``onaboard serve``) behind a TLS reverse proxy that sets ``X-Forwarded-Proto``; cookies are
secure, HSTS is on, every response carries the Content-Security-Policy, and whitenoise serves the static files
that ``collectstatic`` gathered (with content hashes in their names, so browsers may cache them for good; the
proxy compresses them). ``manage.py check --deploy`` is clean with these settings (tests/ops/test_serve.py).
"""

from onaboard.web.config.env import ENV, MISSING_IN_PRODUCTION, WEAK_SECRET_KEY, ImproperlyConfiguredError
from onaboard.web.config.settings.base import *  # noqa: F403
from onaboard.web.config.settings.base import MIDDLEWARE

SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5
"""Django's own deployment check asks for at least 50 characters with at least 5 different ones."""

if not ENV.secret_key:
    raise ImproperlyConfiguredError(MISSING_IN_PRODUCTION.format(name="ONABOARD_SECRET_KEY"))
if len(ENV.secret_key) < SECRET_KEY_MIN_LENGTH or len(set(ENV.secret_key)) < SECRET_KEY_MIN_DISTINCT:
    raise ImproperlyConfiguredError(WEAK_SECRET_KEY.format(length=SECRET_KEY_MIN_LENGTH))
if not ENV.allowed_hosts:
    raise ImproperlyConfiguredError(MISSING_IN_PRODUCTION.format(name="ONABOARD_ALLOWED_HOSTS"))

DEBUG = False
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = list(ENV.allowed_hosts)

# TLS ends at the reverse proxy, which must set X-Forwarded-Proto (and strip it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the load balancer's probe comes over plain HTTP (common/health.py)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

if ENV.static_root:
    STATIC_ROOT = ENV.static_root

# Static files: whitenoise right after the security middleware, from the folder collectstatic fills.
MIDDLEWARE = [
    *MIDDLEWARE[:1],
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}

if ENV.database_url:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405 - a pooled connection is checked before reuse

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_patient_data": {"()": "onaboard.web.audit.logfilters.NoPatientDataFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_patient_data"]}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False}},
}
