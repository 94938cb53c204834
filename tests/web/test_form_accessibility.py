"""Errors tied to their fields for screen readers: after a refused submit, every ``aria-describedby`` on the diary,
questionnaire, side-effect and session forms names an element of the page, and every error list next to a field is
named by its control or its fieldset (Django 5.2 widgets point at ``<auto_id>_error``)."""

from __future__ import annotations

import html.parser
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from onaboard.web.injections import services as injection_services
from onaboard.web.injections.forms import CHOOSE_KIND, CHOOSE_SEVERITY, ENTER_ONSET, fixed_site_keys
from onaboard.web.injections.models import InjectionSession, SessionStatus

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Page(html.parser.HTMLParser):
    """The page's ids, its ``aria-describedby`` references, and its error lists outside a ``role="alert"``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.described_by: list[str] = []
        self.field_error_lists: list[str | None] = []
        self._open: list[tuple[str, bool]] = []  # tag, and whether it is an alert

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {key: value or "" for key, value in attrs}
        if "id" in named:
            self.ids.append(named["id"])
        self.described_by.extend(named.get("aria-describedby", "").split())
        in_alert = any(alert for _tag, alert in self._open) or named.get("role") == "alert"
        if "errorlist" in named.get("class", "").split() and not in_alert:
            self.field_error_lists.append(named.get("id"))
        if tag not in VOID:
            self._open.append((tag, named.get("role") == "alert"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._open.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index][0] == tag:
                del self._open[index:]
                return


def _assert_errors_are_tied(response) -> _Page:
    """The refused page's references all resolve, and each field's error list is referenced."""
    assert response.status_code == 200
    page = _Page()
    page.feed(response.content.decode())
    assert page.field_error_lists, "the submit was expected to be refused with errors next to fields"
    missing = sorted(set(page.described_by) - set(page.ids))
    assert not missing, f"aria-describedby names ids the page does not have: {missing}"
    assert len(page.ids) == len(set(page.ids)), "an id is used twice"
    unnamed = [error_id for error_id in page.field_error_lists if error_id not in page.described_by]
    assert not unnamed, f"error lists no control or fieldset points at: {unnamed}"
    return page


@pytest.fixture
def patient_client(client, world):
    client.force_login(world.users["patient"])
    return client


@pytest.mark.parametrize(
    "data",
    [
        {"date": "2099-01-01", "hours_quick": "", "headache_hours": "25", "notes": "x" * 2001},
        {"hours_quick": "0", "intensity": "severe", "nausea": "on", "aura": "on", "acute_relief": "on"},
        {"hours_quick": "99", "intensity": "worst", "acute_medication": ["snake oil"]},
        {"hours_quick": "4", "intensity": ""},
    ],
    ids=["date-hours-notes", "features-on-a-free-day", "tampered-choices", "no-worst-pain"],
)
def test_the_diary_day_ties_each_error_to_its_field(patient_client, data):
    """Today's diary refused for any reason: each error is named by its input or its fieldset of choices."""
    posted = {"date": timezone.localdate().isoformat(), **data}
    _assert_errors_are_tied(patient_client.post(reverse("diary:today"), posted))


def test_a_staff_diary_day_before_birth_ties_its_error(client, world):
    """A nurse's day before the patient's birth date: the message sits in an alert (the day is not an input)."""
    client.force_login(world.users["nurse"])
    patient = world.same_clinic_patient
    day = patient.birth_date - timedelta(days=1)
    url = reverse("diary:patient_day", kwargs={"patient_id": patient.external_id, "day": day})
    response = client.post(url, {"date": day.isoformat(), "hours_quick": "0"})
    assert response.status_code == 200
    page = _Page()
    page.feed(response.content.decode())
    assert not set(page.described_by) - set(page.ids)
    assert page.field_error_lists == []
    assert "is before the birth date on the record" in response.content.decode()


def test_hit6_ties_each_missing_answer_to_its_item(patient_client):
    """HIT-6 sent empty: each item's fieldset names its error, and the date input names its own."""
    _assert_errors_are_tied(patient_client.post(reverse("outcomes:hit6"), {"date": ""}))


def test_midas_ties_each_error_to_its_question(patient_client):
    """MIDAS with missing and impossible answers: each number input names its help and its error."""
    posted = {"q1": "", "q2": "x", "q3": "100", "q4": "95", "q5": "-1", "a": "", "b": "11", "date": "2099-01-01"}
    _assert_errors_are_tied(patient_client.post(reverse("outcomes:midas"), posted))


@pytest.fixture
def treated(world) -> None:
    """A session recorded for the patient with a portal account: the report form is for side effects after one."""
    day = timezone.localdate() - timedelta(days=30)
    InjectionSession.objects.create(patient=world.own_patient, date=day, status=SessionStatus.RECORDED)


def test_the_side_effect_report_ties_each_error_in_plain_words(patient_client, treated):
    """A side-effect report sent empty: what happened, when and how bad each say what to do, tied to the question."""
    response = patient_client.post(reverse("injections:report_side_effect"), {"description": "x" * 2001})
    _assert_errors_are_tied(response)
    text = response.content.decode()
    for message in (CHOOSE_KIND, ENTER_ONSET, CHOOSE_SEVERITY):
        assert str(message) in text
    assert "This field is required." not in text


def test_the_side_effect_review_ties_each_error(client, world, treated):
    """A review sent without grade or relatedness names each radio group's error from its fieldset."""
    effect = injection_services.side_effect_report(
        user=world.users["patient"],
        patient=world.own_patient,
        kind="neck_pain",
        onset=timezone.localdate(),
        severity="mild",
    )
    client.force_login(world.users["clinician"])
    url = reverse("injections:side_effect_review", args=[effect.external_id])
    _assert_errors_are_tied(client.post(url, {"grade": "", "related": "", "session": "not-a-session"}))


def test_the_session_screen_ties_each_error_when_recording_is_refused(client, world):
    """Recording with a missing date, vial and units: each field, site cell and follow-the-pain row names its error."""
    client.force_login(world.users["nurse"])
    data = {
        "action": "record",
        "date": "",
        "vial_units": "",
        "product_lot": "",
        "product_expiry": "",
        "ftp-TOTAL_FORMS": "1",
        "ftp-INITIAL_FORMS": "0",
        "ftp-MIN_NUM_FORMS": "0",
        "ftp-MAX_NUM_FORMS": "50",
        "ftp-0-muscle": "temporalis",
        "ftp-0-side": "left",
        "ftp-0-units": "",
    }
    data.update({name: "" for name, _site in fixed_site_keys()[:3]})
    data.update({name: "5" for name, _site in fixed_site_keys()[3:]})
    url = reverse("injections:session_new", args=[world.own_patient.external_id])
    _assert_errors_are_tied(client.post(url, data))
