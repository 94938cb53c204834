"""The diary CSV contract (shared/spec/diary-csv.md): what is accepted, and every problem reported with its place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onaboard.clinical import diary as diary_module
from onaboard.clinical.diary import COLUMNS, AcuteClass, DiaryDay, Intensity, PatientDiary, parse_diary, write_diary
from onaboard.clinical.errors import DiaryError
from tests.clinical.strategies import TODAY, patient_days

HEADER = "patient_id,date,headache_hours,intensity"


def problems_of(text: str | bytes, today: date = TODAY) -> list[str]:
    """The problem lines a refused file produces."""
    with pytest.raises(DiaryError) as caught:
        parse_diary(text, today=today)
    return [str(problem) for problem in caught.value.problems]


def only_day(text: str):
    (patient,) = parse_diary(text, today=TODAY)
    (day,) = patient.days
    return day


def test_minimal_file_parses_required_columns():
    """A file with only the required columns gives headache-free days with every flag off."""
    day = only_day("patient_id,date,headache_hours\nP1,2026-01-05,0\n")
    assert (day.patient_id, day.date, day.headache_hours, day.intensity) == ("P1", date(2026, 1, 5), 0, None)
    assert not (day.aura)
    assert not (day.nausea)
    assert not (day.acute_medication)


def test_column_order_is_free_and_names_and_values_are_trimmed():
    """Columns may come in any order; spaces around header names and values are trimmed."""
    day = only_day(" intensity , headache_hours ,date,patient_id\n  SEVERE ,  4.5 , 2026-01-05 , P1 \n")
    assert (day.intensity, day.headache_hours, day.patient_id) == (Intensity.SEVERE, Decimal("4.5"), "P1")


def test_a_quoted_value_after_spaces_is_read_as_quoted():
    """Spaces before a quoted value are trimmed like any others: the quotes delimit the value (a comma inside it
    included) instead of becoming part of it."""
    day = only_day('patient_id, date, headache_hours, notes\nP1, "2026-01-05", 0,  "woke early, slept again"\n')
    assert (day.patient_id, day.date, day.notes) == ("P1", date(2026, 1, 5), "woke early, slept again")


def test_byte_order_mark_and_blank_lines_are_ignored():
    """A UTF-8 byte-order mark and blank lines are skipped; line numbers still count physical lines."""
    data = "\ufeffpatient_id,date,headache_hours\n\nP1,2026-01-05,0\n\n".encode()
    (patient,) = parse_diary(data, today=TODAY)
    assert len(patient.days) == 1
    assert problems_of(b"\xef\xbb\xbfpatient_id,date,headache_hours\n\nP1,2026-01-05,x\n") == [
        "line 3, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')"
    ]


@pytest.mark.parametrize(("raw", "expected"), [("1", "mild"), ("2", "moderate"), ("3", "severe"), ("Mild", "mild")])
def test_intensity_accepts_words_in_any_case_and_numbers(raw, expected):
    """Intensity is mild/moderate/severe in any case, or 1/2/3."""
    assert only_day(f"{HEADER}\nP1,2026-01-05,2,{raw}\n").intensity == Intensity(expected)


@pytest.mark.parametrize("raw", ["yes", "Y", "TRUE", "1", "no", "n", "False", "0", ""])
def test_yes_no_accepts_every_documented_spelling(raw):
    """yes/no accepts yes/no, y/n, true/false, 1/0 in any case; blank counts as no."""
    day = only_day(f"{HEADER},nausea\nP1,2026-01-05,2,mild,{raw}\n")
    assert day.nausea is (raw.lower() in {"yes", "y", "true", "1"})


def test_acute_medication_items_are_trimmed_case_free_and_counted_once():
    """Acute classes are ;-separated, trimmed, in any case, and a repeat counts once."""
    day = only_day(f"{HEADER},acute_medication\nP1,2026-01-05,2,mild, Triptan ;SIMPLE_ANALGESIC;triptan\n")
    assert day.acute_medication == {AcuteClass.TRIPTAN, AcuteClass.SIMPLE_ANALGESIC}


def test_header_only_file_holds_no_patients():
    """A header-only file is valid and holds no patients."""
    assert parse_diary("patient_id,date,headache_hours\n", today=TODAY) == ()


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff"])
def test_empty_file_is_an_error(text):
    """An empty file (nothing but blank lines or a byte-order mark) is refused on line 1."""
    assert problems_of(text) == [f"line 1: {diary_module.EMPTY_FILE}"]


def test_header_problems_are_each_reported_on_line_1():
    """Unknown and repeated columns and a missing required column are each a problem on line 1."""
    assert problems_of("patient_id,date,date,headache_hour\nP1,2026-01-05,2026-01-05,1\n") == [
        f"line 1, column date: {diary_module.REPEATED_COLUMN}",
        f"line 1, column headache_hour: {diary_module.UNKNOWN_COLUMN.format(expected=', '.join(diary_module.COLUMNS))}",
        f"line 1, column headache_hours: {diary_module.MISSING_COLUMN}",
    ]


def test_the_rows_are_checked_even_when_the_header_has_problems():
    """Every problem is listed: an unknown or repeated column does not hide the rows' problems (the unknown column
    is ignored, the repeated one read from its first place); a missing required column is the one problem on line
    1, as no row can be read without it."""
    text = "patient_id,date,headache_hours,date,foo\nP1,2026-01-05,x,2026-01-06,1\nP1,2026-13-01,2,,\n"
    assert problems_of(text) == [
        f"line 1, column date: {diary_module.REPEATED_COLUMN}",
        f"line 1, column foo: {diary_module.UNKNOWN_COLUMN.format(expected=', '.join(diary_module.COLUMNS))}",
        "line 2, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')",
        "line 3, column date: date 2026-13-01 does not exist",
        "line 3, column intensity: intensity is required when headache_hours is above 0",
    ]
    assert problems_of("patient_id,date,foo\nP1,2026-01-05,x\nP2,2026-02-30,y\n") == [
        f"line 1, column foo: {diary_module.UNKNOWN_COLUMN.format(expected=', '.join(diary_module.COLUMNS))}",
        f"line 1, column headache_hours: {diary_module.MISSING_COLUMN}",
    ]


def test_a_nul_character_in_notes_is_refused_only_for_storing():
    """The contract's notes are free text, so the file commands read a note holding a NUL character; for the app's
    database (PostgreSQL text cannot store one) it is a problem of the row's notes, as the FHIR import refuses it."""
    text = "patient_id,date,headache_hours,notes\nP1,2026-01-05,0,ok\x00then\n"
    (patient,) = parse_diary(text, today=TODAY)
    assert patient.days[0].notes == "ok\x00then"
    with pytest.raises(DiaryError) as refused:
        parse_diary(text, today=TODAY, stored=True)
    assert [str(problem) for problem in refused.value.problems] == [
        f"line 2, column notes: {diary_module.NUL_IN_NOTES}"
    ]


def test_every_row_problem_is_reported_with_line_and_column():
    """A refused file lists every problem, in file order, as `line N, column C: what is wrong`."""
    text = (
        "patient_id,date,headache_hours,intensity,nausea,acute_medication\n"
        "P 1,2026-02-30,25,,maybe,aspirin\n"
        ",,,,,triptan;\n"
        "P1,2026/01/05,-1,severe,,\n"
    )
    assert problems_of(text) == [
        "line 2, column patient_id: patient id must be 1-64 characters of A-Z a-z 0-9 . _ - (got 'P 1')",
        "line 2, column date: date 2026-02-30 does not exist",
        "line 2, column headache_hours: headache hours must be a number from 0 to 24 (got '25')",
        "line 2, column nausea: must be yes/no, y/n, true/false or 1/0 (got 'maybe')",
        (
            "line 2, column acute_medication: unknown acute medication class 'aspirin' (known: triptan, ergot, "
            "simple_analgesic, combination_analgesic, opioid, gepant, ditan, other)"
        ),
        "line 3, column patient_id: a value is required",
        "line 3, column date: a value is required",
        "line 3, column headache_hours: a value is required",
        "line 3, column acute_medication: empty item in the ;-separated list of classes",
        "line 4, column date: date must be YYYY-MM-DD (got '2026/01/05')",
        "line 4, column headache_hours: headache hours must be a number from 0 to 24 (got '-1')",
    ]


@pytest.mark.parametrize(
    ("hours", "valid"),
    [
        ("0", True),
        ("24", True),
        ("24.0", True),
        ("24.01", False),
        ("3.5", True),
        ("1e1", False),
        (".5", False),
        ("abc", False),
    ],
)
def test_headache_hours_must_be_a_decimal_from_0_to_24(hours, valid):
    """Hours are digits with an optional fraction, from 0 to 24 inclusive."""
    text = f"{HEADER}\nP1,2026-01-05,{hours},{'mild' if hours not in {'0'} else ''}\n"
    if valid:
        assert only_day(text).headache_hours == Decimal(hours)
    else:
        assert problems_of(text) == [
            f"line 2, column headache_hours: headache hours must be a number from 0 to 24 (got {hours!r})"
        ]


def test_a_refused_value_is_repeated_in_its_message_up_to_20_characters():
    """A message repeats at most 20 characters of a refused value, then "…", and keeps its line and column; a
    value of 20 characters is repeated whole."""
    long_hours, long_class = "1" * 100_000, "x" * 21
    text = (
        "patient_id,date,headache_hours,intensity,nausea,acute_medication\n"
        f"{'p' * 65},{'9' * 30},{long_hours},{'s' * 30},{'y' * 30},{long_class}\n"
        f"P1,2026-01-05,{'2' * 20},{'m' * 20},,\n"
    )
    assert problems_of(text) == [
        f"line 2, column patient_id: patient id must be 1-64 characters of A-Z a-z 0-9 . _ - (got '{'p' * 20}…')",
        f"line 2, column date: date must be YYYY-MM-DD (got '{'9' * 20}…')",
        f"line 2, column headache_hours: headache hours must be a number from 0 to 24 (got '{'1' * 20}…')",
        f"line 2, column intensity: intensity must be mild, moderate, severe, 1, 2 or 3 (got '{'s' * 20}…')",
        f"line 2, column nausea: must be yes/no, y/n, true/false or 1/0 (got '{'y' * 20}…')",
        (
            f"line 2, column acute_medication: unknown acute medication class '{'x' * 20}…' (known: triptan, ergot, "
            "simple_analgesic, combination_analgesic, opioid, gepant, ditan, other)"
        ),
        f"line 3, column headache_hours: headache hours must be a number from 0 to 24 (got '{'2' * 20}')",
        f"line 3, column intensity: intensity must be mild, moderate, severe, 1, 2 or 3 (got '{'m' * 20}')",
    ]


def test_patient_id_length_limit_is_64():
    """A patient id of 64 characters is accepted and one of 65 refused."""
    assert only_day(f"{HEADER}\n{'a' * 64},2026-01-05,0,\n").patient_id == "a" * 64
    assert problems_of(f"{HEADER}\n{'a' * 65},2026-01-05,0,\n")[0].startswith("line 2, column patient_id:")


def test_a_date_after_today_is_refused_and_today_is_accepted():
    """A row dated after today is an error; a row dated today is not."""
    assert only_day(f"{HEADER}\nP1,2026-11-28,0,\n").date == TODAY
    assert problems_of(f"{HEADER}\nP1,2026-11-29,0,\n") == [
        "line 2, column date: date 2026-11-29 is after today (2026-11-28)"
    ]


def test_a_second_row_for_the_same_day_names_the_first_line():
    """The later of two rows for one patient and date is reported, naming the earlier line."""
    text = f"{HEADER}\nP1,2026-01-05,0,\nP2,2026-01-05,0,\nP1,2026-01-05,3,mild\n"
    assert problems_of(text) == [
        "line 4, column date: second row for patient P1 on 2026-01-05 (the first is on line 2)"
    ]


def test_line_numbers_are_physical_lines_where_a_record_starts():
    """A quoted note spanning lines moves later records' line numbers down."""
    text = f'{HEADER},notes\nP1,2026-01-05,0,,"two\nlines"\n\nP1,2026-01-06,x,,\n'
    assert problems_of(text) == [
        "line 5, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')"
    ]


def test_bad_quoting_is_listed_after_the_problems_of_the_rows_before_it():
    """Bad quoting stops the reading, but the rows read before it keep their problems: every problem is listed."""
    text = f'{HEADER}\nP1,2026-01-05,x,\nP1,"2026-01-06,0,\n'
    assert problems_of(text) == [
        "line 2, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')",
        "line 3: malformed CSV: unexpected end of data",
    ]


def test_a_quote_never_closed_is_reported_on_the_line_it_opens():
    """A stray opening quote swallows the rest of the file into one value; the problem names the line where that
    record starts, as the contract's N is, and says a quote opened there is never closed (it named the last line
    of the file: 'line 7: malformed CSV: unexpected end of data')."""
    rows = [f"P1,2026-01-0{day},2,mild" for day in range(1, 6)]
    rows[1] = 'P1,2026-01-02,2,"x'
    problems = problems_of(HEADER + "\n" + "\n".join(rows) + "\n")
    detail = diary_module.QUOTE_NEVER_CLOSED.format(last=6)
    assert problems == [f"line 3: {diary_module.MALFORMED_CSV.format(detail=detail)}"]
    assert problems[0].startswith("line 3: malformed CSV: ")
    assert "never closed" in problems[0]


def test_a_quote_never_closed_on_the_last_line_keeps_its_message():
    """A quote opened on the file's last line is reported there as before: the file ends on the line named."""
    assert problems_of(f'{HEADER}\nP1,2026-01-05,2,mild\nP1,"2026-01-06,0,\n') == [
        "line 3: malformed CSV: unexpected end of data"
    ]


def test_bad_quoting_inside_a_multiline_record_is_reported_on_the_line_it_starts():
    """A closing quote followed by more text is reported on the line where its record starts, not the line the
    reader had reached."""
    text = f'{HEADER},notes\nP1,2026-01-05,0,,"two\nlines"x\nP1,2026-01-06,0,,\n'
    (problem,) = problems_of(text)
    assert problem.startswith("line 2: malformed CSV: ")


def test_intensity_is_required_on_a_headache_day_and_blank_on_a_headache_free_day():
    """Intensity is required when hours > 0 and must be blank when hours are 0."""
    assert problems_of(f"{HEADER}\nP1,2026-01-05,0.5,\nP1,2026-01-06,0,mild\n") == [
        f"line 2, column intensity: {diary_module.INTENSITY_REQUIRED}",
        f"line 3, column intensity: {diary_module.INTENSITY_ON_HEADACHE_FREE_DAY}",
    ]


def test_pain_features_must_be_blank_or_no_on_a_headache_free_day():
    """On a 0-hour day pain features may be blank or no, never yes."""
    header = "patient_id,date,headache_hours,unilateral,photophobia"
    assert only_day(f"{header}\nP1,2026-01-05,0,no,\n").unilateral is False
    assert problems_of(f"{header}\nP1,2026-01-05,0,yes,1\n") == [
        "line 2, column unilateral: must be blank or no when headache_hours is 0 (got 'yes')",
        "line 2, column photophobia: must be blank or no when headache_hours is 0 (got '1')",
    ]


def test_aura_medication_and_belief_may_be_given_on_a_headache_free_day():
    """Aura without headache (ICHD-3 1.2.1.2), acute medication, relief and belief are allowed on a 0-hour day."""
    header = "patient_id,date,headache_hours,aura,acute_medication,acute_relief,believed_migraine"
    day = only_day(f"{header}\nP1,2026-01-05,0,yes,triptan,yes,yes\n")
    assert day.aura
    assert day.acute_relief
    assert day.believed_migraine
    assert day.acute_medication == {AcuteClass.TRIPTAN}


def test_a_row_with_more_fields_than_the_header_is_refused():
    """A row with extra fields is an error naming the counts; a short row leaves the missing columns blank."""
    assert problems_of(f"{HEADER}\nP1,2026-01-05,0,,extra\n") == ["line 2: row has 5 fields but the header has 4"]
    assert only_day(f"{HEADER}\nP1,2026-01-05,0\n").intensity is None


def test_invalid_utf8_is_refused_with_its_line():
    """Bytes that are not UTF-8 are refused, naming the line they are on."""
    assert problems_of(b"patient_id,date,headache_hours,notes\nP1,2026-01-05,0,caf\xe9\n") == [
        f"line 2: {diary_module.NOT_UTF8}"
    ]


def test_patients_are_sorted_by_id_and_days_by_date():
    """Patients come back sorted by id as code points, each patient's days by date."""
    text = f"{HEADER}\nb,2026-01-06,0,\nP2,2026-01-06,0,\nP10,2026-01-07,0,\nP10,2026-01-05,0,\n"
    patients = parse_diary(text, today=TODAY)
    assert [p.patient_id for p in patients] == ["P10", "P2", "b"]
    assert [d.date.day for d in patients[0].days] == [5, 7]


@settings(max_examples=60, deadline=None)
@given(st.lists(patient_days(max_days=40), min_size=0, max_size=3))
def test_writing_then_reading_a_diary_gives_the_same_days(groups):
    """Export then import is lossless for any valid diary."""
    days = [
        type(day)(**{**{f: getattr(day, f) for f in day.__slots__}, "patient_id": f"P{i}"})
        for i, group in enumerate(groups)
        for day in group
    ]
    parsed = parse_diary(write_diary(days), today=TODAY)
    assert [day for patient in parsed for day in patient.days] == sorted(days, key=lambda d: (d.patient_id, d.date))


def test_notes_with_carriage_returns_quotes_and_commas_round_trip():
    """A note holding a lone CR (pasted from an old Mac), CRLF, LF, quotes and commas is written quoted and read
    back the same: the row does not split."""
    notes = ("first\rsecond", "a\r\nb", "line\nbreak", 'said "ouch", twice', "")
    blanks = [""] * (len(COLUMNS) - 4)  # the columns between the hours and the notes
    text = "".join(
        ",".join(["P1", f"2026-01-0{i + 1}", "0", *blanks, _csv_field(note)]) + "\n" for i, note in enumerate(notes)
    )
    (patient,) = parse_diary(f"{','.join(COLUMNS)}\n{text}", today=TODAY)
    assert [day.notes for day in patient.days] == list(notes)
    (again,) = parse_diary(write_diary(patient.days), today=TODAY)
    assert again.days == patient.days


def _csv_field(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if value else ""


def test_a_stored_days_notes_are_held_to_the_diary_pages_limit_each_line_break_counted_once():
    """Notes longer than NOTES_MAX_CHARACTERS are refused at the notes column of a day to be stored (an import left
    days the patient could not save on the diary page); CR LF counts as one, as the page keeps it; the contract's
    own reading takes any length."""
    limit = diary_module.NOTES_MAX_CHARACTERS
    at_limit = "a" * (limit - 2) + "\r\nb"  # limit characters with the line break counted once
    text = f'patient_id,date,headache_hours,notes\nP1,2026-01-05,0,"{at_limit}"\nP1,2026-01-06,0,{"c" * (limit + 1)}\n'
    with pytest.raises(DiaryError) as refused:
        parse_diary(text, today=TODAY, stored=True)
    message = diary_module.NOTES_TOO_LONG.format(limit=limit, length=limit + 1)
    assert [str(problem) for problem in refused.value.problems] == [
        f"line 4, column notes: {message}"
    ]  # row 1 is 2 lines
    (patient,) = parse_diary(text, today=TODAY)
    assert [len(day.notes) for day in patient.days] == [limit + 1, limit + 1]


def test_a_note_longer_than_pythons_csv_field_limit_reads_back_and_is_judged_at_its_line():
    """A diary exported with a 140,000-character note (past the csv module's 131,072 default) reads back, and a day
    to be stored is refused at its notes column instead of as malformed CSV; the process's csv field limit is raised
    to CSV_FIELD_MAX_CHARACTERS, a bound, not without limit."""
    import csv

    previous = csv.field_size_limit(131_072)  # the csv module's default, whatever ran before
    try:
        day = only_day("patient_id,date,headache_hours\nP1,2026-01-05,0\n")
        long_day = type(day)(day.patient_id, day.date, day.headache_hours, notes="n" * 140_000)
        text = write_diary([long_day])
        (patient,) = parse_diary(text, today=TODAY)
        assert patient.days == (long_day,)
        with pytest.raises(DiaryError) as refused:
            parse_diary(text, today=TODAY, stored=True)
        limit = diary_module.NOTES_MAX_CHARACTERS
        message = diary_module.NOTES_TOO_LONG.format(limit=limit, length=140_000)
        assert [str(problem) for problem in refused.value.problems] == [f"line 2, column notes: {message}"]
        assert csv.field_size_limit() == diary_module.CSV_FIELD_MAX_CHARACTERS
    finally:
        csv.field_size_limit(max(previous, diary_module.CSV_FIELD_MAX_CHARACTERS))


def test_a_header_ending_in_a_comma_is_refused_as_a_column_without_a_name():
    """A comma at the end of the header is still refused (an unknown column), in words naming a column without a
    name and its place (it read 'line 1, column : unknown column')."""
    expected = ", ".join(COLUMNS)
    assert problems_of("patient_id,date,headache_hours,\nP1,2026-01-05,0,\n") == [
        f"line 1: {diary_module.UNNAMED_COLUMN.format(position=4, expected=expected)}"
    ]


def test_each_column_without_a_name_is_reported_as_one_without_a_name():
    """A header ending in two commas has two columns without a name: each is reported as such, and neither as a
    repeated column named nothing (it read 'line 1, column : column appears more than once in the header')."""
    expected = ", ".join(COLUMNS)
    assert problems_of("patient_id,date,headache_hours,intensity,,\nP1,2026-01-05,0,,,\n") == [
        f"line 1: {diary_module.UNNAMED_COLUMN.format(position=5, expected=expected)}",
        f"line 1: {diary_module.UNNAMED_COLUMN.format(position=6, expected=expected)}",
    ]


KNOWN_CLASSES = ", ".join(AcuteClass)


def test_every_unknown_medication_class_of_a_field_is_named():
    """Every unknown class of a field is named in its one message (only the first was: 'triptan;foo;bar' named
    'foo'), each once, in the field's order; one unknown class keeps the one-class message."""
    text = (
        "patient_id,date,headache_hours,intensity,acute_medication\n"
        "P1,2026-01-05,2,mild,triptan;foo;bar\n"
        "P1,2026-01-06,2,mild,Foo; foo ;ergot;baz\n"
        "P1,2026-01-07,2,mild,aspirin\n"
    )
    assert problems_of(text) == [
        f"line 2, column acute_medication: unknown acute medication classes 'foo', 'bar' (known: {KNOWN_CLASSES})",
        f"line 3, column acute_medication: unknown acute medication classes 'Foo', 'baz' (known: {KNOWN_CLASSES})",
        f"line 4, column acute_medication: unknown acute medication class 'aspirin' (known: {KNOWN_CLASSES})",
    ]


def test_an_empty_item_does_not_hide_the_unknown_classes_of_its_field():
    """An empty item and unknown classes in one field are both reported, in the order they first appear."""
    text = "patient_id,date,headache_hours,intensity,acute_medication\nP1,2026-01-05,2,mild,triptan;;foo\n"
    assert problems_of(text) == [
        f"line 2, column acute_medication: {diary_module.EMPTY_MEDICATION_ITEM}",
        f"line 2, column acute_medication: unknown acute medication class 'foo' (known: {KNOWN_CLASSES})",
    ]


def test_a_field_of_many_unknown_classes_names_a_few_and_counts_the_rest():
    """A message names at most ``MEDICATION_ECHO_MAX_ITEMS`` unknown classes, then how many more there are: a
    field of thousands of items must not make the message as long."""
    shown = diary_module.MEDICATION_ECHO_MAX_ITEMS
    items = [f"x{number}" for number in range(shown + 1000)]
    text = f"patient_id,date,headache_hours,intensity,acute_medication\nP1,2026-01-05,2,mild,{';'.join(items)}\n"
    named = ", ".join(repr(item) for item in items[:shown])
    assert problems_of(text) == [
        (
            f"line 2, column acute_medication: unknown acute medication classes {named} and 1000 more "
            f"(known: {KNOWN_CLASSES})"
        )
    ]


def test_a_patient_diary_refuses_days_out_of_order_twice_or_of_another_patient():
    """The periods bisect the dates, so a diary out of date order, with a date twice or with another patient's day
    would be miscounted silently: ``PatientDiary`` refuses it, naming the day."""
    first, second = (DiaryDay("P1", date(2026, 1, d), Decimal(0)) for d in (1, 2))
    assert PatientDiary("P1", (first, second)).last_date == date(2026, 1, 2)
    with pytest.raises(ValueError, match="not in date order: 2026-01-01 comes after 2026-01-02"):
        PatientDiary("P1", (second, first))
    with pytest.raises(ValueError, match="has 2026-01-01 twice"):
        PatientDiary("P1", (first, first))
    with pytest.raises(ValueError, match="patient P2's, not P1's"):
        PatientDiary("P1", (first, DiaryDay("P2", date(2026, 1, 3), Decimal(0))))


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_invalid_utf8_names_its_physical_line_whatever_the_line_ends(end):
    """The line of a byte that is not UTF-8 counts CR LF, a lone CR and LF each as one line end, as the rest of the
    reader does (a file of lone CRs named line 1 for a bad byte on line 3)."""
    data = end.join(["patient_id,date,headache_hours,notes", "P1,2026-01-05,0,ok", "P1,2026-01-06,0,caf"]).encode()
    assert problems_of(data + b"\xe9" + end.encode()) == [f"line 3: {diary_module.NOT_UTF8}"]


def test_invalid_utf8_after_a_byte_order_mark_names_its_line():
    """A byte-order mark does not shift the line of a bad byte (a bad byte at the start of line 3 was named line 2)."""
    data = b"\xef\xbb\xbfpatient_id,date,headache_hours\nP1,2026-01-05,0\n\xe9P1,2026-01-06,0\n"
    assert problems_of(data) == [f"line 3: {diary_module.NOT_UTF8}"]


def test_invalid_utf8_inside_a_multiline_note_names_the_line_its_record_starts():
    """A bad byte inside a quoted note spanning lines is reported on the line its record starts, the contract's N
    (a blank line and an earlier quoted note spanning lines counted as physical lines)."""
    data = b'patient_id,date,headache_hours,notes\n\nP1,2026-01-05,0,"a\r\nb"\nP1,2026-01-06,0,"one\ntwo\r\ncaf\xe9"\n'
    assert problems_of(data) == [f"line 5: {diary_module.NOT_UTF8}"]


def test_invalid_utf8_at_the_start_of_a_line_names_that_line():
    """A bad byte opening a line after a complete record belongs to the record starting there."""
    assert problems_of(b"patient_id,date,headache_hours\r\nP1,2026-01-05,0\r\n\xe9\r\n") == [
        f"line 3: {diary_module.NOT_UTF8}"
    ]


@pytest.mark.parametrize("spaces", [" ", "  ", "\t", " \t "])
def test_spaces_after_a_closing_quote_are_trimmed_like_any_others(spaces):
    """Spaces or tabs between a closing quote and the next comma or line end are trimmed, as spaces before an
    opening quote are (the file was refused: "',' expected after '\"'"), whatever the line ends."""
    for end in ("\n", "\r\n", "\r"):
        text = end.join(
            [
                f'"patient_id"{spaces},date,headache_hours,notes{spaces}',
                f'"P1"{spaces},"2026-01-05"{spaces},"0"{spaces}',
                f'P1,2026-01-06,0,"two{end}lines, and ""quotes"" "{spaces}',
                f"P1,2026-01-07,0,{spaces}",
                f'P1,2026-01-08,"0"{spaces}',
            ]
        )
        (patient,) = parse_diary(text, today=TODAY)
        assert [(day.date.day, day.headache_hours, day.notes) for day in patient.days] == [
            (5, 0, ""),
            (6, 0, f'two{end}lines, and "quotes"'),
            (7, 0, ""),
            (8, 0, ""),
        ]


def test_spaces_after_a_closing_quote_keep_the_line_numbers():
    """Trimming the spaces after a closing quote leaves every record on its physical line."""
    text = f'{HEADER},notes\nP1,2026-01-05,0,,"two\nlines" \nP1,"2026-01-06"  ,x,\t\n'
    assert problems_of(text) == [
        "line 4, column headache_hours: headache hours must be a number from 0 to 24 (got 'x')"
    ]


@pytest.mark.parametrize(
    "row",
    ['P1,2026-01-05,"0" x,', 'P1,2026-01-05,"0" "1",', 'P1,2026-01-05,"0"\x0b,', 'P1,"2026-01-05"x ,0,'],
    ids=["text-after-spaces", "second-quoted-value", "vertical-tab", "text-then-spaces"],
)
def test_anything_but_spaces_or_tabs_after_a_closing_quote_is_still_malformed(row):
    """Only spaces and tabs may follow a closing quote: text, another quoted value or other whitespace is refused
    as before, with the csv module's words, on the line its record starts."""
    assert problems_of(f"{HEADER}\nP1,2026-01-04,0,\n{row}\nP1,2026-01-06,0,\n") == [
        "line 3: malformed CSV: ',' expected after '\"'"
    ]


def test_a_quote_inside_an_unquoted_value_is_kept_with_spaces_after_it():
    """A quote that does not open its value is part of it, and spaces after it are trimmed with the value's."""
    day = only_day(f'{HEADER},notes\nP1,2026-01-05,0,,a 5" nail  \n')
    assert day.notes == 'a 5" nail'
