"""The one reader of the environment: every setting that comes from outside the code is read here.

Variables (all optional in development; production refuses to start without the secret key and allowed hosts):
- ONABOARD_SECRET_KEY, ONABOARD_ALLOWED_HOSTS (comma-separated), ONABOARD_DEBUG (1/0)
- DATABASE_URL (default: SQLite in the repository's var/ folder), ONABOARD_TEST_DATABASE_URL (tests)
- ONABOARD_DATA_DIR (where the SQLite file and uploads live, and collected static files; default <repo>/var)
- ONABOARD_STATIC_ROOT (production: where ``collectstatic`` puts the static files; default <data dir>/static)
- ONABOARD_TIME_ZONE (the clinic's IANA time zone, e.g. Europe/London: it decides which calendar day is "today" for
  diary days, due dates and the worklist; default UTC)
- ONABOARD_TRUSTED_PROXIES (comma-separated addresses of the reverse proxies in front of the app: a request from one
  of them is attributed to the client its X-Forwarded-For names; default none)
- ONABOARD_API_TOKEN_DAYS (how many days an API token works after it is issued; default
  ``accounts.models.API_TOKEN_DAYS``, 90)
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ImproperlyConfigured

REPO_ROOT = Path(__file__).resolve().parents[4]

MISSING_IN_PRODUCTION = "{name} must be set in production"
WEAK_SECRET_KEY = (
    "ONABOARD_SECRET_KEY is too weak for production: use at least {length} random characters "  # noqa: S105
    "(for example: python -c 'import secrets; print(secrets.token_urlsafe(64))')"
)


UNKNOWN_TIME_ZONE = "ONABOARD_TIME_ZONE must name an IANA time zone such as Europe/London (got {value!r})"
BAD_PROXY_ADDRESS = "ONABOARD_TRUSTED_PROXIES must list IP addresses separated by commas (got {value!r})"
BAD_TOKEN_DAYS = "ONABOARD_API_TOKEN_DAYS must be a whole number of days, at least 1 (got {value!r})"  # noqa: S105


class ImproperlyConfiguredError(ImproperlyConfigured):
    """A setting the running mode requires is missing or unusable (Django's ImproperlyConfigured, so whatever sets
    Django up can refuse it as one)."""


@dataclass(frozen=True, slots=True)
class Environment:
    secret_key: str | None
    allowed_hosts: tuple[str, ...]
    debug: bool
    database_url: str | None
    test_database_url: str | None
    data_dir: Path
    static_root: Path | None = None
    time_zone: str = "UTC"
    trusted_proxies: frozenset[str] = frozenset()
    api_token_days: int | None = None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _time_zone(value: str | None) -> str:
    """The named time zone, checked now: an unknown name would otherwise surface as a wrong day, or a crash, later."""
    name = (value or "").strip() or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfiguredError(UNKNOWN_TIME_ZONE.format(value=name)) from None
    return name


def _addresses(value: str | None) -> frozenset[str]:
    """The listed IP addresses, each in its normal spelling (as REMOTE_ADDR has it)."""
    found = set()
    for part in (value or "").split(","):
        if part.strip():
            try:
                found.add(str(ipaddress.ip_address(part.strip())))
            except ValueError:
                raise ImproperlyConfiguredError(BAD_PROXY_ADDRESS.format(value=part.strip())) from None
    return frozenset(found)


def _days(value: str | None) -> int | None:
    """A whole number of days, at least 1; None when the variable is unset or blank (the app's default then)."""
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ImproperlyConfiguredError(BAD_TOKEN_DAYS.format(value=text))
    return int(text)


def read_environment(environ: os._Environ[str] | dict[str, str] | None = None) -> Environment:
    """Read every onaboard variable once."""
    env = os.environ if environ is None else environ
    hosts = tuple(h.strip() for h in (env.get("ONABOARD_ALLOWED_HOSTS") or "").split(",") if h.strip())
    return Environment(
        secret_key=env.get("ONABOARD_SECRET_KEY") or None,
        allowed_hosts=hosts,
        debug=_flag(env.get("ONABOARD_DEBUG")),
        database_url=env.get("DATABASE_URL") or None,
        test_database_url=env.get("ONABOARD_TEST_DATABASE_URL") or None,
        data_dir=Path(env.get("ONABOARD_DATA_DIR") or REPO_ROOT / "var"),
        static_root=Path(env["ONABOARD_STATIC_ROOT"]) if env.get("ONABOARD_STATIC_ROOT") else None,
        time_zone=_time_zone(env.get("ONABOARD_TIME_ZONE")),
        trusted_proxies=_addresses(env.get("ONABOARD_TRUSTED_PROXIES")),
        api_token_days=_days(env.get("ONABOARD_API_TOKEN_DAYS")),
    )


ENV = read_environment()
