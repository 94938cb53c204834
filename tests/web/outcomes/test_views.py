"""Questionnaire pages (onaboard/web/outcomes/views.py): the patient answers and sees trends; staff read them."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape

from onaboard.clinical import PROM_WINDOW_DAYS, hit6_change
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.common.words import plain_day
from onaboard.web.injections.models import SessionStatus
from onaboard.web.outcomes import forms, selectors, services, views
from onaboard.web.outcomes.models import (
    Decision,
    Instrument,
    QuestionnaireResponse,
    Superseded,
    SupersededQuestionnaireResponse,
    TreatmentDecision,
)
from onaboard.web.outcomes.selectors import BaselineAndLatest
from onaboard.web.outcomes.services import (
    DATE_AFTER_TODAY,
    QuestionnaireDateError,
    answer_token,
    questionnaire_response_record,
)
from onaboard.web.outcomes.views import change_for_patient
from tests.web.clinic.diaries import course_rows, store
from tests.web.factories import InjectionSessionFactory
from tests.web.test_form_accessibility import _assert_errors_are_tied


def _hit6_post(answer: str = "very_often", **overrides: str) -> dict[str, str]:
    data = {"date": timezone.localdate().isoformat(), **{f"item_{n}": answer for n in range(1, 7)}}
    data.update(overrides)
    return data


def _midas_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {"date": timezone.localdate().isoformat(), "q1": 3, "q2": 2, "q3": 1, "q4": 0, "q5": 1}
    data.update(overrides)
    return data


@pytest.fixture
def patient_client(client, world):
    client.force_login(world.users["patient"])
    return client


def test_the_hit6_form_has_six_radio_groups_with_legends(patient_client):
    """HIT-6 shows six fieldsets with a legend 'Item N' and five radio answers each, no licensed wording."""
    html = patient_client.get(reverse("outcomes:hit6")).content.decode()
    assert html.count("<fieldset") == 6
    assert html.count('type="radio"') == 30
    assert "<legend>Item 1 <span" in html


def test_the_hit6_page_sends_a_patient_without_the_paper_form_to_the_clinic(patient_client):
    """The page numbers the items without their licensed wording, so it tells the patient, before the items, to
    answer from the HIT-6 form the clinic gave them and to ask the clinic for one if they have none."""
    page = unescape(patient_client.get(reverse("outcomes:hit6")).content.decode())
    line = (
        "This page shows only the item numbers, not the questions: answer with the clinic's HIT-6 form in front of "
        "you. If you have no HIT-6 form, ask the clinic for one before you answer."
    )
    assert page.index(line) < page.index("<fieldset")


def test_answering_hit6_stores_the_engines_score(patient_client, world):
    """Six 'very often' answers are stored as 66, severe impact, and the list shows it."""
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post())
    assert response.status_code == 302
    assert response.url == reverse("outcomes:questionnaires")
    stored = QuestionnaireResponse.objects.get(patient=world.own_patient)
    assert (stored.instrument, stored.total, stored.category) == ("hit6", 66, "severe_impact")
    page = patient_client.get(response.url).content.decode()
    assert "HIT-6 saved for" in page
    assert "total 66, severe impact" in page
    assert "Latest: 66" in page
    assert "&gt;= 60" not in page  # the engine's shorthand is the staff's


def test_answering_midas_stores_the_engines_score(patient_client, world):
    """MIDAS Q1-Q5 of 3, 2, 1, 0, 1 are stored as 7, grade II."""
    assert patient_client.post(reverse("outcomes:midas"), _midas_post(a=20, b=6)).status_code == 302
    stored = QuestionnaireResponse.objects.get(patient=world.own_patient)
    assert (stored.instrument, stored.total, stored.category) == ("midas", 7, "II")
    assert stored.answers["a"] == 20


def test_answering_again_the_same_day_replaces(patient_client, world):
    """A second HIT-6 on the same day replaces the first; the form says it will when it opens, and carries that the
    patient was told."""
    patient_client.post(reverse("outcomes:hit6"), _hit6_post())
    html = patient_client.get(reverse("outcomes:hit6")).content.decode()
    assert f"Answered today</span> {escape(views.REPLACES_TODAYS)}" in html
    shown = answer_token(QuestionnaireResponse.objects.get())
    assert f'<input type="hidden" name="replaces" value="{shown}"' in html
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post("never", replaces=shown))
    assert response.status_code == 302
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [36]


def _answered_long_ago(world, days_ago: int = 30) -> str:
    """A HIT-6 answered ``days_ago`` days ago (all "always": 78); its date, year-month-day."""
    today = timezone.localdate()
    day = today - timedelta(days=days_ago)
    questionnaire_response_record(
        user=world.users["patient"],
        patient=world.own_patient,
        instrument="hit6",
        answers=["always"] * 6,
        date=day,
        today=today,
    )
    return day.isoformat()


def test_answers_for_a_past_day_already_answered_are_not_saved_until_the_patient_is_told(patient_client, world):
    """Answers dated a past day that already has an answer are sent back unsaved, with the earlier answer's date and
    total and that sending again replaces it; the earlier answer is kept."""
    past = _answered_long_ago(world)
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post("never", date=past))
    html = response.content.decode()
    assert response.status_code == 200
    day = date_format(date.fromisoformat(past), "j F Y")
    text = str(views.NOT_SAVED_REPLACES) % {"instrument": "HIT-6", "day": day, "total": 78}
    assert f'<span class="badge warn">Answered on {day}</span> {text}' in html
    shown = answer_token(QuestionnaireResponse.objects.get())
    assert f'<input type="hidden" name="replaces" value="{shown}"' in html
    assert html.count("checked") == 6  # the answers are kept for the second send
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [78]


def test_a_second_send_after_the_notice_replaces_the_past_days_answer(patient_client, world):
    """Sending again after the notice (which set ``replaces`` to that answer) replaces the earlier answer, and only
    that one: a notice for another day, or for that day's answer as it was before a later save, does not let a send
    replace it."""
    past = _answered_long_ago(world)
    shown = answer_token(QuestionnaireResponse.objects.get())
    elsewhere = (timezone.localdate() - timedelta(days=3)).isoformat()
    for told in (elsewhere, past, f"{past}@2020-01-01T00:00:00+00:00"):
        refused = patient_client.post(reverse("outcomes:hit6"), _hit6_post("never", date=past, replaces=told))
        assert refused.status_code == 200
        assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [78]
    saved = patient_client.post(reverse("outcomes:hit6"), _hit6_post("never", date=past, replaces=shown))
    assert saved.status_code == 302
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [36]


def test_a_send_for_today_from_a_form_opened_before_todays_answer_is_not_saved_silently(patient_client, world):
    """Today's answer is protected as any day's: a send that was not told about it (a form opened earlier, another
    tab) comes back with the notice."""
    patient_client.post(reverse("outcomes:midas"), _midas_post())
    response = patient_client.post(reverse("outcomes:midas"), _midas_post(q1=0))
    day = date_format(timezone.localdate(), "j F Y")
    text = str(views.NOT_SAVED_REPLACES) % {"instrument": "MIDAS", "day": day, "total": 7}
    assert f'<span class="badge warn">Answered today</span> {text}' in response.content.decode()
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [7]


@pytest.mark.parametrize(
    ("url", "post"), [("outcomes:hit6", _hit6_post), ("outcomes:midas", _midas_post)], ids=["hit6", "midas"]
)
def test_a_double_tap_on_save_is_saved_once_and_says_saved(patient_client, world, url, post):
    """The same answers sent twice for the same day (a double tap on "Save my answers") are one response, and the
    second send ends where the first did, saying they were saved, not "not saved yet"."""
    first = patient_client.post(reverse(url), post())
    second = patient_client.post(reverse(url), post())
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert QuestionnaireResponse.objects.filter(patient=world.own_patient).count() == 1
    assert AuditEvent.objects.filter(action=Action.UPDATE).count() == 0
    page = patient_client.get(second.url).content.decode()
    assert page.count(" saved for ") == 2  # one success message per send
    assert "Not saved yet" not in page


def test_different_answers_for_an_answered_day_still_ask_before_replacing(patient_client, world):
    """Only identical answers count as already saved: a different answer for the day keeps the notice."""
    patient_client.post(reverse("outcomes:hit6"), _hit6_post())
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post("never"))
    assert response.status_code == 200
    assert "Not saved yet" in response.content.decode()
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [66]


def test_every_midas_problem_is_shown_after_one_send(patient_client):
    """A whole number, a missing answer, days out of range, pain out of range and Q1+Q2 over 3 months are all
    marked after the one send, not the first two only and the others after a second."""
    data = _midas_post(q1=60, q2=40, q3="2.5", q5=-1, a=100, b=11)
    del data["q4"]
    response = patient_client.post(reverse("outcomes:midas"), data)
    html = response.content.decode()
    assert response.status_code == 200
    expected = {
        "q3": forms.ENTER_WHOLE_NUMBER,
        "q4": forms.ENTER_DAYS % {"max": 92},
        "q5": forms.DAYS_NOT_VALID % {"max": 92},
        "a": forms.DAYS_NOT_VALID % {"max": 92},
        "b": forms.PAIN_NOT_VALID % {"max": 10},
        "q2": forms.PAIR_TOO_MANY % {"first": 1, "second": 2, "total": 100, "max": 92},
    }
    for field, message in expected.items():
        assert f'id="id_{field}_error"' in html, field
        assert escape(str(message)) in html, field
    assert not QuestionnaireResponse.objects.exists()


def test_a_missing_answer_is_shown_and_nothing_saved(patient_client):
    """An unanswered HIT-6 item comes back marked, with the other answers kept."""
    data = _hit6_post()
    del data["item_3"]
    response = patient_client.post(reverse("outcomes:hit6"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Choose an answer for item 3." in html
    assert html.count("checked") == 5
    assert not QuestionnaireResponse.objects.exists()


def test_midas_days_beyond_three_months_are_refused_in_plain_words(patient_client):
    """Q1 + Q2 over 92 days is refused by the engine and explained next to Q2."""
    response = patient_client.post(reverse("outcomes:midas"), _midas_post(q1=60, q2=40))
    assert response.status_code == 200
    assert "Questions 1 and 2 add up to 100 days" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_dated_after_today_is_refused(patient_client):
    """A date after today is refused next to the date."""
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = patient_client.post(reverse("outcomes:midas"), _midas_post(date=tomorrow))
    assert escape(DATE_AFTER_TODAY.format(today=plain_day(timezone.localdate()))) in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_dated_before_the_birth_date_is_refused_in_plain_words(patient_client, world):
    """A date before the patient's birth date (a mistyped year) is refused next to the date, as the diary refuses a
    day before it, and nothing is saved."""
    response = patient_client.post(reverse("outcomes:midas"), _midas_post(date="1900-01-01"))
    assert "is before the birth date on the record" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_the_service_refuses_answers_dated_before_the_birth_date(world):
    """Every path (forms, API, imports) meets the rule in the service: nothing is saved."""
    with pytest.raises(QuestionnaireDateError, match="is before the birth date on the record"):
        questionnaire_response_record(
            user=world.users["patient"],
            patient=world.own_patient,
            instrument="hit6",
            answers=["always"] * 6,
            date=world.own_patient.birth_date - timedelta(days=1),
            today=timezone.localdate(),
        )
    assert not QuestionnaireResponse.objects.exists()


def _hit6_78_then_60(user, patient):
    """HIT-6 answered 90 days ago (all "always": 78) and today (all "sometimes": 60)."""
    today = timezone.localdate()
    for days_ago, answer in ((90, "always"), (0, "sometimes")):
        questionnaire_response_record(
            user=user,
            patient=patient,
            instrument="hit6",
            answers=[answer] * 6,
            date=today - timedelta(days=days_ago),
            today=today,
        )


def _first_session(patient, days_ago: int = 70):
    """A recorded injection session ``days_ago`` days ago: between the two answers of ``_hit6_78_then_60``, by default
    20 days after the first, which is then the baseline (answered in the 28 days up to the first session)."""
    InjectionSessionFactory(
        patient=patient, date=timezone.localdate() - timedelta(days=days_ago), status=SessionStatus.RECORDED
    )


def test_the_list_shows_totals_bands_and_a_trend(patient_client, world):
    """The patient's list shows each response with its band, the HIT-6 change since before treatment and an SVG
    trend."""
    _hit6_78_then_60(world.users["patient"], world.own_patient)
    _first_session(world.own_patient)
    html = patient_client.get(reverse("outcomes:questionnaires")).content.decode()
    assert "Latest: 60" in html
    assert "Your score has come down from 78 before treatment to 60. A fall of 5 points or more" in html
    assert "-&gt;" not in html  # the clinic's shorthand is for staff
    assert html.count('class="point"') == 2
    assert "Not answered yet." in html
    assert AuditEvent.objects.filter(action=Action.READ, object_type="questionnaires").count() == 1


def test_staff_read_the_engines_reasons_where_the_patient_reads_plain_words(client, world):
    """A clinician reading the same answers (the first before treatment) gets the engine's reasons, rule shorthand
    and all."""
    _hit6_78_then_60(world.users["nurse"], world.same_clinic_patient)
    _first_session(world.same_clinic_patient)
    client.force_login(world.users["clinician"])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.same_clinic_patient.external_id})
    html = client.get(url).content.decode()
    assert "HIT-6 78 -&gt; 60: drop of 18 points (&gt;= 5: responder)" in html
    assert "Your score" not in html


@pytest.mark.parametrize("session_days_ago", [None, 70, 30, 120])
def test_the_hit6_change_says_before_treatment_only_when_the_baseline_is(client, world, session_days_ago):
    """With no recorded session, a first answer 60 days before the first session (older than the 28 days a baseline
    is answered in) or none on or before it, the patient reads the change from the first answer by its date (not
    "before treatment") and the clinician reads which answer the change is from and why it is not a baseline."""
    _hit6_78_then_60(world.users["patient"], world.own_patient)
    if session_days_ago is not None:
        _first_session(world.own_patient, session_days_ago)
    first = timezone.localdate() - timedelta(days=90)
    client.force_login(world.users["patient"])
    html = client.get(reverse("outcomes:questionnaires")).content.decode()
    if session_days_ago == 70:
        assert "Your score has come down from 78 before treatment to 60." in html
    else:
        day = date_format(first, "j F Y")
        assert f"Your score has come down from 78 on {day} to 60. A fall of 5 points or more" in html
        assert "before treatment" not in html
    client.force_login(world.users["clinician"])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.own_patient.external_id})
    staff = client.get(url).content.decode()
    numbers = {"day": date_format(first, "j M Y")}
    if session_days_ago is None:
        expected = str(selectors.BASELINE_NO_SESSION) % numbers
    else:
        numbers["first"] = date_format(timezone.localdate() - timedelta(days=session_days_ago), "j M Y")
        words = {
            70: selectors.BASELINE_BEFORE_FIRST_SESSION,
            30: selectors.BASELINE_OLDER_THAN_WINDOW,
            120: selectors.BASELINE_AFTER_FIRST_SESSION,
        }[session_days_ago]
        expected = str(words) % {**numbers, "days_before": 60, "window": PROM_WINDOW_DAYS}
    assert f'<span class="muted small">{expected}</span>' in staff


def _compared(first_session: date | None) -> BaselineAndLatest:
    """A baseline answered 1 October 2026 and a latest answered 30 November 2026 (totals are the change's)."""
    baseline = QuestionnaireResponse(instrument=Instrument.HIT6, date=date(2026, 10, 1))
    return BaselineAndLatest(
        baseline, QuestionnaireResponse(instrument=Instrument.HIT6, date=date(2026, 11, 30)), first_session
    )


@pytest.mark.parametrize(
    ("baseline", "latest", "words"),
    [
        (66, 61, "Your score has come down from 66 before treatment to 61. A fall of 5 points or more"),
        (66, 62, "Your score has come down from 66 before treatment to 62, less than the 5 points"),
        (66, 66, "Your score is the same as before treatment (66)."),
        (48, 66, "Your score has gone up from 48 before treatment to 66."),
    ],
)
def test_the_patient_reads_the_hit6_change_in_plain_words(baseline, latest, words):
    """The patient's words follow the engine's change at the 5-point threshold, and say a rise is a rise."""
    before_treatment = _compared(first_session=date(2026, 10, 1))
    assert change_for_patient(hit6_change(baseline, latest), before_treatment).startswith(words)


@pytest.mark.parametrize(
    ("baseline", "latest", "words"),
    [
        (66, 61, "Your score has come down from 66 on 1 October 2026 to 61. A fall of 5 points or more"),
        (51, 49, "Your score has come down from 51 on 1 October 2026 to 49, less than the 5 points"),
        (66, 66, "Your score is the same as on 1 October 2026 (66)."),
        (48, 66, "Your score has gone up from 48 on 1 October 2026 to 66."),
    ],
)
@pytest.mark.parametrize("first_session", [None, date(2026, 9, 30)])
def test_a_change_not_from_before_treatment_is_worded_from_the_first_answers_date(
    baseline, latest, words, first_session
):
    """With no recorded session, or a baseline answered after the first one, the change is from the first answer on
    its date: "before treatment" would claim a comparison the answers do not make."""
    assert change_for_patient(hit6_change(baseline, latest), _compared(first_session)).startswith(words)


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_read_a_patients_questionnaires(client, world, role):
    """Clinicians and nurses see a patient's questionnaires (no answer buttons) and the read is audited."""
    questionnaire_response_record(
        user=world.users["nurse"],
        patient=world.same_clinic_patient,
        instrument="midas",
        answers={"q1": 10, "q2": 5, "q3": 5, "q4": 5, "q5": 5},
        date=timezone.localdate(),
        today=timezone.localdate(),
    )
    client.force_login(world.users[role])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.same_clinic_patient.external_id})
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "grade IV: severe disability" in html
    assert reverse("outcomes:hit6") not in html
    assert AuditEvent.objects.filter(action=Action.READ, username=role).exists()


@pytest.mark.parametrize(
    ("role", "target"),
    [
        ("clinician", "other_clinic_patient"),
        ("billing", "same_clinic_patient"),
        ("admin", "same_clinic_patient"),
        ("trainee", "same_clinic_patient"),
        ("patient", "same_clinic_patient"),
        ("patient", "other_clinic_patient"),
    ],
)
def test_no_one_else_reads_a_patients_questionnaires(client, world, role, target):
    """Other clinics' patients, billing, admins, trainees and other patients get 404, and it is audited."""
    client.force_login(world.users[role])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": getattr(world, target).external_id})
    assert client.get(url).status_code == 404
    assert AuditEvent.objects.filter(action=Action.DENIED, username=role).count() == 1


def test_staff_have_no_questionnaire_forms_of_their_own(client, world):
    """The answer forms are the patient's: staff get 404 there and are sent home from the list."""
    client.force_login(world.users["clinician"])
    assert client.get(reverse("outcomes:hit6")).status_code == 404
    assert client.post(reverse("outcomes:midas"), _midas_post()).status_code == 404
    assert client.get(reverse("outcomes:questionnaires")).url == reverse("clinic:home")
    assert not QuestionnaireResponse.objects.exists()


# --- Continue or stop: the clinician's decision -------------------------------------------------------------------


def _stop_suggested(patient):
    """Week 24 (period 6) ended 3 days ago with 18 headache days against 20 at baseline: NICE TA260 says stop."""
    today = timezone.localdate()
    day0 = today - timedelta(days=170)
    store(patient, course_rows(day0, 20, 19, 19, 18, 18, 18, 18), today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)


def _migrated_on_treatment(patient):
    """A patient who came on treatment: the diary begins at the first injection 90 days ago (no baseline recorded),
    then three periods of 6, 5 and 4 headache days, the third ended a week ago; sessions 90 and 6 days ago."""
    today = timezone.localdate()
    day0 = today - timedelta(days=90)
    rows = [row for row in course_rows(day0, 20, 6, 5, 4) if row["date"] >= day0.isoformat()]
    store(patient, rows, today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)


def _history(html: str) -> str:
    return html[html.index('id="history-heading"') :]


def _decision_urls(patient):
    return (
        reverse("outcomes:treatment_decisions", args=[patient.external_id]),
        reverse("outcomes:treatment_decision_record", args=[patient.external_id]),
    )


def test_the_decision_page_shows_the_engines_verdict_above_the_form(client, world):
    """A clinician sees NICE TA260's verdict with the engine's reasons, the pathway state, and the form (continue
    or stop, a reason, a fresh token); the read is audited."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    html = client.get(page).content.decode()
    assert "NICE TA260 1.2: headache days from 20 at baseline to 18" in html
    assert "stop suggested" in html
    assert f'action="{send_to}"' in html
    for field in ("decision", "reason", "submission"):
        assert f'name="{field}"' in html
    assert "No decision recorded yet." in html
    assert AuditEvent.objects.filter(action=Action.READ, patient_id=patient.external_id, path=page).exists()


def test_the_decision_page_words_the_verdict_as_the_patient_page_does(client, world):
    """Before week 24 the verdict reads "not yet assessable", as on the patient page, never the engine's code."""
    patient = world.same_clinic_patient
    today = timezone.localdate()
    day0 = today - timedelta(days=60)
    store(patient, course_rows(day0, 20, 19, 18), today=today)
    InjectionSessionFactory(patient=patient, date=day0, status=SessionStatus.RECORDED)
    page, _send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    html = client.get(page).content.decode()
    assert ">not yet assessable</span>" in html
    assert "not_yet_assessable" not in html


def test_recording_a_decision_redirects_to_the_page_with_it_in_the_history(client, world):
    """A clinician's "continue" with a reason is stored and shown at the top of the history, with their name, the
    day and the verdict it overrode; the pathway is no longer stop suggested."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    form = {"decision": "continue", "reason": "HIT-6 down 9 points", "submission": str(uuid.uuid4())}
    response = client.post(send_to, form)
    assert response.status_code == 302
    assert response.url == page
    decision = TreatmentDecision.objects.get()
    assert (decision.decision, decision.decided_on, decision.nice_verdict) == (
        "continue",
        timezone.localdate(),
        "stop",
    )
    html = client.get(page).content.decode()
    assert "HIT-6 down 9 points" in html
    assert "Continued against the stopping rule on" in html
    assert "NICE TA260 that day: stop suggested" in html  # the engine's value in the patient page's words
    assert "stop suggested" not in html.split("history-heading")[0].split("pathway-heading")[1]


def test_the_form_says_a_stop_cancels_the_booking_and_the_saved_message_names_it(client, world):
    """With the next session booked, the form says beforehand that a stop cancels it; once stopped, the message
    names the session cancelled and the pathway is "treatment stopped" with nothing left to cancel."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    booked = timezone.localdate() + timedelta(days=5)
    InjectionSessionFactory(patient=patient, date=booked, status=SessionStatus.BOOKED)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    day = f"{booked.day} {booked:%B %Y}"
    assert f"A decision to stop cancels the session booked for {day}." in client.get(page).content.decode()
    form = {"decision": "stop", "reason": "No benefit after two cycles", "submission": str(uuid.uuid4())}
    html = client.post(send_to, form, follow=True).content.decode()
    assert f"The session booked for {booked.day} {booked:%b %Y} was cancelled: treatment has stopped." in html
    assert "A decision to stop cancels" not in html
    assert "still booked" not in html


def test_a_decision_to_continue_says_what_it_booked_or_which_missed_booking_kept_it_from_booking(client, world):
    """Continuing books the next session and says for when and where to move it; with a missed booking still open
    it books none and says that booking is to be moved (it said only "treatment continues" either way)."""
    from onaboard.web.injections.models import InjectionSession

    patient = world.same_clinic_patient
    _stop_suggested(patient)
    _page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    form = {"decision": "continue", "reason": "Fewer severe days", "submission": str(uuid.uuid4())}
    html = client.post(send_to, form, follow=True).content.decode()
    booking = InjectionSession.objects.get(patient=patient, status=SessionStatus.BOOKED)
    assert f"The next session is booked for {booking.date.day} {booking.date:%b %Y}" in html
    missed = timezone.localdate() - timedelta(days=3)
    InjectionSession.objects.filter(pk=booking.pk).update(date=missed)
    form = {"decision": "continue", "reason": "Still fewer severe days", "submission": str(uuid.uuid4())}
    html = client.post(send_to, form, follow=True).content.decode()
    assert f"The booking of {missed.day} {missed:%b %Y} was missed and is still open" in html
    assert InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).count() == 1


def test_a_refused_decision_keeps_the_input_and_ties_each_error_to_its_field(client, world):
    """Sent without a reason, the form comes back with the choice kept, the summary linking to the reason, and the
    reason marked invalid and described by its error; nothing is saved."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    _page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    response = client.post(send_to, {"decision": "stop", "reason": "  ", "submission": str(uuid.uuid4())})
    html = response.content.decode()
    assert response.status_code == 200
    assert not TreatmentDecision.objects.exists()
    assert 'href="#id_reason"' in html
    assert (
        'value="stop" checked' in html
        or 'checked value="stop"' in html
        or re.search(r'<input[^>]*value="stop"[^>]*checked', html)
    )
    reason_input = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in reason_input
    assert "id_reason_error" in reason_input
    assert escape(str(services.DECISION_REASON_NEEDED)) in html
    _assert_errors_are_tied(response)


def test_a_refused_decision_without_a_choice_says_to_choose(client, world):
    """Sent with a reason and no choice, the form asks to choose continue or stop, the reason kept."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    _page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    response = client.post(send_to, {"reason": "patient's wish", "submission": str(uuid.uuid4())})
    html = response.content.decode()
    assert escape(str(forms.CHOOSE_DECISION)) in html
    assert "patient&#x27;s wish" in html
    _assert_errors_are_tied(response)


def test_nurses_read_the_decisions_but_do_not_record_them(client, world):
    """A nurse sees the verdict and the history without the form; their post is refused (403) and saves nothing."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["nurse"])
    html = client.get(page).content.decode()
    assert "NICE TA260 1.2" in html
    assert 'name="reason"' not in html
    assert "Only a clinician records a decision to continue or stop treatment" in html
    response = client.post(send_to, {"decision": "stop", "reason": "no benefit", "submission": str(uuid.uuid4())})
    assert response.status_code == 403
    assert not TreatmentDecision.objects.exists()


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_the_decision_page_gives_what_the_reason_weighs_beside_the_verdict(client, world, role):
    """Beside NICE TA260's verdict the page shows each questionnaire's latest answer with the engine's reason and
    HIT-6's change from its baseline, as the questionnaires page shows staff, and links to all the answers and to the
    patient page's headache days per period and side effects, sections that page has; the answers' read is audited."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    _hit6_78_then_60(world.users["nurse"], patient)
    page, _send_to = _decision_urls(patient)
    client.force_login(world.users[role])
    html = client.get(page).content.decode()
    evidence = html[html.index('id="evidence-heading"') : html.index('id="history-heading"')]
    # both answers came after the first session: the difference, not judged as a response
    assert "HIT-6 78 -&gt; 60: -18 points; not a change since treatment, so not judged as a response" in evidence
    assert "latest 60" in evidence
    assert "not answered yet" in evidence  # MIDAS
    assert reverse("outcomes:patient_questionnaires", args=[patient.external_id]) in evidence
    patient_page = reverse("patients:detail", args=[patient.external_id])
    anchors = re.findall(rf'href="{re.escape(patient_page)}#([^"]+)"', evidence)
    assert anchors == ["outcomes-heading", f"side-effects-heading-{patient.external_id}"]
    target = client.get(patient_page).content.decode()
    for anchor in anchors:
        assert f'id="{anchor}"' in target
    assert AuditEvent.objects.filter(action=Action.READ, object_type="questionnaires", path=page).exists()


def test_before_any_session_the_decision_page_has_nothing_to_weigh(client, world):
    """With no session recorded there is no verdict and no decision to make, so no questionnaire or link to weigh."""
    patient = world.same_clinic_patient
    _hit6_78_then_60(world.users["nurse"], patient)
    page, _send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    html = client.get(page).content.decode()
    assert "No session is recorded yet" in html
    assert 'id="evidence-heading"' not in html


@pytest.mark.parametrize("role", ["billing", "admin"])
def test_staff_without_the_clinical_view_are_refused(client, world, role):
    """Billing staff and administrators are refused the page and the post (403); nothing is saved."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users[role])
    assert client.get(page).status_code == 403
    form = {"decision": "stop", "reason": "no benefit", "submission": str(uuid.uuid4())}
    assert client.post(send_to, form).status_code == 403
    assert not TreatmentDecision.objects.exists()


def test_another_clinics_patient_and_the_patient_themselves_are_not_found(client, world):
    """A clinician asking for another clinic's patient, and a patient for their own record, get "not found"."""
    _stop_suggested(world.other_clinic_patient)
    client.force_login(world.users["clinician"])
    page, send_to = _decision_urls(world.other_clinic_patient)
    assert client.get(page).status_code == 404
    form = {"decision": "stop", "reason": "no benefit", "submission": str(uuid.uuid4())}
    assert client.post(send_to, form).status_code == 404
    client.force_login(world.users["patient"])
    page, send_to = _decision_urls(world.own_patient)
    assert client.get(page).status_code == 404
    assert client.post(send_to, form).status_code == 404
    assert not TreatmentDecision.objects.exists()


def test_the_same_form_sent_twice_records_one_decision(client, world):
    """A double click posts the same token twice: one decision, both posts landing on the page."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    form = {"decision": "stop", "reason": "no benefit", "submission": str(uuid.uuid4())}
    assert client.post(send_to, form).url == page
    assert client.post(send_to, form).url == page
    assert TreatmentDecision.objects.count() == 1


def test_a_patient_cannot_date_answers_before_their_first_treatment(patient_client, world):
    """After the first session the HIT-6 before it is the baseline: the form refuses an earlier date at the date,
    in the service's words, and nothing is saved; the service refuses it too when called directly."""
    patient, today = world.own_patient, timezone.localdate()
    first = today - timedelta(days=14)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    before = first - timedelta(days=1)
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post(date=before.isoformat()))
    assert response.status_code == 200
    assert "Answers can no longer be dated" in unescape(response.content.decode())
    assert not QuestionnaireResponse.objects.exists()
    with pytest.raises(QuestionnaireDateError):
        questionnaire_response_record(
            user=world.users["patient"],
            patient=patient,
            instrument="hit6",
            answers=["never"] * 6,
            date=before,
            today=today,
        )
    assert not QuestionnaireResponse.objects.exists()


def test_answers_refused_under_the_lock_after_the_form_passed_them_name_the_date(patient_client, world, monkeypatch):
    """A session recorded between the form's check and the save (the form passed the date): the service's refusal is
    shown at the date, not a server error, and nothing is saved."""
    patient, today = world.own_patient, timezone.localdate()
    InjectionSessionFactory(patient=patient, date=today - timedelta(days=14), status=SessionStatus.RECORDED)
    monkeypatch.setattr(forms, "before_treatment_problem", lambda *args, **kwargs: None)
    response = patient_client.post(reverse("outcomes:hit6"), _hit6_post(date=(today - timedelta(days=20)).isoformat()))
    assert response.status_code == 200
    assert "Answers can no longer be dated" in unescape(response.content.decode())
    assert not QuestionnaireResponse.objects.exists()


def test_the_answers_date_field_starts_after_the_baseline(patient_client, world):
    """After the first session (not today) the HIT-6 date field's earliest day is the day after it."""
    patient, today = world.own_patient, timezone.localdate()
    first = today - timedelta(days=14)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    html = patient_client.get(reverse("outcomes:hit6")).content.decode()
    assert f'min="{(first + timedelta(days=1)).isoformat()}"' in html


# --- Staff entering a patient's answers from the paper form -------------------------------------------------------


def _staff_url(name: str, patient) -> str:
    return reverse(f"outcomes:patient_{name}", kwargs={"patient_id": patient.external_id})


def _hit6_never(user, patient, day: date) -> QuestionnaireResponse:
    """A HIT-6 of ``day`` answered "never" to every item (total 36), saved by ``user``."""
    today = timezone.localdate()
    return questionnaire_response_record(
        user=user, patient=patient, instrument="hit6", answers=["never"] * 6, date=day, today=today
    )


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_enter_a_patients_hit6_from_the_paper_form(client, world, role):
    """The same six items, scored by the engine, saved on the patient's record under the staff member's name in the
    audit trail; the page then lists the patient's answers with the saved message."""
    patient = world.same_clinic_patient
    client.force_login(world.users[role])
    page = unescape(client.get(_staff_url("hit6", patient)).content.decode())
    assert f"HIT-6 answers: {patient.display_name} ({patient.record_number})" in page
    assert "as numbered on the patient's HIT-6 form" in page
    assert "Save the answers" in page
    assert "Save my answers" not in page
    response = client.post(_staff_url("hit6", patient), _hit6_post())
    assert response.url == reverse("outcomes:patient_questionnaires", kwargs={"patient_id": patient.external_id})
    saved = QuestionnaireResponse.objects.get(patient=patient)
    assert (saved.instrument, saved.total, saved.category) == ("hit6", 66, "severe_impact")
    assert AuditEvent.objects.filter(
        action=Action.CREATE, username=role, patient_id=patient.external_id, object_type="questionnaire_hit6"
    ).exists()
    listed = unescape(client.get(response.url).content.decode())
    assert "HIT-6 saved for" in listed


def test_staff_enter_a_baseline_midas_the_patient_can_no_longer_date(client, world):
    """After the first session has passed, the patient's own form refuses a date before it (the baseline is kept);
    the clinic, which the patient is told to ask, enters it, and the page says it is the baseline."""
    patient, today = world.own_patient, timezone.localdate()
    first = today - timedelta(days=14)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    before = (first - timedelta(days=3)).isoformat()
    client.force_login(world.users["patient"])
    refused = client.post(reverse("outcomes:midas"), _midas_post(date=before))
    assert "Answers can no longer be dated" in unescape(refused.content.decode())
    assert not QuestionnaireResponse.objects.exists()
    client.force_login(world.users["nurse"])
    page = unescape(client.get(_staff_url("midas", patient)).content.decode())
    assert 'id="answers-baseline"' in page
    assert date_format(first, "j M Y") in page
    assert "min=" not in re.search(r'<input[^>]*name="date"[^>]*>', page).group(0)
    assert client.post(_staff_url("midas", patient), _midas_post(date=before)).status_code == 302
    assert QuestionnaireResponse.objects.get(patient=patient).date.isoformat() == before


def test_staff_correct_an_answer_from_its_row_and_are_told_it_is_replaced(client, world):
    """The staff list links each answer to the form opened on it: its day shown, not asked (a correction stays on
    its day), its answers filled in; saving different answers replaces it (the page said so), one answer that day."""
    patient = world.same_clinic_patient
    day = timezone.localdate() - timedelta(days=30)
    _hit6_never(world.users["clinician"], patient, day)
    client.force_login(world.users["clinician"])
    listed = client.get(
        reverse("outcomes:patient_questionnaires", kwargs={"patient_id": patient.external_id})
    ).content.decode()
    link = f"{_staff_url('hit6', patient)}?date={day.isoformat()}"
    assert f'href="{link}"' in listed
    page = unescape(client.get(link).content.decode())
    assert "Saving replaces this answer." in page
    assert f'<input type="hidden" name="date" value="{day.isoformat()}">' in page
    assert 'type="date"' not in page
    checked = re.findall(r'<input type="radio" name="(item_\d)" value="(\w+)"[^>]*checked', page)
    assert checked == [(f"item_{n}", "never") for n in range(1, 7)]
    shown = answer_token(QuestionnaireResponse.objects.get())
    assert f'name="replaces" value="{shown}"' in page
    response = client.post(link, _hit6_post(date=day.isoformat(), replaces=shown, correcting="True"))
    assert response.status_code == 302
    assert QuestionnaireResponse.objects.get(patient=patient, date=day).total == 66
    kept = SupersededQuestionnaireResponse.objects.get()  # what the answer said before stays on the record
    assert (kept.date, kept.total, kept.why, kept.superseded_by) == (
        day,
        36,
        Superseded.REPLACED,
        world.users["clinician"],
    )
    replaced = AuditEvent.objects.filter(action=Action.UPDATE, object_type="questionnaire_hit6").get()
    assert str(kept.external_id) in replaced.detail


def test_a_correction_of_an_answer_removed_since_is_not_saved_unseen(client, world):
    """A nurse's correcting form is open when a clinician removes that answer (entered on the wrong patient): the
    nurse's save does not put it back silently; the page says it was removed, and a second send saves knowingly."""
    patient = world.same_clinic_patient
    day = timezone.localdate() - timedelta(days=6)
    saved = _hit6_never(world.users["clinician"], patient, day)
    opened = answer_token(saved)
    services.questionnaire_response_remove(
        user=world.users["clinician"], patient=patient, token=opened, instrument="hit6"
    )
    client.force_login(world.users["nurse"])
    link = f"{_staff_url('hit6', patient)}?date={day.isoformat()}"
    sent = _hit6_post("rarely", date=day.isoformat(), replaces=opened, correcting="True")
    page = unescape(client.post(link, sent).content.decode())
    assert "was removed by someone else after this form was opened" in page
    assert not QuestionnaireResponse.objects.exists()
    assert client.post(link, {**sent, "replaces": ""}).status_code == 302
    assert QuestionnaireResponse.objects.get().total == 48


def test_two_people_correcting_the_same_answer_do_not_overwrite_each_other_unseen(client, world):
    """Two forms opened on the same answer: the first save replaces it; the second is sent back unsaved, saying the
    answer changed since the form was opened and what it is now, with the sender's answers kept; its next send
    replaces it knowingly. The service refuses a stale token under its lock too."""
    patient = world.same_clinic_patient
    day = timezone.localdate() - timedelta(days=9)
    today = timezone.localdate()
    original = _hit6_never(world.users["clinician"], patient, day)
    opened = answer_token(original)
    client.force_login(world.users["clinician"])
    link = f"{_staff_url('hit6', patient)}?date={day.isoformat()}"
    first = _hit6_post("always", date=day.isoformat(), replaces=opened, correcting="True")
    assert client.post(link, first).status_code == 302
    assert QuestionnaireResponse.objects.get().total == 78
    client.force_login(world.users["nurse"])
    second = _hit6_post("sometimes", date=day.isoformat(), replaces=opened, correcting="True")
    page = unescape(client.post(link, second).content.decode())
    assert "was changed by someone else after this form was opened (its total is now 78)" in page
    assert len(re.findall(r'value="sometimes"[^>]*checked', page)) == 6
    assert QuestionnaireResponse.objects.get().total == 78
    with pytest.raises(services.QuestionnaireChangedError):
        questionnaire_response_record(
            user=world.users["nurse"],
            patient=patient,
            instrument="hit6",
            answers=["rarely"] * 6,
            date=day,
            today=today,
            expected=opened,
        )
    now = answer_token(QuestionnaireResponse.objects.get())
    assert client.post(link, {**second, "replaces": now}).status_code == 302
    assert QuestionnaireResponse.objects.get().total == 60


def test_staff_remove_an_answer_entered_in_error_after_confirming(client, world):
    """ "Remove this answer" on the correcting form asks first, naming the answer; confirmed, it removes it, says so,
    and the audit trail keeps what it was. A stale removal (the answer changed since it was shown) removes nothing."""
    patient = world.same_clinic_patient
    day = timezone.localdate() - timedelta(days=12)
    saved = _hit6_never(world.users["clinician"], patient, day)
    token = answer_token(saved)
    client.force_login(world.users["nurse"])
    url = _staff_url("hit6", patient)
    page = client.get(f"{url}?date={day.isoformat()}").content.decode()
    assert 'id="remove-answer"' in page
    asked = unescape(client.post(url, {"action": "remove", "replaces": token}).content.decode())
    assert f"Remove the HIT-6 answer of {date_format(day, 'j F Y')} (total 36)?" in asked
    assert QuestionnaireResponse.objects.exists()
    stale = f"{day.isoformat()}@2020-01-01T00:00:00+00:00"
    refused = client.post(url, {"action": "remove", "replaces": stale, "confirm": "yes"})
    assert refused.status_code == 302
    assert QuestionnaireResponse.objects.exists()
    done = client.post(url, {"action": "remove", "replaces": token, "confirm": "yes"})
    assert done.url == reverse("outcomes:patient_questionnaires", kwargs={"patient_id": patient.external_id})
    assert not QuestionnaireResponse.objects.exists()
    kept = SupersededQuestionnaireResponse.objects.get()
    assert (kept.date, kept.total, kept.answers, kept.why, kept.superseded_by) == (
        day,
        36,
        ["never"] * 6,
        Superseded.REMOVED,
        world.users["nurse"],
    )
    event = AuditEvent.objects.get(action=Action.DELETE, object_type="questionnaire_hit6")
    assert (event.username, event.patient_id) == ("nurse", patient.external_id)
    assert str(kept.external_id) in event.detail
    assert "never" not in event.detail  # the answers are clinical: the audit trail (read by admins) names the row
    listed = unescape(client.get(done.url).content.decode())
    assert f"HIT-6 answer of {date_format(day, 'j F Y')} removed." in listed


def test_a_patient_cannot_remove_answers(patient_client, world):
    """The removal is the clinic's: the patient's own form has no such button, and a removal sent to it is treated
    as answers (refused, nothing removed)."""
    today = timezone.localdate()
    saved = _hit6_never(world.users["patient"], world.own_patient, today)
    assert 'id="remove-answer"' not in patient_client.get(reverse("outcomes:hit6")).content.decode()
    patient_client.post(
        reverse("outcomes:hit6"), {"action": "remove", "replaces": answer_token(saved), "confirm": "yes"}
    )
    assert QuestionnaireResponse.objects.count() == 1


def test_staff_open_an_empty_form_without_a_date(client, world):
    """Staff give the day the patient filled the form in: a new entry's date starts empty, and sending none asks
    for it in the clinic's words."""
    client.force_login(world.users["nurse"])
    url = _staff_url("midas", world.same_clinic_patient)
    page = unescape(client.get(url).content.decode())
    field = re.search(r'<input[^>]*name="date"[^>]*>', page).group(0)
    assert "value=" not in field
    sent = unescape(client.post(url, _midas_post(date="")).content.decode())
    assert "Enter the day the patient filled in the form." in sent
    assert "Question 1: " not in sent  # only the questions with a problem are named
    bad = unescape(client.post(url, _midas_post(q2=200)).content.decode())
    assert "Question 2: Enter a whole number of days" in bad


def test_staff_sending_answers_for_an_answered_day_are_told_whose_answer_it_replaces(client, world):
    """Answers for a day already answered are not saved until the page has said, in the clinic's words, that the
    patient's answer of that day is recorded and that saving again replaces it."""
    patient = world.same_clinic_patient
    day = timezone.localdate() - timedelta(days=5)
    _hit6_never(world.users["clinician"], patient, day)
    client.force_login(world.users["nurse"])
    page = unescape(client.post(_staff_url("hit6", patient), _hit6_post(date=day.isoformat())).content.decode())
    assert "Not saved yet: the patient's HIT-6 answer of" in page
    assert QuestionnaireResponse.objects.get(patient=patient).total == 36


@pytest.mark.parametrize("role", ["billing", "admin", "trainee", "patient"])
def test_no_one_but_clinical_staff_enters_a_patients_answers(client, world, role):
    """Billing, administrators and trainees have no KEEP_DIARY; a patient answers on their own pages: all get 404
    here, audited, and nothing is saved."""
    client.force_login(world.users[role])
    for name, post in (("hit6", _hit6_post()), ("midas", _midas_post())):
        assert client.get(_staff_url(name, world.own_patient)).status_code == 404
        assert client.post(_staff_url(name, world.own_patient), post).status_code == 404
    assert not QuestionnaireResponse.objects.exists()
    assert AuditEvent.objects.filter(action=Action.DENIED, username=role).count() == 4


def test_another_clinics_patients_answers_are_not_found(client, world):
    """A clinician entering answers for another clinic's patient gets 404, and nothing is saved."""
    client.force_login(world.users["clinician"])
    assert client.post(_staff_url("hit6", world.other_clinic_patient), _hit6_post()).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


def test_only_staff_who_may_enter_answers_see_the_links(client, world):
    """The staff list offers "Enter ... answers" to clinical staff; the patient reading their own list through the
    same address does not get them."""
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.own_patient.external_id})
    client.force_login(world.users["nurse"])
    assert 'id="enter-hit6"' in client.get(url).content.decode()
    client.force_login(world.users["patient"])
    assert 'id="enter-hit6"' not in client.get(url).content.decode()


def test_the_decision_page_suggests_the_stop_the_verdict_holds_back_for_an_incomplete_baseline(client, world):
    """No baseline recorded and three periods under 15 headache days: the verdict reads not yet assessable, but the
    page shows it as a stop suggested (red, and says the return to episodic migraine holds), as the pathway does; a
    "continue" recorded then is kept as made against the stopping rule, in the history and the pathway."""
    patient = world.same_clinic_patient
    _migrated_on_treatment(patient)
    page, send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])
    html = client.get(page).content.decode()
    nice = html[html.index('id="nice-heading"') : html.index('id="evidence-heading"')]
    assert '<div class="verdict bad">' in nice
    assert ">not yet assessable</span>" in nice
    assert 'id="stop-held-back"' in nice
    pathway = html[html.index('id="pathway-heading"') : html.index('id="nice-heading"')]
    assert '<span class="badge bad">stop suggested</span>' in pathway
    form = {"decision": "continue", "reason": "fewer severe days", "submission": str(uuid.uuid4())}
    assert client.post(send_to, form).status_code == 302
    decision = TreatmentDecision.objects.get()
    assert (decision.nice_verdict, decision.nice_reverted_to_episodic) == ("not_yet_assessable", True)
    html = client.get(page).content.decode()
    assert '<span class="badge warn">continued against the stopping rule</span>' in _history(html)
    assert "Continued against the stopping rule on" in html[: html.index('id="nice-heading"')]
    assert '<span class="badge bad">stop suggested</span>' not in html[: html.index('id="nice-heading"')]


def test_a_continue_against_a_stop_is_badged_apart_from_a_plain_continue(client, world):
    """In the history a "continue" made while a stop was suggested reads "continued against the stopping rule" in
    warning colour; one made when none was (before week 24) reads "continue treatment" in green."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    today = timezone.localdate()
    clinician = world.users["clinician"]
    for day, verdict in ((today - timedelta(days=60), "not_yet_assessable"), (today, "stop")):
        TreatmentDecision.objects.create(
            patient=patient,
            decided_on=day,
            decision=Decision.CONTINUE,
            reason=f"decided while the verdict was {verdict}",
            decided_by=clinician,
            nice_verdict=verdict,
        )
    page, _send_to = _decision_urls(patient)
    client.force_login(clinician)
    history = _history(client.get(page).content.decode())
    against = history.index('<span class="badge warn">continued against the stopping rule</span>')
    plain = history.index('<span class="badge ok">continue treatment</span>')
    assert against < history.index("decided while the verdict was stop") < plain
    assert plain < history.index("decided while the verdict was not_yet_assessable")
    assert history.count("continued against the stopping rule") == 1


def test_the_decision_page_colours_a_hit6_change_only_when_it_is_from_before_treatment(client, world):
    """HIT-6 78 three days before the first session and 60 today is a response since treatment: the engine's reason
    in green; the same answers both given after the first session are the raw difference, in no colour and with no
    responder verdict."""
    patient = world.same_clinic_patient
    _stop_suggested(patient)
    today = timezone.localdate()
    first = patient.injection_sessions.order_by("date").first().date
    for day, answer in ((first - timedelta(days=3), "always"), (today, "sometimes")):
        questionnaire_response_record(
            user=world.users["nurse"], patient=patient, instrument="hit6", answers=[answer] * 6, date=day, today=today
        )
    page, _send_to = _decision_urls(patient)
    client.force_login(world.users["clinician"])

    def hit6_box() -> str:
        html = client.get(page).content.decode()
        evidence = html[html.index('id="evidence-heading"') : html.index('id="history-heading"')]
        found = re.search(r'<div class="verdict ([a-z]*)"><ul><li>HIT-6 total 60(.*?)</div>', evidence, re.S)
        assert found is not None, evidence
        return found.group(1), unescape(found.group(2))

    tone, text = hit6_box()
    assert tone == "ok"
    assert hit6_change(78, 60).reason in text
    QuestionnaireResponse.objects.filter(patient=patient, date__lt=first).update(date=first + timedelta(days=1))
    tone, text = hit6_box()
    assert tone == ""
    assert "HIT-6 78 -> 60: -18 points; not a change since treatment, so not judged as a response" in text
    assert "responder" not in text
