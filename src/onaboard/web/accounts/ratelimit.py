"""Rate limits: how many tries one client address, one account name or one API token may make in a time window.

A fixed-window counter per (limit, subject) is a row of ``RateLimitCounter`` (models.py), in the database every
application server process shares, so no process counts on its own. Each event is one atomic upsert (``INSERT ... ON
CONFLICT DO UPDATE ... RETURNING``, PostgreSQL and SQLite >= 3.35 alike; an older SQLite reads the count back in a
second statement): two requests in the same instant count as two, and no request reads or counts the whole table.
The first event of a window deletes the windows that have ended, so the table holds about one row per subject
active in the current windows.

A try is counted *before* it is checked, and refused when the count it gets back is over the limit: a burst of
simultaneous tries gets counts 1, 2, 3, ... and only the first N are checked (looking first and counting after a
failure let every try of a burst through). A try that turns out not to count (a successful sign-in, a refused token
the API accepted after all, a try refused by another limit) is given back (``rate_limit_refund``): the counter's
``refunds`` go up by one, so the count is ``hits - refunds``, the tries that failed or are still being checked.

The limits (``RATE_LIMITS`` in settings, ``"N/seconds"``):

- ``login_address``: failed sign-ins from one client address (a clinic behind one NAT address shares it, hence the
  generous number); ``login_account``: failed sign-ins for one account name, whether or not it exists. The account
  lockout (``LockoutBackend``: 5 failures in a row lock the account for 15 minutes) stops guessing one password;
  these stop one address trying many accounts and cap the tries on one account across lockout periods. An
  administrator lifting an account's lockout clears its name's counters too (``rate_limit_clear``).
- ``api_token``: requests per good API token; ``api_bad_token``: requests with a refused token from one address (a
  good token is never refused by it: the middleware looks a token up before counting it).

A client address is counted as ``rate_limit_address`` (common/addresses.py) gives it: an IPv6 client by its /64
network, which it can draw a fresh address from for every try. An account name is counted as ``account_subject``
gives it: capitals, surrounding spaces and Unicode look-alikes of a name count as the name.

A limited request gets ``429 Too Many Requests`` with ``Retry-After`` (seconds until the window ends) and a message
saying when to try again. Subjects (account names, tokens) are hashed into the counter's key, never stored as such.
"""

from __future__ import annotations

import hashlib
import math
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.http import HttpResponse, JsonResponse
from django.utils.translation import ngettext

from onaboard.web.accounts.models import RateLimitCounter

BAD_RATE = "rate limit {name!r} must look like 'N/seconds' with N >= 1 and seconds >= 1, not {value!r}"


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` events per ``seconds``-long window."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, name: str, value: str) -> Rate:
        """``"20/900"`` -> 20 per 900 seconds."""
        try:
            count, seconds = (int(part) for part in value.split("/"))
        except ValueError:
            raise ValueError(BAD_RATE.format(name=name, value=value)) from None
        if count < 1 or seconds < 1:
            raise ValueError(BAD_RATE.format(name=name, value=value))
        return cls(count, seconds)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether the event is within its limit, the count in this window, and the seconds until the window ends;
    ``key`` names the window's counter, where ``rate_limit_refund`` gives the event back."""

    allowed: bool
    count: int
    retry_after: int
    key: str = field(default="", repr=False)


def rate_for(name: str) -> Rate:
    """The configured rate of the limit ``name`` (settings.RATE_LIMITS)."""
    return Rate.parse(name, settings.RATE_LIMITS[name])


def _key(name: str, subject: str, window: int) -> str:
    digest = hashlib.sha256(subject.encode()).hexdigest()[:32]
    return f"rl:{name}:{digest}:{window}"


def _window(rate: Rate, now: float) -> tuple[int, int]:
    """The current window's number and the whole seconds until it ends (at least 1)."""
    window = int(now // rate.seconds)
    return window, max(1, math.ceil((window + 1) * rate.seconds - now))


def _count_one(key: str, expires: datetime) -> tuple[int, int]:
    """Add one event to the counter ``key`` (created at 1, ending at ``expires``); its events so far (``hits``,
    1 for the first event of a window, whatever was refunded since) and its count (events less refunds)."""
    quote = connection.ops.quote_name
    table = quote(RateLimitCounter._meta.db_table)
    key_column, hits, refunds, ends = (quote(name) for name in ("key", "hits", "refunds", "expires"))
    returning = connection.features.can_return_columns_from_insert  # SQLite before 3.35 has no RETURNING
    # Only the model's own quoted names are formatted in; the values are parameters.
    upsert = (
        f"INSERT INTO {table} ({key_column}, {hits}, {refunds}, {ends}) VALUES (%s, 1, 0, %s) "  # noqa: S608
        f"ON CONFLICT ({key_column}) DO UPDATE SET {hits} = {table}.{hits} + 1"
    )
    params = [key, connection.ops.adapt_datetimefield_value(expires)]
    with connection.cursor() as cursor:
        cursor.execute(upsert + (f" RETURNING {hits}, {refunds}" if returning else ""), params)
        if not returning:  # the count read back may include another process's event: a bound, as ever
            cursor.execute(f"SELECT {hits}, {refunds} FROM {table} WHERE {key_column} = %s", [key])  # noqa: S608
        total, given_back = cursor.fetchone()
    return int(total), int(total) - int(given_back)


def rate_limit_hit(name: str, subject: str, *, now: float | None = None) -> Verdict:
    """Count one event for ``subject`` under limit ``name``; allowed while the count stays within the rate.

    Count a try before checking it, and check it only if allowed: the count returned is this try's place in the
    window, so simultaneous tries cannot all pass. Give back with ``rate_limit_refund`` a try that did not count.
    """
    rate = rate_for(name)
    moment = time.time() if now is None else now
    window, retry_after = _window(rate, moment)
    key = _key(name, subject, window)
    events, count = _count_one(key, datetime.fromtimestamp((window + 1) * rate.seconds, tz=UTC))
    if events == 1:  # a new window: forget the ended ones
        RateLimitCounter.objects.filter(expires__lte=datetime.fromtimestamp(moment, tz=UTC)).delete()
    return Verdict(allowed=count <= rate.count, count=count, retry_after=retry_after, key=key)


def rate_limit_refund(verdict: Verdict) -> None:
    """Give back the event ``rate_limit_hit`` counted for ``verdict``, in the window it was counted in: a try that
    turned out not to count (a successful sign-in, a refused token the API accepted after all, a try another limit
    refused). Nothing happens when that window's counter is gone (ended, or cleared by an administrator)."""
    if verdict.key:
        counter = RateLimitCounter.objects.filter(key=verdict.key, refunds__lt=F("hits"))
        counter.update(refunds=F("refunds") + 1)


def rate_limit_clear(name: str, subject: str) -> int:
    """Forget ``subject``'s events under limit ``name`` in every window (an administrator lifting a lockout);
    the number of counters removed."""
    prefix = _key(name, subject, 0).rpartition(":")[0] + ":"
    deleted, _per_model = RateLimitCounter.objects.filter(key__startswith=prefix).delete()
    return deleted


def account_subject(username: object) -> str:
    """The subject the ``login_account`` limit counts for a name typed at sign-in: case, surrounding spaces and
    Unicode look-alikes do not make a new name. The name is NFKC-normalised first, as the sign-in form does before
    the name is looked up (``UsernameField.to_python``) and as a stored user name is (``normalize_username``): a
    "nurse" typed with a full-width "n" (U+FF4E) signs in as "nurse", so it counts as "nurse" too."""
    return unicodedata.normalize("NFKC", str(username)).strip().lower()[:150]


def rate_limit_peek(name: str, subject: str, *, now: float | None = None) -> Verdict:
    """Whether ``subject`` has used up limit ``name`` in this window, without counting an event."""
    rate = rate_for(name)
    window, retry_after = _window(rate, time.time() if now is None else now)
    key = _key(name, subject, window)
    events, given_back = RateLimitCounter.objects.filter(key=key).values_list("hits", "refunds").first() or (0, 0)
    count = events - given_back
    return Verdict(allowed=count < rate.count, count=count, retry_after=retry_after)


def too_many_requests_message(retry_after: int) -> str:
    """What a limited person reads: how long to wait."""
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many tries. Wait %(minutes)d minute, then try again.",
        "Too many tries. Wait %(minutes)d minutes, then try again.",
        minutes,
    ) % {"minutes": minutes}


def too_many_requests(verdict: Verdict, *, json: bool = False) -> HttpResponse:
    """429 with ``Retry-After``; a JSON body ``{"detail": ...}`` for the API, plain text otherwise."""
    message = too_many_requests_message(verdict.retry_after)
    if json:
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(verdict.retry_after)
    return response
