"""The clinicians' "side effects to review" on the worklist (onaboard/web/clinic/views.py, the section
clinic/_side_effects_to_review.html; injections.selectors ``side_effects_to_review``) once a nurse has reviewed a
report: it stays until a clinician has."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.injections import services
from onaboard.web.injections.models import SessionStatus, SideEffect
from tests.web.factories import InjectionSessionFactory

pytestmark = pytest.mark.django_db

WORKLIST = reverse("clinic:worklist")
SECTION = 'id="side-effects-to-review"'


def test_a_nurses_first_review_neither_plays_down_nor_clears_an_urgent_report(client, world):
    """The patient's severe "trouble breathing": a nurse's review grading it mild and not related is refused on the
    review page (``REVIEW_BELOW_REPORT_CLINICIAN_ONLY``) and nothing changes; their review as reported is saved, and
    the report stays on the clinician's worklist until a clinician reviews it."""
    today = timezone.localdate()
    patient = world.same_clinic_patient
    session = InjectionSessionFactory(
        patient=patient, date=today - dt.timedelta(days=20), status=SessionStatus.RECORDED, total_units=155
    )
    effect = services.side_effect_report(
        user=world.users["nurse"],  # reporting for the patient, who telephoned
        patient=patient,
        kind="breathing_difficulty",
        onset=today - dt.timedelta(days=5),
        severity="severe",
        today=today,
    )
    review_url = reverse("injections:side_effect_review", args=[effect.external_id])
    answers = {"grade": "mild", "related": "no", "session": session.external_id, "reason": ""}

    client.force_login(world.users["nurse"])
    refused = client.post(review_url, {**answers, "seen": effect.modified.isoformat()}).content.decode()
    assert html.escape(services.REVIEW_BELOW_REPORT_CLINICIAN_ONLY.format(severity="severe")) in refused
    effect.refresh_from_db()
    assert (effect.clinician_grade, effect.related_to_treatment, effect.reviewed_at) == ("", None, None)
    saved = client.post(
        review_url, {**answers, "grade": "severe", "related": "unknown", "seen": effect.modified.isoformat()}
    )
    assert saved.status_code == 302
    assert SideEffect.objects.get(pk=effect.pk).reviewed_by == world.users["nurse"]

    client.force_login(world.users["clinician"])
    page = client.get(WORKLIST).content.decode()
    assert SECTION in page
    assert "1 report" in page
    assert reverse("injections:side_effect_review", args=[effect.external_id]) in page
    effect.refresh_from_db()
    client.post(review_url, {**answers, "grade": "severe", "related": "yes", "seen": effect.modified.isoformat()})
    assert SideEffect.objects.get(pk=effect.pk).reviewed_by == world.users["clinician"]
    assert SECTION not in client.get(WORKLIST).content.decode()
