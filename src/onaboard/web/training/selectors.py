"""Reads for the training pages: sessions a person may see, a trainee's progress summary."""

from __future__ import annotations

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


def sessions_visible_to(user: User) -> QuerySet[LiveSession]:
    """Live sessions of the user's clinic, with their enrolled and waitlisted counts."""
    if user.clinic_id is None:
        return LiveSession.objects.none()
    return (
        LiveSession.objects.filter(clinic_id=user.clinic_id)
        .select_related("trainer")
        .annotate(
            enrolled=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.ENROLLED)),
            waitlisted=Count("enrolments", filter=Q(enrolments__status=EnrolmentStatus.WAITLISTED)),
        )
    )


def upcoming_sessions(user: User) -> QuerySet[LiveSession]:
    return sessions_visible_to(user).filter(starts_at__gte=timezone.now() - timezone.timedelta(hours=12))


def sessions_run_by(user: User) -> QuerySet[LiveSession]:
    if not is_trainer(user):
        return LiveSession.objects.none()
    return sessions_visible_to(user)


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
