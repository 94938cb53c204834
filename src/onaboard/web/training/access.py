"""Who may do what in training.

- **Learners** take the course, quizzes, site trainer and cases, enrol in live sessions and earn a certificate:
  trainees, and clinicians, nurses and administrators who want to (their progress is kept the same way).
- **Trainers** schedule live sessions, record attendance, log supervised injections and see their trainees'
  progress: clinicians and administrators. A trainer's trainees are the trainee accounts of the trainer's clinic,
  and a session is scheduled for that clinic: a trainer whose account belongs to no clinic (an operator's
  administrator, say) has no trainees and schedules nothing (``may_schedule``).
- Billing staff and patients have no part in training. Nothing here reaches patient data: training uses synthetic
  cases only, and ``onaboard.web.patients.access`` still gives trainees no patients.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from onaboard.web.accounts.models import Role, User

LEARNER_ROLES = frozenset({Role.TRAINEE, Role.NURSE, Role.CLINICIAN, Role.ADMIN})
TRAINER_ROLES = frozenset({Role.CLINICIAN, Role.ADMIN})
SUPERVISOR_ROLES = frozenset({Role.CLINICIAN})
"""Who signs off a supervised injection toward a trainee's competency record: a clinician, who injects. The
clinic's administrator schedules courses and follows trainees' progress but has no clinical role
(``patients.access.ROLE_CAPABILITIES``), so cannot vouch for an injection."""


def is_learner(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in LEARNER_ROLES)


def is_trainer(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in TRAINER_ROLES)


def may_schedule(user: Any) -> bool:
    """Whether the user may schedule a live session: a trainer of a clinic (the session is the clinic's)."""
    return is_trainer(user) and user.clinic_id is not None


def may_supervise(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.role in SUPERVISOR_ROLES)


def require_supervisor(user: Any) -> None:
    if not may_supervise(user):
        raise PermissionDenied


def require_learner(user: Any) -> None:
    if not is_learner(user):
        raise PermissionDenied


def require_trainer(user: Any) -> None:
    if not is_trainer(user):
        raise PermissionDenied


def require_scheduler(user: Any) -> None:
    if not may_schedule(user):
        raise PermissionDenied


def trainees_of(trainer: User) -> QuerySet[User]:
    """The trainee accounts a trainer follows: those of the trainer's clinic."""
    if not is_trainer(trainer) or trainer.clinic_id is None:
        return User.objects.none()
    return User.objects.filter(role=Role.TRAINEE, clinic_id=trainer.clinic_id, is_active=True).order_by(
        "last_name", "first_name", "username"
    )
