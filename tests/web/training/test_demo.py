"""The demo training data: live sessions, a trainer and real progress for the demo trainee."""

from __future__ import annotations

from django.utils import timezone

from onaboard.web.accounts.models import Role
from onaboard.web.training import selectors, services
from onaboard.web.training.demo import DEMO_MODULES_PASSED, demo_training_load
from onaboard.web.training.models import Enrolment, LiveSession
from tests.web.factories import UserFactory


def test_the_demo_gives_the_trainee_progress_and_a_place(world):
    """The demo trainee has the first modules passed by the engine's answers, a place on the upcoming workshop and
    an attended past session, which the trainer's list of past sessions shows."""
    trainee = UserFactory(username="trainee.demo", role=Role.TRAINEE, clinic=world.clinic)
    today = timezone.localdate()
    sessions = demo_training_load(clinic=world.clinic, trainer=world.users["clinician"], trainee=trainee, today=today)
    progress = services.course_progress(trainee)
    assert [item.passed for item in progress[: DEMO_MODULES_PASSED + 1]] == [True] * DEMO_MODULES_PASSED + [False]
    assert progress[DEMO_MODULES_PASSED].unlocked
    introduction, workshop, online = sessions
    enrolments = {enrolment.session: enrolment for enrolment in Enrolment.objects.filter(trainee=trainee)}
    assert set(enrolments) == {introduction, workshop}
    assert (enrolments[introduction].attended, enrolments[workshop].attended) == (True, None)
    assert list(selectors.upcoming_sessions(trainee)) == [workshop, online]
    [past] = selectors.past_sessions(world.users["clinician"])
    assert (past, past.attended_count, past.unmarked) == (introduction, 1, 0)
    again = demo_training_load(clinic=world.clinic, trainer=world.users["clinician"], trainee=trainee, today=today)
    assert LiveSession.objects.filter(clinic=world.clinic).count() == len(again) == 3
    assert sum(item.passed for item in services.course_progress(trainee)) == DEMO_MODULES_PASSED
