"""HIT-6 and MIDAS forms (onaboard/web/outcomes/forms.py): neutral item labels, engine messages in plain words."""

from __future__ import annotations

from datetime import UTC, date, datetime

from onaboard.clinical import HIT6_ITEM_COUNT, prom
from onaboard.web.accounts.models import Role, User
from onaboard.web.common.words import plain_day
from onaboard.web.outcomes import forms
from onaboard.web.outcomes.forms import Hit6Form, MidasForm
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.services import DATE_AFTER_TODAY
from onaboard.web.patients.models import Patient

TODAY = date(2026, 3, 2)


NURSE = User(role=Role.NURSE)
PATIENT = User(role=Role.PATIENT)
"""The forms' user (not saved): clinical staff, whom ``before_treatment_problem`` never refuses without a query."""


def _patient() -> Patient:
    """A patient born long before ``TODAY`` (not saved: the forms only read the birth date)."""
    return Patient(birth_date=date(1980, 5, 17))


def test_hit6_items_are_neutral_and_offer_the_five_answers():
    """Each HIT-6 item is labelled 'Item N' and offers exactly the five answers."""
    form = Hit6Form(today=TODAY, patient=_patient(), user=NURSE)
    items = form.items()
    assert [item.label for item in items] == [f"Item {n}" for n in range(1, 7)]
    answers = [value for value, _label in items[0].field.choices]
    assert answers == ["never", "rarely", "sometimes", "very_often", "always"]


def test_a_missing_hit6_answer_names_its_item():
    """An unanswered item says which one."""
    form = Hit6Form(
        {"date": "2026-03-02", **{f"item_{n}": "never" for n in range(1, 6)}},
        today=TODAY,
        patient=_patient(),
        user=NURSE,
    )
    assert not form.is_valid()
    assert form.errors["item_6"] == ["Choose an answer for item 6."]


def test_a_date_after_today_is_refused():
    """A questionnaire cannot be dated after today."""
    form = MidasForm(
        {"date": "2026-03-03", "q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 0}, today=TODAY, patient=_patient(), user=NURSE
    )
    assert not form.is_valid()
    assert form.errors["date"] == [DATE_AFTER_TODAY.format(today=plain_day(TODAY))]


def test_a_missing_or_unreadable_date_is_asked_for_in_plain_words():
    """No date, or one not written year-month-day, says what to enter instead of Django's 'This field is
    required.' or 'Enter a valid date.'."""
    answers = {f"item_{n}": "never" for n in range(1, 7)}
    assert Hit6Form(answers, today=TODAY, patient=_patient(), user=NURSE).errors["date"] == [
        str(forms.ENTER_DATE_STAFF)
    ]
    assert Hit6Form({**answers, "date": "02/03/2026"}, today=TODAY, patient=_patient(), user=NURSE).errors["date"] == [
        str(forms.DATE_NOT_A_DATE)
    ]
    midas = {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 0}
    assert MidasForm(midas, today=TODAY, patient=_patient(), user=NURSE).errors["date"] == [str(forms.ENTER_DATE_STAFF)]


def test_midas_limits_are_the_engines_and_checked_with_the_rest():
    """Each MIDAS day count is limited to 0..MIDAS_MAX_DAYS and B to 0..MIDAS_MAX_PAIN by the field itself, in the
    words the engine's refusal is shown in, and Q1+Q2 over the limit is said in the same check as a missing answer."""
    form = MidasForm(
        {"date": "2026-03-02", "q1": 60, "q2": 40, "q3": 93, "q5": -1, "a": 93, "b": 11},
        today=TODAY,
        patient=_patient(),
        user=NURSE,
    )
    assert not form.is_valid()
    days = [str(forms.DAYS_NOT_VALID) % {"max": prom.MIDAS_MAX_DAYS}]
    assert form.errors["q3"] == form.errors["q5"] == form.errors["a"] == days
    assert form.errors["q4"] == [str(forms.ENTER_DAYS) % {"max": prom.MIDAS_MAX_DAYS}]
    assert form.errors["b"] == [str(forms.PAIN_NOT_VALID) % {"max": prom.MIDAS_MAX_PAIN}]
    assert form.errors["q2"][0].startswith("Questions 1 and 2 add up to 100 days")
    assert (form.fields["q1"].min_value, form.fields["q1"].max_value) == (0, prom.MIDAS_MAX_DAYS)
    assert (form.fields["b"].min_value, form.fields["b"].max_value) == (0, prom.MIDAS_MAX_PAIN)


def test_midas_engine_problems_go_to_their_questions():
    """A day count out of range goes to its question, a Q3+Q4 total to Q4 and a pain score to B."""
    zeros = {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 0}
    form = MidasForm({"date": "2026-03-02", **zeros}, today=TODAY, patient=_patient(), user=NURSE)
    assert form.is_valid()
    form.add_engine_problems(
        [
            prom.MIDAS_DAYS_RANGE.format(question="Q1", value=100),
            prom.MIDAS_PAIR_TOO_MANY.format(first="Q3", second="Q4", first_value=50, second_value=50, total=100),
            prom.MIDAS_PAIN_RANGE.format(value=11),
        ]
    )
    assert form.errors["q1"] == [str(forms.DAYS_NOT_VALID) % {"max": 92}]
    assert form.errors["q4"] == [
        (
            "Questions 3 and 4 add up to 100 days, more than the 92 days in 3 months: "
            "question 4 should leave out the days already counted in question 3."
        )
    ]
    assert form.errors["b"] == [str(forms.PAIN_NOT_VALID) % {"max": 10}]


def test_midas_a_and_b_are_optional():
    """Only Q1-Q5 are required; A and B may be left empty."""
    form = MidasForm(
        {"date": "2026-03-02", "q1": 1, "q2": 2, "q3": 3, "q4": 4, "q5": 5}, today=TODAY, patient=_patient(), user=NURSE
    )
    assert form.is_valid()
    assert form.answers() == {"q1": 1, "q2": 2, "q3": 3, "q4": 4, "q5": 5, "a": None, "b": None}


def test_a_form_opened_on_todays_answer_says_it_replaces_that_day_and_no_other():
    """The form prefilled with today's answer carries that day in ``replaces``; it confirms replacing that day only."""
    answered = QuestionnaireResponse(
        date=TODAY, answers=["never"] * 6, modified=datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    )
    initial = Hit6Form.initial_for(answered, TODAY)
    assert initial["replaces"] == "2026-03-02@2026-03-02T09:30:00+00:00"
    form = Hit6Form({**initial, "date": "2026-03-02"}, today=TODAY, patient=_patient(), user=NURSE)
    assert form.is_valid(), form.errors
    assert form.confirms_replacing(answered)
    saved_again = QuestionnaireResponse(
        date=TODAY, answers=["always"] * 6, modified=datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
    )
    assert not form.confirms_replacing(saved_again)
    assert form.saw_another_answer(TODAY)
    assert not form.saw_another_answer(date(2026, 3, 1))
    assert "replaces" not in Hit6Form.initial_for(None, TODAY)


def test_hit6_items_are_named_by_their_number_only(monkeypatch):
    """Each HIT-6 item is shown by its number and the form's own numbering, never by an area of life: the domain
    facts name HIT-6's six areas but not which item covers which. The patient reads "your" form; staff entering
    the patient's answers read "the patient's"."""
    monkeypatch.setattr(forms, "first_open_day", lambda *args, **kwargs: None)  # no session: no database here
    notes = {}
    for user in (NURSE, PATIENT):
        form = Hit6Form(today=date(2026, 11, 30), patient=_patient(), user=user)
        items = [form.fields[f"item_{number}"] for number in range(1, HIT6_ITEM_COUNT + 1)]
        assert [str(item.label) for item in items] == [f"Item {number}" for number in range(1, HIT6_ITEM_COUNT + 1)]
        notes[user.role] = {str(item.help_text) for item in items}
    assert notes == {
        Role.PATIENT: {"as numbered on your HIT-6 form"},
        Role.NURSE: {"as numbered on the patient's HIT-6 form"},
    }
