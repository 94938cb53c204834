"""Hostile input for the diary CSV reader (``onaboard.clinical.diary.parse_diary``): whatever the bytes, it
either returns every data row as a day or raises ``DiaryError`` naming lines; it never crashes with another
exception and never returns part of a file (shared/spec/diary-csv.md: all-or-nothing)."""

from __future__ import annotations

import csv
import io

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from onaboard.clinical.diary import COLUMNS, DiaryError, parse_diary
from tests.clinical.strategies import TODAY

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values that reach every rule: valid ones, near misses, and junk.
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "P001",
            "P002",
            "p-1.x_2",
            "x" * 65,
            "2026-11-01",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "2999-01-01",
            "0001-01-01",
            "0",
            "4",
            "24",
            "24.5",
            "-1",
            "1e3",
            "NaN",
            "inf",
            "٣",
            "mild",
            "SEVERE",
            "3",
            "4",
            "yes",
            "N",
            "true",
            "maybe",
            "triptan",
            "triptan;;opioid",
            "Gepant; ergot",
            "aspirin",
            '"',
            "a,b",
            "\x00",
            "\u202e",
            "\ufeff",
        ]
    ),
    st.text(max_size=12),
)
HEADER_NAMES = st.one_of(
    st.sampled_from(COLUMNS), st.sampled_from(["", " Date ", "PATIENT_ID", "extra"]), st.text(max_size=8)
)


def _data_rows(text: str) -> int | None:
    """The number of non-blank records after the header, or None when Python's csv module cannot read the text."""
    try:
        rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), strict=True))
    except csv.Error:
        return None
    records = [row for row in rows if any(cell.strip() for cell in row)]
    return max(len(records) - 1, 0)


def _check(source: str | bytes) -> None:
    try:
        diaries = parse_diary(source, today=TODAY)
    except DiaryError as error:
        problems = error.problems
        diaries = None
    if diaries is None:
        assert problems, "a DiaryError must list at least one problem"
        assert all(problem.line >= 1 and problem.message for problem in problems)
        return
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    days = sum(len(diary.days) for diary in diaries)
    assert days == _data_rows(text), "an accepted file must yield exactly one day per data row"
    assert all(day.date <= TODAY for diary in diaries for day in diary.days)


@FUZZ
@given(st.binary(max_size=400))
@example(b"")
@example(b"\xff\xfe")
@example(b"patient_id,date,headache_hours\n")
def test_any_bytes_are_read_or_refused_with_a_diary_error(source):
    """Arbitrary bytes (bad UTF-8 included) give days or a DiaryError, never another exception."""
    _check(source)


@FUZZ
@given(st.text(max_size=400))
def test_any_text_is_read_or_refused_with_a_diary_error(source):
    """Arbitrary text (quotes, NULs, odd newlines) gives days or a DiaryError, never another exception."""
    _check(source)


@st.composite
def near_valid_files(draw: st.DrawFn) -> str:
    """A header of mostly real columns and rows of cells that are valid, nearly valid or junk."""
    header = draw(
        st.one_of(
            st.permutations(COLUMNS).flatmap(lambda cols: st.integers(3, len(cols)).map(lambda n: list(cols[:n]))),
            st.lists(HEADER_NAMES, min_size=1, max_size=6),
        )
    )
    rows = draw(
        st.lists(
            st.lists(CELLS, min_size=max(len(header) - 1, 0), max_size=len(header) + 1),
            max_size=8,
        )
    )
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@FUZZ
@given(near_valid_files())
@example("patient_id,date,headache_hours\nP001,2026-11-01,4\nP001,2026-11-01,0\n")
@example("patient_id,date,headache_hours,intensity\nP001,2026-11-01,4,\n")
def test_nearly_valid_files_are_read_whole_or_refused_whole(source):
    """Files close to the contract reach every column rule: all rows become days, or a DiaryError lists lines."""
    _check(source)


@FUZZ
@given(near_valid_files(), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
def test_every_encoding_of_a_file_is_read_or_refused(source, encoding):
    """The same file as UTF-8 (with or without BOM), UTF-16 or Latin-1 bytes is read whole or refused whole."""
    try:
        data = source.encode(encoding)
    except UnicodeEncodeError:
        return
    _check(data)
