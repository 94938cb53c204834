"""The day the safety checklist was answered, on the session screen: the questions about the day of injection
(infection at the sites, pregnancy, breastfeeding) count only on the day they were answered
(onaboard/web/injections/selectors.py ``safety_input_for``, ``safety_ask_on_the_day``; the engine's
``PER_VISIT_ITEMS``)."""

from __future__ import annotations

import datetime as dt
import html
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone

from onaboard.clinical import PER_VISIT_ITEMS, FindingCode, FindingKind, SafetyVerdict
from onaboard.web.injections import selectors
from tests.web.factories import PASSWORD
from tests.web.injections.conftest import fixed_entries
from tests.web.injections.test_views import screen_data

DAY = dt.date(2026, 3, 2)


def _checks(patient, day=DAY):
    return selectors.session_checks(patient=patient, date=day, sites=fixed_entries(), vial_units=200)


def _answered(patient, day, **answers):
    patient.safety_answered_on = day
    for name, value in answers.items():
        setattr(patient, name, value)
    patient.save()
    return patient


def test_a_checklist_answered_no_30_days_before_is_unknown_naming_the_per_visit_items(patient):
    """Every item answered no 30 days before the session: the screen is unknown, the per-visit items unanswered on
    the day (the contraindication check "not answered: injection-site infection"), and all three asked today."""
    checks = _checks(_answered(patient, DAY - dt.timedelta(days=30)))
    assert checks.safety.verdict is SafetyVerdict.UNKNOWN
    assert [finding.code for finding in checks.safety_unknown] == list(PER_VISIT_ITEMS)
    assert checks.contraindication.passed is None
    assert "injection-site infection" in checks.contraindication.not_answered
    assert checks.safety_ask_today == PER_VISIT_ITEMS
    assert checks.safety_ask_today_questions == ["infection at the injection sites", "pregnant", "breastfeeding"]
    stored = "contraindication: checklist answered on 2026-01-31, not on 2026-03-02"  # with the recorded session
    assert any(reason.startswith(stored) for reason in checks.reasons)


def test_a_checklist_answered_on_the_day_is_clear(patient):
    """The same answers given on the session's day: clear, nothing to ask again."""
    checks = _checks(_answered(patient, DAY))
    assert checks.safety.verdict is SafetyVerdict.CLEAR
    assert (checks.contraindication.passed, checks.safety_ask_today) == (True, ())


def test_a_checklist_answered_after_the_session_day_does_not_count_for_it(patient):
    """A session entered late is screened on its own day: "no" answers given the day after say nothing of it."""
    checks = _checks(_answered(patient, DAY + dt.timedelta(days=1)))
    assert checks.safety.verdict is SafetyVerdict.UNKNOWN
    assert checks.safety_ask_today == PER_VISIT_ITEMS


def test_a_checklist_of_a_day_not_recorded_is_asked_again(patient):
    """Answers stored before the day was recorded (none) count as of no known day: the per-visit items are asked."""
    checks = _checks(_answered(patient, None))
    assert checks.safety.verdict is SafetyVerdict.UNKNOWN
    assert checks.safety_ask_today == PER_VISIT_ITEMS


def test_history_items_answered_long_ago_still_count(patient):
    """A history item answered yes a year ago is still its warning (dysphagia), beside the per-visit items asked."""
    checks = _checks(_answered(patient, DAY - dt.timedelta(days=365), dysphagia=True))
    assert checks.safety.verdict is SafetyVerdict.CAUTION
    kinds = {finding.code: finding.kind for finding in checks.safety.findings}
    assert kinds == {FindingCode.DYSPHAGIA: FindingKind.WARNING} | dict.fromkeys(PER_VISIT_ITEMS, FindingKind.UNKNOWN)


def test_an_old_infection_still_blocks_recording_until_asked_again(patient):
    """An infection answered yes at an earlier visit is not softened into "not asked": the check still fails (an
    override, or the checklist answered again today), its reason saying when it was answered."""
    checks = _checks(_answered(patient, DAY - dt.timedelta(days=30), injection_site_infection=True))
    assert checks.contraindication.failed
    assert any("answered yes on 2026-01-31, not on 2026-03-02" in reason for reason in checks.contraindication.reasons)


def test_the_session_screen_asks_the_per_visit_items_again_with_a_link_to_the_checklist(client, world, patient):
    """The screen (and its live summary) names the items to ask today and the day the checklist was answered, and
    links to the checklist form, which returns to the screen once saved; saved today, the screen is clear."""
    today = timezone.localdate()
    _answered(patient, today - dt.timedelta(days=30))
    assert client.login(username="nurse", password=PASSWORD)
    screen = reverse("injections:session_new", args=[patient.external_id])
    checklist = reverse("patients:safety_edit", args=[patient.external_id]) + "?next=" + quote(screen)
    body = html.unescape(client.get(screen).content.decode())
    assert 'id="safety-ask-today"' in body
    assert "Ask on the day of injection:</strong> infection at the injection sites, pregnant, breastfeeding." in body
    day = (today - dt.timedelta(days=30)).strftime("%-d %b %Y")
    assert f"The checklist was answered on {day}." in body
    assert f'href="{checklist}"' in body
    live = client.post(screen, screen_data(action="preview"), HTTP_HX_REQUEST="true").content.decode()
    assert f'href="{checklist}"' in html.unescape(live)
    answers = {"version": patient.version, "other_toxin_asked": "yes"}
    answers |= dict.fromkeys(("injection_site_infection", "pregnant", "breastfeeding", "dysphagia"), "no")
    saved = client.post(checklist, answers)
    assert (saved.status_code, saved["Location"]) == (302, screen)
    patient.refresh_from_db()
    assert patient.safety_answered_on == today
    assert 'id="safety-ask-today"' not in client.get(screen).content.decode()
