"""Development: `make run` serves the demo clinic with these settings."""

from onaboard.web.config.settings.base import *  # noqa: F403

DEBUG = True
