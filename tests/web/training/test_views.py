"""Training pages: who may open them, the quiz, site-trainer and case flows, live sessions, certificates and the
public verification page."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from onaboard.clinical import FIXED_SITE_COUNT, PERIOD_DAYS, RETREATMENT_INTERVAL_DAYS
from onaboard.training import cases as case_engine
from onaboard.training.sites import SITE_PASS_MARK
from onaboard.web.accounts.models import Role
from onaboard.web.injections import sitemap
from onaboard.web.training import services
from onaboard.web.training.forms import NOTES_IDENTIFIER, SESSION_NOTES_IDENTIFIER, SupervisedInjectionForm
from onaboard.web.training.models import (
    CaseAttempt,
    Certificate,
    Enrolment,
    LiveSession,
    QuizAttempt,
    SiteTrainerAttempt,
    SupervisedInjection,
)
from tests.pdfs import pdf_text
from tests.web.factories import UserFactory
from tests.web.training.conftest import (
    NOT_TREATED_SEED,
    TREATED_SEED,
    case_attempt,
    engine_first_visit,
    engine_week24,
    exact_placements,
    ftp_placements,
    live_session,
    pass_all_modules,
    pass_cases,
    pass_module,
)

TODAY = dt.date(2026, 6, 1)
LEARNER_PAGES = (
    "training:course",
    "training:site_trainer",
    "training:cases",
    "training:sessions",
    "training:certificate",
)
TRAINER_PAGES = ("training:trainees", "training:session_create", "training:supervised_log")
HELD_START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
"""A start long past: a session held, whose attendance can be recorded and whose supervised injections logged."""


@pytest.mark.parametrize("role", ["trainee", "clinician", "nurse", "admin"])
@pytest.mark.parametrize("page", LEARNER_PAGES)
def test_learners_open_the_training_pages(client, world, role, page):
    """Trainees and clinical staff open every learner page."""
    client.force_login(world.users[role])
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("role", ["billing", "patient"])
@pytest.mark.parametrize("page", LEARNER_PAGES + TRAINER_PAGES)
def test_billing_staff_and_patients_have_no_training(client, world, role, page):
    """Billing staff and patients are refused every training page."""
    client.force_login(world.users[role])
    assert client.get(reverse(page)).status_code == 403


@pytest.mark.parametrize("page", TRAINER_PAGES)
def test_trainer_pages_are_for_clinicians_and_admins(client, world, page):
    """A clinician opens the trainer pages; a trainee and a nurse are refused; the administrator too on the log of
    supervised injections, which only a clinician signs off."""
    admin = 403 if page == "training:supervised_log" else 200
    for role, status in (("clinician", 200), ("admin", admin), ("trainee", 403), ("nurse", 403)):
        client.force_login(world.users[role])
        assert client.get(reverse(page)).status_code == status, role


def test_only_a_clinician_is_offered_and_may_log_a_supervised_injection(client, world):
    """The administrator's trainer pages offer no "Log a supervised injection", and the service refuses one signed
    off by them; the clinician's pages offer it."""
    from django.core.exceptions import PermissionDenied

    for role, offered in (("admin", False), ("clinician", True)):
        client.force_login(world.users[role])
        for page in ("training:course", "training:trainees", "training:sessions"):
            html = client.get(reverse(page)).content.decode()
            assert (reverse("training:supervised_log") in html) is offered, (role, page)
    with pytest.raises(PermissionDenied):
        services.supervised_injection_record(
            supervisor=world.users["admin"], trainee=world.users["trainee"], date=timezone.localdate()
        )


def test_a_locked_module_sends_the_trainee_back_to_the_course(client, world):
    """The second module cannot be read before the first quiz is passed."""
    client.force_login(world.users["trainee"])
    second = services.course()[1]
    response = client.get(reverse("training:module", args=[second.id]))
    assert response.status_code == 302
    assert response.url == reverse("training:course")
    assert client.post(reverse("training:quiz_start", args=[second.id])).status_code == 302
    assert not QuizAttempt.objects.exists()


def test_a_trainee_reads_a_module_and_passes_its_quiz(client, world):
    """The module page renders the Markdown; answering every question as the engine does passes the quiz."""
    client.force_login(world.users["trainee"])
    module = services.course()[0]
    page = client.get(reverse("training:module", args=[module.id]))
    assert "<h2>Why the diagnosis comes first</h2>" in page.content.decode()
    started = client.post(reverse("training:quiz_start", args=[module.id]))
    attempt = QuizAttempt.objects.get()
    assert started.url == reverse("training:quiz", args=[attempt.external_id])
    form = client.get(started.url).content.decode()
    questions = services.quiz_questions(attempt)
    assert all(f'name="{q.key}"' in form for q in questions)
    response = client.post(started.url, {q.key: str(q.answer) for q in questions}, follow=True)
    text = response.content.decode()
    assert "Passed" in text
    assert escape(questions[0].explanation[0]) in text
    attempt.refresh_from_db()
    assert attempt.passed
    assert services.course_progress(world.users["trainee"])[1].unlocked


def test_a_quiz_with_questions_left_out_comes_back_unmarked(client, world):
    """Sending a quiz with two questions unanswered stores nothing: the form comes back naming them, marking
    their boxes and keeping the answers already given; answering them then marks the quiz."""
    client.force_login(world.users["trainee"])
    attempt = services.quiz_attempt_start(user=world.users["trainee"], module=services.course()[0])
    url = reverse("training:quiz", args=[attempt.external_id])
    questions = services.quiz_questions(attempt)
    given = {q.key: str(q.answer) for q in questions[:-2]}
    response = client.post(url, given)
    page = response.content.decode()
    assert response.status_code == 200
    numbers = f"{len(questions) - 1}, {len(questions)}"
    assert escape(services.QUIZ_UNANSWERED.format(numbers=numbers)) in page
    assert page.count("data-missing") == 2
    assert all(f'id="{q.key}-missing"' in page for q in questions[-2:])
    assert all(f'value="{q.answer}" required checked' in page for q in questions[:1])
    attempt.refresh_from_db()
    assert (attempt.submitted, attempt.correct) == (None, None)
    done = client.post(url, {q.key: str(q.answer) for q in questions}, follow=True).content.decode()
    assert "Passed" in done
    attempt.refresh_from_db()
    assert attempt.passed


def test_an_unanswered_question_of_a_marked_quiz_reads_not_answered(client, world):
    """A stored attempt with a question left out (marked before answers were checked) shows it as not answered,
    not as the answer "none" marked wrong beside the engine's answer."""
    client.force_login(world.users["trainee"])
    attempt = services.quiz_attempt_start(user=world.users["trainee"], module=services.course()[0])
    questions = services.quiz_questions(attempt)
    services.quiz_attempt_submit(attempt=attempt, answers={q.key: q.answer for q in questions[1:]})
    page = client.get(reverse("training:quiz", args=[attempt.external_id])).content.decode()
    first = page[page.index(f'id="{questions[0].key}-heading"') : page.index(f'id="{questions[1].key}-heading"')]
    assert "data-not-answered" in first
    assert "not answered" in first
    assert ">wrong<" not in first
    assert page.count("data-not-answered") == 1


def test_another_trainees_attempt_is_not_found(client, world):
    """A quiz attempt belongs to its trainee: someone else gets 404."""
    attempt = services.quiz_attempt_start(user=world.users["trainee"], module=services.course()[0])
    client.force_login(world.users["nurse"])
    assert client.get(reverse("training:quiz", args=[attempt.external_id])).status_code == 404


def test_the_site_trainer_scores_a_submitted_map(client, world):
    """Posting exact placements shows the pass, the correct map and the per-site table."""
    client.force_login(world.users["trainee"])
    client.post(reverse("training:site_trainer"))
    attempt = SiteTrainerAttempt.objects.get()
    url = reverse("training:site_attempt", args=[attempt.external_id])
    page = client.get(url).content.decode()
    assert "data-site-trainer" in page
    assert 'data-key="' not in page  # no true site is drawn before the attempt
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    response = client.post(url, {"placements": json.dumps(clicks)}, follow=True)
    text = response.content.decode()
    assert "Passed" in text
    assert text.count('data-key="') >= 31
    attempt.refresh_from_db()
    assert attempt.passed


def test_the_site_result_page_says_why_a_follow_the_pain_breach_fails(client, world):
    """Fixed sites all right but four extra left temporalis sites where two were asked: the page says the attempt
    did not pass and names the problem by muscle and side, in PREEMPT's terms."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    attempt.follow_the_pain = {"temporalis-left": 2}
    attempt.save()
    region = sitemap.region_for("temporalis", "left")
    assert region is not None
    extra = [
        {"muscle": "temporalis", "view": region.view.value, "x": region.cx, "y": region.cy + dy, "ftp": True}
        for dy in (-12, -4, 4, 12)
    ]
    url = reverse("training:site_attempt", args=[attempt.external_id])
    page = client.post(url, {"placements": json.dumps(exact_placements() + extra)}, follow=True).content.decode()
    assert "Not passed" in page
    assert (
        escape("follow-the-pain: temporalis allows at most 2 extra sites (10 U), asked for 4; placed: left 4") in page
    )
    assert escape("4 follow-the-pain sites in the left temporalis area; the case asked for 2") in page


def test_the_site_result_page_says_why_temporalis_sites_left_out_fail(client, world):
    """Three of each side's four temporalis sites left out (30 U), with the two asked follow-the-pain left temporalis
    sites placed: the mark alone passes, but the page says the attempt did not pass and names each side's count of
    fixed temporalis sites against PREEMPT's (the follow-the-pain sites do not count toward it)."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    attempt.follow_the_pain = {"temporalis-left": 2}
    attempt.save()
    kept: dict[str, int] = {}
    clicks = []
    for target, click in zip(services.site_targets(), exact_placements(), strict=True):
        if target.muscle == "temporalis":
            kept[target.side] = kept.get(target.side, 0) + 1
            if kept[target.side] > 1:
                continue
        clicks.append(click)
    clicks += ftp_placements(attempt.follow_the_pain)
    url = reverse("training:site_attempt", args=[attempt.external_id])
    page = client.post(url, {"placements": json.dumps(clicks)}, follow=True).content.decode()
    attempt.refresh_from_db()
    assert 100 * attempt.points >= SITE_PASS_MARK * attempt.possible
    assert not attempt.passed
    assert "Not passed" in page
    for side in ("right", "left"):
        assert escape(f"{side} temporalis fixed sites: 1 placed, PREEMPT gives 4 (20 U)") in page


def test_unreadable_placements_are_refused_on_the_page(client, world):
    """A bad placements field leaves the attempt open and shows why."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    url = reverse("training:site_attempt", args=[attempt.external_id])
    response = client.post(url, {"placements": json.dumps([{"muscle": "nasalis", "view": "front", "x": 1, "y": 1}])})
    assert "placement 1: unknown muscle" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted is None
    nested = client.post(url, {"placements": "[" * 100_000 + "]" * 100_000})  # past json's recursion limit
    assert nested.status_code == 200
    assert "The placements could not be read." in nested.content.decode()


@pytest.mark.parametrize(
    ("placements", "message"),
    [
        ('[{"muscle": [], "view": "front", "x": 1, "y": 1}]', "placement 1: muscle must be text"),
        ('[{"muscle": {}, "view": "front", "x": 1, "y": 1}]', "placement 1: muscle must be text"),
        (
            '[{"muscle": "procerus", "view": "front", "x": ' + "9" * 5001 + ', "y": 1}]',
            "placement 1: x must be a number from 0 to 1000",
        ),
    ],
)
def test_malformed_placements_come_back_with_a_message_not_a_500(client, world, placements, message):
    """A muscle that is a list or an object, or an x too long for Python's int, returns the page naming the
    placement and the field, and leaves the attempt open."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    url = reverse("training:site_attempt", args=[attempt.external_id])
    response = client.post(url, {"placements": placements})
    assert response.status_code == 200
    assert message in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.submitted is None


@pytest.mark.parametrize("placements", ["[]", ""], ids=["empty-list", "blank"])
def test_a_map_sent_with_no_site_placed_is_not_scored(client, world, placements):
    """ "Submit for scoring" with no site placed is refused with a message, and the attempt stays open, unscored
    (it was recorded as a failed 0 % attempt)."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    url = reverse("training:site_attempt", args=[attempt.external_id])
    response = client.post(url, {"placements": placements})
    assert response.status_code == 200
    html = response.content.decode()
    assert str(services.NO_SITES_PLACED) in html
    assert "data-site-trainer" in html
    attempt.refresh_from_db()
    assert (attempt.submitted, attempt.points, attempt.possible, attempt.placements) == (None, None, None, [])
    assert not SiteTrainerAttempt.objects.filter(submitted__isnull=False).exists()


def test_the_site_trainer_page_knows_how_many_sites_are_expected(client, world):
    """The page tells its script how many sites the attempt asks for (the engine's fixed sites plus the
    follow-the-pain sites of the case), so sending fewer asks first; the case text counts the fixed sites from
    the engine too."""
    client.force_login(world.users["trainee"])
    attempt = services.site_attempt_start(user=world.users["trainee"])
    html = client.get(reverse("training:site_attempt", args=[attempt.external_id])).content.decode()
    expected = FIXED_SITE_COUNT + sum(attempt.follow_the_pain.values())
    assert f'data-expected-sites="{expected}"' in html
    assert 'data-phrase-key="confirm-few"' in html


def test_a_case_is_decided_in_two_visits_with_feedback(client, world):
    """The first visit's decisions get feedback and open the week-24 review; the review grades the case."""
    client.force_login(world.users["trainee"])
    client.post(reverse("training:cases"))
    attempt = CaseAttempt.objects.get()
    CaseAttempt.objects.filter(pk=attempt.pk).update(seed=TREATED_SEED)
    attempt.refresh_from_db()
    url = reverse("training:case", args=[attempt.external_id])
    first = client.post(url, engine_first_visit(attempt), follow=True).content.decode()
    assert "The engine says" in first
    assert "Later: the treated course" in first
    done = client.post(url, engine_week24(attempt), follow=True).content.decode()
    assert "Case passed" in done
    attempt.refresh_from_db()
    assert attempt.passed


def test_a_case_step_sent_twice_says_it_was_answered_already(client, world):
    """The first visit's form sent twice redirects back with "answered already" (not the week-24 form with "This field
    is required.") and keeps the first answers; the week-24 review sent twice once graded does the same."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    attempt = case_attempt(trainee, seed=TREATED_SEED)
    url = reverse("training:case", args=[attempt.external_id])
    first = engine_first_visit(attempt)
    client.post(url, first)
    again = client.post(url, {**first, "eligibility": "not_met"})
    assert again.status_code == 302
    text = client.get(again["Location"]).content.decode()
    assert services.CASE_STAGE_ANSWERED in text
    assert "This field is required." not in text
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.decisions["eligibility"]) == ("week24", first["eligibility"])
    client.post(url, engine_week24(attempt))
    repeated = client.post(url, engine_week24(attempt), follow=True).content.decode()
    assert services.CASE_STAGE_ANSWERED in repeated
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.passed) == ("done", True)


def test_a_case_page_states_the_periods_and_the_interval_from_the_engine(client, world):
    """The case page counts the diary periods it shows and states the period length and the retreatment interval
    from the engine (``rules``, ``RETREATMENT_INTERVAL_WEEKS``), not "three 28-day periods" and "12 weeks" typed in."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    attempt = case_attempt(trainee, seed=TREATED_SEED)
    url = reverse("training:case", args=[attempt.external_id])
    page = client.get(url).content.decode()
    periods = len(services.case_assessment(services.case_of(attempt)).periods)
    assert f"Diary: the {periods} periods of {PERIOD_DAYS} days before the first visit" in page
    client.post(url, engine_first_visit(attempt))
    later = client.get(url).content.decode()
    weeks = RETREATMENT_INTERVAL_DAYS // 7
    assert f"with a second session {weeks} weeks later. Headache days per {PERIOD_DAYS}-day period" in later


def test_a_case_is_titled_by_its_number_and_patient_not_by_its_seed(client, world):
    """The list and the case's page name a case by its number among the trainee's cases and its patient ("Case 2:
    A 47-year-old man, first visit ..."); the seed it is drawn from is not shown."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    first = case_attempt(trainee, seed=NOT_TREATED_SEED)
    second = case_attempt(trainee, seed=TREATED_SEED)
    patient = services.case_of(second).title
    assert patient.startswith("A 47-year-old man, first visit ")
    page = client.get(reverse("training:case", args=[second.external_id])).content.decode()
    assert f"<h1>Case 2: {patient}</h1>" in page
    listing = client.get(reverse("training:cases")).content.decode()
    assert f">Case 2: {patient}</a>" in listing
    assert f">Case 1: {services.case_of(first).title}</a>" in listing
    for text in (page, listing):
        assert str(NOT_TREATED_SEED) not in text


def test_a_cases_diary_rows_name_the_medicines_in_clinic_words(client, world):
    """The last two weeks of the case's diary name acute classes as a clinician does ("simple analgesic"), not by
    the engine's values ("simple_analgesic")."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=TREATED_SEED)
    page = client.get(reverse("training:case", args=[attempt.external_id])).content.decode()
    assert "simple analgesic" in page
    assert "simple_analgesic" not in page


def test_a_case_whose_patient_is_not_treated_ends_at_the_first_visit(client, world):
    """Label not met: the first visit grades the case, with no treated course and no week-24 question."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=NOT_TREATED_SEED)
    url = reverse("training:case", args=[attempt.external_id])
    page = client.post(url, engine_first_visit(attempt), follow=True).content.decode()
    assert "The engine says" in page
    assert "Later: the treated course" not in page
    assert 'name="week24"' not in page
    assert "data-not-treated" in page
    assert "Case passed" in page
    assert "3 of 3 steps agree with the engine." in page
    listing = client.get(reverse("training:cases")).content.decode()
    assert "3 / 3" in listing


def test_the_page_of_a_case_not_treated_assesses_its_diary_once_for_itself(client, world, monkeypatch):
    """Beyond drawing the case and grading it, the page of a graded case whose patient is not treated runs the
    engine's assessment once: what rules treatment out reuses it."""
    calls = []
    real_assess = case_engine.assess

    def counted(*args, **kwargs):
        calls.append(1)
        return real_assess(*args, **kwargs)

    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=NOT_TREATED_SEED)
    url = reverse("training:case", args=[attempt.external_id])
    client.post(url, engine_first_visit(attempt))
    attempt.refresh_from_db()
    monkeypatch.setattr(case_engine, "assess", counted)
    services.case_grade(attempt)  # draws the case and grades it
    drawing_and_grading = len(calls)
    calls.clear()
    page = client.get(url).content.decode()
    assert "data-not-treated" in page
    assert len(calls) == drawing_and_grading + 1


@pytest.mark.parametrize(
    ("seed", "said", "not_said"),
    [
        (
            NOT_TREATED_SEED,
            "The BOTOX label's chronic-migraine criteria are not met.",
            "The safety screen rules injections out",
        ),
        (16, "The safety screen rules injections out (contraindicated).", "chronic-migraine criteria"),
        (
            32,
            "The diary is not complete enough to judge the BOTOX label's chronic-migraine criteria (insufficient data)",
            "criteria are not met.",
        ),
    ],
)
def test_a_case_not_treated_says_which_verdict_rules_treatment_out(client, world, seed, said, not_said):
    """The end of a case not treated names the verdict that rules treatment out, not "one or the other", and says
    the clinician decides."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=seed)
    url = reverse("training:case", args=[attempt.external_id])
    page = client.post(url, engine_first_visit(attempt), follow=True).content.decode()
    assert said in page
    assert not_said not in page
    assert "the clinician decides" in page


def test_a_case_page_writes_every_date_one_way(client, world):
    """The case's title, history, diary rows and treated course give dates as 2026-07-25, never as 25 Jul 2026;
    the plan's fields ask for units planned, not given."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=TREATED_SEED)
    case = services.case_of(attempt)
    url = reverse("training:case", args=[attempt.external_id])
    first = client.get(url).content.decode()
    assert f"First visit: {case.first_visit.isoformat()}" in first
    assert "Units planned" in first
    assert "Units given" not in first
    later = client.post(url, engine_first_visit(attempt), follow=True).content.decode()
    assert f"Treatment started on {case.first_injection.isoformat()}" in later
    for page in (first, later):
        assert not re.search(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", page)


def test_a_stored_case_at_week24_whose_patient_is_not_treated_opens_and_closes(client, world):
    """An attempt left at the week-24 review on a patient no longer treated opens with a button to close it, and
    a week-24 answer sent from a page opened before closes it too; both grade the first visit."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=NOT_TREATED_SEED)
    CaseAttempt.objects.filter(pk=attempt.pk).update(stage="week24", decisions=engine_first_visit(attempt))
    url = reverse("training:case", args=[attempt.external_id])
    page = client.get(url).content.decode()
    assert "Close the case" in page
    assert 'name="week24"' not in page
    done = client.post(url, {"week24": "continue"}, follow=True).content.decode()
    assert "Case passed" in done
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.correct_steps) == ("done", 3)


def test_a_graded_case_stored_with_a_week24_answer_still_opens(client, world):
    """A case graded on four steps before its patient stopped being treated opens, showing its stored result."""
    client.force_login(world.users["trainee"])
    attempt = case_attempt(world.users["trainee"], seed=NOT_TREATED_SEED)
    decisions = {**engine_first_visit(attempt), "week24": "continue"}
    CaseAttempt.objects.filter(pk=attempt.pk).update(stage="done", decisions=decisions, correct_steps=4, passed=True)
    page = client.get(reverse("training:case", args=[attempt.external_id]))
    assert page.status_code == 200
    assert "4 of 4 steps agree with the engine." in page.content.decode()
    assert "4 / 4" in client.get(reverse("training:cases")).content.decode()


def test_a_case_form_with_missing_answers_is_shown_again(client, world):
    """An incomplete first visit is not recorded."""
    client.force_login(world.users["trainee"])
    attempt = services.case_attempt_start(user=world.users["trainee"])
    response = client.post(reverse("training:case", args=[attempt.external_id]), {"eligibility": "met"})
    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.stage == "first_visit"


def test_a_trainer_schedules_a_session_with_a_place_or_link(client, world):
    """Scheduling needs a place or a link and a future start."""
    client.force_login(world.users["clinician"])
    url = reverse("training:session_create")
    data = {"title": "Workshop", "starts_at": "2099-01-05T14:00", "duration_minutes": 120, "capacity": 4}
    refused = client.post(url, data)
    assert "Give a place, a link, or both." in refused.content.decode()
    created = client.post(url, {**data, "place": "Room 2"})
    session = LiveSession.objects.get()
    assert created.url == reverse("training:session", args=[session.external_id])
    assert (session.trainer, session.clinic, session.capacity) == (world.users["clinician"], world.clinic, 4)


def test_a_live_sessions_notes_refuse_a_patient_record_number(client, world):
    """Every learner of the clinic reads a session's notes: a record number is refused, as in the supervised log."""
    client.force_login(world.users["clinician"])
    data = {"title": "Clinic day", "starts_at": "2099-01-05T14:00", "duration_minutes": 120, "capacity": 4}
    refused = client.post(reverse("training:session_create"), {**data, "place": "Room 2", "notes": "MRN 123456 first"})
    assert escape(str(SESSION_NOTES_IDENTIFIER)) in refused.content.decode()
    assert not LiveSession.objects.exists()


def test_enrolling_in_a_full_session_waitlists(client, world):
    """When every place is taken, the enrol button puts the trainee on the waitlist and says so."""
    session = live_session(world.users["clinician"], capacity=1)
    other = UserFactory(username="first", role=Role.TRAINEE, clinic=world.clinic)
    services.enrolment_create(session=session, trainee=other)
    client.force_login(world.users["trainee"])
    detail = reverse("training:session", args=[session.external_id])
    assert "Join the waitlist" in client.get(detail).content.decode()
    response = client.post(reverse("training:session_enrol", args=[session.external_id]), follow=True)
    text = response.content.decode()
    assert "The session is full: you are on the waitlist." in text
    assert "position 1" in text
    assert Enrolment.objects.get(trainee=world.users["trainee"]).status == "waitlisted"


def test_sessions_of_another_clinic_are_not_found(client, world):
    """A trainee of one clinic cannot see or enrol in another clinic's session."""
    far_trainer = UserFactory(username="far", role=Role.CLINICIAN, clinic=world.other_clinic)
    session = live_session(far_trainer)
    client.force_login(world.users["trainee"])
    assert client.get(reverse("training:session", args=[session.external_id])).status_code == 404
    assert client.post(reverse("training:session_enrol", args=[session.external_id])).status_code == 404


def test_a_trainer_records_attendance_and_logs_a_supervised_injection(client, world):
    """Attendance is saved from the roster, and the supervised log counts toward the trainee's record."""
    trainee = world.users["trainee"]
    session = live_session(world.users["clinician"])
    enrolment = services.enrolment_create(session=session, trainee=trainee)
    LiveSession.objects.filter(pk=session.pk).update(starts_at=HELD_START)
    client.force_login(world.users["clinician"])
    roster = client.get(reverse("training:session", args=[session.external_id])).content.decode()
    assert f"attended-{enrolment.external_id}" in roster
    client.post(
        reverse("training:session_attendance", args=[session.external_id]), {f"attended-{enrolment.external_id}": "yes"}
    )
    enrolment.refresh_from_db()
    assert enrolment.attended is True
    logged = client.post(
        reverse("training:supervised_log"),
        {"trainee": trainee.pk, "date": "2026-01-05", "session": session.pk, "notes": "full session"},
    )
    assert logged.status_code == 302
    assert SupervisedInjection.objects.get().trainee == trainee
    progress = client.get(reverse("training:trainees")).content.decode()
    assert reverse("training:trainee", args=[trainee.external_id]) in progress
    assert client.get(reverse("training:trainee", args=[trainee.external_id])).status_code == 200


def test_attendance_is_offered_once_the_session_has_started(client, world):
    """Before the start the trainer sees who is enrolled and when attendance opens, with no form, and a sent
    form is refused with that reason; after the start the form is there."""
    session = live_session(world.users["clinician"], days=3)
    enrolment = services.enrolment_create(session=session, trainee=world.users["trainee"])
    client.force_login(world.users["clinician"])
    detail = reverse("training:session", args=[session.external_id])
    before = client.get(detail).content.decode()
    assert f"attended-{enrolment.external_id}" not in before
    assert services.ATTENDANCE_BEFORE_START in before
    sent = client.post(
        reverse("training:session_attendance", args=[session.external_id]),
        {f"attended-{enrolment.external_id}": "yes"},
        follow=True,
    )
    assert services.ATTENDANCE_BEFORE_START in sent.content.decode()
    assert "Attendance saved." not in sent.content.decode()
    enrolment.refresh_from_db()
    assert enrolment.attended is None
    LiveSession.objects.filter(pk=session.pk).update(starts_at=HELD_START)
    assert f"attended-{enrolment.external_id}" in client.get(detail).content.decode()


def test_the_session_list_is_in_date_order_and_trainers_reach_past_sessions(client, world):
    """Sessions are listed earliest first whatever order they were scheduled in; a trainer's list links the past
    sessions, most recent first, to record attendance after the day; a trainee's list has no such section (only
    their own past sessions, none here)."""
    trainer = world.users["clinician"]
    later, earlier = live_session(trainer, title="Later one", days=20), live_session(trainer, title="Earlier one")
    services.enrolment_create(session=later, trainee=world.users["trainee"])
    old, older = live_session(trainer, title="Held last week"), live_session(trainer, title="Held last month")
    LiveSession.objects.filter(pk=old.pk).update(starts_at=timezone.now() - dt.timedelta(days=7))
    LiveSession.objects.filter(pk=older.pk).update(starts_at=timezone.now() - dt.timedelta(days=30))
    client.force_login(trainer)
    page = client.get(reverse("training:sessions")).content.decode()
    assert page.index("Earlier one") < page.index("Later one") < page.index("Past sessions")
    assert page.index("Held last week") < page.index("Held last month")
    assert reverse("training:session", args=[old.external_id]) in page
    client.force_login(world.users["trainee"])
    mine = client.get(reverse("training:sessions")).content.decode()
    assert "Past sessions" not in mine
    assert "Held last week" not in mine
    assert earlier.title in mine


def test_places_and_the_waitlist_position_read_as_sentences(client, world):
    """One place reads "1 of 1 place taken", and a waitlisted trainee reads "on the waitlist, position 1"."""
    session = live_session(world.users["clinician"], capacity=1)
    services.enrolment_create(session=session, trainee=UserFactory(role=Role.TRAINEE, clinic=world.clinic))
    services.enrolment_create(session=session, trainee=world.users["trainee"])
    client.force_login(world.users["trainee"])
    assert "1 of 1 place taken" in client.get(reverse("training:sessions")).content.decode()
    detail = client.get(reverse("training:session", args=[session.external_id])).content.decode()
    assert "You are on the waitlist, position 1" in detail


def test_the_supervised_log_offers_only_sessions_held_in_person(client, world):
    """The log's session choices are the started sessions with a place, named with their day; a future or online
    session is not offered and is refused when sent, and notes with a record number are refused."""
    trainer, trainee = world.users["clinician"], world.users["trainee"]
    held = live_session(trainer, title="Held workshop")
    services.enrolment_create(session=held, trainee=trainee)
    online = live_session(trainer, title="Online talk", place="", link="https://meet.example.org/x")
    LiveSession.objects.filter(pk__in=[held.pk, online.pk]).update(starts_at=HELD_START)
    ahead = live_session(trainer, title="Workshop ahead")
    client.force_login(trainer)
    page = client.get(reverse("training:supervised_log")).content.decode()
    assert "Held workshop, 5 Jan 2026" in page
    assert "Online talk" not in page
    assert "Workshop ahead" not in page
    url = reverse("training:supervised_log")
    for session in (ahead, online):
        refused = client.post(url, {"trainee": trainee.pk, "date": "2026-01-05", "session": session.pk})
        assert refused.status_code == 200
    refused = client.post(url, {"trainee": trainee.pk, "date": "2026-01-05", "notes": "Jane Doe MRN 12345"})
    assert escape(str(NOTES_IDENTIFIER)) in refused.content.decode()
    assert not SupervisedInjection.objects.exists()
    client.post(url, {"trainee": trainee.pk, "date": "2026-01-05", "session": held.pk})
    assert SupervisedInjection.objects.get().session == held


def test_a_supervised_injection_dated_before_its_session_is_refused_on_the_page(client, world):
    """Posting 1 Jan 1900 for a session held on 5 Jan 2026 returns the form with the reason and logs nothing."""
    trainer, trainee = world.users["clinician"], world.users["trainee"]
    held = live_session(trainer, title="Held workshop")
    services.enrolment_create(session=held, trainee=trainee)
    LiveSession.objects.filter(pk=held.pk).update(starts_at=HELD_START)
    client.force_login(trainer)
    refused = client.post(
        reverse("training:supervised_log"), {"trainee": trainee.pk, "date": "1900-01-01", "session": held.pk}
    )
    assert refused.status_code == 200
    assert "This date is before the session, held on 5 Jan 2026." in refused.content.decode()
    assert not SupervisedInjection.objects.exists()


def _described_errors(page: str, name: str) -> None:
    """The field ``name`` is marked invalid and points, by aria-describedby, at its error list, which is on the
    page under that id."""
    tag = re.search(rf'<(?:input|select|textarea)[^>]*name="{name}"[^>]*>', page)
    assert tag is not None, name
    assert 'aria-invalid="true"' in tag.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', tag.group(0))
    assert described is not None
    assert f"id_{name}_error" in described.group(1).split()
    assert re.search(rf'<ul class="errorlist" id="id_{name}_error">', page)


def test_the_session_form_ties_each_error_to_its_field(client, world):
    """A refused session form marks the wrong fields invalid and ties each to its error list (as the quiz does), so
    a screen reader reads the error with the field."""
    client.force_login(world.users["clinician"])
    data = {"title": "Workshop", "starts_at": "2000-01-05T14:00", "duration_minutes": 0, "capacity": 0}
    page = client.post(reverse("training:session_create"), data).content.decode()
    for name in ("starts_at", "duration_minutes", "capacity"):
        _described_errors(page, name)


def test_the_supervised_log_ties_errors_to_fields_and_shows_form_wide_errors(client, world, monkeypatch):
    """A refused log entry marks its wrong fields invalid, tied to their error lists, and a form-wide error (not
    about one field) is shown too, announced as an alert."""
    trainer, trainee = world.users["clinician"], world.users["trainee"]
    original = SupervisedInjectionForm.clean

    def clean_with_a_form_wide_error(form):
        form.add_error(None, "A form-wide problem.")
        return original(form)

    monkeypatch.setattr(SupervisedInjectionForm, "clean", clean_with_a_form_wide_error)
    client.force_login(trainer)
    page = client.post(
        reverse("training:supervised_log"), {"trainee": trainee.pk, "date": "2999-01-01", "notes": "MRN 12345"}
    ).content.decode()
    for name in ("date", "notes"):
        _described_errors(page, name)
    assert re.search(r'<ul class="errorlist nonfield" role="alert">\s*<li>A form-wide problem.</li>', page)
    assert not SupervisedInjection.objects.exists()


def test_a_trainer_sees_only_trainees_of_their_clinic(client, world):
    """Another clinic's trainee is not in the list and their page is not found."""
    far = UserFactory(username="fartrainee", role=Role.TRAINEE, clinic=world.other_clinic)
    client.force_login(world.users["clinician"])
    assert "fartrainee" not in client.get(reverse("training:trainees")).content.decode()
    assert client.get(reverse("training:trainee", args=[far.external_id])).status_code == 404


def _certified(world) -> Certificate:
    trainee = world.users["trainee"]
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    services.site_attempt_submit(
        attempt=attempt,
        placements=services.parse_placements(exact_placements() + ftp_placements(attempt.follow_the_pain)),
    )
    pass_cases(trainee, 3)
    return services.certificate_issue(user=trainee, today=TODAY)


def test_the_certificate_pdf_carries_the_name_and_code(client, world):
    """The trainee downloads a PDF naming them with the verification code."""
    world.users["trainee"].first_name, world.users["trainee"].last_name = "Tam", "Oyelaran"
    world.users["trainee"].save()
    issued = _certified(world)
    client.force_login(world.users["trainee"])
    response = client.get(reverse("training:certificate_pdf", args=[issued.external_id]))
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(response.content).split())
    assert "Tam Oyelaran" in text
    assert issued.code in text
    assert "Certificate of training" in text
    assert "Issued by North Headache Clinic on 1 June 2026." in text
    assert "Supervised practice and local credentialing remain the clinic's responsibility." in text


def test_the_public_page_verifies_a_code_without_sign_in(client, world):
    """Anyone can check a code: a valid one shows name, date and validity; revoked and unknown ones say so."""
    issued = _certified(world)
    url = reverse("training:verify")
    valid = client.get(url, {"code": issued.code}).content.decode()
    assert "Valid" in valid
    assert issued.holder_name in valid
    assert "Verify an onaboard certificate of training" in valid
    assert "injector certificate" not in valid
    assert "North Headache Clinic" in valid
    assert "the PREEMPT site trainer and the required graded cases" in valid
    assert "Supervised practice and local credentialing remain the clinic's responsibility." in valid
    assert world.users["trainee"].username not in valid.replace(issued.holder_name, "")
    assert "Not found" in client.get(url, {"code": "ZZZZ-ZZZZ-ZZZZ"}).content.decode()
    issued.revoked = True
    issued.save()
    assert "Revoked" in client.get(url, {"code": issued.code}).content.decode()


def test_the_verify_page_and_the_pdf_name_the_clinic_that_issued_the_certificate(client, world):
    """After the holder moves to another clinic and their old clinic is renamed, the public page and the PDF still
    name the clinic as it was called when the certificate was issued."""
    issued = _certified(world)
    trainee = world.users["trainee"]
    world.clinic.name = "Renamed Clinic"
    world.clinic.save()
    trainee.clinic = world.other_clinic
    trainee.save()
    page = client.get(reverse("training:verify"), {"code": issued.code}).content.decode()
    assert "<dd data-issued-by>North Headache Clinic</dd>" in page
    assert "Renamed Clinic" not in page
    assert "South Headache Clinic" not in page
    client.force_login(trainee)
    response = client.get(reverse("training:certificate_pdf", args=[issued.external_id]))
    text = " ".join(pdf_text(response.content).split())
    assert "Issued by North Headache Clinic on 1 June 2026." in text


def test_the_certificate_page_issues_when_ready(client, world):
    """The certificate page lists what is missing, then issues the certificate once everything is passed."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    assert "site trainer not passed yet" in client.get(reverse("training:certificate")).content.decode()
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    services.site_attempt_submit(
        attempt=attempt,
        placements=services.parse_placements(exact_placements() + ftp_placements(attempt.follow_the_pain)),
    )
    pass_cases(trainee, 3)
    client.post(reverse("training:certificate"))
    issued = Certificate.objects.get(trainee=trainee)
    page = client.get(reverse("training:certificate")).content.decode()
    assert issued.code in page
    assert "<h1>Certificate of training</h1>" in page
    assert "Injector certificate" not in page


def test_the_course_marks_the_trainer_module_as_not_needed_for_the_certificate(client, world):
    """Only the trainer-level module carries "not needed for the certificate" on the course page."""
    client.force_login(world.users["trainee"])
    page = client.get(reverse("training:course")).content.decode()
    assert page.count("data-not-for-certificate") == 1
    trainer_module = page.index("Teaching and supervising new injectors")
    assert page.index("data-not-for-certificate") > trainer_module


def test_cases_passed_beyond_the_certificates_need_read_as_a_count_and_the_need(client, world):
    """Four cases passed read "4 cases passed (the certificate needs 3)", not "4 of 3"; one reads "1 case"."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    pass_cases(trainee, 1)
    assert "1 case passed (the certificate needs 3)" in client.get(reverse("training:course")).content.decode()
    pass_cases(trainee, 3)
    course = client.get(reverse("training:course")).content.decode()
    assert "4 cases passed (the certificate needs 3)" in course
    cases = client.get(reverse("training:cases")).content.decode()
    assert "4 cases passed with every step right (the certificate needs 3)." in cases


def test_the_course_and_the_case_list_count_the_cases_taken_through_week_24(client, world):
    """Beside the cases passed, the course page, the case list and the trainer's page of the trainee say how many
    went through the week-24 review (the first two that the certificate needs one), and the list marks those cases:
    three cases passed at the first visit alone read "3 cases passed (the certificate needs 3)" while the
    certificate still asks for a week-24 case."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    pass_cases(trainee, 1)  # the first is a treated case, carried to week 24
    course = client.get(reverse("training:course")).content.decode()
    assert "1 of them taken through the week-24 review (the certificate needs 1)" in course
    cases = client.get(reverse("training:cases")).content.decode()
    assert "1 of them taken through the week-24 review (the certificate needs 1)" in cases
    assert cases.count('<span class="badge">through week 24</span>') == 1
    client.force_login(world.users["clinician"])  # the trainer's page of the trainee says it too
    detail = client.get(reverse("training:trainee", args=[trainee.external_id])).content.decode()
    assert '<dd data-case-counts>1 <span class="muted small">(1 through week 24)</span>' in detail
    client.force_login(trainee)
    CaseAttempt.objects.filter(trainee=trainee).update(decisions={})  # as if it had ended at the first visit
    course = client.get(reverse("training:course")).content.decode()
    assert "0 of them taken through the week-24 review (the certificate needs 1)" in course
    assert "through week 24</span>" not in client.get(reverse("training:cases")).content.decode()


def test_a_revoked_certificate_is_not_issued_again_by_its_holder(client, world):
    """Revoking is the training lead's decision: the holder's page says so and offers no "Issue" button, posting
    issues nothing, and the revoked certificate's PDF is no longer served."""
    issued = _certified(world)
    issued.revoked = True
    issued.save()
    client.force_login(world.users["trainee"])
    page = client.get(reverse("training:certificate")).content.decode()
    assert f"Your certificate {issued.code} was revoked" in page
    assert "Issue my certificate" not in page
    client.post(reverse("training:certificate"))
    assert list(Certificate.objects.filter(trainee=world.users["trainee"])) == [issued]
    assert client.get(reverse("training:certificate_pdf", args=[issued.external_id])).status_code == 404
    issued.revoked = False  # reinstated by the training lead
    issued.save()
    assert client.get(reverse("training:certificate_pdf", args=[issued.external_id])).status_code == 200


def test_a_revoked_certificate_reads_revoked_not_ready_on_every_page(client, world):
    """Once the certificate is revoked, the course page, the trainers' list and the trainee's page say "revoked" with
    its code (issuing is refused), never "ready to issue" or "ready"; reinstated, it reads as issued again."""
    issued = _certified(world)
    issued.revoked = True
    issued.save()
    trainee = world.users["trainee"]
    client.force_login(trainee)
    course = client.get(reverse("training:course")).content.decode()
    said = f"Certificate {issued.code} (issued 1 Jun 2026) was revoked."
    assert said in course
    assert "ready to issue" not in course
    client.force_login(world.users["clinician"])
    listing = client.get(reverse("training:trainees")).content.decode()
    assert f'<span class="badge warn">revoked</span> <span class="small">{issued.code}, 1 Jun 2026</span>' in listing
    assert ">ready</span>" not in listing
    detail = client.get(reverse("training:trainee", args=[trainee.external_id])).content.decode()
    assert said in detail
    assert "ready to issue" not in detail
    issued.revoked = False  # reinstated by the training lead
    issued.save()
    assert "revoked" not in client.get(reverse("training:trainees")).content.decode()


def test_giving_up_a_place_promotes_the_first_on_the_waitlist(client, world):
    """When an enrolled trainee gives up their place on the page, the first waiting trainee is enrolled."""
    session = live_session(world.users["clinician"], capacity=1)
    services.enrolment_create(session=session, trainee=world.users["trainee"])
    waiting = UserFactory(username="waiting", role=Role.TRAINEE, clinic=world.clinic)
    services.enrolment_create(session=session, trainee=waiting)
    client.force_login(world.users["trainee"])
    client.post(reverse("training:session_leave", args=[session.external_id]))
    assert Enrolment.objects.get(trainee=waiting).status == "enrolled"
    assert Enrolment.objects.get(trainee=world.users["trainee"]).status == "cancelled"


@pytest.mark.parametrize(
    ("queue", "said"),
    [
        ([], "Your place was given up."),
        (["someone"], "You left the waiting list."),
        (["someone", "leave-twice"], "You were not on this session&#x27;s list."),
    ],
    ids=["enrolled", "waitlisted", "already-cancelled"],
)
def test_leaving_a_session_says_what_was_left(client, world, queue, said):
    """Leaving says what the trainee had: an enrolled trainee gave up a place, a waitlisted one left the waiting
    list, and one already cancelled (the button sent twice) was not on the list."""
    session = live_session(world.users["clinician"], capacity=1)
    if queue:
        services.enrolment_create(session=session, trainee=UserFactory(role=Role.TRAINEE, clinic=world.clinic))
    services.enrolment_create(session=session, trainee=world.users["trainee"])
    client.force_login(world.users["trainee"])
    url = reverse("training:session_leave", args=[session.external_id])
    if "leave-twice" in queue:
        client.post(url, follow=True)  # the first leave, its message read
    page = client.post(url, follow=True).content.decode()
    assert said in page
    for other in {
        "Your place was given up.",
        "You left the waiting list.",
        "You were not on this session&#x27;s list.",
    } - {said}:
        assert other not in page


def _form(session: LiveSession, **changes: object) -> dict[str, object]:
    data = {
        "title": session.title,
        "starts_at": session.starts_at.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": session.duration_minutes,
        "place": session.place,
        "link": session.link,
        "capacity": session.capacity,
        "notes": session.notes,
    }
    return {**data, **changes}


def test_a_trainer_changes_a_session_and_more_places_go_to_the_waitlist(client, world):
    """The edit page shows the session's details; saving new details and one more place enrols the first on the
    waitlist and names them."""
    session = live_session(world.users["clinician"], capacity=1)
    for name in ("w1", "w2", "w3"):
        services.enrolment_create(
            session=session, trainee=UserFactory(username=name, role=Role.TRAINEE, clinic=world.clinic)
        )
    client.force_login(world.users["admin"])  # another trainer of the clinic
    url = reverse("training:session_edit", args=[session.external_id])
    page = client.get(url).content.decode()
    assert f'value="{escape(session.title)}"' in page
    assert "Save changes" in page
    response = client.post(url, _form(session, title="Workshop, room change", place="Room 9", capacity=2), follow=True)
    text = response.content.decode()
    assert "Session changed." in text
    assert "Given a place from the waitlist: w2." in text
    session.refresh_from_db()
    assert (session.title, session.place, session.capacity) == ("Workshop, room change", "Room 9", 2)
    statuses = dict(Enrolment.objects.filter(session=session).values_list("trainee__username", "status"))
    assert statuses == {"w1": "enrolled", "w2": "enrolled", "w3": "waitlisted"}


def test_fewer_places_unseat_nobody_and_say_so(client, world):
    """Lowering the places below those enrolled keeps everyone's place, with a warning counting them."""
    session = live_session(world.users["clinician"], capacity=3)
    for name in ("k1", "k2", "k3"):
        services.enrolment_create(
            session=session, trainee=UserFactory(username=name, role=Role.TRAINEE, clinic=world.clinic)
        )
    client.force_login(world.users["clinician"])
    url = reverse("training:session_edit", args=[session.external_id])
    text = client.post(url, _form(session, capacity=1), follow=True).content.decode()
    assert "2 more trainees are enrolled than there are places now; they keep their places." in text
    assert Enrolment.objects.filter(session=session, status="enrolled").count() == 3


def test_a_session_edit_is_checked_like_scheduling(client, world):
    """A start in the past or no place and no link is refused on the edit form, and nothing changes."""
    session = live_session(world.users["clinician"])
    client.force_login(world.users["clinician"])
    url = reverse("training:session_edit", args=[session.external_id])
    past = client.post(url, _form(session, starts_at="2001-01-01T09:00")).content.decode()
    assert "The session must start in the future." in past
    nowhere = client.post(url, _form(session, place="", link="")).content.decode()
    assert "Give a place, a link, or both." in nowhere
    no_places = client.post(url, _form(session, capacity=0)).content.decode()
    assert "Ensure this value is greater than or equal to 1." in no_places
    assert "live_session_has_places" not in no_places
    assert LiveSession.objects.get(pk=session.pk).starts_at == session.starts_at


def test_a_trainer_cancels_a_session_and_its_trainees_see_it(client, world):
    """Cancelling keeps each trainee's enrolment but shows the session cancelled to them, without enrol or
    leave buttons; enrolling and changing it afterwards are refused."""
    session = live_session(world.users["clinician"], capacity=1)
    services.enrolment_create(session=session, trainee=world.users["trainee"])
    services.enrolment_create(
        session=session, trainee=UserFactory(username="q1", role=Role.TRAINEE, clinic=world.clinic)
    )
    client.force_login(world.users["clinician"])
    detail = reverse("training:session", args=[session.external_id])
    assert "Cancel the session" in client.get(detail).content.decode()
    response = client.post(reverse("training:session_cancel", args=[session.external_id]), follow=True)
    assert (
        "Session cancelled. 2 trainees held a place or waited for one and see it cancelled."
        in response.content.decode()
    )
    assert LiveSession.objects.get(pk=session.pk).cancelled
    assert "Cancel the session" not in client.get(detail).content.decode()
    edit = client.get(reverse("training:session_edit", args=[session.external_id]), follow=True).content.decode()
    assert "This session can no longer be changed" in edit
    again = client.post(reverse("training:session_cancel", args=[session.external_id]), follow=True)
    assert services.SESSION_CANCELLED in again.content.decode()
    client.force_login(world.users["trainee"])
    page = client.get(detail).content.decode()
    assert "This session was cancelled by the trainers." in page
    assert "Give up my place" not in page
    assert "You are enrolled" not in page
    listing = client.get(reverse("training:sessions")).content.decode()
    assert "cancelled" in listing
    assert "you are enrolled" not in listing
    assert "you had a place" in listing
    left = client.post(reverse("training:session_leave", args=[session.external_id]), follow=True)
    assert services.SESSION_CANCELLED in left.content.decode()
    statuses = dict(Enrolment.objects.filter(session=session).values_list("trainee__username", "status"))
    assert statuses == {world.users["trainee"].username: "enrolled", "q1": "waitlisted"}
    client.force_login(world.users["clinician"])
    roster = client.get(detail).content.decode()
    assert "Enrolled when the session was cancelled:" in roster
    assert "Save attendance" not in roster
    attendance = reverse("training:session_attendance", args=[session.external_id])
    assert services.SESSION_CANCELLED in client.post(attendance, follow=True).content.decode()


def test_trainees_and_other_clinics_cannot_change_or_cancel_a_session(client, world):
    """A trainee gets 403 on the edit page and on cancelling; a trainer of another clinic gets 404."""
    session = live_session(world.users["clinician"])
    edit = reverse("training:session_edit", args=[session.external_id])
    cancel = reverse("training:session_cancel", args=[session.external_id])
    client.force_login(world.users["trainee"])
    assert client.get(edit).status_code == 403
    assert client.post(cancel).status_code == 403
    client.force_login(UserFactory(username="far-trainer", role=Role.CLINICIAN, clinic=world.other_clinic))
    assert client.get(edit).status_code == 404
    assert client.post(cancel).status_code == 404
    assert not LiveSession.objects.get(pk=session.pk).cancelled


def test_the_pages_name_acute_classes_as_the_training_text_does():
    """The translated labels of a case's diary rows say, in English, what the quiz and case text say
    (training.wording.ACUTE_CLASS_NAMES), for every class: the two tables cannot drift apart."""
    from onaboard.training.wording import ACUTE_CLASS_NAMES
    from onaboard.web.training.views import ACUTE_CLASS_LABELS

    with translation.override("en"):
        assert {cls: str(label) for cls, label in ACUTE_CLASS_LABELS.items()} == dict(ACUTE_CLASS_NAMES)


@override_settings(TIME_ZONE="Europe/London")
def test_session_times_say_their_time_zone(client, world):
    """A session at 13:00 UTC on 5 July 2099 shows as 14:00 BST on the session list and page, and the form's "Starts
    at" help says the times are the clinic's time zone, by name, tied to the field."""
    start = dt.datetime(2099, 7, 5, 13, 0, tzinfo=dt.UTC)
    session = live_session(world.users["clinician"], starts_at=start)
    client.force_login(world.users["trainee"])
    listed = client.get(reverse("training:sessions")).content.decode()
    shown = client.get(reverse("training:session", args=[session.external_id])).content.decode()
    assert "5 July 2099, 14:00 BST" in listed
    assert "5 July 2099, 14:00 BST" in shown
    client.force_login(world.users["clinician"])
    form = client.get(reverse("training:session_edit", args=[session.external_id])).content.decode()
    assert re.search(r'<p class="small muted" id="id_starts_at_helptext">[^<]*Europe/London[^<]*</p>', form)
    tag = re.search(r'<input[^>]*name="starts_at"[^>]*>', form)
    assert tag is not None
    assert 'aria-describedby="id_starts_at_helptext"' in tag.group(0)
    assert 'value="2099-07-05T14:00"' in tag.group(0)


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_a_trainer_without_a_clinic_is_neither_offered_nor_allowed_to_schedule(client, world, role):
    """A trainer of the clinic is offered "Schedule a session" on the course and session pages and schedules one; the
    same role with no clinic (an operator's administrator, say) is offered neither link nor the "For trainers"
    card, and the form is refused (403) instead of failing on the session's clinic."""
    schedule = reverse("training:session_create")
    data = {"title": "Workshop", "starts_at": "2099-01-05T14:00", "duration_minutes": 60, "capacity": 4, "place": "R2"}
    with_clinic = world.users[role]
    without = UserFactory(username=f"{role}.noclinic", role=with_clinic.role, clinic=None)
    for user, offered in ((with_clinic, True), (without, False)):
        client.force_login(user)
        course = client.get(reverse("training:course")).content.decode()
        listing = client.get(reverse("training:sessions")).content.decode()
        assert (schedule in course) is offered, user
        assert ("For trainers" in course) is offered, user
        assert (schedule in listing) is offered, user
        assert ("Schedule a session" in listing) is offered, user
        assert client.get(schedule).status_code == (200 if offered else 403)
        assert client.post(schedule, data).status_code == (302 if offered else 403)
    assert list(LiveSession.objects.values_list("trainer", "clinic")) == [(with_clinic.pk, world.clinic.pk)]


def test_the_site_trainer_shades_the_asked_follow_the_pain_areas_before_submitting(client, world):
    """An unsubmitted attempt asking for an extra right occipitalis site draws that area (where the extra site
    counts) and no other, and says what the shading means; an attempt asking for none draws no area."""
    trainee = world.users["trainee"]
    client.force_login(trainee)
    asked = SiteTrainerAttempt.objects.create(trainee=trainee, seed=1, follow_the_pain={"occipitalis-right": 1})
    none = SiteTrainerAttempt.objects.create(trainee=trainee, seed=2, follow_the_pain={})
    page = client.get(reverse("training:site_attempt", args=[asked.external_id])).content.decode()
    assert "data-site-trainer" in page
    region = sitemap.region_for("occipitalis", "right")
    assert region is not None
    drawn = re.findall(r'<ellipse class="ftp-region"[^>]*>', page)
    assert len(drawn) == 1
    assert f'cx="{region.cx}" cy="{region.cy}" rx="{region.rx}" ry="{region.ry}"' in drawn[0]
    assert 'data-muscle="occipitalis" data-side="right"' in drawn[0]
    assert "data-ftp-areas-note" in page
    assert 'data-phrase-key="area-asked"' in page
    assert 'data-key="' not in page  # the true sites stay hidden until the attempt is scored
    plain = client.get(reverse("training:site_attempt", args=[none.external_id])).content.decode()
    assert 'class="ftp-region"' not in plain


@pytest.mark.parametrize(
    ("role", "has_link"),
    [("trainee", True), ("nurse", True), ("clinician", True), ("admin", True), ("billing", False)],
)
def test_every_learner_has_a_training_link_in_the_menu(client, world, role, has_link):
    """The main menu links "Training" to the course for each learner role (a nurse too), and the trainee keeps the
    links to live sessions and the certificate; billing staff, who have no training, get no link."""
    client.force_login(world.users[role])
    page = client.get(reverse("clinic:home"), follow=True).content.decode()
    menu = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.DOTALL)
    assert menu is not None
    link = f'<a href="{reverse("training:course")}">Training</a>'
    assert (link in menu.group(1)) is has_link
    if role == "trainee":
        assert reverse("training:sessions") in menu.group(1)
        assert reverse("training:certificate") in menu.group(1)


def _moved(session: LiveSession, *, days: float) -> LiveSession:
    """The session moved to start ``days`` from now (negative: in the past); enrolments are made while it is ahead."""
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() + dt.timedelta(days=days))
    return LiveSession.objects.get(pk=session.pk)


def _trainee_with_a_record(world, trainee) -> None:
    """A trainee with two quiz attempts at the first module (one passed), three site-trainer attempts submitted (one
    passed) and one open, four cases graded (one passed) and one open, and live sessions attended, missed, not
    marked, waitlisted, cancelled, ahead and given up."""
    trainer = world.users["clinician"]
    module = services.course()[0]
    services.quiz_attempt_submit(attempt=services.quiz_attempt_start(user=trainee, module=module), answers={})
    pass_module(trainee, module.id)
    now = timezone.now()
    for seed, passed in ((1, True), (2, False), (3, False)):
        SiteTrainerAttempt.objects.create(trainee=trainee, seed=seed, submitted=now, passed=passed)
    SiteTrainerAttempt.objects.create(trainee=trainee, seed=4)
    for seed, passed in ((1, True), (2, False), (3, False), (4, False)):
        CaseAttempt.objects.create(trainee=trainee, seed=seed, stage=CaseAttempt.Stage.DONE, passed=passed)
    CaseAttempt.objects.create(trainee=trainee, seed=5)
    held = {}
    for title in ("Came", "Missed", "Unmarked", "Waited", "Called off", "Left"):
        session = live_session(trainer, title=title, capacity=1 if title == "Waited" else 2)
        if title == "Waited":
            services.enrolment_create(session=session, trainee=UserFactory(role=Role.TRAINEE, clinic=world.clinic))
        enrolment = services.enrolment_create(session=session, trainee=trainee)
        if title == "Called off":
            services.live_session_cancel(session=session)
        if title == "Left":
            services.enrolment_cancel(enrolment=enrolment)
        held[title] = (_moved(session, days=-3), enrolment)
    for title, came in (("Came", True), ("Missed", False)):
        session, enrolment = held[title]
        services.attendance_record(session=session, attended={enrolment.pk: came})
    services.enrolment_create(session=live_session(trainer, title="Ahead"), trainee=trainee)


def test_a_trainers_page_of_a_trainee_shows_attempts_and_live_sessions(client, world):
    """The trainer reads, for the first module's quiz, the site trainer and the cases, how many attempts were submitted
    and passed ("1 passed of 4 submitted", with the case still open), and each live session the trainee was on with
    their attendance; a place given up is left out."""
    trainee = world.users["trainee"]
    _trainee_with_a_record(world, trainee)
    client.force_login(world.users["clinician"])
    page = client.get(reverse("training:trainee", args=[trainee.external_id])).content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    first = services.course()[0]
    module_row = re.search(rf'<li data-module="{first.id}">(.*?)</li>', page, re.DOTALL)
    assert module_row is not None
    assert "1 passed of 2 submitted" in module_row.group(1)
    site = re.search(r"<dd data-site-trainer-counts>(.*?)</dd>", page, re.DOTALL)
    assert site is not None
    assert "1 passed of 3 submitted" in site.group(1)
    cases = re.search(r"<dd data-case-counts>(.*?)</dd>", page, re.DOTALL)
    assert cases is not None
    assert "1 passed of 4 submitted" in cases.group(1)
    assert "1 case started and not finished" in cases.group(1)
    sessions = re.search(r"<section[^>]*data-trainee-sessions>(.*?)</section>", page, re.DOTALL)
    assert sessions is not None
    row = r'>([A-Za-z ]+)</a></td><td>[^<]*</td><td><span[^>]*data-attendance="(\w+)"'
    rows = dict(re.findall(row, sessions.group(1)))
    assert rows == {
        "Ahead": "ahead",
        "Came": "attended",
        "Missed": "absent",
        "Unmarked": "unmarked",
        "Waited": "waitlisted",
        "Called off": "cancelled",
    }
    assert "attended" in text
    assert "did not attend" in text


def test_a_trainers_page_of_a_trainee_asks_no_more_queries_for_a_longer_record(
    client, world, django_assert_max_num_queries
):
    """A trainee with quiz, site-trainer and case attempts and seven live sessions costs the page no more queries
    than a trainee with nothing yet: counts are aggregated and sessions read with their enrolments."""
    empty = UserFactory(username="t.empty", role=Role.TRAINEE, clinic=world.clinic)
    busy = world.users["trainee"]
    _trainee_with_a_record(world, busy)
    for module in services.course()[1:3]:
        pass_module(busy, module.id)
    client.force_login(world.users["clinician"])
    with CaptureQueriesContext(connection) as nothing:
        assert client.get(reverse("training:trainee", args=[empty.external_id])).status_code == 200
    with django_assert_max_num_queries(len(nothing.captured_queries)):
        assert client.get(reverse("training:trainee", args=[busy.external_id])).status_code == 200


def test_a_learner_keeps_a_list_of_their_past_sessions_with_attendance(client, world):
    """A session more than 12 hours past its start leaves the upcoming list but stays on the learner's "Your past
    sessions", most recent first, each with their attendance; a session they gave up, or were never on, is not
    there."""
    trainee = world.users["trainee"]
    _trainee_with_a_record(world, trainee)
    other = _moved(live_session(world.users["clinician"], title="Not mine"), days=-2)
    client.force_login(trainee)
    page = client.get(reverse("training:sessions")).content.decode()
    own = re.search(r"<section[^>]*data-own-past-sessions>(.*?)</section>", page, re.DOTALL)
    assert own is not None
    assert "Your past sessions" in own.group(1)
    listed = re.findall(r'>([A-Za-z ]+)</a> · [^·]* ·\s*<span[^>]*data-attendance="(\w+)"', own.group(1))
    assert sorted(listed) == sorted(
        [
            ("Came", "attended"),
            ("Missed", "absent"),
            ("Unmarked", "unmarked"),
            ("Waited", "waitlisted"),
            ("Called off", "cancelled"),
        ]
    )
    assert other.title not in own.group(1)
    assert "Left" not in own.group(1)
    assert "data-past-sessions" not in page  # the clinic's past sessions are for trainers


def test_a_learner_with_no_past_session_is_told_so(client, world):
    """A trainee who has been on no session reads that they have no past session yet."""
    client.force_login(world.users["trainee"])
    page = client.get(reverse("training:sessions")).content.decode()
    assert "You have not been on a past session yet." in page
