"""The patient page's treatment outcomes as this app words them (patients/patient_detail.html reads them from the
pathway and ``outcomes.selectors``): week 24 over without enough days recorded, a baseline of no headache day, and
the HIT-6 change judged only from an answer before treatment."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import hit6_change
from onaboard.web.injections.models import SessionStatus
from onaboard.web.outcomes.services import questionnaire_response_record
from tests.web.clinic.diaries import course_rows, store
from tests.web.factories import InjectionSessionFactory

pytestmark = pytest.mark.django_db


def _treated(patient, baseline: int, *periods, days_ago: int):
    """The course ``course_rows`` builds, its first session ``days_ago`` days ago and a second 84 days later, the
    diary up to today; returns the first session's day."""
    today = timezone.localdate()
    day0 = today - timedelta(days=days_ago)
    store(patient, course_rows(day0, baseline, *periods), today=today)
    for day in (day0, day0 + timedelta(days=84)):
        InjectionSessionFactory(patient=patient, date=day, status=SessionStatus.RECORDED)
    return day0


def _page(client, world, patient) -> str:
    client.force_login(world.users["clinician"])
    return client.get(reverse("patients:detail", args=[patient.external_id])).content.decode()


def _week24_box(html: str) -> tuple[str, str]:
    """The week-24 line's colour and its words."""
    found = re.search(r'<div class="verdict ([a-z]*)" data-week24="[a-z_]+">(.*?)</div>', html, re.S)
    assert found is not None, html
    return found.group(1), " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(2))).split())


def test_a_week_24_over_with_too_few_days_says_so_for_good_not_not_complete_yet(client, world):
    """Period 6 ended with 10 of its 28 days recorded: the week-24 line says it ended so and that the reduction
    cannot be measured (a warning), not "not complete yet", which it will never stop saying; the pathway asks for
    the week-24 assessment."""
    patient = world.same_clinic_patient
    _treated(patient, 20, 16, 16, 16, 16, 16, (8, 10), days_ago=170)
    html = _page(client, world, patient)
    tone, words = _week24_box(html)
    assert tone == "warn"
    assert words == (
        "Week 24 (period 6): ended with 10 of 28 days recorded (fewer than 20): the reduction cannot be measured"
    )
    assert "week-24 assessment due" in html


def test_a_week_24_under_way_is_not_complete_yet(client, world):
    """While period 6 is running the line still says "not complete yet", in no colour."""
    patient = world.same_clinic_patient
    _treated(patient, 20, 16, 16, 16, 16, 16, 8, days_ago=150)
    assert _week24_box(_page(client, world, patient)) == ("", "Week 24 (period 6): not complete yet")


@pytest.mark.parametrize(
    ("week24", "tone", "words"),
    [
        (0, "", "0 headache days · no headache day before or after treatment, so no reduction to measure"),
        (3, "bad", "3 headache days · no reduction from a baseline of 0"),
    ],
)
def test_a_baseline_of_no_headache_day_gives_no_percentage_and_no_responder_reading(client, world, week24, tone, words):
    """With no headache day at baseline there is no percentage: the line gives the engine's words for it (nothing to
    reduce, or no reduction from 0) instead of "None %" and a "50 % responder: yes" that 0 -> 0 met by arithmetic."""
    patient = world.same_clinic_patient
    _treated(patient, 0, *([week24] * 6), days_ago=170)
    shown_tone, shown = _week24_box(_page(client, world, patient))
    assert (shown_tone, shown) == (tone, f"Week 24 (period 6): {words}")
    assert "None" not in shown
    assert "responder" not in shown


def test_the_hit6_change_is_coloured_as_a_response_only_from_an_answer_before_treatment(client, world):
    """HIT-6 78 before the first session and 60 today is a response, in green with the engine's reason; the same
    answers when the first came after the first session are the raw difference, in no colour."""
    patient = world.same_clinic_patient
    day0 = _treated(patient, 20, 16, 12, 12, days_ago=100)
    today = timezone.localdate()
    for day, answer in ((day0 - timedelta(days=3), "always"), (today, "sometimes")):
        questionnaire_response_record(
            user=world.users["nurse"], patient=patient, instrument="hit6", answers=[answer] * 6, date=day, today=today
        )

    def hit6_box() -> tuple[str, str]:
        found = re.search(
            r'<div class="verdict ([a-z]*)"><strong>HIT-6 change</strong>(.*?)</div>',
            _page(client, world, patient),
            re.S,
        )
        assert found is not None
        return found.group(1), unescape(found.group(2))

    tone, text = hit6_box()
    assert tone == "ok"
    assert hit6_change(78, 60).reason in text
    patient.questionnaires.filter(date__lt=day0).update(date=day0 + timedelta(days=1))
    tone, text = hit6_box()
    assert tone == ""
    assert "HIT-6 78 -> 60: -18 points; not a change since treatment, so not judged as a response" in text
