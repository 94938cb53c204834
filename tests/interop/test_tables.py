"""Preventive-history and sessions CSV files (onaboard/interop/tables.py): written, read back, refused by row."""

from __future__ import annotations

import datetime as dt

import pytest

from onaboard.clinical import diary
from onaboard.interop import tables
from onaboard.interop.fhir.records import SITE_NOT_GIVEN, PreventiveRecord, SessionRecord, SiteRecord

CLASSES = ("beta_blocker", "anticonvulsant", "other")
REASONS = ("ineffective", "not_tolerated", "ongoing", "other")
TODAY = dt.date(2026, 3, 1)


def test_preventives_round_trip():
    """A preventive history written and read back gives the same trials, keyed by patient."""
    trials = [
        PreventiveRecord("", "propranolol", "beta_blocker", dt.date(2024, 1, 1), dt.date(2024, 4, 1), "ineffective",
                         "80 mg, daily"),
        PreventiveRecord("", "topiramate", "anticonvulsant", dt.date(2024, 5, 1), None, "ongoing"),
    ]  # fmt: skip
    text = tables.write_preventives("MRN-1", trials)
    assert tables.read_preventives(text, classes=CLASSES, reasons=REASONS) == {"MRN-1": trials}


def test_sessions_round_trip():
    """Booked and recorded sessions with their sites come back from the CSV unchanged."""
    sessions = [
        SessionRecord("", dt.date(2026, 1, 5), "recorded", 200, 1, 10, 190, "C1", dt.date(2027, 1, 1),
                      override_reason="fainted after two sites",
                      sites=(SiteRecord("procerus", "midline", 5), SiteRecord("trapezius", "left", 5, True))),
        SessionRecord("", dt.date(2026, 3, 30), "booked"),
    ]  # fmt: skip
    text = tables.write_sessions("MRN-1", sessions)
    assert tables.read_sessions(text, today=TODAY) == {"MRN-1": sessions}


def read_sessions(text: str):
    return tables.read_sessions(text, today=TODAY)


def _problems(call, text: str) -> list[str]:
    with pytest.raises(tables.TableError) as refused:
        call(text)
    return [str(problem) for problem in refused.value.problems]


def test_every_bad_preventive_row_is_reported_by_line_and_column():
    """An unknown class, a stop before the start, a bad date and a repeated trial are each named; nothing is read."""
    text = (
        "patient_id,drug,drug_class,start,stop,stop_reason\n"
        "MRN-1,propranolol,beta,2024-01-01,,ineffective\n"
        "MRN-1,topiramate,anticonvulsant,2024-05-01,2024-04-01,other\n"
        "MRN-1,amitriptyline,other,01/05/2024,,other\n"
        "MRN-2,x,other,2024-01-01,,other\n"
        "MRN-2,x,other,2024-01-01,,ongoing\n"
    )
    problems = _problems(lambda t: tables.read_preventives(t, classes=CLASSES, reasons=REASONS), text)
    assert problems == [
        "line 2, column drug_class: must be one of beta_blocker, anticonvulsant, other (got 'beta')",
        "line 3, column stop: stop 2024-04-01 is before start 2024-05-01",
        "line 4, column start: date must be YYYY-MM-DD (got '01/05/2024')",
        "line 6: second row for patient MRN-2 with the same drug and start (the first is on line 5)",
    ]


def test_a_repeated_trial_spelled_in_other_letter_case_is_refused():
    """ "Propranolol" and "propranolol" from one start are one trial (``medicine_key``, as the coverage engine counts
    medicines and the import matches them): the second row is refused, as an exact repeat is."""
    text = (
        "patient_id,drug,drug_class,start,stop,stop_reason\n"
        "MRN-1,propranolol,beta_blocker,2024-01-01,,ineffective\n"
        "MRN-1,Propranolol,beta_blocker,2024-01-01,,ineffective\n"
        "MRN-1,Propranolol,beta_blocker,2024-06-01,,ineffective\n"
    )
    problems = _problems(lambda t: tables.read_preventives(t, classes=CLASSES, reasons=REASONS), text)
    assert problems == ["line 3: second row for patient MRN-1 with the same drug and start (the first is on line 2)"]


def test_bad_quoting_is_listed_after_the_problems_of_the_rows_before_it():
    """As in the diary: bad quoting stops the reading, and the rows read before it keep their problems."""
    text = (
        "patient_id,drug,drug_class,start,stop,stop_reason\n"
        "MRN-1,propranolol,beta,2024-01-01,,ineffective\n"
        'MRN-1,"topiramate,anticonvulsant,2024-05-01,,other\n'
    )
    problems = _problems(lambda t: tables.read_preventives(t, classes=CLASSES, reasons=REASONS), text)
    assert len(problems) == 2
    assert problems[0].startswith("line 2, column drug_class: ")
    assert problems[1] == "line 3: malformed CSV: unexpected end of data"


def test_a_recorded_session_needs_its_product_and_sites_that_add_up():
    """A recorded row without lot and expiry, with a bad site and sites not adding up to the total, is refused."""
    text = (  # two sites: departing from the label, they need an override reason
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
        "MRN-1,2026-01-05,recorded,15,,,procerus:midline:5;nose:left:5,agreed\n"
        "MRN-1,2026-01-06,done,,,,,\n"
    )
    assert _problems(read_sessions, text) == [
        "line 2, column sites: site 'nose:left:5' must be muscle:side:units, with :ftp for a follow-the-pain site",
        "line 2, column lot: a recorded session needs a lot",
        "line 2, column expiry: a recorded session needs an expiry date",
        "line 2, column sites: the sites add up to 5 U, not the total of 15 U",
        "line 3, column status: must be one of booked, recorded, cancelled (got 'done')",
    ]


def test_a_recorded_session_happened_and_holds_at_most_the_labels_dose():
    """A session recorded after today (a session to come is booked) and one of more than the 195 U a session may
    hold are problems of their row and column; a booking after today and 195 U recorded today are read."""
    text = (  # the one-site doses depart from the label, which needs an override reason
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason\n"
        "MRN-1,2026-03-02,recorded,5,C1,2027-01-01,procerus:midline:5,agreed\n"
        "MRN-1,2026-02-01,recorded,600,C1,2027-01-01,trapezius:left:600,agreed\n"
        "MRN-1,2026-03-01,recorded,195,C1,2027-01-01,trapezius:left:195,agreed\n"
        "MRN-1,2026-06-01,booked,,,,,\n"
    )
    assert _problems(read_sessions, text) == [
        (
            "line 2, column date: a recorded session on 2026-03-02 is after today (2026-03-01): only what has "
            "happened is imported"
        ),
        (
            "line 3, column total_units: a session of 600 U is above 195 U, the most a session holds (PREEMPT with "
            "follow-the-pain)"
        ),
    ]
    assert len(read_sessions(text.replace("2026-03-02", "2026-02-02").replace("600", "5"))["MRN-1"]) == 4


def test_the_header_is_checked_like_the_diarys():
    """An unknown column and a missing required column are problems on line 1; an empty file is refused."""
    assert _problems(read_sessions, "patient_id,when\n") == [
        f"line 1, column when: {diary.UNKNOWN_COLUMN.format(expected=', '.join(tables.SESSION_COLUMNS))}",
        "line 1, column date: required column is missing",
        "line 1, column status: required column is missing",
    ]
    assert _problems(read_sessions, "") == [f"line 1: {diary.EMPTY_FILE}"]


def test_the_rows_are_checked_even_when_the_header_has_problems():
    """As in the diary: an unknown column does not hide a row's problem; a missing required column is the one
    problem on line 1."""
    text = "patient_id,date,status,when\nMRN-1,2026-01-05,done,x\n"
    assert _problems(read_sessions, text) == [
        f"line 1, column when: {diary.UNKNOWN_COLUMN.format(expected=', '.join(tables.SESSION_COLUMNS))}",
        "line 2, column status: must be one of booked, recorded, cancelled (got 'done')",
    ]
    assert _problems(read_sessions, "patient_id,status\nMRN-1,booked\nMRN-1,done\n") == [
        "line 1, column date: required column is missing",
    ]


def test_digits_other_than_ascii_are_problems_not_crashes():
    """'²' passes str.isdigit() but not int(): a units value or a site's units written with it is a problem of its
    row and column, like any other bad number."""
    text = (
        "patient_id,date,status,total_units,lot,expiry,sites\n"
        "MRN-1,2026-01-05,recorded,1\u00b2,C1,2027-01-01,procerus:midline:\u00b2\n"
    )
    problems = _problems(read_sessions, text)
    assert problems[0].startswith("line 2, column total_units:")
    assert any(p.startswith("line 2, column sites: site 'procerus:midline:\u00b2'") for p in problems)


def test_cancelled_sessions_may_share_a_day_and_other_sessions_may_not():
    """Two cancelled bookings and the booking kept on one day are read (the export writes them so); a second booked
    row on that day is a problem of its line."""
    header = "patient_id,date,status\n"
    rows = "MRN-1,2026-03-30,cancelled\nMRN-1,2026-03-30,cancelled\nMRN-1,2026-03-30,booked\n"
    assert [s.status for s in tables.read_sessions(header + rows, today=TODAY)["MRN-1"]] == [
        "cancelled",
        "cancelled",
        "booked",
    ]
    problems = _problems(read_sessions, header + rows + "MRN-1,2026-03-30,booked\n")
    assert len(problems) == 1
    assert problems[0].startswith("line 5: second row for patient MRN-1")


def test_numbers_and_text_beyond_what_the_record_stores_are_problems_of_their_row():
    """A number past the database's integer (it was an overflow error) and text longer than the record's field (it
    was one problem on line 1, or stored cut) are each a problem of their row and column."""
    sessions = (  # one site: departing from the label, it needs an override reason
        "patient_id,date,status,vials_used,total_units,lot,expiry,sites,override_reason\n"
        f"MRN-1,2026-01-05,recorded,99999999999999999999,5,{'L' * 41},2027-01-01,procerus:midline:5,agreed\n"
    )
    assert _problems(read_sessions, sessions) == [
        f"line 2, column vials_used: must be at most {tables.MAX_NUMBER} (got 99999999999999999999)",
        "line 2, column lot: must be at most 40 characters (got 41)",
    ]
    preventives = (
        "patient_id,drug,drug_class,start,stop,stop_reason,dose\n"
        f"MRN-1,propranolol,beta_blocker,2024-01-01,,ongoing,{'d' * 101}\n"
        f"MRN-1,{'p' * 101},beta_blocker,2024-02-01,,ongoing,\n"
    )
    assert _problems(lambda t: tables.read_preventives(t, classes=CLASSES, reasons=REASONS), preventives) == [
        "line 2, column dose: must be at most 100 characters (got 101)",
        "line 3, column drug: must be at most 100 characters (got 101)",
    ]


def test_site_units_past_the_database_integer_are_a_problem_at_the_sites_column():
    """A site's units past the database's integer are refused at the sites column by the reader itself (a booked
    row with them reached the database and overflowed; a booked row now gives no sites at all)."""
    text = (
        "patient_id,date,status,lot,expiry,total_units,sites,override_reason\n"
        "MRN-1,2026-02-01,recorded,C1,2027-01-01,5,corrugator:left:99999999999999999999,partial\n"
    )
    assert f"line 2, column sites: must be at most {tables.MAX_NUMBER} (got 99999999999999999999)" in _problems(
        read_sessions, text
    )


def test_vials_and_discarded_units_must_be_the_engines_for_the_total():
    """155 U cannot come from one 100 U vial with nothing discarded: a row whose vials used or units discarded
    differ from the engine's for its total (the procedure note and its claim lines come from them) is refused at
    those columns."""
    from onaboard.interop.fhir.records import VIALS_DO_NOT_MATCH

    sites = (SiteRecord("procerus", "midline", 5), SiteRecord("trapezius", "left", 5, True))
    session = SessionRecord(
        "", dt.date(2026, 1, 5), "recorded", 100, 1, 10, 0, "C1", dt.date(2027, 1, 1), "agreed", sites=sites
    )
    text = tables.write_sessions("MRN-1", [session])
    assert _problems(read_sessions, text) == [
        "line 2, column discarded_units: "
        + VIALS_DO_NOT_MATCH.format(given=0, what="units discarded", total=10, vial_units=100, expected=90)
    ]


def test_a_vial_size_of_zero_is_refused_not_read_as_blank():
    """A recorded row with vial_units 0 is refused at its vial_units column with the engine's vial-size message,
    not stored as a 200 U vial the way a blank vial_units is."""
    from onaboard.clinical.preempt import VIAL_SIZE

    header = (
        "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites,override_reason\n"
    )
    row = "MRN-1,2026-01-05,recorded,{vial},1,10,190,C1,2027-01-01,procerus:midline:5;trapezius:left:5:ftp,agreed\n"
    assert read_sessions(header + row.format(vial=""))["MRN-1"][0].vial_units == 200
    assert _problems(read_sessions, header + row.format(vial="0")) == [
        f"line 2, column vial_units: {VIAL_SIZE.format(vial_units=0)}"
    ]


def test_sites_the_session_page_cannot_show_are_refused_at_the_sites_column():
    """The reviewer's rows: procerus on the left, trapezius at the midline and a follow-the-pain corrugator are
    refused at the sites column with the engine's reasons, and a 0 U site (with 155 U at one site, the total still
    adding up) as a site not given, none stored for the session page to fail on."""
    text = (
        "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites\n"
        "MRN-1,2026-02-01,recorded,200,1,155,45,L1,2027-01-01,trapezius:midline:150;corrugator:left:5:ftp\n"
        "MRN-1,2026-02-02,recorded,200,1,155,45,L1,2027-01-01,corrugator:left:155;corrugator:right:0\n"
        "MRN-1,2026-02-03,recorded,200,1,5,195,L1,2027-01-01,procerus:left:5\n"
    )
    assert _problems(read_sessions, text) == [
        (
            "line 2, column sites: site 1 (trapezius midline, 150 U): site: trapezius is injected left or right, "
            "got side midline"
        ),
        (
            "line 2, column sites: site 2 (corrugator left, 5 U): follow-the-pain: corrugator takes no extra sites; "
            "extra sites go only in temporalis (at most 2), occipitalis (at most 2), trapezius (at most 4)"
        ),
        f"line 3, column sites: site 2 (corrugator right, 0 U): {SITE_NOT_GIVEN}",
        "line 4, column sites: site 1 (procerus left, 5 U): site: procerus is a single midline site, got side left",
    ]


def test_a_booked_or_cancelled_row_with_a_product_units_or_sites_is_refused_at_each_column():
    """A booking carries no product, units or sites (they were stored, and recording the booking later added its
    own: 33 sites); a booked or cancelled row giving any is refused at each such column, and the export's booked
    row, which leaves them blank, still reads back."""
    header = (
        "patient_id,date,status,vial_units,vials_used,total_units,discarded_units,lot,expiry,sites,override_reason,"
        "complications\n"
    )
    rows = (
        "MRN-1,2026-11-30,booked,,,,,,,corrugator:left:5;procerus:midline:5,,\n"
        "MRN-1,2026-12-30,cancelled,100,1,,,C1,2027-01-01,,,\n"
    )
    message = tables.NOT_RECORDED_VALUE
    assert _problems(read_sessions, header + rows) == [
        f"line 2, column sites: {message.format(status='booked')}",
        f"line 3, column vial_units: {message.format(status='cancelled')}",
        f"line 3, column vials_used: {message.format(status='cancelled')}",
        f"line 3, column lot: {message.format(status='cancelled')}",
        f"line 3, column expiry: {message.format(status='cancelled')}",
    ]
    booked = SessionRecord("", dt.date(2026, 11, 30), "booked")
    assert read_sessions(tables.write_sessions("MRN-1", [booked])) == {"MRN-1": [booked]}


def test_a_file_that_is_not_utf8_is_reported_at_the_same_line_as_the_diary_reader_reports_it():
    """The sessions reader decodes and checks the header with the diary's own functions: a bad byte on line 4 is
    reported on line 4 by both (the sessions reader said line 1), and an unnamed column alike."""
    from onaboard.clinical.diary import parse_diary
    from onaboard.clinical.errors import DiaryError

    bad = b"patient_id,date,status\nP1,2026-01-01,booked\nP1,2026-01-02,booked\nP1,2026-01-03,\xff\n"
    with pytest.raises(DiaryError) as by_diary:
        parse_diary(bad, today=TODAY)
    assert _problems(read_sessions, bad) == [str(p) for p in by_diary.value.problems] == [f"line 4: {diary.NOT_UTF8}"]
    unnamed = diary.UNNAMED_COLUMN.format(position=4, expected=", ".join(tables.SESSION_COLUMNS))
    assert _problems(read_sessions, "patient_id,date,status,\nP1,2026-01-01,booked,\n") == [f"line 1: {unnamed}"]


def test_a_nul_character_in_any_text_is_a_problem_of_its_line_and_column():
    """A NUL character in a session's complications or a preventive's drug is refused at its line and column (the
    record's text cannot hold one: PostgreSQL answered a DataError, a 500), as the diary refuses it in notes."""
    sessions = (
        "patient_id,date,status,total_units,lot,expiry,sites,override_reason,complications\n"
        "MRN-1,2026-01-05,recorded,5,C1,2027-01-01,procerus:midline:5,partial,bled\x00a little\n"
    )
    assert _problems(read_sessions, sessions) == [f"line 2, column complications: {tables.NUL_IN_TEXT}"]
    preventives = (
        "patient_id,drug,drug_class,start,stop,stop_reason,dose\n"
        "MRN-1,propra\x00nolol,beta_blocker,2024-01-01,,ongoing,\n"
        "MRN-1,topiramate,anticonvulsant,2024-02-01,,ongoing,50\x00mg\n"
    )
    assert _problems(lambda t: tables.read_preventives(t, classes=CLASSES, reasons=REASONS), preventives) == [
        f"line 2, column drug: {tables.NUL_IN_TEXT}",
        f"line 3, column dose: {tables.NUL_IN_TEXT}",
    ]
    assert f"notes {tables.NUL_IN_TEXT}" == diary.NUL_IN_NOTES  # the diary's words, its column named
