"""The side-effect report and review forms refused: the "Please check the answers" summary at the top of the page,
linking to each field in error, as the diary and HIT-6 forms say it (onaboard/web/injections/views.py)."""

from __future__ import annotations

import html
import re

from django.urls import reverse
from django.utils import timezone

from onaboard.web.diary.forms import CHECK_ANSWERS
from onaboard.web.injections import services
from onaboard.web.injections.models import SideEffect
from tests.web.factories import PASSWORD

SUMMARY = re.compile(r'<div class="error-summary[ "][^>]*>.*?</div>', flags=re.DOTALL)


def summary_of(page: str) -> str:
    """The error summary's markup (it must be there), unescaped."""
    found = SUMMARY.search(page)
    assert found, "no error summary on the page"
    return html.unescape(found.group(0))


def test_something_else_without_a_description_is_summarised_at_the_top(client, world, treated):
    """A report of "something else" with no description comes back with the summary before the form (and before
    the urgent advice): "Please check the answers marked below." and a link to the description field, which the
    page focuses on load."""
    assert client.login(username="patient", password=PASSWORD)
    data = {"kind": "other", "onset": timezone.localdate().isoformat(), "severity": "", "description": ""}
    response = client.post(reverse("injections:report_side_effect"), data)
    assert response.status_code == 200
    page = response.content.decode()
    summary = summary_of(page)
    assert str(CHECK_ANSWERS) in summary
    assert re.search(r'<a href="#id_description">Say in a few words what happened', summary)
    assert '<a href="#id_severity_0">' in summary  # a radio group links to its first choice
    assert "autofocus" in SUMMARY.search(page).group(0)
    assert page.index('class="error-summary') < page.index('id="urgent-advice"')
    assert 'id="id_description"' in page
    assert 'id="id_severity_0"' in page
    assert not SideEffect.objects.exists()


def test_a_valid_report_page_has_no_summary(client, world):
    """The form as first opened has no summary."""
    assert client.login(username="patient", password=PASSWORD)
    page = client.get(reverse("injections:report_side_effect")).content.decode()
    assert "error-summary" not in page


def test_a_review_without_a_grade_is_summarised_at_the_top(client, world, treated):
    """A review sent without the clinician's grade comes back with the summary linking to the grade's first choice;
    a refusal not about one field (a stale review) is in the summary as text."""
    effect = services.side_effect_report(
        user=world.users["patient"],
        patient=world.own_patient,
        kind="neck_pain",
        onset=timezone.localdate(),
        severity="severe",
    )
    assert client.login(username="clinician", password=PASSWORD)
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    form = client.get(url).content.decode()
    assert "error-summary" not in form
    seen = re.search(r'name="seen" value="([^"]+)"', form).group(1)
    response = client.post(url, {"related": "yes", "session": "", "seen": seen})
    assert response.status_code == 200
    summary = summary_of(response.content.decode())
    assert str(CHECK_ANSWERS) in summary
    assert re.search(r"<a href=\"#id_grade_0\">Choose the clinician's grade.</a>", summary)

    assert client.post(url, {"grade": "mild", "related": "yes", "session": "", "seen": seen}).status_code == 302
    stale = client.post(url, {"grade": "severe", "related": "no", "session": "", "seen": seen})
    summary = summary_of(stale.content.decode())
    assert "nothing was saved" in summary


def test_staff_reporting_for_a_patient_read_the_clinics_words(client, world, treated):
    """A nurse reporting what the patient told them is not told to "seek medical care now" nor to "send to the
    clinic": the page names the patient, says the patient needs care now for the urgent kinds, and saves the
    report; the patient's own page keeps its words."""
    patient = world.own_patient
    assert client.login(username="nurse", password=PASSWORD)
    page = html.unescape(
        client.get(reverse("injections:report_side_effect") + f"?patient={patient.external_id}").content.decode()
    )
    assert "The patient needs medical care now if they have:" in page
    assert "How bad the patient says it is" in page
    assert "Save the report" in page
    assert "Seek medical care now if you have:" not in page
    assert "Send to the clinic" not in page
    assert client.login(username="patient", password=PASSWORD)
    own = html.unescape(client.get(reverse("injections:report_side_effect")).content.decode())
    assert "Seek medical care now if you have:" in own
    assert "Send to the clinic" in own
