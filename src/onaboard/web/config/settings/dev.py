"""Development: `make run` serves the demo clinic with these settings."""

from onaboard.web.config.settings.base import *  # noqa: F403

DEBUG = True

# runserver serves each request on a new thread, and a persistent connection belongs to its thread: with
# CONN_MAX_AGE > 0 every request would leave a PostgreSQL connection open until the server ran out of them.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
