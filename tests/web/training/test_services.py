"""Training services: progress and unlocking, attempts graded by the engine, the waitlist, certificates."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from onaboard.training.cases import CASE_VERSION, Step, generate_case
from onaboard.training.quiz import QUIZ_VERSION, generate_quiz
from onaboard.web.accounts.models import Role
from onaboard.web.injections import sitemap
from onaboard.web.training import services
from onaboard.web.training.models import (
    CaseAttempt,
    Certificate,
    Enrolment,
    EnrolmentStatus,
    LiveSession,
    QuizAttempt,
)
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


def _trainee(world, name: str):
    return UserFactory(username=name, role=Role.TRAINEE, clinic=world.clinic)


def test_only_the_first_module_is_open_at_the_start(world):
    """A new trainee can open the first module only; the rest unlock in order."""
    progress = services.course_progress(world.users["trainee"])
    assert [item.unlocked for item in progress] == [True] + [False] * (len(progress) - 1)


def test_passing_a_module_unlocks_the_next(world):
    """Passing the first quiz opens the second module and no further."""
    trainee = world.users["trainee"]
    pass_module(trainee, services.course()[0].id)
    progress = services.course_progress(trainee)
    assert [item.unlocked for item in progress[:3]] == [True, True, False]
    assert progress[0].passed
    assert progress[0].best_percent == 100


def test_a_failed_quiz_keeps_the_next_module_locked(world):
    """An attempt below the pass mark is recorded but does not unlock anything."""
    trainee = world.users["trainee"]
    module = services.course()[0]
    attempt = services.quiz_attempt_start(user=trainee, module=module)
    result = services.quiz_attempt_submit(attempt=attempt, answers={})
    assert not result.passed
    attempt.refresh_from_db()
    assert (attempt.correct, attempt.passed) == (0, False)
    assert not services.course_progress(trainee)[1].unlocked


def test_unanswered_questions_are_named_by_their_number_on_the_page(world):
    """A question without an answer, or with a choice it does not have, counts as unanswered (numbered from 1)."""
    module = services.course()[0]
    attempt = services.quiz_attempt_start(user=world.users["trainee"], module=module)
    questions = services.quiz_questions(attempt)
    answers = {q.key: q.answer for q in questions}
    assert services.quiz_unanswered(questions, answers) == ()
    answers[questions[0].key] = None
    answers[questions[2].key] = len(questions[2].choices)
    del answers[questions[3].key]
    assert services.quiz_unanswered(questions, answers) == (1, 3, 4)


def test_a_quiz_attempt_is_marked_once(world):
    """Submitting the same attempt again does not change its stored mark."""
    trainee = world.users["trainee"]
    attempt = pass_module(trainee, services.course()[0].id)
    services.quiz_attempt_submit(attempt=attempt, answers={})
    stored = QuizAttempt.objects.get(pk=attempt.pk)
    assert stored.passed
    assert stored.correct == stored.total


def test_every_attempt_draws_new_questions(world):
    """Two attempts at one module have different seeds and so different questions."""
    trainee = world.users["trainee"]
    module = services.course()[0]
    first = services.quiz_attempt_start(user=trainee, module=module)
    second = services.quiz_attempt_start(user=trainee, module=module)
    assert first.seed != second.seed
    assert services.quiz_questions(first) != services.quiz_questions(second)


REPEATING_SEED = 8
"""An attempt at the sites module whose draws ask the cervical paraspinal's follow-the-pain limit twice."""


def test_a_new_attempt_asks_no_question_twice_and_an_earlier_one_keeps_its_questions(world):
    """A new attempt of the sites module never asks a question twice; an attempt made before that rule is drawn as
    it was (its repeat included), so its stored answers are marked against the questions the trainee answered."""
    trainee = world.users["trainee"]
    module = services.module_by_id("preempt-sites-and-anatomy")
    attempt = services.quiz_attempt_start(user=trainee, module=module)
    QuizAttempt.objects.filter(pk=attempt.pk).update(seed=REPEATING_SEED)
    attempt.refresh_from_db()
    assert attempt.distinct_questions
    asked = [(question.prompt, question.facts) for question in services.quiz_questions(attempt)]
    assert len(set(asked)) == len(asked) == module.questions
    QuizAttempt.objects.filter(pk=attempt.pk).update(distinct_questions=False)
    attempt.refresh_from_db()
    earlier = [(question.prompt, question.facts) for question in services.quiz_questions(attempt)]
    assert len(set(earlier)) < len(earlier)
    assert earlier[:3] == asked[:3]


def test_an_attempt_is_drawn_with_the_generators_it_was_first_drawn_with(world):
    """A new attempt is drawn with the current generators (QUIZ_VERSION); one made before them keeps version 1, so
    its stored answers are marked against the questions the trainee was shown."""
    trainee = world.users["trainee"]
    module = services.course()[0]
    attempt = services.quiz_attempt_start(user=trainee, module=module)
    assert attempt.quiz_version == QUIZ_VERSION
    current = services.quiz_questions(attempt)
    assert current == generate_quiz(module.id, module.quiz, module.questions, attempt.seed)
    QuizAttempt.objects.filter(pk=attempt.pk).update(quiz_version=1)
    attempt.refresh_from_db()
    earlier = services.quiz_questions(attempt)
    assert earlier == generate_quiz(module.id, module.quiz, module.questions, attempt.seed, version=1)
    assert earlier != current


def test_a_quiz_attempt_of_version_2_is_not_shown_the_headache_days_added_in_version_3(world):
    """Module 1's medication-overuse question states each period's headache days from version 3 on; an attempt kept
    at version 2 draws it as it was shown, without them, so its stored answer is marked against that question."""
    trainee = world.users["trainee"]
    module = services.module_by_id("diagnosis-and-diary")
    attempt = services.quiz_attempt_start(user=trainee, module=module)
    assert attempt.quiz_version == QUIZ_VERSION >= 3

    def overuse_facts() -> tuple[str, ...]:
        return next(q.facts for q in services.quiz_questions(attempt) if q.kind == "medication_overuse")

    assert all("headache on " in fact for fact in overuse_facts())
    QuizAttempt.objects.filter(pk=attempt.pk).update(quiz_version=2)
    attempt.refresh_from_db()
    assert not any("headache on " in fact for fact in overuse_facts())


def test_a_quiz_attempt_of_version_3_keeps_the_occipitalis_question_it_was_shown(world):
    """Module 3 asks from version 4 on how many follow-the-pain sites a plan may add to the occipitalis (a derived
    limit); an attempt kept at version 3 is shown the question it was asked ("may be added"), with the same choices,
    so its stored answer is marked against it, and both explain the limit as derived."""
    trainee = world.users["trainee"]
    module = services.module_by_id("preempt-sites-and-anatomy")
    attempt = services.quiz_attempt_start(user=trainee, module=module)
    assert attempt.quiz_version == QUIZ_VERSION == 4
    seed = next(
        seed
        for seed in range(200)
        if any(
            q.kind == "follow_the_pain_limit" and "occipitalis" in q.prompt
            for q in generate_quiz(module.id, module.quiz, module.questions, seed)
        )
    )
    QuizAttempt.objects.filter(pk=attempt.pk).update(seed=seed)
    attempt.refresh_from_db()

    def occipitalis_question():
        questions = services.quiz_questions(attempt)
        return next(q for q in questions if q.kind == "follow_the_pain_limit" and "occipitalis" in q.prompt)

    current = occipitalis_question()
    assert current.prompt == "How many follow-the-pain sites may a plan add to the occipitalis at most?"
    QuizAttempt.objects.filter(pk=attempt.pk).update(quiz_version=3)
    attempt.refresh_from_db()
    earlier = occipitalis_question()
    assert earlier.prompt == "How many follow-the-pain sites may be added to the occipitalis at most?"
    assert (earlier.key, earlier.choices, earlier.answer) == (current.key, current.choices, current.answer)
    assert earlier.explanation == current.explanation
    assert "is derived, not stated" in current.explanation[0]


def test_a_case_attempt_is_drawn_with_the_version_it_was_made_with(world):
    """A new case attempt is drawn with the current draws (CASE_VERSION); one made before them keeps version 1, so
    its stored decisions are marked against the patient the trainee was shown (seed 17: a man, "breastfeeding")."""
    trainee = world.users["trainee"]
    attempt = case_attempt(trainee, seed=17)
    assert attempt.case_version == CASE_VERSION
    assert services.case_of(attempt) == generate_case(17)
    CaseAttempt.objects.filter(pk=attempt.pk).update(case_version=1)
    attempt.refresh_from_db()
    earlier = services.case_of(attempt)
    assert earlier == generate_case(17, version=1)
    assert earlier.title.startswith("A 34-year-old man")
    assert services.case_grade(attempt, case=earlier) == services.case_grade(attempt)


def test_exact_placements_pass_the_site_trainer(world):
    """Clicking every site of the clinic's map with its muscle (and the asked extra sites) passes."""
    trainee = world.users["trainee"]
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    score = services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    assert score.passed
    assert score.points == score.possible
    attempt.refresh_from_db()
    assert attempt.passed


def _attempt_asking(trainee, request: dict[str, int]):
    """A site-trainer attempt whose follow-the-pain request is ``request`` ("muscle-side": count)."""
    attempt = services.site_attempt_start(user=trainee)
    attempt.follow_the_pain = request
    attempt.save()
    return attempt


def _clicks_in(key: str, count: int, *, muscle: str | None = None) -> list[dict]:
    """``count`` follow-the-pain clicks inside an area of the clinic's map, 8 units apart around its centre."""
    region_muscle, side = key.rsplit("-", 1)
    region = sitemap.region_for(region_muscle, side)
    assert region is not None
    points = [(region.cx + 8 * (i % 3 - 1), region.cy + 8 * (i // 3 - 1)) for i in range(count)]
    assert all(region.contains(x, y) for x, y in points)
    return [
        {"muscle": muscle or region_muscle, "view": region.view.value, "x": x, "y": y, "ftp": True} for x, y in points
    ]


@pytest.mark.parametrize("count", [4, 8])
def test_follow_the_pain_sites_past_the_engines_limit_fail_the_site_trainer(world, count):
    """With the 31 fixed sites right, extra left temporalis sites past PREEMPT's temporalis limit (2 asked) fail the
    attempt, however high the mark, and the reason names the muscle and side."""
    attempt = _attempt_asking(world.users["trainee"], {"temporalis-left": 2})
    clicks = exact_placements() + _clicks_in("temporalis-left", count)
    score = services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    assert not score.passed
    assert score.possible == 31 + 2 + (count - 2)
    assert score.failures[0] == (
        f"follow-the-pain: temporalis allows at most 2 extra sites (10 U), asked for {count}; placed: left {count}"
    )
    attempt.refresh_from_db()
    assert not attempt.passed


@pytest.mark.parametrize("request_", [{"trapezius-right": 1}, {}], ids=["asked-elsewhere", "nothing-asked"])
@pytest.mark.parametrize("count", [1, 3])
def test_cervical_paraspinal_follow_the_pain_sites_fail_the_site_trainer(world, request_, count):
    """Follow-the-pain sites marked cervical paraspinal, which PREEMPT gives none, fail the attempt whether or not
    any extra site was asked for (ticked with no request, they are not passed over as stray clicks)."""
    attempt = _attempt_asking(world.users["trainee"], request_)
    neck = [
        {**click, "ftp": True}
        for click in exact_placements()
        if click["muscle"] == "cervical_paraspinal" and click["x"] < 500
    ][:count]
    clicks = exact_placements() + ftp_placements(request_) + neck
    score = services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    assert not score.passed
    assert any(
        failure.startswith(
            "follow-the-pain: cervical paraspinal takes no extra sites; extra sites go only in temporalis (at most 2), "
            "occipitalis (at most 2), trapezius (at most 4); placed: left "
        )
        for failure in score.failures
    )


def test_leaving_out_the_asked_follow_the_pain_sites_fails_the_site_trainer(world):
    """With the 31 fixed sites right but none of the 4 asked follow-the-pain sites placed (31 of 35 points, above the
    mark), the attempt does not pass: a trainee who skips the asked sites is not certified on them."""
    attempt = _attempt_asking(world.users["trainee"], {"trapezius-left": 2, "temporalis-right": 2})
    score = services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(exact_placements()))
    assert (score.points, score.possible) == (31, 35)
    assert not score.passed
    assert score.follow_the_pain is not None
    assert score.follow_the_pain.problems == (
        "left trapezius: 0 of the 2 asked follow-the-pain sites placed there",
        "right temporalis: 0 of the 2 asked follow-the-pain sites placed there",
    )


def test_a_map_with_no_site_is_refused_not_scored(world):
    """Submitting no placement at all raises ``TrainingError`` and leaves the attempt open, with no score and no
    submission time: it is not a failed attempt."""
    attempt = services.site_attempt_start(user=world.users["trainee"])
    with pytest.raises(services.TrainingError, match="No site is placed yet"):
        services.site_attempt_submit(attempt=attempt, placements=[])
    attempt.refresh_from_db()
    assert (attempt.submitted, attempt.points, attempt.possible, attempt.passed) == (None, None, None, False)


def test_the_site_trainer_uses_the_clinic_map_positions(world):
    """The trainer's 31 targets are the fixed positions of the injections app's site map."""
    targets = services.site_targets()
    assert len(targets) == 31
    assert {(t.view, t.x, t.y) for t in targets} == {(p.view.value, p.x, p.y) for p in sitemap.FIXED_POSITIONS.values()}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("nope", services.BAD_PLACEMENTS.format(limit=services.MAX_PLACEMENTS)),
        ([{"muscle": "nasalis", "view": "front", "x": 1, "y": 1}], "placement 1: unknown muscle 'nasalis'"),
        ([{"muscle": "procerus", "view": "side", "x": 1, "y": 1}], "placement 1: unknown view 'side'"),
        (
            [{"muscle": "procerus", "view": "front", "x": 1, "y": 2000}],
            "placement 1: y must be a number from 0 to 1000",
        ),
        ([{"muscle": [], "view": "front", "x": 1, "y": 1}], "placement 1: muscle must be text"),
        ([{"muscle": {"a": 1}, "view": "front", "x": 1, "y": 1}], "placement 1: muscle must be text"),
        ([{"muscle": "procerus", "view": ["front"], "x": 1, "y": 1}], "placement 1: view must be text"),
        ([{"muscle": "procerus", "view": "front", "x": "1", "y": 1}], "placement 1: x must be a number from 0 to 1000"),
        (
            [{"muscle": "procerus", "view": "front", "x": 1, "y": True}],
            "placement 1: y must be a number from 0 to 1000",
        ),
        (
            [{"muscle": "procerus", "view": "front", "x": 1, "y": 1, "ftp": "no"}],
            "placement 1: ftp must be true or false",
        ),
    ],
)
def test_bad_placements_are_refused_naming_the_item(raw, message):
    """Placements that are not sites on the map are refused with a message naming the item."""
    with pytest.raises(services.TrainingError) as refused:
        services.parse_placements(raw)
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[{"muscle": "procerus", "view": "front", "x": ' + "1" * 5001 + ', "y": 1}]',
            "placement 1: x must be a number",
        ),
        ('[{"muscle": "procerus", "view": "front", "x": 1, "y": 1e400}]', "placement 1: y must be a number"),
        ("[" * 100_000 + "]" * 100_000, "The placements could not be read."),
        ("{not json", "The placements could not be read."),
    ],
)
def test_placements_json_too_long_or_unreadable_is_refused_not_raised(text, message):
    """The page's field with a number past Python's int digit limit, an infinite number, or unreadable JSON is a
    ``TrainingError`` (shown on the page), never another exception (a 500)."""
    with pytest.raises(services.TrainingError) as refused:
        services.placements_from_json(text)
    assert str(refused.value).startswith(message)


def test_a_case_moves_from_first_visit_to_week24_to_graded(world):
    """A treated patient's case is decided in two stages and graded against the engine at the end."""
    trainee = world.users["trainee"]
    attempt = case_attempt(trainee, seed=TREATED_SEED)
    first = services.case_attempt_decide(attempt=attempt, decisions=engine_first_visit(attempt))
    assert [step.correct for step in first.steps] == [True, True, True]
    final = services.case_attempt_decide(attempt=attempt, decisions=engine_week24(attempt))
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.passed, attempt.correct_steps) == ("done", True, 4)
    assert final.passed
    with pytest.raises(services.TrainingError):
        services.case_attempt_decide(attempt=attempt, decisions={})


def test_a_case_whose_patient_is_not_treated_is_graded_at_the_first_visit(world):
    """The label not met, the case closes after the first visit: three steps, passed when all three agree."""
    trainee = world.users["trainee"]
    attempt = case_attempt(trainee, seed=NOT_TREATED_SEED)
    grade = services.case_attempt_decide(attempt=attempt, decisions=engine_first_visit(attempt))
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.passed, attempt.correct_steps, attempt.steps_graded) == ("done", True, 3, 3)
    assert [step.step for step in grade.steps] == ["eligibility", "safety", "plan"]
    assert grade.passed
    with pytest.raises(services.TrainingError, match=re.escape(services.CASE_DONE)):
        services.case_attempt_decide(attempt=attempt, decisions={"week24": "stop"})


@pytest.mark.parametrize("week24", [{"week24": "continue"}, {}])
def test_a_stored_case_left_at_week24_whose_patient_is_not_treated_can_be_finished(world, week24):
    """An attempt stored at the week-24 review before untreated patients ended at the first visit closes on its
    next decision (the week-24 answer not graded), instead of failing on a course that no longer exists."""
    trainee = world.users["trainee"]
    attempt = case_attempt(trainee, seed=NOT_TREATED_SEED)
    CaseAttempt.objects.filter(pk=attempt.pk).update(stage="week24", decisions=engine_first_visit(attempt))
    attempt.refresh_from_db()
    assert [step.step for step in services.case_grade(attempt).steps] == ["eligibility", "safety", "plan"]
    grade = services.case_attempt_decide(attempt=attempt, decisions=week24)
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.passed, attempt.correct_steps, attempt.steps_graded) == ("done", True, 3, 3)
    assert "week24" not in attempt.decisions
    assert grade.passed


def test_a_full_session_waitlists_and_a_freed_place_promotes_the_first_in_line(world):
    """With every place taken the next trainees wait in order; a cancellation promotes the first of them."""
    trainer = world.users["clinician"]
    session = live_session(trainer, capacity=1)
    first, second, third = (_trainee(world, name) for name in ("t1", "t2", "t3"))
    assert services.enrolment_create(session=session, trainee=first).status == EnrolmentStatus.ENROLLED
    waiting = services.enrolment_create(session=session, trainee=second)
    later = services.enrolment_create(session=session, trainee=third)
    assert (waiting.status, later.status) == (EnrolmentStatus.WAITLISTED, EnrolmentStatus.WAITLISTED)
    promoted = services.enrolment_cancel(enrolment=Enrolment.objects.get(session=session, trainee=first))
    assert [row.trainee for row in promoted] == [second]
    statuses = dict(Enrolment.objects.filter(session=session).values_list("trainee__username", "status"))
    assert statuses == {"t1": "cancelled", "t2": "enrolled", "t3": "waitlisted"}


def test_more_places_promote_from_the_waitlist(world):
    """Raising the capacity gives the new places to the waitlist in order."""
    session = live_session(world.users["clinician"], capacity=1)
    for name in ("a1", "a2", "a3"):
        services.enrolment_create(session=session, trainee=_trainee(world, name))
    promoted = services.live_session_update(session=session, capacity=2)
    assert [row.trainee.username for row in promoted] == ["a2"]


def test_enrolling_twice_is_refused(world):
    """A trainee already on the list cannot enrol again; the database allows one row per trainee and session."""
    session = live_session(world.users["clinician"])
    trainee = world.users["trainee"]
    services.enrolment_create(session=session, trainee=trainee)
    with pytest.raises(services.TrainingError, match=re.escape(services.ALREADY_ENROLLED)):
        services.enrolment_create(session=session, trainee=trainee)
    with pytest.raises(IntegrityError), transaction.atomic():
        Enrolment.objects.create(session=session, trainee=trainee, status="waitlisted", queued_at=timezone.now())


def test_a_started_session_takes_no_enrolments(world):
    """Enrolment closes when the session starts."""
    session = live_session(world.users["clinician"])
    session.starts_at = timezone.now() - dt.timedelta(minutes=1)
    session.save()
    with pytest.raises(services.TrainingError, match=re.escape(services.SESSION_STARTED)):
        services.enrolment_create(session=session, trainee=world.users["trainee"])


def test_nobody_leaves_a_session_that_has_started_and_nobody_moves_up_into_it(world):
    """Leaving closes when the session starts: an attended enrolment stays enrolled (it counts toward the
    certificate) and the waitlisted trainee is not moved into a session that has taken place."""
    session = live_session(world.users["clinician"], capacity=1)
    came, waited = _trainee(world, "came"), _trainee(world, "waited")
    enrolment = services.enrolment_create(session=session, trainee=came)
    services.enrolment_create(session=session, trainee=waited)
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - dt.timedelta(days=2))
    services.attendance_record(session=LiveSession.objects.get(pk=session.pk), attended={enrolment.pk: True})
    with pytest.raises(services.TrainingError, match=re.escape(services.SESSION_STARTED)):
        services.enrolment_cancel(enrolment=Enrolment.objects.get(pk=enrolment.pk))
    statuses = dict(Enrolment.objects.filter(session=session).values_list("trainee__username", "status"))
    assert statuses == {"came": "enrolled", "waited": "waitlisted"}


def test_attendance_is_recorded_for_enrolled_trainees_only(world):
    """Attendance marks enrolled trainees; a waitlisted trainee's row is left alone."""
    session = live_session(world.users["clinician"], capacity=1)
    came = services.enrolment_create(session=session, trainee=_trainee(world, "came"))
    waiting = services.enrolment_create(session=session, trainee=_trainee(world, "waits"))
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - dt.timedelta(hours=1))
    services.attendance_record(session=session, attended={came.pk: True, waiting.pk: True})
    came.refresh_from_db()
    waiting.refresh_from_db()
    assert (came.attended, waiting.attended) == (True, None)


def test_attendance_waits_for_the_session_to_start(world):
    """Nobody can have come to a session that has not started: recording attendance before its start is refused
    with the reason and marks nobody; once it has started the same record is saved."""
    session = live_session(world.users["clinician"], days=3)
    enrolment = services.enrolment_create(session=session, trainee=world.users["trainee"])
    with pytest.raises(services.TrainingError) as refused:
        services.attendance_record(session=session, attended={enrolment.pk: True})
    assert str(refused.value) == services.ATTENDANCE_BEFORE_START
    enrolment.refresh_from_db()
    assert enrolment.attended is None
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - dt.timedelta(days=5))
    services.attendance_record(session=session, attended={enrolment.pk: True})
    enrolment.refresh_from_db()
    assert enrolment.attended is True


def test_a_certificate_needs_everything_passed(world):
    """Issuing is refused while anything is missing, then gives one certificate with a readable code."""
    trainee = world.users["trainee"]
    with pytest.raises(services.TrainingError, match=r"^The certificate cannot be issued yet: "):
        services.certificate_issue(user=trainee, today=TODAY)
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    pass_cases(trainee, 3)
    issued = services.certificate_issue(user=trainee, today=TODAY)
    assert services.certificate_issue(user=trainee, today=TODAY) == issued
    assert Certificate.objects.filter(trainee=trainee).count() == 1
    assert len(issued.code) == 14
    assert services.certificate_for_code(issued.code.lower().replace("-", " ")) == issued
    assert services.certificate_for_code("AAAA-AAAA-AAAA") is None


def test_a_learner_is_named_by_full_name_or_else_username(world):
    """A learner is labelled by their full name, or by their username when they gave none."""
    trainee = world.users["trainee"]
    trainee.first_name, trainee.last_name = "Tam", "Oyelaran"
    assert services.learner_label(trainee) == "Tam Oyelaran"
    trainee.first_name = trainee.last_name = ""
    assert services.learner_label(trainee) == trainee.username


def test_a_certificate_is_held_in_the_learners_name(world):
    """A certificate's holder is the learner as labelled at issue: full name, or username when none was given."""
    trainee = world.users["trainee"]
    trainee.first_name, trainee.last_name = "", ""
    trainee.save()
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    pass_cases(trainee, 3)
    assert services.certificate_issue(user=trainee, today=TODAY).holder_name == trainee.username


def test_a_certificate_keeps_the_clinic_that_issued_it(world):
    """A certificate records its holder's clinic's name at issue (``issued_by``), which stays when the clinic is
    renamed or the holder moves to another clinic."""
    trainee = world.users["trainee"]
    pass_all_modules(trainee)
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    pass_cases(trainee, 3)
    issued = services.certificate_issue(user=trainee, today=TODAY)
    assert issued.issued_by == "North Headache Clinic"
    world.clinic.name = "Renamed Clinic"
    world.clinic.save()
    trainee.clinic = world.other_clinic
    trainee.save()
    assert services.certificate_for_code(issued.code).issued_by == "North Headache Clinic"


def test_a_certificate_does_not_need_the_trainer_module(world):
    """A trainee who passed every module but the trainer-level one (teaching and supervising) is issued the
    certificate of training."""
    trainee = world.users["trainee"]
    for module in services.course():
        if module.level != "trainer":
            pass_module(trainee, module.id)
    attempt = services.site_attempt_start(user=trainee)
    clicks = exact_placements() + ftp_placements(attempt.follow_the_pain)
    services.site_attempt_submit(attempt=attempt, placements=services.parse_placements(clicks))
    pass_cases(trainee, 3)
    assert services.certificate_status_for(trainee).missing == ()
    assert services.certificate_issue(user=trainee, today=TODAY).trainee == trainee


def test_a_first_visit_sent_twice_does_not_close_the_case(world):
    """A double click sends the first-visit answers twice; the second, reaching the week-24 stage, is refused
    instead of being graded as the week-24 answer (which closed the case as failed with every answer right)."""
    trainee = world.users["trainee"]
    attempt = case_attempt(trainee, seed=TREATED_SEED)
    services.case_attempt_decide(attempt=attempt, decisions=engine_first_visit(attempt))
    with pytest.raises(services.TrainingError, match="answered already"):
        services.case_attempt_decide(attempt=attempt, decisions=engine_first_visit(attempt))
    attempt.refresh_from_db()
    assert attempt.stage == "week24"
    services.case_attempt_decide(attempt=attempt, decisions=engine_week24(attempt))
    attempt.refresh_from_db()
    assert (attempt.stage, attempt.passed) == ("done", True)


def test_attendance_counts_only_for_a_place_kept_on_a_session_held(world):
    """Attendance marked ahead (stored before attendance waited for the start), then the place given up or the
    session cancelled, is not a session attended in the trainer's summary; a kept place on a session held is."""
    from onaboard.web.training.selectors import trainee_summary

    trainer, trainee = world.users["clinician"], world.users["trainee"]
    kept, left, cancelled = (live_session(trainer, title=title) for title in ("kept", "left", "cancelled"))
    marks = {}
    for session in (kept, left, cancelled):
        enrolment = services.enrolment_create(session=session, trainee=trainee)
        Enrolment.objects.filter(pk=enrolment.pk).update(attended=True)
        marks[session.title] = enrolment
    services.enrolment_cancel(enrolment=marks["left"])
    services.live_session_cancel(session=cancelled)
    assert trainee_summary(trainee).sessions_attended == 1


def test_a_started_or_cancelled_session_cannot_change(world):
    """Changing or cancelling a session that has started, or was cancelled, is refused with the reason; a field
    that is not a session detail is a programming error."""
    started = live_session(world.users["clinician"])
    LiveSession.objects.filter(pk=started.pk).update(starts_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(services.TrainingError, match=re.escape(services.SESSION_STARTED)):
        services.live_session_update(session=started, capacity=5)
    with pytest.raises(services.TrainingError, match=re.escape(services.SESSION_STARTED)):
        services.live_session_cancel(session=started)
    scheduled = live_session(world.users["clinician"])
    assert services.live_session_cancel(session=scheduled) == 0
    with pytest.raises(services.TrainingError, match=re.escape(services.SESSION_CANCELLED)):
        services.live_session_update(session=scheduled, title="Again")
    with pytest.raises(TypeError, match="clinic"):
        services.live_session_update(session=live_session(world.users["clinician"]), clinic=world.other_clinic)


def test_what_rules_a_case_out_is_worked_out_from_the_assessment_given(monkeypatch):
    """``case_not_treated_because`` names the steps that rule the patient out from the assessment the page already
    has, without running the engine's assessment again."""
    case = services.case_of(CaseAttempt(seed=NOT_TREATED_SEED))
    assessment = services.case_assessment(case)
    monkeypatch.setattr("onaboard.training.cases.assess", _no_assess)
    assert services.case_not_treated_because(case, assessment=assessment) == (Step.ELIGIBILITY,)


def _no_assess(*args, **kwargs):
    raise AssertionError("the diary was assessed again")


def test_a_trainer_with_no_clinic_is_refused_a_session_with_the_reason(world):
    """A session belongs to its trainer's clinic: a trainer of a clinic schedules one, and the same role with no
    clinic is refused with a sentence saying why, and nothing is saved."""
    assert live_session(world.users["admin"]).clinic == world.clinic
    without = UserFactory(username="admin.noclinic", role=Role.ADMIN, clinic=None)
    with pytest.raises(services.TrainingError) as refused:
        live_session(without)
    assert str(refused.value) == services.NO_CLINIC_TO_SCHEDULE_FOR
    assert not LiveSession.objects.filter(trainer=without).exists()


@pytest.mark.parametrize(
    "message",
    [
        services.SESSION_CANCELLED,
        services.SESSION_STARTED,
        services.ATTENDANCE_BEFORE_START,
        services.ALREADY_ENROLLED,
        services.NOT_READY,
        services.CASE_DONE,
        services.CASE_STAGE_ANSWERED,
        services.CERTIFICATE_REVOKED,
        services.NO_CLINIC_TO_SCHEDULE_FOR,
    ],
)
def test_refusals_shown_as_messages_read_as_sentences(message):
    """Each refusal a page flashes starts with a capital letter and ends with a full stop, like a sentence."""
    assert message[0].isupper()
    assert message.endswith(".")
