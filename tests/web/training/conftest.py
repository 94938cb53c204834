"""Training test helpers: pass a module's quiz, the site trainer and cases the way the engine would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from onaboard.clinical import preempt_plan
from onaboard.training.cases import case_assessment, case_outcomes, case_screen
from onaboard.web.accounts.models import User
from onaboard.web.injections import sitemap
from onaboard.web.training import services
from onaboard.web.training.models import CaseAttempt, LiveSession, QuizAttempt


def pass_module(user: User, module_id: str) -> QuizAttempt:
    """A submitted quiz attempt with every answer the engine's."""
    module = services.module_by_id(module_id)
    assert module is not None
    attempt = services.quiz_attempt_start(user=user, module=module)
    answers = {question.key: question.answer for question in services.quiz_questions(attempt)}
    services.quiz_attempt_submit(attempt=attempt, answers=answers)
    return attempt


def pass_all_modules(user: User) -> None:
    for module in services.course():
        pass_module(user, module.id)


def exact_placements() -> list[dict[str, Any]]:
    """A click on every true site with its muscle, as the page would send them."""
    return [{"muscle": t.muscle, "view": t.view, "x": t.x, "y": t.y, "ftp": False} for t in services.site_targets()]


def ftp_placements(request: dict[str, int]) -> list[dict[str, Any]]:
    """Follow-the-pain clicks at each asked area's default spots."""
    clicks = []
    for key, count in request.items():
        muscle, side = key.rsplit("-", 1)
        region = sitemap.region_for(muscle, side)
        assert region is not None
        for x, y in region.defaults[:count]:
            clicks.append({"muscle": muscle, "view": region.view.value, "x": x, "y": y, "ftp": True})
    return clicks


def engine_first_visit(attempt: CaseAttempt) -> dict[str, Any]:
    case = services.case_of(attempt)
    plan = preempt_plan(follow_the_pain=case.follow_the_pain, vial_units=case.vial_units)
    return {
        "eligibility": case_assessment(case).label_criteria.verdict.value,
        "safety": case_screen(case).verdict.value,
        "total_units": plan.total_units,
        "vials": plan.vials,
        "discarded_units": plan.discarded_units,
    }


def engine_week24(attempt: CaseAttempt) -> dict[str, Any]:
    return {"week24": case_outcomes(services.case_of(attempt)).nice_ta260.verdict.value}


TREATED_SEED = 4
"""A case whose patient the engine treats: label met, screen clear, a course to review at week 24."""
NOT_TREATED_SEED = 1395005321
"""A case whose label is not met (diary 10, 3 and 5 headache days): it ends at the first visit."""


def case_attempt(user: User, *, seed: int) -> CaseAttempt:
    """A new case attempt on a chosen patient (``case_attempt_start`` draws one at random)."""
    return CaseAttempt.objects.create(trainee=user, seed=seed)


def pass_cases(user: User, count: int) -> None:
    """Pass ``count`` cases as the engine decides them, with a week-24 review when the case has one: the first on
    ``TREATED_SEED`` (the certificate asks for one carried to its week-24 review), the rest drawn at random."""
    for n in range(count):
        attempt = case_attempt(user, seed=TREATED_SEED) if n == 0 else services.case_attempt_start(user=user)
        services.case_attempt_decide(attempt=attempt, decisions=engine_first_visit(attempt))
        attempt.refresh_from_db()
        if attempt.stage == CaseAttempt.Stage.WEEK24:
            services.case_attempt_decide(attempt=attempt, decisions=engine_week24(attempt))


def live_session(trainer: User, *, capacity: int = 2, days: int = 10, **fields: Any) -> LiveSession:
    values = {
        "title": "PREEMPT workshop",
        "starts_at": timezone.now() + dt.timedelta(days=days),
        "place": "Room 2",
        "capacity": capacity,
        **fields,
    }
    return services.live_session_create(trainer=trainer, **values)
