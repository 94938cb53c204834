"""Reads for the training pages: sessions a person may see, a trainee's progress summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from onaboard.training.certificate import CertificateStatus
from onaboard.web.accounts.models import User
from onaboard.web.training import services
from onaboard.web.training.access import is_trainer
from onaboard.web.training.models import (
    CaseAttempt,
    Certificate,
    Enrolment,
    EnrolmentStatus,
    LiveSession,
    SiteTrainerAttempt,
    SupervisedInjection,
)

LISTED_AFTER_START = dt.timedelta(hours=12)
"""How long a session stays on the list of upcoming sessions after it starts: 12 hours from its start, whatever the
day; after that it is one of the trainers' past sessions."""
PAST_SESSIONS_SHOWN = 50
"""The most recent past sessions a trainer's list shows."""


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
    modules_total: int
    site_trainer_passed: bool
    cases_passed: int
    sessions_attended: int
    supervised_injections: int
    certificate: Certificate | None
    status: CertificateStatus


def trainee_summary(trainee: User) -> TraineeSummary:
    progress = services.course_progress(trainee)
    return TraineeSummary(
        trainee=trainee,
        modules_passed=sum(item.passed for item in progress),
        modules_total=len(progress),
        site_trainer_passed=SiteTrainerAttempt.objects.filter(trainee=trainee, passed=True).exists(),
        cases_passed=CaseAttempt.objects.filter(trainee=trainee, passed=True).count(),
        sessions_attended=Enrolment.objects.filter(
            trainee=trainee, attended=True, status=EnrolmentStatus.ENROLLED, session__cancelled=False
        ).count(),
        supervised_injections=SupervisedInjection.objects.filter(trainee=trainee).count(),
        certificate=Certificate.objects.filter(trainee=trainee, revoked=False).first(),
        status=services.certificate_status_for(trainee),
    )
