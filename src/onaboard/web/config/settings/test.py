"""Tests: SQLite in memory by default; PostgreSQL when ONABOARD_TEST_DATABASE_URL is set."""

import dj_database_url

from onaboard.web.config.env import ENV
from onaboard.web.config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests; Argon2 is tested on its own

if ENV.test_database_url:
    DATABASES = {"default": dj_database_url.parse(ENV.test_database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Rate-limit counters are not kept across tests: a dummy cache remembers nothing, so the many failed sign-ins and
# refused tokens of unrelated tests never add up to a limit. The rate-limit tests switch to a LocMem cache
# (tests/web/test_rate_limits.py).
CACHES = {**CACHES, "ratelimit": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # noqa: F405
