"""Production settings plus one bare view at /bench/bare/ for the load test (bench/load_bench.py): a constant
response through the whole middleware stack, the ceiling any real page is measured against."""

from onaboard.web.config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.load_urls"
