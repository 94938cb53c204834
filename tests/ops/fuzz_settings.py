"""Production settings with the per-token API rate limit raised, so schemathesis (tests/ops/api_fuzz.py) reaches
every operation's logic instead of the limiter; the limiter has its own tests."""

from onaboard.web.config.settings.production import *  # noqa: F403
from onaboard.web.config.settings.production import RATE_LIMITS

RATE_LIMITS = {**RATE_LIMITS, "api_token": "1000000/60"}
