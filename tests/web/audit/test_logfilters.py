"""Logged messages lose query strings and database key values (audit/logfilters.py)."""

from __future__ import annotations

import logging
import sys

from gunicorn.config import Config

from onaboard.web.audit.logfilters import NO_PATIENT_DATA, GunicornLogger, NoPatientDataFilter, redact


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


def test_a_failing_rows_values_are_cut_from_a_not_null_or_check_violation():
    """PostgreSQL's 'Failing row contains (...)' detail (a NOT NULL or CHECK violation) loses the whole row, a value
    with brackets, commas, a query string or a line break in it too, and the rest of the message is kept."""
    detail = (
        'null value in column "drug" of relation "outcomes_preventive" violates not-null constraint\n'
        "DETAIL:  Failing row contains (7, Robin (Bobby), Ashdown, 1984-02-29, /x?y=z), note one\nline two, null).\n"
        "\nThe above exception was the direct cause of the following exception:"
    )
    assert redact(detail) == (
        'null value in column "drug" of relation "outcomes_preventive" violates not-null constraint\n'
        "DETAIL:  Failing row contains ([values removed]).\n"
        "\nThe above exception was the direct cause of the following exception:"
    )
    cut_short = "DETAIL:  Failing row contains (7, Robin, Ashdown, 1984-02-29\nnext line"
    assert redact(cut_short) == "DETAIL:  Failing row contains ([values removed])\nnext line"


def test_an_exclusion_constraints_existing_key_loses_its_value_too():
    """'conflicts with existing key (column)=(value)' (lower-case key) loses the value as 'Key (...)' does."""
    detail = "Key (patient_id)=(41) conflicts with existing key (patient_id)=(Ashdown)."
    assert (
        redact(detail)
        == "Key (patient_id)=([value removed]) conflicts with existing key (patient_id)=([value removed])."
    )


def test_gunicorns_refusal_of_a_malformed_request_loses_what_the_client_sent():
    """gunicorn's warning about a search sent with an unencoded space keeps the address and the reason, not the name
    it quotes; a refusal that quotes nothing is left alone."""
    assert redact("Invalid request from ip=10.0.0.7: Invalid HTTP Version: 'Ashdown HTTP/1.1'") == (
        "Invalid request from ip=10.0.0.7: Invalid HTTP Version: [request text removed]"
    )
    assert redact('Invalid request from ip=10.0.0.7: Invalid HTTP Version: "Ashdown\'s HTTP/1.1"') == (
        "Invalid request from ip=10.0.0.7: Invalid HTTP Version: [request text removed]"
    )
    assert redact("Invalid request from ip=10.0.0.7: Request Line is too large (7826 > 4094)") == (
        "Invalid request from ip=10.0.0.7: Request Line is too large (7826 > 4094)"
    )


def test_gunicorns_own_log_goes_through_the_filter(capsys):
    """With ``--logger-class`` set to GunicornLogger, gunicorn's error log loses the quoted request text and a
    failed request's query, and its access log handler carries the filter too, after a reconfiguration as well."""
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    logger.setup(cfg)
    logger.warning("Invalid request from ip=10.0.0.7: Invalid HTTP Version: 'Ashdown HTTP/1.1'")
    logger.error("Error handling request %s %s", "GET", "/worklist/?q=Robin+Ashdown")
    logged = capsys.readouterr().err
    assert "Invalid HTTP Version: [request text removed]" in logged
    assert "Error handling request GET /worklist/?[query removed]" in logged
    assert "Ashdown" not in logged
    handlers = [*logger.error_log.handlers, *logger.access_log.handlers]
    assert len(logger.access_log.handlers) == 1
    assert all(handler.filters == [NO_PATIENT_DATA] for handler in handlers)
