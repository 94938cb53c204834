"""Production settings plus the crash-point app (tests/ops/crashpoint) for the kill-the-server tests."""

from onaboard.web.config.settings.production import *  # noqa: F403
from onaboard.web.config.settings.production import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.ops.crashpoint"]
