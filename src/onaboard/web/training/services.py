"""Training services: attempts graded by ``onaboard.training`` (which asks the engine), live sessions with a
waitlist, supervised injections and certificates. Writes spanning rows happen in one transaction."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onaboard.clinical import FOLLOW_THE_PAIN_MAX_SITES, Assessment, Muscle, Outcomes, Side
from onaboard.training import cases
from onaboard.training.cases import FIRST_VISIT_STEPS, Case, CaseGrade, Decisions, Step, generate_case, grade_case
from onaboard.training.certificate import CertificateStatus, certificate_status
from onaboard.training.course import Module, load_course
from onaboard.training.quiz import Question, QuizResult, generate_quiz, grade_quiz
from onaboard.training.sites import Placement, SiteScore, TargetSite, score_sites
from onaboard.web.accounts.models import User
from onaboard.web.injections import sitemap
from onaboard.web.training.access import may_supervise
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

MAX_PLACEMENTS = 80
BAD_PLACEMENTS = gettext_noop("placements: expected a list of at most {limit} sites, each with muscle, view, x and y")
BAD_PLACEMENT = gettext_noop("placement {number}: {problem}")
SESSION_CANCELLED = gettext_noop("This session was cancelled.")
SESSION_STARTED = gettext_noop("This session has already started.")
ATTENDANCE_BEFORE_START = gettext_noop("Attendance can be recorded once the session has started.")
ALREADY_ENROLLED = gettext_noop("You are already on this session's list.")
NOT_READY = gettext_noop("The certificate cannot be issued yet: {missing}.")
CASE_DONE = gettext_noop("This case has been graded already.")
CASE_TITLE = gettext_noop("Case {number}: {patient}")
QUIZ_UNANSWERED = gettext_noop("Answer every question before sending: not answered yet: {numbers}.")
CASE_STAGE_ANSWERED = gettext_noop(
    "This step of the case was answered already: the page may have been sent twice, or from an old tab."
)
CERTIFICATE_REVOKED = gettext_noop(
    "Your certificate {code} was revoked; a new one is issued only when the training lead reinstates it."
)
PLACEMENT_NOT_AN_OBJECT = gettext_noop("not an object")
PLACEMENT_UNKNOWN_MUSCLE = gettext_noop("unknown muscle {muscle!r}")
PLACEMENT_UNKNOWN_VIEW = gettext_noop("unknown view {view!r}")
PLACEMENT_OFF_THE_MAP = gettext_noop("{field} must be a number from 0 to {size}")
PLACEMENT_NOT_TEXT = gettext_noop("{field} must be text")
PLACEMENT_NOT_TRUE_OR_FALSE = gettext_noop("{field} must be true or false")
PLACEMENTS_UNREADABLE = gettext_noop("The placements could not be read.")
NO_CLINIC_TO_SCHEDULE_FOR = gettext_noop(
    "A live session is scheduled for a clinic, and your account belongs to no clinic: ask the clinic's administrator "
    "to add you to one."
)
NO_SITES_PLACED = gettext_noop("No site is placed yet: place the sites on the map before submitting for scoring.")


class TrainingError(ValueError):
    """A training request refused, with the reason a person can read."""


@cache
def course() -> tuple[Module, ...]:
    """The course modules in order (read once per process from the shipped Markdown)."""
    return load_course()


def module_by_id(module_id: str) -> Module | None:
    return next((module for module in course() if module.id == module_id), None)


# --- Progress ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ModuleProgress:
    module: Module
    read: bool
    passed: bool
    best_percent: int | None
    attempts: int
    unlocked: bool


def course_progress(user: User) -> list[ModuleProgress]:
    """Each module with the user's progress; a module unlocks when every module before it is passed."""
    read = set(ModuleRead.objects.filter(trainee=user).values_list("module_id", flat=True))
    return progress_from(read=read, attempts=QuizAttempt.objects.filter(trainee=user, submitted__isnull=False))


def progress_from(*, read: set[str], attempts: Iterable[QuizAttempt]) -> list[ModuleProgress]:
    """Each module's progress from the ids of the modules read and the submitted quiz attempts of one trainee
    (``course_progress`` reads them for one user; the trainer's list reads them for all trainees at once)."""
    by_module: dict[str, list[QuizAttempt]] = {}
    for attempt in attempts:
        by_module.setdefault(attempt.module_id, []).append(attempt)
    progress = []
    unlocked = True
    for module in course():
        done = by_module.get(module.id, [])
        percents = [100 * a.correct // a.total for a in done if a.total]
        passed = any(a.passed for a in done)
        progress.append(
            ModuleProgress(module, module.id in read, passed, max(percents) if percents else None, len(done), unlocked)
        )
        unlocked = unlocked and passed
    return progress


def module_unlocked(user: User, module_id: str) -> bool:
    return any(item.unlocked for item in course_progress(user) if item.module.id == module_id)


def module_read_record(*, user: User, module: Module) -> None:
    ModuleRead.objects.get_or_create(trainee=user, module_id=module.id)


# --- Quizzes ----------------------------------------------------------------------------------------------------


def quiz_questions(attempt: QuizAttempt) -> tuple[Question, ...]:
    module = module_by_id(attempt.module_id)
    if module is None:
        return ()
    return generate_quiz(
        module.id,
        module.quiz,
        module.questions,
        attempt.seed,
        distinct=attempt.distinct_questions,
        version=attempt.quiz_version,
    )


def quiz_attempt_start(*, user: User, module: Module) -> QuizAttempt:
    """A new attempt with a fresh seed, so every attempt draws new questions."""
    return QuizAttempt.objects.create(trainee=user, module_id=module.id)


def quiz_unanswered(questions: Sequence[Question], answers: Mapping[str, int | None]) -> tuple[int, ...]:
    """The numbers (from 1, as the page shows them) of the questions without one of their choices picked."""
    return tuple(
        number
        for number, question in enumerate(questions, start=1)
        if (chosen := answers.get(question.key)) is None or not 0 <= chosen < len(question.choices)
    )


def quiz_attempt_submit(*, attempt: QuizAttempt, answers: Mapping[str, int | None]) -> QuizResult:
    """Mark an attempt once; a second submission of the same attempt is marked but not stored again."""
    module = module_by_id(attempt.module_id)
    assert module is not None  # noqa: S101 - attempts are only made for modules of the course
    result = grade_quiz(quiz_questions(attempt), answers, pass_mark=module.pass_mark)
    with transaction.atomic():
        locked = QuizAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.submitted is None:
            locked.submitted = timezone.now()
            locked.answers = {key: value for key, value in answers.items() if value is not None}
            locked.correct, locked.total, locked.passed = result.correct, result.total, result.passed
            locked.save()
    return result


def quiz_result(attempt: QuizAttempt) -> QuizResult:
    module = module_by_id(attempt.module_id)
    assert module is not None  # noqa: S101
    answers = {key: int(value) for key, value in attempt.answers.items()}
    return grade_quiz(quiz_questions(attempt), answers, pass_mark=module.pass_mark)


# --- Site trainer -----------------------------------------------------------------------------------------------


def site_targets() -> list[TargetSite]:
    """The 31 fixed sites as the clinic's site map draws them."""
    return [
        TargetSite(
            sitemap.fixed_site_key(muscle, side, index), muscle.value, side.value, point.view.value, point.x, point.y
        )
        for (muscle, side, index), point in sitemap.FIXED_POSITIONS.items()
    ]


def _area_at(view: str, x: float, y: float) -> tuple[str, str] | None:
    region = sitemap.region_at(view, x, y)
    return None if region is None else (region.muscle.value, region.side.value)


def site_follow_the_pain_request(seed: int) -> dict[str, int]:
    """The follow-the-pain sites an attempt asks for ("muscle-side": count): none about a third of the time,
    otherwise one or two areas, within the engine's per-muscle limits."""
    rng = random.Random(f"onaboard.training.sites:{seed}")  # noqa: S311 - teaching, not secrets
    if rng.random() < 0.35:
        return {}
    muscles = rng.sample(sorted(FOLLOW_THE_PAIN_MAX_SITES), k=rng.randint(1, 2))
    request = {}
    for muscle in muscles:
        side = rng.choice((Side.LEFT, Side.RIGHT))
        request[f"{muscle}-{side}"] = rng.randint(1, min(2, FOLLOW_THE_PAIN_MAX_SITES[Muscle(muscle)]))
    return request


def site_attempt_start(*, user: User) -> SiteTrainerAttempt:
    attempt = SiteTrainerAttempt(trainee=user)
    attempt.follow_the_pain = site_follow_the_pain_request(attempt.seed)
    attempt.save()
    return attempt


def parse_placements(raw: Any) -> list[Placement]:
    """Placements from the page's JSON; raises ``TrainingError`` naming the bad item and field. Each field's type is
    checked before its value: ``muscle`` and ``view`` are text, ``x`` and ``y`` finite numbers on the map, ``ftp``
    (optional) true or false."""
    if not isinstance(raw, list) or len(raw) > MAX_PLACEMENTS:
        raise TrainingError(_(BAD_PLACEMENTS).format(limit=MAX_PLACEMENTS))
    placements = []
    muscles = {muscle.value for muscle in Muscle}
    for number, item in enumerate(raw, start=1):

        def refused(problem: str, number: int = number) -> TrainingError:
            return TrainingError(_(BAD_PLACEMENT).format(number=number, problem=problem))

        if not isinstance(item, dict):
            raise refused(_(PLACEMENT_NOT_AN_OBJECT))
        muscle, view, x, y, ftp = (item.get(field) for field in ("muscle", "view", "x", "y", "ftp"))
        for field, value in (("muscle", muscle), ("view", view)):
            if not isinstance(value, str):
                raise refused(_(PLACEMENT_NOT_TEXT).format(field=field))
        if muscle not in muscles:
            raise refused(_(PLACEMENT_UNKNOWN_MUSCLE).format(muscle=muscle))
        if view not in (sitemap.View.FRONT, sitemap.View.BACK):
            raise refused(_(PLACEMENT_UNKNOWN_VIEW).format(view=view))
        for field, value in (("x", x), ("y", y)):
            on_the_map = (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and 0 <= value <= sitemap.MAP_SIZE
            )
            if not on_the_map:
                raise refused(_(PLACEMENT_OFF_THE_MAP).format(field=field, size=sitemap.MAP_SIZE))
        if ftp is not None and not isinstance(ftp, bool):
            raise refused(_(PLACEMENT_NOT_TRUE_OR_FALSE).format(field="ftp"))
        placements.append(Placement(muscle, view, float(x), float(y), bool(ftp)))
    return placements


def placements_from_json(text: str) -> list[Placement]:
    """``parse_placements`` of the page's hidden field. Whole numbers are read as floats, so a number too long for
    Python's int conversion (``ValueError``, not ``JSONDecodeError``) becomes infinity and is refused as off the map,
    naming its placement; text that is not JSON, or nested past the parser's depth, is refused as unreadable."""
    try:
        raw = json.loads(text or "[]", parse_int=float)
    except (ValueError, RecursionError) as problem:  # JSONDecodeError is a ValueError; RecursionError: too deep
        raise TrainingError(_(PLACEMENTS_UNREADABLE)) from problem
    return parse_placements(raw)


def _ftp_request(attempt: SiteTrainerAttempt) -> dict[tuple[str, str], int]:
    return {tuple(key.rsplit("-", 1)): count for key, count in attempt.follow_the_pain.items()}  # type: ignore[misc]


def site_score(attempt: SiteTrainerAttempt) -> SiteScore:
    placements = [Placement(p["muscle"], p["view"], p["x"], p["y"], p.get("ftp", False)) for p in attempt.placements]
    return score_sites(site_targets(), placements, follow_the_pain=_ftp_request(attempt) or None, area_at=_area_at)


def site_attempt_submit(*, attempt: SiteTrainerAttempt, placements: Sequence[Placement]) -> SiteScore:
    """Score the placements and close the attempt (once: a second submission leaves the first score). A map with no
    site placed is refused with ``TrainingError`` and the attempt stays open, unscored: a submit pressed by mistake
    is not recorded as a failed attempt."""
    if not placements:
        raise TrainingError(_(NO_SITES_PLACED))
    with transaction.atomic():
        locked = SiteTrainerAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.submitted is None:
            locked.placements = [
                {"muscle": p.muscle, "view": p.view, "x": round(p.x, 1), "y": round(p.y, 1), "ftp": p.follow_the_pain}
                for p in placements
            ]
            score = site_score(locked)
            locked.points, locked.possible, locked.passed = score.points, score.possible, score.passed
            locked.submitted = timezone.now()
            locked.save()
    attempt.refresh_from_db()
    return site_score(attempt)


# --- Cases ------------------------------------------------------------------------------------------------------


def case_of(attempt: CaseAttempt) -> Case:
    return generate_case(attempt.seed, version=attempt.case_version)


def case_assessment(case: Case) -> Assessment:
    return cases.case_assessment(case)


def case_not_treated_because(case: Case, *, assessment: Assessment) -> tuple[Step, ...]:
    """The first-visit steps that rule the case's patient out of treatment (``cases.not_treated_because``), worked
    out from the ``case_assessment`` the caller already has: the engine does not assess the diary again."""
    return cases.not_treated_because(case, assessment=assessment)


def case_outcomes(case: Case) -> Outcomes:
    return cases.case_outcomes(case)


def case_number(attempt: CaseAttempt) -> int:
    """The attempt's place among its trainee's cases, 1 for their first: a count the trainee can follow, not a key."""
    earlier = Q(created__lt=attempt.created) | Q(created=attempt.created, pk__lte=attempt.pk)
    return CaseAttempt.objects.filter(earlier, trainee_id=attempt.trainee_id).count()


def case_title(case: Case, number: int) -> str:
    """How the pages name a case: its number among the trainee's cases and its patient ("Case 3: A 22-year-old
    woman, first visit 2026-07-01"); the seed the case is drawn from stays internal."""
    return _(CASE_TITLE).format(number=number, patient=case.title)


def case_attempt_start(*, user: User) -> CaseAttempt:
    return CaseAttempt.objects.create(trainee=user)


def _decisions(stored: Mapping[str, Any]) -> Decisions:
    return Decisions(**{key: stored.get(key) for key in Decisions.__slots__})  # type: ignore[attr-defined]


def case_grade(attempt: CaseAttempt, *, case: Case | None = None) -> CaseGrade:
    """The feedback for the steps decided so far: none before the first visit is sent, the first visit's at the
    week-24 review, and every step of the case once it is graded. ``case``: the attempt's ``case_of`` when the
    caller has drawn it already (it is not drawn again)."""
    if attempt.stage == CaseAttempt.Stage.FIRST_VISIT:
        return CaseGrade(())
    steps = FIRST_VISIT_STEPS if attempt.stage == CaseAttempt.Stage.WEEK24 else None
    return grade_case(case or case_of(attempt), _decisions(attempt.decisions), steps=steps)


def case_attempt_decide(*, attempt: CaseAttempt, decisions: Mapping[str, Any]) -> CaseGrade:
    """Record the decisions of the attempt's current stage and move it on; the last stage grades the case.

    The first visit is the last stage of a patient the engine does not treat (label not met, or a contraindicated
    screen): there is no course to review. An attempt left at the week-24 review whose patient is not treated
    (started before cases were drawn this way) is closed by any decision of that stage, its week-24 answer not
    graded."""
    with transaction.atomic():
        locked = CaseAttempt.objects.select_for_update().get(pk=attempt.pk)
        if locked.stage == CaseAttempt.Stage.DONE:
            raise TrainingError(_(CASE_DONE))
        week24 = {Step.WEEK24.value}
        stage_keys = week24 if locked.stage == CaseAttempt.Stage.WEEK24 else set(Decisions.__slots__) - week24  # type: ignore[attr-defined]
        if not set(decisions) <= stage_keys:  # the form of a stage already answered (a second click)
            raise TrainingError(_(CASE_STAGE_ANSWERED))
        the_case = case_of(locked)
        if not the_case.treated:
            decisions = {key: value for key, value in decisions.items() if key not in week24}
        merged = {**locked.decisions, **decisions}
        if locked.stage == CaseAttempt.Stage.FIRST_VISIT and the_case.treated:
            locked.stage = CaseAttempt.Stage.WEEK24
        else:
            locked.stage = CaseAttempt.Stage.DONE
            grade = grade_case(the_case, _decisions(merged))
            locked.correct_steps, locked.passed = grade.correct, grade.passed
        locked.decisions = merged
        locked.save()
    attempt.refresh_from_db()
    return case_grade(attempt)


# --- Live sessions ----------------------------------------------------------------------------------------------


def live_session_create(*, trainer: User, **fields: Any) -> LiveSession:
    """Schedule a session for the trainer's clinic; a trainer with no clinic is refused (TrainingError), as
    ``access.may_schedule`` refuses them the page."""
    if trainer.clinic_id is None:
        raise TrainingError(_(NO_CLINIC_TO_SCHEDULE_FOR))
    return LiveSession.objects.create(trainer=trainer, clinic_id=trainer.clinic_id, **fields)


def enrolled_count(session: LiveSession) -> int:
    return session.enrolments.filter(status=EnrolmentStatus.ENROLLED).count()


LIVE_SESSION_FIELDS = ("title", "starts_at", "duration_minutes", "place", "link", "capacity", "notes")
"""What a trainer may change on a scheduled session (LiveSessionForm's fields)."""


def _scheduled(session: LiveSession) -> LiveSession:
    """The session's row, locked, if it may still change: not cancelled and not started (else TrainingError)."""
    locked = LiveSession.objects.select_for_update().get(pk=session.pk)
    if locked.cancelled:
        raise TrainingError(_(SESSION_CANCELLED))
    if locked.starts_at <= timezone.now():
        raise TrainingError(_(SESSION_STARTED))
    return locked


def enrolment_create(*, session: LiveSession, trainee: User) -> Enrolment:
    """Enrol a trainee, or put them on the waitlist when every place is taken.

    The session row is locked first (``select_for_update``), so two trainees asking for the last place at once
    are served one after the other; the unique constraint keeps one enrolment per trainee and session.
    """
    with transaction.atomic():
        locked = _scheduled(session)
        existing = Enrolment.objects.filter(session=locked, trainee=trainee).first()
        if existing is not None and existing.status != EnrolmentStatus.CANCELLED:
            raise TrainingError(_(ALREADY_ENROLLED))
        full = enrolled_count(locked) >= locked.capacity
        waiting = locked.enrolments.filter(status=EnrolmentStatus.WAITLISTED).exists()
        status = EnrolmentStatus.WAITLISTED if full or waiting else EnrolmentStatus.ENROLLED
        if existing is not None:
            existing.status, existing.queued_at, existing.attended = status, timezone.now(), None
            existing.save()
            return existing
        return Enrolment.objects.create(session=locked, trainee=trainee, status=status, queued_at=timezone.now())


def _promote(session: LiveSession) -> list[Enrolment]:
    """Fill free places from the waitlist, first come first served (caller holds the session lock)."""
    promoted = []
    free = session.capacity - enrolled_count(session)
    queue = session.enrolments.select_for_update().filter(status=EnrolmentStatus.WAITLISTED).order_by("queued_at", "id")
    for enrolment in queue[: max(free, 0)]:
        enrolment.status = EnrolmentStatus.ENROLLED
        enrolment.save(update_fields=["status", "modified"])
        promoted.append(enrolment)
    return promoted


def enrolment_cancel(*, enrolment: Enrolment) -> list[Enrolment]:
    """Cancel an enrolment or a waitlist place; a freed place goes to the first on the waitlist. Returns who was
    promoted. A cancelled or started session's list stays as it was (TrainingError): nobody leaves a session that
    has taken place (attendance stands: the trainee's record of live training, which trainers read; the certificate
    asks for the modules, the site trainer and the cases, not attendance), and nobody moves up into one."""
    with transaction.atomic():
        session = _scheduled(enrolment.session)
        locked = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if locked.status == EnrolmentStatus.CANCELLED:
            return []
        locked.status = EnrolmentStatus.CANCELLED
        locked.save(update_fields=["status", "modified"])
        return _promote(session)


def live_session_update(*, session: LiveSession, **fields: Any) -> list[Enrolment]:
    """Change a scheduled session's details (``LIVE_SESSION_FIELDS``). More places are given to the waitlist, first
    come first served; fewer unseat nobody (those enrolled keep their places). Returns who was promoted."""
    unknown = set(fields) - set(LIVE_SESSION_FIELDS)
    if unknown:
        raise TypeError(f"not a live session detail: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = _scheduled(session)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "modified"])
        return _promote(locked)


def live_session_cancel(*, session: LiveSession) -> int:
    """Cancel a scheduled session. Enrolments keep their status, so each trainee's list shows the session they
    were on as cancelled; no one can enrol any more. Returns how many trainees held a place or waited for one."""
    with transaction.atomic():
        locked = _scheduled(session)
        locked.cancelled = True
        locked.save(update_fields=["cancelled", "modified"])
        return locked.enrolments.exclude(status=EnrolmentStatus.CANCELLED).count()


def attendance_record(*, session: LiveSession, attended: Mapping[int, bool]) -> None:
    """Record who came, by enrolment id; only enrolled trainees have attendance. A cancelled session has none, and
    a session that has not started yet has none so far (TrainingError): nobody can have come to it."""
    with transaction.atomic():
        locked = LiveSession.objects.select_for_update().get(pk=session.pk)
        if locked.cancelled:
            raise TrainingError(_(SESSION_CANCELLED))
        if locked.starts_at > timezone.now():
            raise TrainingError(_(ATTENDANCE_BEFORE_START))
        for enrolment in session.enrolments.select_for_update().filter(status=EnrolmentStatus.ENROLLED):
            if enrolment.pk in attended:
                enrolment.attended = attended[enrolment.pk]
                enrolment.save(update_fields=["attended", "modified"])


def supervised_injection_record(*, supervisor: User, trainee: User, **fields: Any) -> SupervisedInjection:
    """Log an injection ``supervisor`` supervised; only a clinician signs one off (``access.SUPERVISOR_ROLES``)."""
    if not may_supervise(supervisor):
        raise PermissionDenied
    return SupervisedInjection.objects.create(supervisor=supervisor, trainee=trainee, **fields)


# --- Certificates -----------------------------------------------------------------------------------------------


WEEK24_CASE = Q(decisions__has_key=Step.WEEK24.value)
"""A case attempt carried to the week-24 review (its decisions hold that step's answer)."""


def carried_to_week24(attempt: CaseAttempt) -> bool:
    """``WEEK24_CASE`` of one attempt already read: its decisions hold the week-24 step's answer."""
    return Step.WEEK24.value in (attempt.decisions or {})


def certificate_status_for(user: User) -> CertificateStatus:
    passed = {item.module.id for item in course_progress(user) if item.passed}
    return certificate_status(
        modules=course(),
        passed_modules=passed,
        site_trainer_passed=SiteTrainerAttempt.objects.filter(trainee=user, passed=True).exists(),
        cases_passed=CaseAttempt.objects.filter(trainee=user, passed=True).count(),
        week24_cases_passed=CaseAttempt.objects.filter(WEEK24_CASE, trainee=user, passed=True).count(),
    )


def revoked_certificate(user: User) -> Certificate | None:
    """The user's latest revoked certificate, when they hold no valid one (revoking is the admin's decision)."""
    if Certificate.objects.filter(trainee=user, revoked=False).exists():
        return None
    return Certificate.objects.filter(trainee=user, revoked=True).order_by("-issued_on", "-pk").first()


def learner_label(user: User) -> str:
    """A learner as the certificate and the supervised-injection log name them: full name, or else username."""
    return user.get_full_name() or user.username


def certificate_issue(*, user: User, today: dt.date) -> Certificate:
    """The user's valid certificate, issued now if everything is passed; raises ``TrainingError`` otherwise, and
    when their certificate was revoked: only the training lead undoes a revocation (admin), a trainee cannot by
    issuing themselves a new one."""
    status = certificate_status_for(user)
    if not status.ready:
        raise TrainingError(_(NOT_READY).format(missing="; ".join(status.missing)))
    with transaction.atomic():
        User.objects.select_for_update().get(pk=user.pk)
        existing = Certificate.objects.filter(trainee=user, revoked=False).first()
        if existing is not None:
            return existing
        revoked = Certificate.objects.filter(trainee=user, revoked=True).first()
        if revoked is not None:
            raise TrainingError(_(CERTIFICATE_REVOKED).format(code=revoked.code))
        clinic = user.clinic.name if user.clinic else ""
        return Certificate.objects.create(
            trainee=user, holder_name=learner_label(user), issued_by=clinic, issued_on=today
        )


def certificate_for_code(code: str) -> Certificate | None:
    """The certificate with this verification code (case, spaces and dashes ignored), revoked ones included."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    if len(cleaned) != 12:
        return None
    formatted = "-".join(cleaned[i : i + 4] for i in range(0, 12, 4))
    return Certificate.objects.filter(code=formatted).first()
