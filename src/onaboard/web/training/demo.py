"""Demo training data for the demo clinic: live sessions run by a trainer, and some progress for the demo trainee.

Called by the demo loader (``onaboard.web.clinic.demo.demo_clinic_load``) inside its transaction, with the demo
staff it created: ``demo_training_load(clinic=clinic, trainer=staff["dr.demo"], trainee=staff["trainee.demo"],
today=today)``. Rebuilding replaces the clinic's live sessions and the trainee's training rows. Quiz answers are the
engine's own (regenerated from each attempt's seed), so the demo progress is real progress.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from onaboard.web.accounts.models import Clinic, User
from onaboard.web.training import services
from onaboard.web.training.models import (
    CaseAttempt,
    Certificate,
    Enrolment,
    EnrolmentStatus,
    LiveSession,
    ModuleRead,
    QuizAttempt,
    SiteTrainerAttempt,
    SupervisedInjection,
)

DEMO_MODULES_PASSED = 2
"""The demo trainee has read and passed the first two modules; the third is open, the rest locked."""

DEMO_QUIZ_SEED = 20260101


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def demo_training_load(*, clinic: Clinic, trainer: User, trainee: User, today: dt.date) -> list[LiveSession]:
    """A past live session the trainee attended, two upcoming ones (the trainee holds a place on the first), a logged
    supervised injection and the first modules passed by the trainee. Returns the sessions, earliest first."""
    SupervisedInjection.objects.filter(trainee=trainee).delete()
    Enrolment.objects.filter(trainee=trainee).delete()
    LiveSession.objects.filter(clinic=clinic).delete()
    for model in (QuizAttempt, ModuleRead, SiteTrainerAttempt, CaseAttempt):
        model.objects.filter(trainee=trainee).delete()
    Certificate.objects.filter(trainee=trainee).delete()

    introduction = LiveSession.objects.create(
        clinic=clinic,
        trainer=trainer,
        title="Chronic migraine and the PREEMPT protocol: an introduction",
        starts_at=_at(today - dt.timedelta(days=21), 14),
        duration_minutes=90,
        place="Demo Headache Clinic, teaching room 2",
        capacity=8,
    )
    workshop = LiveSession.objects.create(
        clinic=clinic,
        trainer=trainer,
        title="PREEMPT injection workshop: landmarks and technique",
        starts_at=_at(today + dt.timedelta(days=14), 14),
        duration_minutes=180,
        place="Demo Headache Clinic, teaching room 2",
        capacity=6,
        notes="Bring your site-trainer results. Practice on models; two supervised patient sessions follow.",
    )
    online = LiveSession.objects.create(
        clinic=clinic,
        trainer=trainer,
        title="Week-24 reviews and stopping rules (online)",
        starts_at=_at(today + dt.timedelta(days=30), 17),
        duration_minutes=60,
        link="https://meet.example.org/onaboard-week24",
        capacity=20,
    )
    # Written directly, not through enrolment_create: the demo may be built for a day other than the real one, and
    # the trainee holds one of six places, so no capacity rule is at stake.
    Enrolment.objects.create(
        session=introduction,
        trainee=trainee,
        status=EnrolmentStatus.ENROLLED,
        queued_at=_at(today - dt.timedelta(days=35), 9),
        attended=True,
    )
    Enrolment.objects.create(
        session=workshop, trainee=trainee, status=EnrolmentStatus.ENROLLED, queued_at=_at(today, 9)
    )
    SupervisedInjection.objects.create(
        trainee=trainee,
        supervisor=trainer,
        date=today - dt.timedelta(days=7),
        notes="Observed a full 155 U session; drew up and labelled syringes.",
    )
    for module in services.course()[:DEMO_MODULES_PASSED]:
        services.module_read_record(user=trainee, module=module)
        attempt = QuizAttempt.objects.create(trainee=trainee, module_id=module.id, seed=DEMO_QUIZ_SEED)
        answers = {question.key: question.answer for question in services.quiz_questions(attempt)}
        services.quiz_attempt_submit(attempt=attempt, answers=answers)
    return [introduction, workshop, online]
