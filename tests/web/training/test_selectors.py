"""Training reads: sessions in date order, the trainers' past sessions, the sessions a supervised injection can be
logged against."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onaboard.training.certificate import REQUIRED_CASES, certificate_modules
from onaboard.training.course import Level
from onaboard.web.accounts.models import Role
from onaboard.web.training import selectors, services
from onaboard.web.training.models import CaseAttempt, Certificate, LiveSession, SiteTrainerAttempt, SupervisedInjection
from tests.web.factories import UserFactory
from tests.web.training.conftest import live_session, pass_all_modules, pass_cases, pass_module


def _started(session: LiveSession, *, hours_ago: float) -> LiveSession:
    """The session moved to have started ``hours_ago`` (enrolments are made while it is still ahead)."""
    LiveSession.objects.filter(pk=session.pk).update(starts_at=timezone.now() - dt.timedelta(hours=hours_ago))
    return LiveSession.objects.get(pk=session.pk)


def test_sessions_come_in_date_order_whatever_order_they_were_scheduled(world):
    """The later session scheduled first is listed after the earlier one: the counts' grouping does not set the
    order."""
    trainer = world.users["clinician"]
    later = live_session(trainer, title="later", days=20)
    earlier = live_session(trainer, title="earlier", days=5)
    services.enrolment_create(session=later, trainee=world.users["trainee"])
    assert [s.title for s in selectors.upcoming_sessions(world.users["trainee"])] == ["earlier", "later"]
    assert [s.title for s in selectors.sessions_visible_to(world.users["trainee"])] == [earlier.title, later.title]


def test_trainers_get_past_sessions_most_recent_first_with_their_attendance(world):
    """A session gone from the upcoming list (12 h after its start) is a past session for trainers, newest first,
    with how many came and how many are not marked yet; trainees get none."""
    trainer, trainee = world.users["clinician"], world.users["trainee"]
    older, recent, today = (live_session(trainer, title=title) for title in ("older", "recent", "today"))
    came = services.enrolment_create(session=recent, trainee=trainee)
    services.enrolment_create(session=older, trainee=trainee)
    older, recent, today = _started(older, hours_ago=72), _started(recent, hours_ago=13), _started(today, hours_ago=2)
    services.attendance_record(session=recent, attended={came.pk: True})
    past = list(selectors.past_sessions(trainer))
    assert [s.title for s in past] == ["recent", "older"]
    assert [(s.enrolled, s.attended_count, s.unmarked) for s in past] == [(1, 1, 0), (1, 0, 1)]
    assert [s.title for s in selectors.upcoming_sessions(trainer)] == ["today"]
    assert list(selectors.past_sessions(trainee)) == []


def test_supervised_injections_are_logged_against_started_in_person_sessions(world):
    """Only sessions held in a place that have started (and were not cancelled) are offered, newest first."""
    trainer = world.users["clinician"]
    held = _started(live_session(trainer, title="held"), hours_ago=30)
    _started(live_session(trainer, title="online", place="", link="https://meet.example.org/x"), hours_ago=5)
    hybrid = _started(live_session(trainer, title="hybrid", link="https://meet.example.org/y"), hours_ago=2)
    live_session(trainer, title="ahead")
    called_off = live_session(trainer, title="called off", days=1)
    services.live_session_cancel(session=called_off)
    _started(called_off, hours_ago=1)
    assert list(selectors.sessions_for_supervision(trainer)) == [hybrid, held]
    assert list(selectors.sessions_for_supervision(world.users["trainee"])) == []


def _one_at_a_time(trainee) -> tuple:
    """A trainee's summary figures read the plain way: one query per figure (what the list used to do)."""
    required = {module.id for module in certificate_modules(services.course())}
    progress = [item for item in services.course_progress(trainee) if item.module.id in required]
    return (
        sum(item.passed for item in progress),
        len(progress),
        SiteTrainerAttempt.objects.filter(trainee=trainee, passed=True).exists(),
        CaseAttempt.objects.filter(trainee=trainee, passed=True).count(),
        SupervisedInjection.objects.filter(trainee=trainee).count(),
        Certificate.objects.filter(trainee=trainee, revoked=False).first(),
        services.certificate_status_for(trainee),
    )


def _figures(summary) -> tuple:
    return (
        summary.modules_passed,
        summary.modules_total,
        summary.site_trainer_passed,
        summary.cases_passed,
        summary.supervised_injections,
        summary.certificate,
        summary.status,
    )


def test_the_trainers_list_reads_each_trainees_progress_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    """Trainees at different stages (nothing, two modules, every module with the site trainer, cases, a supervised
    injection and a certificate) get the figures read one by one, and listing six trainees asks no more queries
    than listing one."""
    trainer = world.users["clinician"]
    nobody = UserFactory(username="t.nothing", role=Role.TRAINEE, clinic=world.clinic)
    started = UserFactory(username="t.started", role=Role.TRAINEE, clinic=world.clinic)
    done = UserFactory(username="t.done", role=Role.TRAINEE, clinic=world.clinic)
    for module in services.course()[:2]:
        pass_module(started, module.id)
    pass_all_modules(done)
    SiteTrainerAttempt.objects.create(trainee=done, passed=True, seed=1)
    pass_cases(done, REQUIRED_CASES)
    SupervisedInjection.objects.create(trainee=done, supervisor=trainer, date=dt.date(2026, 11, 2), notes="observed")
    services.certificate_issue(user=done, today=dt.date(2026, 11, 20))
    trainees = [nobody, started, done]

    summaries = selectors.trainee_summaries(trainees)
    assert [summary.trainee for summary in summaries] == trainees
    assert [_figures(summary) for summary in summaries] == [_one_at_a_time(trainee) for trainee in trainees]
    assert summaries[2].status.ready
    assert summaries[2].certificate is not None
    assert _figures(selectors.trainee_summary(done)) == _figures(summaries[2])

    with CaptureQueriesContext(connection) as one:
        selectors.trainee_summaries([done])
    more = trainees + [UserFactory(username=f"t.more{n}", role=Role.TRAINEE, clinic=world.clinic) for n in range(3)]
    with django_assert_max_num_queries(len(one.captured_queries)):
        selectors.trainee_summaries(more)


def test_a_revoked_certificate_is_read_as_revoked_and_not_as_held(world):
    """A trainee whose certificate was revoked holds none and has it as ``revoked_certificate`` (the pages say
    "revoked", not "ready to issue"); a trainee with a valid certificate has no revoked one to show."""
    revoked_holder = UserFactory(username="t.revoked", role=Role.TRAINEE, clinic=world.clinic)
    holder = UserFactory(username="t.holder", role=Role.TRAINEE, clinic=world.clinic)
    for trainee in (revoked_holder, holder):
        pass_all_modules(trainee)
        SiteTrainerAttempt.objects.create(trainee=trainee, passed=True, seed=1)
        pass_cases(trainee, REQUIRED_CASES)
        services.certificate_issue(user=trainee, today=dt.date(2026, 11, 20))
    Certificate.objects.filter(trainee=revoked_holder).update(revoked=True)
    revoked, held = selectors.trainee_summaries([revoked_holder, holder])
    assert revoked.certificate is None
    assert revoked.revoked_certificate == Certificate.objects.get(trainee=revoked_holder)
    assert held.certificate == Certificate.objects.get(trainee=holder)
    assert held.revoked_certificate is None


def test_the_trainers_list_counts_the_modules_the_certificate_asks_for(world):
    """ "Modules 3 / 8" counted the trainer-level module the certificate does not ask for: the list counts the
    certificate's modules, so a trainee who passed all of them shows them all passed, and the trainer-level module
    alone counts for nothing."""
    course = services.course()
    required = certificate_modules(course)
    trainer_level = [module for module in course if module.level is Level.TRAINER]
    assert trainer_level
    assert len(required) < len(course)
    certified = UserFactory(username="t.certified", role=Role.TRAINEE, clinic=world.clinic)
    teacher = UserFactory(username="t.teacher", role=Role.TRAINEE, clinic=world.clinic)
    for module in required:
        pass_module(certified, module.id)
    pass_module(teacher, trainer_level[0].id)
    summaries = {s.trainee.username: s for s in selectors.trainee_summaries([certified, teacher])}
    assert (summaries["t.certified"].modules_passed, summaries["t.certified"].modules_total) == (
        len(required),
        len(required),
    )
    assert (summaries["t.teacher"].modules_passed, summaries["t.teacher"].modules_total) == (0, len(required))


def test_a_learners_past_sessions_are_those_gone_from_the_upcoming_list(world):
    """A session the trainee is on moves to their past sessions 12 hours after its start, most recent first; one
    still on the upcoming list, and one whose place they gave up, are not among them."""
    trainer, trainee = world.users["clinician"], world.users["trainee"]
    sessions = {title: live_session(trainer, title=title) for title in ("recent", "older", "today", "left")}
    places = {title: services.enrolment_create(session=session, trainee=trainee) for title, session in sessions.items()}
    services.enrolment_cancel(enrolment=places["left"])
    for title, hours in (("recent", 13), ("older", 72), ("today", 11), ("left", 30)):
        _started(sessions[title], hours_ago=hours)
    assert [row.session.title for row in selectors.own_past_enrolments(trainee)] == ["recent", "older"]
    assert list(selectors.own_past_enrolments(world.users["nurse"])) == []
