"""Keeping patient data out of the logs.

Logs are read by people and kept in places the audit trail's protections do not reach, so onaboard logs no patient
data. Paths hold only UUIDs and dates (and a calendar feed's secret, which is cut to its prefix here and in the audit
trail: it is a password); what could carry names or birth dates is a query string (a worklist search
for a name), a request body (never logged by onaboard or Django), an SQL statement with its parameters (Django's
``django.db.backends`` logger, kept at WARNING in settings.LOGGING, so not even DEBUG shows it) and a database
error's detail (PostgreSQL's ``DETAIL: Key (record_number)=(...)`` and ``DETAIL: Failing row contains (...)``
name the values). ``NoPatientDataFilter`` is on every handler in settings.LOGGING: it cuts the query string from
every URL in a message and the values from a database error's detail, in the message and in a logged exception's
text alike. The test that proves it is ``tests/e2e/test_logs.py``: a browser run over the demo clinic with every
log captured, then searched for the demo patients' names and birth dates.

A web server in front of Django keeps its own access log: it must log the path without the query string too
(gunicorn: ``%(U)s`` rather than ``%(r)s`` in ``--access-logformat``). gunicorn's error log quotes what a client
sent when it refuses a malformed request (a search with an unencoded space, ``GET /worklist/?q=Robin Ashdown
HTTP/1.1``, is logged as ``Invalid HTTP Version: 'Ashdown HTTP/1.1'``), so ``onaboard serve`` runs gunicorn with
``GunicornLogger``, which puts the same filter on gunicorn's own handlers, and the filter drops that quoted text.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gunicorn.glogging import Logger as GunicornBaseLogger

QUERY_STRING = re.compile(r"(?P<url>(?:https?://[^\s?\"']+)?/[^\s?\"']*)\?[^\s\"']*")
"""A URL or path followed by ``?query``: the query is dropped."""
KEY_DETAIL = re.compile(r"(?P<head>[Kk]ey \([^)]*\))=\((?:[^()]|\([^()]*\))*\)")
"""PostgreSQL's ``Key (column)=(value)`` in a constraint error's detail (and an exclusion constraint's ``existing
key (column)=(value)``): the value is dropped."""
FAILING_ROW = re.compile(r"Failing row contains \((?:.*?\)(?P<end>\.)(?=[ \t]*(?:\r?\n|$))|[^\n]*)", re.DOTALL)
"""PostgreSQL's ``Failing row contains (...).`` in a NOT NULL or CHECK violation's detail: every value of the row
(names, a birth date, a drug) is dropped. The row ends at the first ``).`` closing a line, so brackets, commas and
line breaks inside values do not end it early; without one, the rest of the line goes."""
INVALID_REQUEST = re.compile(r"(?P<head>Invalid request from ip=\S+: [^'\"\n]*?)\s*['\"].*", re.DOTALL)
"""gunicorn's refusal of a malformed request, quoting the part of the request line or header it could not parse:
the quoted text (and anything after it) is dropped, as nothing tells where a query with spaces in it ends."""
FEED_SECRET = re.compile(r"(?P<head>/calendar/[^/\s?\"']{0,8})[^/\s?\"']*(?P<tail>\.ics)")
"""A calendar feed's address (``/exchange/calendar/<secret>.ics``): the secret is a password a calendar app
presents, so only its first 8 characters (the ``prefix`` the feed list shows) are kept."""
REDACTED_QUERY = "?[query removed]"
REDACTED_SECRET = "[secret removed]"  # noqa: S105 (the placeholder, not a secret)
REDACTED_VALUE = "=([value removed])"
REDACTED_ROW = "Failing row contains ([values removed])"
REDACTED_REQUEST_TEXT = " [request text removed]"


def redact_feed_secrets(text: str) -> str:
    """``text`` with every calendar feed secret in a path cut to its prefix (also the audit trail's paths)."""
    return FEED_SECRET.sub(lambda match: match.group("head") + REDACTED_SECRET + match.group("tail"), text)


def redact(text: str) -> str:
    """``text`` with query strings, feed secrets, database key values and failing rows, and the client's text in
    gunicorn's refusals removed."""
    text = FAILING_ROW.sub(lambda match: REDACTED_ROW + (match.group("end") or ""), text)  # first: a value may hold "?"
    text = INVALID_REQUEST.sub(lambda match: match.group("head") + REDACTED_REQUEST_TEXT, text)
    text = QUERY_STRING.sub(lambda match: match.group("url") + REDACTED_QUERY, text)
    text = redact_feed_secrets(text)
    return KEY_DETAIL.sub(lambda match: match.group("head") + REDACTED_VALUE, text)


class NoPatientDataFilter(logging.Filter):
    """Rewrites each record's message (and exception text) without query strings or database key values."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


NO_PATIENT_DATA = NoPatientDataFilter()
"""The one filter instance gunicorn's handlers share (``addFilter`` adds it once however often setup runs)."""


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger with ``NoPatientDataFilter`` on its error and access log handlers.

    ``onaboard serve`` passes it as ``--logger-class``. gunicorn replaces its handlers at every (re)configuration, so
    the filter is added after each.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.addFilter(NO_PATIENT_DATA)
