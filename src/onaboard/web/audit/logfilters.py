"""Keeping patient data out of the logs.

Logs are read by people and kept in places the audit trail's protections do not reach, so onaboard logs no patient
data. Paths hold only UUIDs and dates; what could carry names or birth dates is a query string (a worklist search
for a name), a request body (never logged by onaboard or Django), an SQL statement with its parameters (Django's
``django.db.backends`` logger, kept at WARNING in settings.LOGGING, so not even DEBUG shows it) and a database
error's detail (PostgreSQL's ``DETAIL: Key (record_number)=(...)`` names the values). ``NoPatientDataFilter`` is on
every handler in settings.LOGGING: it cuts the query string from every URL in a message and the values from a
database error's detail, in the message and in a logged exception's text alike. The test that proves it is
``tests/e2e/test_logs.py``: a browser run over the demo clinic with every log captured, then searched for the demo
patients' names and birth dates.

A web server in front of Django keeps its own access log: it must log the path without the query string too
(gunicorn: ``%(U)s`` rather than ``%(r)s`` in ``--access-logformat``).
"""

from __future__ import annotations

import logging
import re

QUERY_STRING = re.compile(r"(?P<url>(?:https?://[^\s?\"']+)?/[^\s?\"']*)\?[^\s\"']*")
"""A URL or path followed by ``?query``: the query is dropped."""
KEY_DETAIL = re.compile(r"(?P<head>Key \([^)]*\))=\((?:[^()]|\([^()]*\))*\)")
"""PostgreSQL's ``Key (column)=(value)`` in a constraint error's detail: the value is dropped."""
REDACTED_QUERY = "?[query removed]"
REDACTED_VALUE = "=([value removed])"


def redact(text: str) -> str:
    """``text`` with query strings and database key values removed."""
    text = QUERY_STRING.sub(lambda match: match.group("url") + REDACTED_QUERY, text)
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
