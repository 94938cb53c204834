"""The environment reader (onaboard/web/config/env.py): the clinic's time zone, trusted proxies, API token days."""

from __future__ import annotations

import pytest

from onaboard.web.config.env import (
    BAD_PROXY_ADDRESS,
    UNKNOWN_TIME_ZONE,
    ImproperlyConfiguredError,
    read_environment,
)


def test_the_time_zone_is_read_and_defaults_to_utc():
    """ONABOARD_TIME_ZONE names the clinic's zone; without it the app runs on UTC."""
    assert read_environment({"ONABOARD_TIME_ZONE": "Europe/London"}).time_zone == "Europe/London"
    assert read_environment({}).time_zone == "UTC"
    assert read_environment({"ONABOARD_TIME_ZONE": " "}).time_zone == "UTC"


def test_an_unknown_time_zone_stops_the_app_at_start():
    """A misspelt zone is refused when the environment is read, naming the variable and the value."""
    for value in ("Europe/Londn", "../etc/passwd"):
        with pytest.raises(ImproperlyConfiguredError) as refused:
            read_environment({"ONABOARD_TIME_ZONE": value})
        assert str(refused.value) == UNKNOWN_TIME_ZONE.format(value=value)


def test_trusted_proxies_are_addresses():
    """ONABOARD_TRUSTED_PROXIES lists addresses in their normal spelling; anything else stops the app at start."""
    assert read_environment({}).trusted_proxies == frozenset()
    found = read_environment({"ONABOARD_TRUSTED_PROXIES": "10.0.0.10, 2001:DB8::1,"}).trusted_proxies
    assert found == frozenset({"10.0.0.10", "2001:db8::1"})
    with pytest.raises(ImproperlyConfiguredError) as refused:
        read_environment({"ONABOARD_TRUSTED_PROXIES": "10.0.0.0/8"})
    assert str(refused.value) == BAD_PROXY_ADDRESS.format(value="10.0.0.0/8")


def test_api_token_days_are_read_as_whole_days_and_default_to_the_apps():
    """ONABOARD_API_TOKEN_DAYS is a whole number of days, at least 1; unset or blank leaves the app's default."""
    assert read_environment({}).api_token_days is None
    assert read_environment({"ONABOARD_API_TOKEN_DAYS": " "}).api_token_days is None
    assert read_environment({"ONABOARD_API_TOKEN_DAYS": "30"}).api_token_days == 30
    for value in ("0", "-5", "1.5", "ninety"):
        with pytest.raises(ImproperlyConfiguredError, match="ONABOARD_API_TOKEN_DAYS"):
            read_environment({"ONABOARD_API_TOKEN_DAYS": value})
