"""Questionnaire pages (onaboard/web/outcomes/views.py): the patient answers and sees trends; staff read them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import hit6_change
from onaboard.web.audit.models import Action, AuditEvent
from onaboard.web.outcomes import forms
from onaboard.web.outcomes.models import QuestionnaireResponse
from onaboard.web.outcomes.services import QuestionnaireDateError, questionnaire_response_record
from onaboard.web.outcomes.views import change_for_patient


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
    """A second HIT-6 on the same day replaces the first; the form says it will."""
    patient_client.post(reverse("outcomes:hit6"), _hit6_post())
    assert "Sending your answers again replaces" in patient_client.get(reverse("outcomes:hit6")).content.decode()
    patient_client.post(reverse("outcomes:hit6"), _hit6_post("never"))
    assert list(QuestionnaireResponse.objects.values_list("total", flat=True)) == [36]


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
    assert str(forms.NOT_AFTER_TODAY) in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_a_questionnaire_dated_before_the_birth_date_is_refused_in_plain_words(patient_client, world):
    """A date before the patient's birth date (a mistyped year) is refused next to the date, as the diary refuses a
    day before it, and nothing is saved."""
    response = patient_client.post(reverse("outcomes:midas"), _midas_post(date="1900-01-01"))
    assert "is before the birth date on the record" in response.content.decode()
    assert not QuestionnaireResponse.objects.exists()


def test_the_service_refuses_answers_dated_before_the_birth_date(world):
    """Every path (forms, API, imports) meets the rule in the service: nothing is saved."""
    with pytest.raises(QuestionnaireDateError, match="before the patient's birth date"):
        questionnaire_response_record(
            user=world.users["patient"],
            patient=world.own_patient,
            instrument="hit6",
            answers=["always"] * 6,
            date=world.own_patient.birth_date - timedelta(days=1),
        )
    assert not QuestionnaireResponse.objects.exists()


def _hit6_78_then_60(user, patient):
    """HIT-6 answered 90 days ago (all "always": 78) and today (all "sometimes": 60)."""
    today = timezone.localdate()
    for days_ago, answer in ((90, "always"), (0, "sometimes")):
        questionnaire_response_record(
            user=user, patient=patient, instrument="hit6", answers=[answer] * 6, date=today - timedelta(days=days_ago)
        )


def test_the_list_shows_totals_bands_and_a_trend(patient_client, world):
    """The patient's list shows each response with its band, the HIT-6 change and an SVG trend."""
    _hit6_78_then_60(world.users["patient"], world.own_patient)
    html = patient_client.get(reverse("outcomes:questionnaires")).content.decode()
    assert "Latest: 60" in html
    assert "Your score has come down from 78 before treatment to 60. A fall of 5 points or more" in html
    assert "-&gt;" not in html  # the clinic's shorthand is for staff
    assert html.count('class="point"') == 2
    assert "Not answered yet." in html
    assert AuditEvent.objects.filter(action=Action.READ, object_type="questionnaires").count() == 1


def test_staff_read_the_engines_reasons_where_the_patient_reads_plain_words(client, world):
    """A clinician reading the same answers gets the engine's reasons, rule shorthand and all."""
    _hit6_78_then_60(world.users["nurse"], world.same_clinic_patient)
    client.force_login(world.users["clinician"])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.same_clinic_patient.external_id})
    html = client.get(url).content.decode()
    assert "HIT-6 78 -&gt; 60: drop of 18 points (&gt;= 5: responder)" in html
    assert "Your score" not in html


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
    assert change_for_patient(hit6_change(baseline, latest)).startswith(words)


@pytest.mark.parametrize("role", ["clinician", "nurse"])
def test_clinical_staff_read_a_patients_questionnaires(client, world, role):
    """Clinicians and nurses see a patient's questionnaires (no answer buttons) and the read is audited."""
    questionnaire_response_record(
        user=world.users["nurse"],
        patient=world.same_clinic_patient,
        instrument="midas",
        answers={"q1": 10, "q2": 5, "q3": 5, "q4": 5, "q5": 5},
        date=timezone.localdate(),
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
