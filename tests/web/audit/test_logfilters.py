"""Logged messages lose query strings and database key values (audit/logfilters.py)."""

from __future__ import annotations

import logging
import sys

from onaboard.web.audit.logfilters import NoPatientDataFilter, redact


def _record(msg, *args, exc_info=None):
    return logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, exc_info)


def test_query_strings_are_cut_from_request_lines():
    """A runserver request line keeps its path and status but not the searched name."""
    record = _record('"%s" %s %s', "GET /worklist/?q=Ashdown&state=due HTTP/1.1", "200", "5120")
    NoPatientDataFilter().filter(record)
    assert record.getMessage() == '"GET /worklist/?[query removed] HTTP/1.1" 200 5120'


def test_full_urls_and_paths_without_queries_are_kept():
    """An absolute URL loses its query; a path without one is left alone."""
    assert redact("see https://clinic.example/patients/?name=Robin now") == (
        "see https://clinic.example/patients/?[query removed] now"
    )
    assert redact("Not Found: /patients/0b0e/") == "Not Found: /patients/0b0e/"


def test_database_key_values_are_cut_from_exceptions():
    """PostgreSQL's 'Key (column)=(value)' detail loses the value, in the logged traceback too."""
    try:
        raise ValueError("DETAIL:  Key (clinic_id, record_number)=(1, DEMO-0001) already exists.")
    except ValueError:
        record = _record("Internal Server Error: %s", "/patients/new/?given_name=Robin", exc_info=sys.exc_info())
    NoPatientDataFilter().filter(record)
    assert record.getMessage() == "Internal Server Error: /patients/new/?[query removed]"
    assert "Key (clinic_id, record_number)=([value removed])" in record.exc_text
    assert "DEMO-0001" not in record.exc_text
