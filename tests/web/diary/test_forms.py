"""The diary day form (onaboard/web/diary/forms.py): it collects text for the engine and words its answers plainly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from onaboard.clinical import diary as engine_diary
from onaboard.clinical import diary_day_from_fields
from onaboard.web.diary import forms
from onaboard.web.diary.forms import DiaryDayForm, engine_message_parts, plain_problem
from onaboard.web.diary.models import DiaryEntry

TODAY = date(2026, 3, 2)


def test_message_parts_recover_the_values_of_an_engine_message():
    """The values filled into an engine message template are read back from the message."""
    message = engine_diary.FUTURE_DATE.format(value="2026-03-09", today="2026-03-02")
    assert engine_message_parts(engine_diary.FUTURE_DATE, message) == {"value": "2026-03-09", "today": "2026-03-02"}
    assert engine_message_parts(engine_diary.FUTURE_DATE, "something else") is None


@pytest.mark.parametrize(
    ("fields", "column", "plain"),
    [
        ({"date": "2026-03-09", "headache_hours": "0"}, "date", "Monday 9 March 2026 has not happened yet"),
        ({"date": "9/3/2026", "headache_hours": "0"}, "date", str(forms.DAY_NOT_A_DATE)),
        ({"date": "2026-02-30", "headache_hours": "0"}, "date", "There is no such day as 2026-02-30."),
        ({"date": "2026-03-01", "headache_hours": "30"}, "headache_hours", "(you entered 30)"),
        ({"date": "2026-03-01"}, "headache_hours", str(forms.CHOOSE_HOURS)),
        ({"date": "2026-03-01", "headache_hours": "3"}, "intensity", str(forms.CHOOSE_PAIN)),
        (
            {"date": "2026-03-01", "headache_hours": "0", "intensity": "mild"},
            "intensity",
            str(forms.NO_PAIN_ON_HEADACHE_FREE_DAY),
        ),
        (
            {"date": "2026-03-01", "headache_hours": "0", "nausea": "yes"},
            "nausea",
            str(forms.NO_FEATURE_ON_HEADACHE_FREE_DAY),
        ),
    ],
)
def test_each_engine_problem_has_plain_words(fields, column, plain):
    """Every problem the engine finds in a form's day is worded for a patient, attached to its field."""
    problems = diary_day_from_fields({"patient_id": "P", **fields}, today=TODAY)
    assert isinstance(problems, list)
    worded = {col: plain_problem(col, message) for col, message in problems}
    assert plain in worded[column]


def test_an_unknown_problem_keeps_the_engines_words():
    """A problem this module has no wording for is shown as the engine wrote it, never hidden."""
    assert plain_problem("acute_medication", "unknown acute medication class 'x'") == (
        "unknown acute medication class 'x'"
    )


def _cleaned(**data: object) -> DiaryDayForm:
    form = DiaryDayForm({"date": "2026-03-01", **data})
    assert form.is_valid(), form.errors
    return form


def test_the_form_gives_the_engine_contract_text():
    """Checked boxes become yes/no, medicines a ;-list in contract order, and a typed hour count wins."""
    form = _cleaned(
        hours_quick="4",
        headache_hours=" 2.5 ",
        intensity="moderate",
        photophobia="on",
        acute_medication=["opioid", "triptan"],
    )
    fields = form.engine_fields()
    assert fields["headache_hours"] == "2.5"
    assert fields["photophobia"] == "yes"
    assert fields["nausea"] == "no"
    assert fields["acute_medication"] == "triptan;opioid"
    assert fields["intensity"] == "moderate"


@pytest.mark.parametrize(("typed", "hours"), [("1,5", "1.5"), (" 2,25 ", "2.25"), ("1.5", "1.5"), ("1,5,0", "1,5,0")])
def test_a_decimal_comma_is_read_as_the_decimal_mark(typed, hours):
    """A phone set to a comma-decimal language types "1,5" for one and a half hours: it is 1.5 hours, never 15
    (what a number input made of it); a comma anywhere else is left for the engine to refuse."""
    assert _cleaned(headache_hours=typed, intensity="mild").engine_fields()["headache_hours"] == hours


def test_the_exact_hours_box_is_text_so_the_browser_keeps_a_comma():
    """The box is a text input with a decimal keypad: a number input drops the comma as it is typed."""
    html = str(DiaryDayForm()["headache_hours"])
    assert 'type="text"' in html
    assert 'inputmode="decimal"' in html


def test_a_tapped_hour_count_is_used_when_none_is_typed():
    """Without a typed number, the tapped hour button is the day's hours."""
    assert _cleaned(hours_quick="12").engine_fields()["headache_hours"] == "12"


def test_a_stored_day_fills_the_buttons_or_the_exact_field():
    """A stored 8 hours checks the 8 button; a stored 10 hours goes in the exact field."""
    eight = DiaryEntry(date=TODAY, headache_hours=Decimal("8.00"), acute_medication="triptan;gepant")
    ten = DiaryEntry(date=TODAY, headache_hours=Decimal("10.00"))
    assert DiaryDayForm.initial_for(eight, TODAY)["hours_quick"] == "8"
    assert DiaryDayForm.initial_for(eight, TODAY)["acute_medication"] == ["triptan", "gepant"]
    assert DiaryDayForm.initial_for(ten, TODAY)["headache_hours"] == "10"
    assert DiaryDayForm.initial_for(None, TODAY) == {"date": "2026-03-02", "loaded": "2026-03-02@"}


def test_engine_problems_land_next_to_their_fields():
    """add_engine_problems puts each message on its field; an unknown column becomes a form-wide error."""
    form = _cleaned(hours_quick="4")
    form.add_engine_problems([("intensity", engine_diary.INTENSITY_REQUIRED), ("patient_id", "bad id")])
    assert form.errors["intensity"] == [str(forms.CHOOSE_PAIN)]
    assert form.non_field_errors() == ["bad id"]


def test_the_date_picker_cannot_go_past_today():
    """The date input carries today as its maximum."""
    form = DiaryDayForm(max_date=TODAY)
    assert form.fields["date"].widget.attrs["max"] == "2026-03-02"


def test_every_acute_class_has_plain_words():
    """The eight engine medicine classes each have a plain label."""
    assert len(forms.ACUTE_LABELS) == 8


def test_notes_count_each_line_break_once():
    """Notes of exactly the limit typed on several lines (sent as CR LF) are kept, with LF breaks."""
    notes = "\r\n".join(["x" * 99] * 20)  # 20 lines of 99 characters and 19 breaks: 1,999 characters on screen
    form = _cleaned(hours_quick="0", notes=notes + "y")
    assert form.cleaned_data["notes"] == "\n".join(["x" * 99] * 20) + "y"
    assert len(form.cleaned_data["notes"]) == forms.NOTES_MAX_CHARACTERS


def test_notes_over_the_limit_are_refused_in_plain_words():
    """Notes one character over the limit are refused saying the limit and how many characters they hold."""
    form = DiaryDayForm({"date": "2026-03-01", "notes": "abc\r\n" * 500 + "a"})  # 2,001 with LF breaks
    assert not form.is_valid()
    assert form.errors["notes"] == [str(forms.TEXT_TOO_LONG) % {"limit_value": 2000, "show_value": 2001}]


def test_hours_too_long_are_refused_in_plain_words():
    """Nine characters typed as the exact hours are refused saying what the hours must be and the limit, not in
    Django's default words."""
    form = DiaryDayForm({"date": "2026-03-01", "headache_hours": "123456789"})
    assert not form.is_valid()
    assert form.errors["headache_hours"] == [str(forms.HOURS_TOO_LONG) % {"limit_value": 8, "show_value": 9}]
    assert "Ensure this value" not in str(form.errors)


def test_engine_problems_judged_against_refused_hours_are_left_out():
    """With the exact hours refused by the form, the engine's problems with the hours, the pain and its features
    (judged against a blank in their place) are left out; a problem with a column the form accepted is shown."""
    form = DiaryDayForm({"date": "2026-03-01", "headache_hours": "123456789", "hours_quick": "2"})
    assert not form.is_valid()
    form.add_engine_problems(
        [
            ("headache_hours", engine_diary.REQUIRED_VALUE),
            ("intensity", engine_diary.INTENSITY_REQUIRED),
            ("nausea", engine_diary.FEATURE_ON_HEADACHE_FREE_DAY.format(value="yes")),
            ("date", engine_diary.FUTURE_DATE.format(value="2026-03-09", today="2026-03-02")),
        ]
    )
    assert set(form.errors) == {"headache_hours", "date"}
    assert len(form.errors["headache_hours"]) == 1


@pytest.mark.parametrize("typed", ["'4'", '"5"', '2"', "4\\"])
def test_refused_hours_are_shown_as_typed(typed):
    """Hours refused by the engine (which shows them with ``repr``) are given back as the patient typed them: a
    quote typed around or after the number stays (stripping quotes showed "you entered 4", a number from 0 to 24)."""
    worded = plain_problem("headache_hours", engine_diary.BAD_HOURS.format(value=typed))
    assert worded.endswith(f"(you entered {typed}).")
