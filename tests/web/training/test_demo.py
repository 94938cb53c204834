"""The demo training data: live sessions, a trainer and real progress for the demo trainee."""

from __future__ import annotations

from django.utils import timezone

from onaboard.web.accounts.models import Role
from onaboard.web.training import services
from onaboard.web.training.demo import DEMO_MODULES_PASSED, demo_training_load
from onaboard.web.training.models import Enrolment, LiveSession
from tests.web.factories import UserFactory


def test_the_demo_gives_the_trainee_progress_and_a_place(world):
    """The demo trainee has the first modules passed by the engine's answers and a place on the workshop."""
    trainee = UserFactory(username="trainee.demo", role=Role.TRAINEE, clinic=world.clinic)
    today = timezone.localdate()
    sessions = demo_training_load(clinic=world.clinic, trainer=world.users["clinician"], trainee=trainee, today=today)
    progress = services.course_progress(trainee)
    assert [item.passed for item in progress[: DEMO_MODULES_PASSED + 1]] == [True] * DEMO_MODULES_PASSED + [False]
    assert progress[DEMO_MODULES_PASSED].unlocked
    assert Enrolment.objects.get(trainee=trainee).session == sessions[0]
    again = demo_training_load(clinic=world.clinic, trainer=world.users["clinician"], trainee=trainee, today=today)
    assert LiveSession.objects.filter(clinic=world.clinic).count() == len(again) == 2
    assert sum(item.passed for item in services.course_progress(trainee)) == DEMO_MODULES_PASSED
