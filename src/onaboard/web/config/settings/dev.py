"""Development: `make run` serves the demo clinic with these settings."""

from onaboard.web.config.settings.base import *  # noqa: F403
from onaboard.web.config.settings.base import CACHES

DEBUG = True

# One runserver process: rate-limit counters can live in its memory (production shares them in the database).
CACHES = {**CACHES, "ratelimit": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl"}}
