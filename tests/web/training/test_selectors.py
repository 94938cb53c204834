"""Training reads: sessions in date order, the trainers' past sessions, the sessions a supervised injection can be
logged against."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from onaboard.web.training import selectors, services
from onaboard.web.training.models import LiveSession
from tests.web.training.conftest import live_session


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
