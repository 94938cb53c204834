"""Training pages: the course, quizzes, the site trainer, graded cases, live sessions, certificates, trainers'
views of their trainees, and the public certificate check (the only page here that needs no sign-in)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import markdown
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods, require_POST

from onaboard.clinical import FIXED_SITE_COUNT, AcuteClass, DiaryDay, Intensity, Muscle, Side, preempt_plan
from onaboard.training.cases import Step
from onaboard.training.certificate import REQUIRED_CASES, REQUIRED_WEEK24_CASES, certificate_modules
from onaboard.training.quiz import MUSCLE_NAMES, RETREATMENT_INTERVAL_WEEKS
from onaboard.training.sites import SITE_PASS_MARK, SITE_TOLERANCE
from onaboard.web.common.pdf import pdf_response, render_pdf
from onaboard.web.injections import sitemap
from onaboard.web.training import selectors, services
from onaboard.web.training.access import (
    is_trainer,
    may_schedule,
    may_supervise,
    require_learner,
    require_scheduler,
    require_supervisor,
    require_trainer,
    trainees_of,
)
from onaboard.web.training.forms import (
    CaseFirstVisitForm,
    CaseWeek24Form,
    LiveSessionForm,
    SupervisedInjectionForm,
)
from onaboard.web.training.models import (
    CaseAttempt,
    Certificate,
    Enrolment,
    EnrolmentStatus,
    LiveSession,
    QuizAttempt,
    SiteTrainerAttempt,
    SupervisedInjection,
)

# --- Course -----------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def course(request: HttpRequest) -> HttpResponse:
    """The course page: modules in order with progress, and the other parts of the training."""
    require_learner(request.user)
    context = {
        "progress": services.course_progress(request.user),
        "summary": selectors.trainee_summary(request.user),
        "required_cases": REQUIRED_CASES,
        "required_week24_cases": REQUIRED_WEEK24_CASES,
        "certificate_module_ids": {module.id for module in certificate_modules(services.course())},
        "may_schedule": may_schedule(request.user),
        "may_supervise": may_supervise(request.user),
    }
    return render(request, "training/course.html", context)


def _module_or_404(module_id: str) -> Any:
    module = services.module_by_id(module_id)
    if module is None:
        raise Http404
    return module


def _unlocked_or_redirect(request: HttpRequest, module_id: str) -> HttpResponse | None:
    if not services.module_unlocked(request.user, module_id):
        messages.warning(request, _("Pass the earlier modules' quizzes first: modules unlock in order."))
        return redirect("training:course")
    return None


@login_required
@require_http_methods(["GET"])
def module_detail(request: HttpRequest, module_id: str) -> HttpResponse:
    require_learner(request.user)
    module = _module_or_404(module_id)
    if (locked := _unlocked_or_redirect(request, module_id)) is not None:
        return locked
    services.module_read_record(user=request.user, module=module)
    body = markdown.markdown(module.body, extensions=["tables", "sane_lists"], output_format="html")
    progress = next(item for item in services.course_progress(request.user) if item.module.id == module.id)
    return render(request, "training/module_detail.html", {"module": module, "body": body, "progress": progress})


@login_required
@require_POST
def quiz_start(request: HttpRequest, module_id: str) -> HttpResponse:
    require_learner(request.user)
    module = _module_or_404(module_id)
    if (locked := _unlocked_or_redirect(request, module_id)) is not None:
        return locked
    attempt = services.quiz_attempt_start(user=request.user, module=module)
    return redirect("training:quiz", attempt_id=attempt.external_id)


def _choice(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def quiz(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """Answer a quiz attempt; once submitted the page shows the mark and each explanation. Answers with a question
    left out are not marked: the form comes back with the given answers kept and the missing ones pointed out."""
    require_learner(request.user)
    attempt = get_object_or_404(QuizAttempt, external_id=attempt_id, trainee=request.user)
    module = _module_or_404(attempt.module_id)
    questions = services.quiz_questions(attempt)
    answers: dict[str, int | None] = {}
    unanswered: tuple[int, ...] = ()
    if request.method == "POST" and attempt.submitted is None:
        answers = {question.key: _choice(request.POST.get(question.key)) for question in questions}
        unanswered = services.quiz_unanswered(questions, answers)
        if not unanswered:
            services.quiz_attempt_submit(attempt=attempt, answers=answers)
            return redirect("training:quiz", attempt_id=attempt.external_id)
    result = services.quiz_result(attempt) if attempt.submitted else None
    rows = [
        {"question": question, "chosen": answers.get(question.key), "unanswered": number in unanswered}
        for number, question in enumerate(questions, start=1)
    ]
    error = (
        _(services.QUIZ_UNANSWERED).format(numbers=", ".join(str(number) for number in unanswered))
        if unanswered
        else ""
    )
    return render(
        request,
        "training/quiz_attempt.html",
        {"attempt": attempt, "module": module, "rows": rows, "result": result, "error": error},
    )


# --- Site trainer -----------------------------------------------------------------------------------------------


def _ftp_rows(attempt: SiteTrainerAttempt) -> list[dict[str, Any]]:
    rows = []
    for key, count in attempt.follow_the_pain.items():
        muscle, side = key.rsplit("-", 1)
        rows.append(
            {"muscle": sitemap.MUSCLE_LABELS[Muscle(muscle)], "side": sitemap.SIDE_LABELS[Side(side)], "count": count}
        )
    return rows


def _asked_regions(attempt: SiteTrainerAttempt) -> list[dict[str, Any]]:
    """The follow-the-pain areas the attempt asks sites in, as the site map draws them (``map_regions``): shaded
    while the trainee places the sites, since an extra site counts only inside its area (``sites.score_sites``), and
    again on the result."""
    return [
        {"region": region, "limit_message": ""}
        for region in sitemap.FOLLOW_THE_PAIN_REGIONS
        if region.key in attempt.follow_the_pain
    ]


MUSCLE_CHOICES = [(muscle.value, sitemap.MUSCLE_LABELS[muscle]) for muscle in Muscle]


@login_required
@require_http_methods(["GET", "POST"])
def site_trainer(request: HttpRequest) -> HttpResponse:
    """The site trainer's start page and its past attempts; POST starts a new attempt."""
    require_learner(request.user)
    if request.method == "POST":
        attempt = services.site_attempt_start(user=request.user)
        return redirect("training:site_attempt", attempt_id=attempt.external_id)
    attempts = SiteTrainerAttempt.objects.filter(trainee=request.user, submitted__isnull=False)[:10]
    context = {"attempts": attempts, "tolerance": SITE_TOLERANCE, "pass_mark": SITE_PASS_MARK}
    return render(request, "training/site_trainer.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def site_attempt(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """Place the sites on the clinic's map, the follow-the-pain areas asked for shaded; after submitting, the true
    map and the score per site."""
    require_learner(request.user)
    attempt = get_object_or_404(SiteTrainerAttempt, external_id=attempt_id, trainee=request.user)
    error = ""
    if request.method == "POST" and attempt.submitted is None:
        try:
            placements = services.placements_from_json(request.POST.get("placements", ""))
            services.site_attempt_submit(attempt=attempt, placements=placements)
        except services.TrainingError as problem:
            error = str(problem)
        else:
            return redirect("training:site_attempt", attempt_id=attempt.external_id)
    context: dict[str, Any] = {
        "attempt": attempt,
        "ftp_rows": _ftp_rows(attempt),
        "fixed_site_count": FIXED_SITE_COUNT,
        "expected_sites": FIXED_SITE_COUNT + sum(attempt.follow_the_pain.values()),
        "muscle_choices": MUSCLE_CHOICES,
        "tolerance": SITE_TOLERANCE,
        "pass_mark": SITE_PASS_MARK,
        "error": error,
        "map_sites": [],
        "map_regions": _asked_regions(attempt),
    }
    if attempt.submitted is not None:
        score = services.site_score(attempt)
        plan = preempt_plan()
        context.update(
            {
                "score": score,
                "map_sites": sitemap.plan_map_sites(plan),
                "placements_json": json.dumps(attempt.placements),
                "site_rows": [
                    {
                        "result": result,
                        "label": sitemap.site_label(
                            result.target.muscle,
                            result.target.side,
                            int(result.target.key.rsplit("-", 1)[1]),
                            None,
                            follow_the_pain=False,
                        ),
                        "named": sitemap.MUSCLE_LABELS[Muscle(result.placement.muscle)] if result.placement else "",
                    }
                    for result in score.results
                ],
                "by_muscle": [
                    {"muscle": sitemap.MUSCLE_LABELS[Muscle(name)], "right": right, "total": total}
                    for name, (right, total) in score.by_muscle.items()
                ],
            }
        )
    return render(request, "training/site_attempt.html", context)


# --- Cases ------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cases(request: HttpRequest) -> HttpResponse:
    require_learner(request.user)
    if request.method == "POST":
        attempt = services.case_attempt_start(user=request.user)
        return redirect("training:case", attempt_id=attempt.external_id)
    mine = CaseAttempt.objects.filter(trainee=request.user)
    total = mine.count()
    attempts = mine.order_by("-created", "-pk")[:20]
    rows = [
        {
            "attempt": attempt,
            "title": services.case_title(services.case_of(attempt), total - newer),
            "week24": services.carried_to_week24(attempt),
        }
        for newer, attempt in enumerate(attempts)
    ]
    passed = CaseAttempt.objects.filter(trainee=request.user, passed=True).aggregate(
        all=Count("pk"), week24=Count("pk", filter=services.WEEK24_CASE)
    )
    context = {
        "rows": rows,
        "passed": passed["all"],
        "week24_passed": passed["week24"],
        "required": REQUIRED_CASES,
        "required_week24": REQUIRED_WEEK24_CASES,
    }
    return render(request, "training/case_list.html", context)


ACUTE_CLASS_LABELS = {
    AcuteClass.TRIPTAN: gettext_lazy("triptan"),
    AcuteClass.ERGOT: gettext_lazy("ergot"),
    AcuteClass.SIMPLE_ANALGESIC: gettext_lazy("simple analgesic"),
    AcuteClass.COMBINATION_ANALGESIC: gettext_lazy("combination analgesic"),
    AcuteClass.OPIOID: gettext_lazy("opioid"),
    AcuteClass.GEPANT: gettext_lazy("gepant"),
    AcuteClass.DITAN: gettext_lazy("ditan"),
    AcuteClass.OTHER: gettext_lazy("other acute medication"),
}
"""The acute classes as a clinician names them in a case's diary rows (the engine's values have underscores)."""

INTENSITY_LABELS = {
    Intensity.MILD: gettext_lazy("mild"),
    Intensity.MODERATE: gettext_lazy("moderate"),
    Intensity.SEVERE: gettext_lazy("severe"),
}


def _diary_rows(days: tuple[DiaryDay, ...]) -> list[dict[str, Any]]:
    """A case's diary rows in words: the pain and each acute class named (in a fixed order), not the engine's
    values."""
    return [
        {
            "day": day,
            "pain": INTENSITY_LABELS[day.intensity] if day.intensity else None,
            "medication": [ACUTE_CLASS_LABELS[cls] for cls in AcuteClass if cls in day.acute_medication],
        }
        for day in days
    ]


STEP_LABELS = {
    Step.ELIGIBILITY: gettext_lazy("Eligibility (BOTOX label)"),
    Step.SAFETY: gettext_lazy("Safety screen"),
    Step.PLAN: gettext_lazy("Plan: units, vials, waste"),
    Step.WEEK24: gettext_lazy("Week-24 review (NICE TA260)"),
}


FIRST_VISIT_FIELDS = frozenset(CaseFirstVisitForm.base_fields)


def _answers_an_earlier_stage(attempt: CaseAttempt, posted: Iterable[str]) -> bool:
    """Whether a POST answers a stage the attempt has left (the page sent twice, or an old tab): the first visit's
    fields once at the week-24 review, anything once the case is graded. Checked before the current stage's form, which
    would otherwise refuse it as that form left blank ("This field is required.")."""
    if attempt.stage == CaseAttempt.Stage.DONE:
        return True
    return attempt.stage == CaseAttempt.Stage.WEEK24 and not FIRST_VISIT_FIELDS.isdisjoint(posted)


@login_required
@require_http_methods(["GET", "POST"])
def case(request: HttpRequest, attempt_id: UUID) -> HttpResponse:
    """A graded case: the first-visit decisions, then the week-24 review, each graded against the engine. A patient
    the engine does not treat has no week-24 review: the case ends at the first visit."""
    require_learner(request.user)
    attempt = get_object_or_404(CaseAttempt, external_id=attempt_id, trainee=request.user)
    if request.method == "POST" and _answers_an_earlier_stage(attempt, request.POST.keys()):
        messages.error(request, _(services.CASE_STAGE_ANSWERED))
        return redirect("training:case", attempt_id=attempt.external_id)
    the_case = services.case_of(attempt)
    form: CaseFirstVisitForm | CaseWeek24Form | None = None
    if attempt.stage == CaseAttempt.Stage.FIRST_VISIT:
        form = CaseFirstVisitForm(request.POST or None)
    elif attempt.stage == CaseAttempt.Stage.WEEK24 and the_case.treated:
        form = CaseWeek24Form(request.POST or None)
    closing = attempt.stage == CaseAttempt.Stage.WEEK24 and not the_case.treated
    decided: dict[str, Any] | None = None
    if request.method == "POST":
        decided = {} if closing else form.cleaned_data if form is not None and form.is_valid() else None
    if decided is not None:
        try:
            services.case_attempt_decide(attempt=attempt, decisions=decided)
        except services.TrainingError as problem:
            messages.error(request, str(problem))
        return redirect("training:case", attempt_id=attempt.external_id)
    grade = services.case_grade(attempt, case=the_case)
    assessment = services.case_assessment(the_case)
    context: dict[str, Any] = {
        "attempt": attempt,
        "case": the_case,
        "title": services.case_title(the_case, services.case_number(attempt)),
        "periods": assessment.periods,
        "attacks": assessment.migraine_attacks,
        "recent_days": _diary_rows(the_case.diary.days[-14:]),
        "ftp": [(MUSCLE_NAMES[muscle], count) for muscle, count in the_case.follow_the_pain.items()],
        "form": form,
        "closing": closing,
        "retreatment_weeks": RETREATMENT_INTERVAL_WEEKS,
        "grade": grade,
        "grade_rows": [(STEP_LABELS[step.step], step) for step in grade.steps],
    }
    if attempt.stage != CaseAttempt.Stage.FIRST_VISIT and the_case.treated:
        outcomes = services.case_outcomes(the_case)
        context["course_periods"] = (outcomes.baseline, *(change.period for change in outcomes.periods))
    elif attempt.stage != CaseAttempt.Stage.FIRST_VISIT:
        ruled_out = services.case_not_treated_because(the_case, assessment=assessment)
        context["label_rules_out"] = Step.ELIGIBILITY in ruled_out
        context["screen_rules_out"] = Step.SAFETY in ruled_out
        context["label_verdict"] = assessment.label_criteria.verdict.value
    return render(request, "training/case_attempt.html", context)


# --- Live sessions ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def sessions(request: HttpRequest) -> HttpResponse:
    """Upcoming sessions (and those started less than ``selectors.LISTED_AFTER_START`` ago) with the user's place on
    each, and the past sessions the user was on with their attendance; trainers also get the clinic's past sessions,
    most recent first, to record attendance afterwards."""
    require_learner(request.user)
    listed = selectors.upcoming_sessions(request.user)
    own = selectors.own_enrolments(request.user)
    rows = [{"session": session, "enrolment": own.get(session.pk)} for session in listed]
    context = {
        "rows": rows,
        "own_past": selectors.own_past_enrolments(request.user),
        "is_trainer": is_trainer(request.user),
        "may_schedule": may_schedule(request.user),
        "may_supervise": may_supervise(request.user),
        "past": selectors.past_sessions(request.user),
        "past_shown": selectors.PAST_SESSIONS_SHOWN,
    }
    return render(request, "training/session_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_create(request: HttpRequest) -> HttpResponse:
    """A trainer of a clinic schedules a session for it (``access.may_schedule``: a trainer with no clinic has none
    to schedule for)."""
    require_scheduler(request.user)
    form = LiveSessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.live_session_create(trainer=request.user, **form.cleaned_data)
        except services.TrainingError as problem:
            messages.error(request, str(problem))
        else:
            messages.success(request, _("Session scheduled."))
            return redirect("training:session", live_session_id=session.external_id)
    return render(request, "training/session_form.html", {"form": form})


def _session_for(request: HttpRequest, live_session_id: UUID) -> LiveSession:
    return get_object_or_404(selectors.sessions_visible_to(request.user), external_id=live_session_id)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    """A trainer of the clinic changes a scheduled session: when, where, places, notes."""
    require_trainer(request.user)
    session = _session_for(request, live_session_id)
    back = redirect("training:session", live_session_id=session.external_id)
    if session.cancelled or session.starts_at <= timezone.now():
        messages.error(request, _("This session can no longer be changed: it was cancelled or has started."))
        return back
    form = LiveSessionForm(request.POST or None, instance=session)
    if request.method == "POST" and form.is_valid():
        try:
            promoted = services.live_session_update(session=session, **form.cleaned_data)
        except services.TrainingError as problem:
            messages.error(request, str(problem))
            return back
        messages.success(request, _("Session changed."))
        if promoted:
            names = ", ".join(row.trainee.get_full_name() or row.trainee.username for row in promoted)
            messages.info(request, _("Given a place from the waitlist: %(names)s.") % {"names": names})
        over = services.enrolled_count(session) - form.cleaned_data["capacity"]
        if over > 0:
            messages.warning(
                request,
                ngettext(
                    "%(count)d more trainee is enrolled than there are places now; they keep their place.",
                    "%(count)d more trainees are enrolled than there are places now; they keep their places.",
                    over,
                )
                % {"count": over},
            )
        return back
    return render(request, "training/session_form.html", {"form": form, "session": session})


@login_required
@require_POST
def session_cancel(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    """A trainer of the clinic cancels a scheduled session; its trainees see it cancelled on their list."""
    require_trainer(request.user)
    session = _session_for(request, live_session_id)
    try:
        affected = services.live_session_cancel(session=session)
    except services.TrainingError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(
            request,
            ngettext(
                "Session cancelled. %(count)d trainee held a place or waited for one and sees it cancelled.",
                "Session cancelled. %(count)d trainees held a place or waited for one and see it cancelled.",
                affected,
            )
            % {"count": affected},
        )
    return redirect("training:session", live_session_id=session.external_id)


@login_required
@require_http_methods(["GET"])
def session_detail(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    require_learner(request.user)
    session = _session_for(request, live_session_id)
    enrolment = selectors.own_enrolments(request.user).get(session.pk)
    context: dict[str, Any] = {
        "session": session,
        "enrolment": enrolment,
        "position": selectors.waitlist_position(enrolment) if enrolment else None,
        "is_trainer": is_trainer(request.user),
        "may_supervise": may_supervise(request.user),
        "started": session.starts_at <= timezone.now(),
        "attendance_later": _(services.ATTENDANCE_BEFORE_START),
    }
    if is_trainer(request.user):
        roster = session.enrolments.select_related("trainee").exclude(status=EnrolmentStatus.CANCELLED)
        context["enrolled"] = [row for row in roster if row.status == EnrolmentStatus.ENROLLED]
        context["waitlisted"] = [row for row in roster if row.status == EnrolmentStatus.WAITLISTED]
    return render(request, "training/session_detail.html", context)


@login_required
@require_POST
def session_enrol(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    require_learner(request.user)
    session = _session_for(request, live_session_id)
    try:
        enrolment = services.enrolment_create(session=session, trainee=request.user)
    except services.TrainingError as problem:
        messages.error(request, str(problem))
    else:
        if enrolment.status == EnrolmentStatus.WAITLISTED:
            messages.warning(request, _("The session is full: you are on the waitlist."))
        else:
            messages.success(request, _("You are enrolled."))
    return redirect("training:session", live_session_id=session.external_id)


@login_required
@require_POST
def session_leave(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    require_learner(request.user)
    session = _session_for(request, live_session_id)
    enrolment = get_object_or_404(Enrolment, session=session, trainee=request.user)
    was = enrolment.status
    try:
        services.enrolment_cancel(enrolment=enrolment)
    except services.TrainingError as problem:
        messages.error(request, str(problem))
    else:
        if was == EnrolmentStatus.ENROLLED:
            messages.success(request, _("Your place was given up."))
        elif was == EnrolmentStatus.WAITLISTED:
            messages.success(request, _("You left the waiting list."))
        else:
            messages.info(request, _("You were not on this session's list."))
    return redirect("training:session", live_session_id=session.external_id)


@login_required
@require_POST
def session_attendance(request: HttpRequest, live_session_id: UUID) -> HttpResponse:
    require_trainer(request.user)
    session = _session_for(request, live_session_id)
    enrolled = session.enrolments.filter(status=EnrolmentStatus.ENROLLED)
    attended = {row.pk: request.POST.get(f"attended-{row.external_id}") == "yes" for row in enrolled}
    try:
        services.attendance_record(session=session, attended=attended)
    except services.TrainingError as problem:
        messages.error(request, str(problem))
    else:
        messages.success(request, _("Attendance saved."))
    return redirect("training:session", live_session_id=session.external_id)


@login_required
@require_http_methods(["GET", "POST"])
def supervised_log(request: HttpRequest) -> HttpResponse:
    """Clinicians log the injections they supervised toward a trainee's competency count."""
    require_supervisor(request.user)
    trainees = trainees_of(request.user)
    form = SupervisedInjectionForm(
        request.POST or None, trainees=trainees, sessions=selectors.sessions_for_supervision(request.user)
    )
    if request.method == "POST" and form.is_valid():
        services.supervised_injection_record(supervisor=request.user, **form.cleaned_data)
        messages.success(request, _("Supervised injection logged."))
        return redirect("training:supervised_log")
    recent = SupervisedInjection.objects.filter(trainee__in=trainees).select_related("trainee", "supervisor")[:30]
    return render(request, "training/supervised_log.html", {"form": form, "recent": recent})


# --- Trainers' view of trainees ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET"])
def trainees(request: HttpRequest) -> HttpResponse:
    require_trainer(request.user)
    summaries = selectors.trainee_summaries(trainees_of(request.user))
    return render(
        request, "training/trainee_list.html", {"summaries": summaries, "may_supervise": may_supervise(request.user)}
    )


@login_required
@require_http_methods(["GET"])
def trainee_detail(request: HttpRequest, trainee_id: UUID) -> HttpResponse:
    """A trainee's progress for their trainer: each module's quiz, the site trainer and the cases with the attempts
    submitted and passed, the live sessions they were on with their attendance, and the supervised injections."""
    require_trainer(request.user)
    trainee = get_object_or_404(trainees_of(request.user), external_id=trainee_id)
    record = selectors.trainee_record(trainee)
    now = timezone.now()
    context = {
        "summary": selectors.trainee_summary(trainee),
        "modules": [
            {"progress": item, "counts": record.quizzes.get(item.module.id, selectors.AttemptCounts())}
            for item in services.course_progress(trainee)
        ],
        "record": record,
        "enrolments": [{"enrolment": row, "started": row.session.starts_at <= now} for row in record.enrolments],
        "log": trainee.supervised_log.select_related("supervisor")[:50],
    }
    return render(request, "training/trainee_detail.html", context)


# --- Certificates -----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def certificate(request: HttpRequest) -> HttpResponse:
    require_learner(request.user)
    if request.method == "POST":
        try:
            services.certificate_issue(user=request.user, today=timezone.localdate())
        except services.TrainingError as problem:
            messages.error(request, str(problem))
        return redirect("training:certificate")
    context = {
        "status": services.certificate_status_for(request.user),
        "certificate": Certificate.objects.filter(trainee=request.user, revoked=False).first(),
        "revoked": services.revoked_certificate(request.user),
    }
    return render(request, "training/certificate.html", context)


@login_required
@require_http_methods(["GET"])
def certificate_pdf(request: HttpRequest, certificate_id: UUID) -> HttpResponse:
    require_learner(request.user)
    issued = get_object_or_404(Certificate, external_id=certificate_id, trainee=request.user, revoked=False)
    verify_url = request.build_absolute_uri(f"{_verify_path()}?code={issued.code}")
    pdf = render_pdf("training/certificate_pdf.html", {"certificate": issued, "verify_url": verify_url}, request)
    return pdf_response(pdf, f"onaboard-certificate-{issued.code}.pdf")


def _verify_path() -> str:
    return reverse("training:verify")


@require_http_methods(["GET"])
def verify(request: HttpRequest) -> HttpResponse:
    """Public: anyone may check a certificate code; the page shows only the holder's name, the issuing clinic, the
    date and validity, with what a certificate of training records and what it does not (hands-on competence)."""
    code = request.GET.get("code", "").strip()
    found = services.certificate_for_code(code) if code else None
    return render(request, "training/verify.html", {"code": code, "found": found, "checked": bool(code)})
