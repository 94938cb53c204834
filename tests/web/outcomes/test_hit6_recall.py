"""A HIT-6 answer given less than PROM_WINDOW_DAYS (28) days after the first session still recalls days before it
(HIT-6 asks about the last 4 weeks; onaboard.clinical.prom.PROM_WINDOW_DAYS), so no page calls its change a
response or the patient's score "come down" since treatment: the raw difference, and why."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from onaboard.clinical import PROM_WINDOW_DAYS, hit6_change
from onaboard.web.injections.models import SessionStatus
from onaboard.web.outcomes import selectors, views
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import BaselineAndLatest
from onaboard.web.outcomes.services import questionnaire_response_record
from onaboard.web.outcomes.views import change_for_patient
from tests.web.factories import InjectionSessionFactory

pytestmark = pytest.mark.django_db


def _day7(world, patient) -> date:
    """The reviewer's case: the first session 7 days ago, HIT-6 66 five days before it and 60 today (recorded by the
    nurse); returns the first session's day."""
    today = timezone.localdate()
    first = today - timedelta(days=7)
    InjectionSessionFactory(patient=patient, date=first, status=SessionStatus.RECORDED)
    for day, answer in ((first - timedelta(days=5), "very often"), (today, "sometimes")):
        questionnaire_response_record(
            user=world.users["nurse"], patient=patient, instrument="hit6", answers=[answer] * 6, date=day, today=today
        )
    return first


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_staff_read_no_responder_verdict_on_an_answer_given_7_days_after_the_first_session(client, world):
    """The staff's questionnaires page shows 66 -> 60 as a raw difference saying why it is not judged, not "drop of
    6 points (>= 5: responder)", and not in the responder's colour."""
    _day7(world, world.same_clinic_patient)
    client.force_login(world.users["clinician"])
    url = reverse("outcomes:patient_questionnaires", kwargs={"patient_id": world.same_clinic_patient.external_id})
    html = client.get(url).content.decode()
    text = _text(html)
    assert "responder" not in text
    assert hit6_change(66, 60).reason not in text
    too_soon = selectors.HIT6_TOO_SOON % {
        "baseline": 66,
        "latest": 60,
        "difference": "-6",
        "days": 7,
        "window": PROM_WINDOW_DAYS,
    }
    assert too_soon in text
    assert "still reach back to the first session or before it" in text


def test_the_patient_is_not_told_their_score_came_down_since_treatment_on_day_7(client, world):
    """The patient reads both scores, that the answer still covers days before their first treatment and from which
    day an answer will show how treatment is working, not "Your score has come down from 66 before treatment"."""
    first = _day7(world, world.own_patient)
    client.force_login(world.users["patient"])
    text = _text(client.get(reverse("outcomes:questionnaires")).content.decode())
    assert "come down" not in text
    expected = str(views.CHANGE_TOO_SOON) % {
        "baseline": 66,
        "latest": 60,
        "latest_day": date_format(timezone.localdate(), "j F Y"),
        "judged_from": date_format(first + timedelta(days=PROM_WINDOW_DAYS), "j F Y"),
    }
    assert expected in text


def test_the_patient_page_gives_no_hit6_response_on_day_7(client, world):
    """The clinician's patient page's HIT-6 change box is not green and names no responder for the day-7 answer."""
    _day7(world, world.same_clinic_patient)
    client.force_login(world.users["clinician"])
    html = client.get(reverse("patients:detail", args=[world.same_clinic_patient.external_id])).content.decode()
    found = re.search(r'<div class="verdict ([a-z]*)"><strong>HIT-6 change</strong>(.*?)</div>', html, re.S)
    assert found is not None
    assert found.group(1) == ""
    assert "responder" not in found.group(2)
    assert "not judged as a response yet" in _text(found.group(2))


@pytest.mark.parametrize(
    ("days_after", "too_soon"), [(7, True), (PROM_WINDOW_DAYS - 1, True), (PROM_WINDOW_DAYS, False)]
)
def test_the_patients_words_wait_for_an_answer_28_days_after_the_first_session(days_after, too_soon):
    """Before day 28 after the first session the patient reads the two scores and why they do not show a change
    yet; from day 28 (first session + PROM_WINDOW_DAYS) the usual "come down ... before treatment" words."""
    first = date(2026, 10, 1)
    compared = BaselineAndLatest(
        QuestionnaireResponse(instrument=Instrument.HIT6, date=first - timedelta(days=5)),
        QuestionnaireResponse(instrument=Instrument.HIT6, date=first + timedelta(days=days_after)),
        first,
    )
    words = change_for_patient(hit6_change(66, 60), compared)
    if too_soon:
        assert words.startswith("Your score was 66 before treatment and 60 on ")
        assert "does not yet show how treatment is working" in words
        assert date_format(first + timedelta(days=PROM_WINDOW_DAYS), "j F Y") in words
    else:
        assert words.startswith("Your score has come down from 66 before treatment to 60. A fall of 5 points")
