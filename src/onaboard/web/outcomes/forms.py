"""HIT-6 and MIDAS forms. They collect answers; the engine scores them and says what it refuses.

HIT-6 items are shown with neutral labels ("Item 1") and the area of life each covers: the item wording is
licensed by QualityMetric and is not reproduced (clinical-facts section 8.1). MIDAS questions are paraphrased
from clinical-facts section 8.2.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import HIT6_ITEM_COUNT, MIDAS_MAX_DAYS, MIDAS_MAX_PAIN, Hit6Answer, PromError, midas_score
from onaboard.clinical import prom as engine_prom
from onaboard.web.accounts.models import Role
from onaboard.web.diary.forms import FreeTextField, engine_message_parts
from onaboard.web.diary.services import before_treatment_problem, first_open_day
from onaboard.web.outcomes.models import DECISION_REASON_MAX_LENGTH, Decision, QuestionnaireResponse
from onaboard.web.outcomes.services import (
    DECISION_REASON_NEEDED,
    MIDAS_KEYS,
    answer_token,
    day_of_token,
    questionnaire_date_problem,
)
from onaboard.web.patients.models import Patient

HIT6_ANSWER_LABELS: Mapping[str, Promise] = {
    Hit6Answer.NEVER: _("never"),
    Hit6Answer.RARELY: _("rarely"),
    Hit6Answer.SOMETIMES: _("sometimes"),
    Hit6Answer.VERY_OFTEN: _("very often"),
    Hit6Answer.ALWAYS: _("always"),
}

HIT6_ITEM_NOTE = _("as numbered on your HIT-6 form")
HIT6_ITEM_NOTE_STAFF = _("as numbered on the patient's HIT-6 form")
"""Beside each item's number instead of its wording, which is QualityMetric's and licensed. The six areas HIT-6 covers
are known (clinical-facts section 8.1: pain, social functioning, role functioning, vitality, cognitive functioning,
psychological distress), but not which item covers which, so no item is named by an area."""

MIDAS_QUESTIONS: tuple[tuple[str, Promise, Promise], ...] = (
    ("q1", _("Question 1"), _("On how many days did you miss work or school because of headaches?")),
    (
        "q2",
        _("Question 2"),
        _(
            "On how many days was your productivity at work or school cut by half or more because of headaches? "
            "Do not count the days you gave in question 1."
        ),
    ),
    ("q3", _("Question 3"), _("On how many days did you not do household work because of headaches?")),
    (
        "q4",
        _("Question 4"),
        _(
            "On how many days was your productivity in household work cut by half or more because of headaches? "
            "Do not count the days you gave in question 3."
        ),
    ),
    (
        "q5",
        _("Question 5"),
        _("On how many days did you miss family, social or leisure activities because of headaches?"),
    ),
    (
        "a",
        _("Question A"),
        _("On how many days did you have a headache? (A headache lasting more than one day counts each day.)"),
    ),
    (
        "b",
        _("Question B"),
        _("On a scale of 0 to 10, how painful were these headaches on average? (0 is no pain, 10 the worst.)"),
    ),
)
"""MIDAS Q1-Q5 (scored) and A, B (recorded, not scored), all about the last 3 months."""

# Plain-word messages (tests assert these). A refused date is the service's (questionnaire_date_problem).
CHOOSE_ANSWER = _("Choose an answer for item %(item)d.")
ENTER_DAYS = _("Enter a number of days from 0 to %(max)d.")
DAYS_NOT_VALID = _("Enter a whole number of days from 0 to %(max)d (3 months hold at most %(max)d days).")
PAIR_TOO_MANY = _(
    "Questions %(first)s and %(second)s add up to %(total)s days, more than the %(max)d days in 3 months: "
    "question %(second)s should leave out the days already counted in question %(first)s."
)
PAIN_NOT_VALID = _("Choose a number from 0 (no pain) to %(max)d (pain as bad as it can be).")
ENTER_WHOLE_NUMBER = _("Enter a whole number.")
ENTER_DATE = _("Enter the day you answered.")
ENTER_DATE_STAFF = _("Enter the day the patient filled in the form.")
DATE_LABEL_STAFF = _("Day the patient filled it in")
DATE_NOT_A_DATE = _("Enter the day you answered as year-month-day, for example 2026-03-02.")


class _QuestionnaireForm(forms.Form):
    date = forms.DateField(
        label=_("Date answered"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": ENTER_DATE, "invalid": DATE_NOT_A_DATE},
    )
    replaces = forms.CharField(required=False, widget=forms.HiddenInput, max_length=80)
    """The answer (``services.answer_token``: its day and when it was saved) the sender has been told these answers
    replace; the page sets it when it shows that answer or that notice, so a second answer for a day replaces the
    first only once the sender knows, and only while it is still the one they were shown."""

    correcting = forms.BooleanField(required=False, widget=forms.HiddenInput)
    """Set when staff opened the form on a saved answer to correct it ("Correct" beside it): its day is then shown,
    not asked, so a correction never leaves the old answer behind on its day; one entered on the wrong day is
    removed (``services.questionnaire_response_remove``) and entered on the right one."""

    def __init__(self, *args: Any, today: date, patient: Patient, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.patient = patient
        self.user = user
        self.fields["date"].widget.attrs["max"] = today.isoformat()
        if getattr(user, "role", None) != Role.PATIENT:  # staff entering the patient's paper form
            self.fields["date"].label = DATE_LABEL_STAFF
            self.fields["date"].error_messages["required"] = ENTER_DATE_STAFF
        if (opens := first_open_day(user, patient, today=today)) is not None:
            self.fields["date"].widget.attrs["min"] = opens.isoformat()  # the answers before it are the baseline

    def clean_date(self) -> date:
        """The day answered, unless the service's rules refuse it: ``questionnaire_date_problem`` and, for the user
        answering, ``before_treatment_problem``."""
        value: date = self.cleaned_data["date"]
        if (problem := questionnaire_date_problem(self.patient, value, today=self.today)) is not None:
            raise forms.ValidationError(problem)
        if (closed := before_treatment_problem(self.user, self.patient, value, today=self.today)) is not None:
            raise forms.ValidationError(closed)
        return value

    def confirms_replacing(self, existing: QuestionnaireResponse) -> bool:
        """True when the sender was told that sending these answers replaces ``existing``, as it is saved now."""
        return bool(self.cleaned_data.get("replaces") == answer_token(existing))

    def saw_another_answer(self, day: date) -> bool:
        """True when the sender was shown an answer of ``day`` that is no longer the one saved (changed since)."""
        return day_of_token(self.cleaned_data.get("replaces") or "") == day

    @property
    def replaced_day(self) -> date | None:
        """The day of the answer this form replaces (shown, or told of), from the data sent or the initial data."""
        token = self["replaces"].value() or ""
        return day_of_token(str(token))

    @property
    def fixed_day(self) -> date | None:
        """The day of the answer being corrected (``correcting``), whose date the page shows instead of asking."""
        if not self.fields["correcting"].to_python(self["correcting"].value()):
            return None
        return self.replaced_day

    def field_for_problem(self, message: str) -> tuple[str | None, str]:
        raise NotImplementedError

    def add_engine_problems(self, problems: Iterable[str]) -> None:
        """Show each engine message next to the question it is about, in plain words."""
        for message in problems:
            field, text = self.field_for_problem(message)
            self.add_error(field if field in self.fields else None, text)


class Hit6Form(_QuestionnaireForm):
    """Six items, each a radio group of never / rarely / sometimes / very often / always."""

    def __init__(self, *args: Any, today: date, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, today=today, patient=patient, **kwargs)
        for number in range(1, HIT6_ITEM_COUNT + 1):
            self.fields[f"item_{number}"] = forms.ChoiceField(
                label=_("Item %(number)d") % {"number": number},
                help_text=HIT6_ITEM_NOTE if getattr(self.user, "role", None) == Role.PATIENT else HIT6_ITEM_NOTE_STAFF,
                choices=list(HIT6_ANSWER_LABELS.items()),
                widget=forms.RadioSelect,
                error_messages={"required": CHOOSE_ANSWER % {"item": number}},
            )

    @classmethod
    def initial_for(cls, response: QuestionnaireResponse | None, day: date | None) -> dict[str, Any]:
        if response is None:
            return {"date": day}
        return {
            "date": day,
            "replaces": answer_token(response),
            **{f"item_{i}": answer for i, answer in enumerate(response.answers, start=1)},
        }

    def items(self) -> list[forms.BoundField]:
        return [self[f"item_{number}"] for number in range(1, HIT6_ITEM_COUNT + 1)]

    def answers(self) -> list[str]:
        return [self.cleaned_data[f"item_{number}"] for number in range(1, HIT6_ITEM_COUNT + 1)]

    def field_for_problem(self, message: str) -> tuple[str | None, str]:
        if (parts := engine_message_parts(engine_prom.HIT6_UNKNOWN_ANSWER, message)) is not None:
            number = int(parts["item"])
            return f"item_{number}", str(CHOOSE_ANSWER) % {"item": number}
        return None, message


class MidasForm(_QuestionnaireForm):
    """MIDAS Q1-Q5 and A as whole numbers of days 0..MIDAS_MAX_DAYS and B 0..MIDAS_MAX_PAIN, each field saying its
    own problem in the words the engine's refusal is shown in; ``clean`` then asks the engine about the answers the
    fields took (the Q1+Q2 and Q3+Q4 totals), so one send shows every problem."""

    summary_labels = True
    """The error summary names each question (common/_error_summary.html): its messages say the rule, not which."""

    def __init__(self, *args: Any, today: date, patient: Patient, **kwargs: Any) -> None:
        super().__init__(*args, today=today, patient=patient, **kwargs)
        for key, label, question in MIDAS_QUESTIONS:
            scored = key.startswith("q")
            out_of_range = (
                PAIN_NOT_VALID % {"max": MIDAS_MAX_PAIN} if key == "b" else DAYS_NOT_VALID % {"max": MIDAS_MAX_DAYS}
            )
            self.fields[key] = forms.IntegerField(
                label=label,
                help_text=question,
                required=scored,
                min_value=0,
                max_value=MIDAS_MAX_PAIN if key == "b" else MIDAS_MAX_DAYS,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
                error_messages={
                    "required": ENTER_DAYS % {"max": MIDAS_MAX_DAYS},
                    "invalid": ENTER_WHOLE_NUMBER,
                    "min_value": out_of_range,
                    "max_value": out_of_range,
                },
            )

    def clean(self) -> dict[str, Any]:
        """The engine's problems with the answers the fields took, beside the fields' own: a question a field refused
        or left empty counts as 0 days, which adds nothing to a total, so only problems of the answers given show."""
        cleaned = super().clean()
        answered = {key: value for key, value in self.answers().items() if value is not None}
        days = {key: answered.get(key, 0) for key in MIDAS_KEYS if key.startswith("q")}
        try:
            midas_score(**days, a=answered.get("a"), b=answered.get("b"))
        except PromError as refused:
            self.add_engine_problems(refused.problems)
        return cleaned

    @classmethod
    def initial_for(cls, response: QuestionnaireResponse | None, day: date | None) -> dict[str, Any]:
        if response is None:
            return {"date": day}
        return {
            "date": day,
            "replaces": answer_token(response),
            **{key: value for key, value in response.answers.items() if value is not None},
        }

    def questions(self) -> list[forms.BoundField]:
        return [self[key] for key, _label, _question in MIDAS_QUESTIONS]

    def answers(self) -> dict[str, int | None]:
        return {key: self.cleaned_data.get(key) for key, _label, _question in MIDAS_QUESTIONS}

    def field_for_problem(self, message: str) -> tuple[str | None, str]:
        if (parts := engine_message_parts(engine_prom.MIDAS_DAYS_RANGE, message)) is not None:
            return parts["question"].lower(), str(DAYS_NOT_VALID) % {"max": MIDAS_MAX_DAYS}
        if (parts := engine_message_parts(engine_prom.MIDAS_PAIR_TOO_MANY, message)) is not None:
            first, second = parts["first"].removeprefix("Q"), parts["second"].removeprefix("Q")
            text = str(PAIR_TOO_MANY) % {
                "first": first,
                "second": second,
                "total": parts["total"],
                "max": MIDAS_MAX_DAYS,
            }
            return parts["second"].lower(), text
        if engine_message_parts(engine_prom.MIDAS_PAIN_RANGE, message) is not None:
            return "b", str(PAIN_NOT_VALID) % {"max": MIDAS_MAX_PAIN}
        return None, message


CHOOSE_DECISION = _("Choose whether treatment continues or stops.")


class TreatmentDecisionForm(forms.Form):
    """A clinician's decision to continue or stop treatment, and why; the day is the clinic's today (the service's
    ``treatment_decision_record`` checks it, and the reason, again)."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": CHOOSE_DECISION, "invalid_choice": CHOOSE_DECISION},
    )
    reason = FreeTextField(
        label=_("Reason"),
        max_length=DECISION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Kept with the decision on the patient's record, beside the stopping rule's verdict of today: for "
            "example the patient's own view, the HIT-6 or MIDAS change, side effects."
        ),
        error_messages={"required": _(DECISION_REASON_NEEDED)},
    )
    submission = forms.UUIDField(
        required=False,
        initial=uuid.uuid4,
        widget=forms.HiddenInput(attrs={"autocomplete": "off"}),
    )
    """This form's token, new each time it is opened: the same form sent twice records one decision
    (``services.treatment_decision_record``); autocomplete off keeps a browser from restoring an old token."""

    def renew_submission(self) -> None:
        """Give the bound form a new token, for the decision to be sent again as another."""
        self.data = self.data.copy()
        self.data["submission"] = str(uuid.uuid4())
