"""Reads for the training pages: sessions a person may see, a learner's past sessions, a trainee's progress summary
and the record a trainer reads on a trainee's page."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from onaboard.training.certificate import CertificateStatus, certificate_modules, certificate_status
from onaboard.web.accounts.models import User
from onaboard.web.training import services
from onaboard.web.training.access import is_trainer
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

LISTED_AFTER_START = dt.timedelta(hours=12)
"""How long a session stays on the list of upcoming sessions after it starts: 12 hours from its start, whatever the
day; after that it is one of the trainers' past sessions."""
PAST_SESSIONS_SHOWN = 50
"""The most recent past sessions a trainer's list shows, and a learner's list of their own."""


def sessions_visible_to(user: User) -> QuerySet[LiveSession]:
    """Live sessions of the user's clinic, with their enrolled and waitlisted counts, earliest first.

    The order is explicit: a query with ``Count`` is grouped, and Django drops ``Meta.ordering`` from grouped
    queries, so the database's row order would show instead."""
    if user.clinic_id is None:
        return LiveSession.objects.none()
    return (
        LiveSession.objects.filter(clinic_id=user.clinic_id)
        .select_related("trainer")
        .annotate(
            enrolled=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ENROLLED)),
            waitlisted=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITLISTED)),
        )
        .order_by("starts_at", "pk")
    )


def upcoming_sessions(user: User) -> QuerySet[LiveSession]:
    """Sessions not started yet or started less than ``LISTED_AFTER_START`` (12 hours) ago, earliest first."""
    return sessions_visible_to(user).filter(starts_at__gte=timezone.now() - LISTED_AFTER_START)


def past_sessions(user: User) -> QuerySet[LiveSession]:
    """For trainers: the sessions gone from the upcoming list, most recent first (at most ``PAST_SESSIONS_SHOWN``),
    each with how many enrolled trainees were marked as attending (``attended_count``) and how many are not marked
    yet (``unmarked``), so attendance can be recorded after the day. Nobody else gets any."""
    if not is_trainer(user):
        return LiveSession.objects.none()
    enrolled = Q(enrolments__status=EnrolmentStatus.ENROLLED)
    return (
        sessions_visible_to(user)
        .filter(starts_at__lt=timezone.now() - LISTED_AFTER_START)
        .annotate(
            attended_count=Count("enrolments", filter=enrolled & Q(enrolments__attended=True)),
            unmarked=Count("enrolments", filter=enrolled & Q(enrolments__attended__isnull=True)),
        )
        .order_by("-starts_at", "-pk")[:PAST_SESSIONS_SHOWN]
    )


def own_past_enrolments(user: User) -> QuerySet[Enrolment]:
    """The user's places on sessions gone from the upcoming list (started more than ``LISTED_AFTER_START`` ago), most
    recent first (at most ``PAST_SESSIONS_SHOWN``), each with its session: the learner's record of the live sessions
    they were on, with their attendance. A place given up is left out; a waitlist place kept, and a cancelled session,
    stay (the page says so)."""
    return (
        Enrolment.objects.filter(trainee=user, session__starts_at__lt=timezone.now() - LISTED_AFTER_START)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("session")
        .order_by("-session__starts_at", "-pk")[:PAST_SESSIONS_SHOWN]
    )


def sessions_run_by(user: User) -> QuerySet[LiveSession]:
    if not is_trainer(user):
        return LiveSession.objects.none()
    return sessions_visible_to(user)


def sessions_for_supervision(user: User) -> QuerySet[LiveSession]:
    """The sessions a supervised injection can be logged against: held in person (a place given; a link alone is
    an online session, where nobody injects) and started, not cancelled; most recent first."""
    return (
        sessions_run_by(user)
        .filter(starts_at__lte=timezone.now(), cancelled=False)
        .exclude(place="")
        .order_by("-starts_at", "-pk")
    )


def own_enrolments(user: User) -> dict[int, Enrolment]:
    """The user's enrolments by session id (cancelled ones left out)."""
    rows = Enrolment.objects.filter(trainee=user).exclude(status=EnrolmentStatus.CANCELLED)
    return {row.session_id: row for row in rows}


def waitlist_position(enrolment: Enrolment) -> int | None:
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        return None
    ahead = enrolment.session.enrolments.filter(status=EnrolmentStatus.WAITLISTED).filter(
        Q(queued_at__lt=enrolment.queued_at) | Q(queued_at=enrolment.queued_at, id__lt=enrolment.id)
    )
    return ahead.count() + 1


@dataclass(frozen=True, slots=True)
class TraineeSummary:
    trainee: User
    modules_passed: int
    """How many of the modules the certificate asks for (``certificate_modules``) the trainee passed."""
    modules_total: int
    """How many modules the certificate asks for (the trainer-level ones are not counted)."""
    site_trainer_passed: bool
    cases_passed: int
    sessions_attended: int
    supervised_injections: int
    certificate: Certificate | None
    """The trainee's valid certificate, if any."""
    status: CertificateStatus
    revoked_certificate: Certificate | None = None
    """The latest revoked certificate when the trainee holds no valid one: issuing is refused until the training lead
    reinstates it, so the pages say "revoked" ahead of "ready to issue"."""
    week24_cases_passed: int = 0
    """Of ``cases_passed``, those carried to the week-24 review (``REQUIRED_WEEK24_CASES`` of them certify)."""


def trainee_summary(trainee: User) -> TraineeSummary:
    """One trainee's progress summary (``trainee_summaries`` of that trainee alone)."""
    [summary] = trainee_summaries([trainee])
    return summary


def trainee_summaries(trainees: Iterable[User]) -> list[TraineeSummary]:
    """Each trainee's progress summary, in the order given, from a fixed number of queries whatever the number of
    trainees (the trainer's list used to ask about 11 per trainee)."""
    trainees = list(trainees)
    keys = [trainee.pk for trainee in trainees]
    read: dict[int, set[str]] = defaultdict(set)
    for trainee_id, module_id in ModuleRead.objects.filter(trainee_id__in=keys).values_list("trainee_id", "module_id"):
        read[trainee_id].add(module_id)
    attempts: dict[int, list[QuizAttempt]] = defaultdict(list)
    for attempt in QuizAttempt.objects.filter(trainee_id__in=keys, submitted__isnull=False):
        attempts[attempt.trainee_id].append(attempt)
    site_trainer_passed = set(
        SiteTrainerAttempt.objects.filter(trainee_id__in=keys, passed=True).values_list("trainee_id", flat=True)
    )
    cases_passed: dict[int, int] = {}
    week24_passed: dict[int, int] = {}
    passed_cases = CaseAttempt.objects.filter(trainee_id__in=keys, passed=True).order_by().values("trainee_id")
    for trainee_id, count, week24 in passed_cases.annotate(
        n=Count("pk"), w=Count("pk", filter=services.WEEK24_CASE)
    ).values_list("trainee_id", "n", "w"):
        cases_passed[trainee_id], week24_passed[trainee_id] = count, week24
    attended = _count_by_trainee(
        Enrolment.objects.filter(
            trainee_id__in=keys, attended=True, status=EnrolmentStatus.ENROLLED, session__cancelled=False
        )
    )
    supervised = _count_by_trainee(SupervisedInjection.objects.filter(trainee_id__in=keys))
    certificates: dict[int, Certificate] = {}
    revoked: dict[int, Certificate] = {}
    for certificate in Certificate.objects.filter(trainee_id__in=keys).order_by("-issued_on", "-pk"):
        (revoked if certificate.revoked else certificates).setdefault(certificate.trainee_id, certificate)
    modules = services.course()
    required = {module.id for module in certificate_modules(modules)}
    summaries = []
    for trainee in trainees:
        progress = services.progress_from(read=read[trainee.pk], attempts=attempts[trainee.pk])
        passed = {item.module.id for item in progress if item.passed}
        summaries.append(
            TraineeSummary(
                trainee=trainee,
                modules_passed=len(passed & required),
                modules_total=len(required),
                site_trainer_passed=trainee.pk in site_trainer_passed,
                cases_passed=cases_passed.get(trainee.pk, 0),
                sessions_attended=attended.get(trainee.pk, 0),
                supervised_injections=supervised.get(trainee.pk, 0),
                certificate=certificates.get(trainee.pk),
                revoked_certificate=None if trainee.pk in certificates else revoked.get(trainee.pk),
                week24_cases_passed=week24_passed.get(trainee.pk, 0),
                status=certificate_status(
                    modules=modules,
                    passed_modules=passed,
                    site_trainer_passed=trainee.pk in site_trainer_passed,
                    cases_passed=cases_passed.get(trainee.pk, 0),
                    week24_cases_passed=week24_passed.get(trainee.pk, 0),
                ),
            )
        )
    return summaries


@dataclass(frozen=True, slots=True)
class AttemptCounts:
    """How many attempts of one kind a trainee submitted (a case: carried to its grade) and how many passed."""

    submitted: int = 0
    passed: int = 0


@dataclass(frozen=True, slots=True)
class TraineeRecord:
    """What a trainer reads on a trainee's page beside the summary: the attempts submitted and passed per module
    quiz (by module id; a module never attempted is absent), for the site trainer and for the cases; the cases
    started and not graded yet; and the live sessions the trainee was on (places given up left out), latest first."""

    quizzes: Mapping[str, AttemptCounts]
    site_trainer: AttemptCounts
    cases: AttemptCounts
    cases_open: int
    enrolments: tuple[Enrolment, ...]


SUBMITTED_AND_PASSED = {"submitted": Count("pk"), "passed": Count("pk", filter=Q(passed=True))}


def trainee_record(trainee: User) -> TraineeRecord:
    """A trainee's ``TraineeRecord`` in four queries, however many attempts and sessions: counts are aggregated in the
    database, the enrolments read with their sessions."""
    quizzes = {
        row["module_id"]: AttemptCounts(row["submitted"], row["passed"])
        for row in QuizAttempt.objects.filter(trainee=trainee, submitted__isnull=False)
        .order_by()
        .values("module_id")
        .annotate(**SUBMITTED_AND_PASSED)
    }
    site = SiteTrainerAttempt.objects.filter(trainee=trainee, submitted__isnull=False).aggregate(**SUBMITTED_AND_PASSED)
    graded = Q(stage=CaseAttempt.Stage.DONE)
    cases = CaseAttempt.objects.filter(trainee=trainee).aggregate(
        submitted=Count("pk", filter=graded),
        passed=Count("pk", filter=graded & Q(passed=True)),
        open=Count("pk", filter=~graded),
    )
    enrolments = (
        Enrolment.objects.filter(trainee=trainee)
        .exclude(status=EnrolmentStatus.CANCELLED)
        .select_related("session")
        .order_by("-session__starts_at", "-pk")
    )
    return TraineeRecord(
        quizzes=quizzes,
        site_trainer=AttemptCounts(site["submitted"], site["passed"]),
        cases=AttemptCounts(cases["submitted"], cases["passed"]),
        cases_open=cases["open"],
        enrolments=tuple(enrolments),
    )


def _count_by_trainee(rows: QuerySet[Any]) -> dict[int, int]:
    return dict(rows.order_by().values("trainee_id").annotate(n=Count("pk")).values_list("trainee_id", "n"))
