"""Production: refuses to start without a secret key and allowed hosts."""

from onaboard.web.config.env import ENV, MISSING_IN_PRODUCTION, ImproperlyConfiguredError
from onaboard.web.config.settings.base import *  # noqa: F403

if not ENV.secret_key:
    raise ImproperlyConfiguredError(MISSING_IN_PRODUCTION.format(name="ONABOARD_SECRET_KEY"))
if not ENV.allowed_hosts:
    raise ImproperlyConfiguredError(MISSING_IN_PRODUCTION.format(name="ONABOARD_ALLOWED_HOSTS"))

DEBUG = False
SECRET_KEY = ENV.secret_key
ALLOWED_HOSTS = list(ENV.allowed_hosts)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SESSION_COOKIE_AGE = 8 * 60 * 60
