"""Tests: SQLite in memory by default; PostgreSQL when ONABOARD_TEST_DATABASE_URL is set."""

import dj_database_url

from onaboard.web.config.env import ENV
from onaboard.web.config.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast in tests; Argon2 is tested on its own

if ENV.test_database_url:
    DATABASES = {"default": dj_database_url.parse(ENV.test_database_url)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

# Every test counts its events in the counter table (emptied with each test's database), under limits no test
# reaches, so the failed sign-ins and refused tokens of unrelated tests never trip one. The rate-limit tests set
# small limits (tests/web/test_rate_limits.py).
RATE_LIMITS = dict.fromkeys(RATE_LIMITS, "1000000/60")  # noqa: F405
