"""Reading injection sessions and side effects, and turning them into the engine's values.

``session_checks`` is the one place the pre-recording checks are computed: the screen's live summary and the
recording service both call it, so what the nurse saw is what the service enforced.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When, Window
from django.http import Http404
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import (
    CONTRAINDICATION_ITEMS,
    CUMULATIVE_LIMIT_UNITS,
    CUMULATIVE_WINDOW_MONTHS,
    FIXED_SITE_COUNT,
    PER_VISIT_ITEMS,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_0_1_ML,
    UNITS_PER_SITE,
    VOLUME_PER_SITE_ML,
    ChronicMigraine,
    DoseCheck,
    FindingCode,
    FindingKind,
    InjectionPlan,
    InjectionSite,
    IntervalCheck,
    LabelCriteria,
    NiceTa260,
    PlanError,
    SafetyFinding,
    SafetyInput,
    SafetyScreen,
    SafetyVerdict,
    ScheduleStatus,
    SessionCycleChecks,
    ToxinDose,
    label_dose_departures,
    plan_from_sites,
    safety_screen,
    schedule_status,
    session_cycle_checks,
)
from onaboard.web.accounts.models import User
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.injections import sitemap
from onaboard.web.injections.models import (
    ACTIVE_STATUSES,
    URGENT_SIDE_EFFECTS,
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectReview,
)
from onaboard.web.outcomes.models import Decision
from onaboard.web.outcomes.selectors import continue_answers_stop
from onaboard.web.patients.access import Capability, can, patients_visible_to, roles_with
from onaboard.web.patients.models import SAFETY_FLAGS, OtherToxinTreatment, Patient

SESSION_NOT_FOUND = gettext_noop("No such session.")
SIDE_EFFECT_NOT_FOUND = gettext_noop("No such side effect.")

BOTOX_PRODUCT = "BOTOX (onabotulinumtoxinA)"
"""The product every chronic-migraine session gives; other botulinum toxins are recorded as OtherToxinTreatment."""

NO_PLAN = gettext_noop("the doses per site are checked once the plan is valid")
LABEL_DOSES = gettext_noop("every site is the label's {per_site} U (0.1 mL), within each muscle's PREEMPT maximum")
NO_UNITS = gettext_noop("no units entered yet, so the cumulative dose cannot be checked")
NO_DATE = gettext_noop("enter the session date to run the {weeks}-week and cumulative-dose checks")
BEFORE_BIRTH = gettext_noop("the session date {date} is before the patient's birth date ({birth}); check the year")
SESSION_ALREADY_ON_DAY = gettext_noop(
    "a session on {date} is already recorded for this patient: it cannot be recorded again, open that session"
)
"""The 12-week check on the day of a session already recorded: recording refuses it
(``services.SESSION_ALREADY_RECORDED``), so the check fails rather than counting the day as a first session."""
CONTRAINDICATION_NOT_ANSWERED = gettext_noop("not answered: {questions} — ask before injecting")
"""The contraindication check while a label contraindication question is unanswered: not a block, and not "passed"."""

SIDE_EFFECT_REASON = gettext_noop("{kind}, started {onset}: {grade}, {relation}")
SIDE_EFFECT_GRADED = gettext_noop("graded {grade} by {name}")
"""A grade with its reviewer named: a nurse may grade a side effect too, so "by a clinician" would misattribute it."""
SIDE_EFFECT_GRADED_UNNAMED = gettext_noop("graded {grade} on review")
"""A grade stored without its reviewer (an imported side effect)."""
SIDE_EFFECT_REPORTED = gettext_noop("reported as {severity}, not graded by a clinician yet")
SIDE_EFFECT_RELATED = gettext_noop("related to treatment")
SIDE_EFFECT_RELATION_UNKNOWN = gettext_noop("relation to treatment not judged yet")
SIDE_EFFECT_NOT_RELATED_UNCONFIRMED = gettext_noop("not related to treatment, not confirmed by a clinician yet")
"""A side effect judged unrelated in a review by someone who may not decide treatment (``notable_side_effects``
keeps it: only a clinician's "not related" leaves the session screen's warnings)."""
SIDE_EFFECT_DISTANT_SPREAD = gettext_noop("possible distant spread of toxin effect (BOTOX boxed warning)")
SIDE_EFFECT_HYPERSENSITIVITY = gettext_noop(
    "possible hypersensitivity reaction (BOTOX Warnings and Precautions); if confirmed, known hypersensitivity to a "
    "botulinum toxin product is a contraindication (BOTOX US PI 4): record it in the safety answers"
)


# --- Finding rows -----------------------------------------------------------------------------------------------


def _reached_or_not_found(
    user: Any,
    queryset: QuerySet[Any],
    external_id: uuid.UUID | str,
    *,
    need: Capability,
    message: str,
    object_type: str,
) -> Any:
    """The row of ``queryset`` with this public id if the user may reach its patient with ``need`` (``patient_for``'s
    rule: ``can`` and ``patients_visible_to``); otherwise 404 in ``message``, whether the row exists or not. Every
    refusal of an id is audited alike, as what was asked for (``object_type``, the id asked) with the patient where
    the row is one's (their own clinic finds the attempt in its trail, and the prober's administrator does not see
    that patient: ``audit/admin.py``): a trail that recorded only existing rows, or named them by their patient,
    would tell another clinic's row from an id of nobody."""
    try:
        key = uuid.UUID(str(external_id))
    except ValueError:
        raise Http404(message) from None  # not an id at all: nothing was probed
    found = queryset.select_related("patient").filter(external_id=key).first()
    if found is not None and can(user, need) and patients_visible_to(user).filter(pk=found.patient_id).exists():
        return found
    audit_record(
        user=user,
        action=Action.DENIED,
        object_type=object_type,
        object_id=key,
        patient_id=found.patient.external_id if found is not None else None,
        detail=need.value,
    )
    raise Http404(message)


def session_for(user: Any, external_id: uuid.UUID | str, *, need: Capability) -> InjectionSession:
    """The session with this public id if the user may reach its patient with ``need``; otherwise 404, in the same
    words whether it exists or not, the refusal audited alike (``_reached_or_not_found``)."""
    return _reached_or_not_found(
        user,
        InjectionSession.objects.all(),
        external_id,
        need=need,
        message=gettext(SESSION_NOT_FOUND),
        object_type="injection_session",
    )


def side_effect_for(user: Any, external_id: uuid.UUID | str, *, need: Capability) -> SideEffect:
    """The side effect with this public id if the user may reach its patient with ``need``; otherwise 404, in the
    same words whether it exists or not, the refusal audited alike (``_reached_or_not_found``)."""
    return _reached_or_not_found(
        user,
        SideEffect.objects.all(),
        external_id,
        need=need,
        message=gettext(SIDE_EFFECT_NOT_FOUND),
        object_type="side_effect",
    )


def session_view_capability(user: Any) -> Capability:
    """What a user needs to open a session: the clinical view if they have it, else the billing view."""
    return Capability.VIEW_CLINICAL if can(user, Capability.VIEW_CLINICAL) else Capability.VIEW_BILLING


def sessions_for(patient: Patient) -> QuerySet[InjectionSession]:
    """The patient's booked and recorded sessions, latest first (cancelled ones, and those entered in error, which
    ``sessions_in_error`` lists, are left out)."""
    return (
        InjectionSession.objects.filter(patient=patient, status__in=ACTIVE_STATUSES)
        .select_related("injector")
        .order_by("-date")
    )


def sessions_in_error(patient: Patient) -> QuerySet[InjectionSession]:
    """The patient's recorded sessions later marked entered in error (``services.injection_session_mark_in_error``),
    latest first: out of the treatment history, still on the record."""
    return (
        InjectionSession.objects.filter(patient=patient, status=SessionStatus.IN_ERROR)
        .select_related("error_marked_by")
        .order_by("-date")
    )


def injectors_for(patient: Patient) -> QuerySet[User]:
    """Who may be named as having given a session's injections to ``patient``: the active accounts of the patient's
    clinic whose role may record sessions (``Capability.RECORD_SESSION``: clinicians and nurses), by name. The
    session screen's "Injected by" choices, and the rule ``services.injection_session_record`` holds a named injector
    to (the form's choice, an API caller's)."""
    return User.objects.filter(
        clinic_id=patient.clinic_id, is_active=True, role__in=roles_with(Capability.RECORD_SESSION)
    ).order_by("last_name", "first_name", "username")


def recorded_sessions(patient: Patient) -> QuerySet[InjectionSession]:
    return InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED).order_by("date")


def open_booking(patient: Patient) -> InjectionSession | None:
    """The patient's next booked (not yet recorded) session, if any."""
    return InjectionSession.objects.filter(patient=patient, status=SessionStatus.BOOKED).order_by("date").first()


def booking_held(booking: InjectionSession | None, *, today: dt.date) -> InjectionSession | None:
    """``booking`` while it is still ahead on ``today`` (``coverage.selectors.booking_ahead``'s rule), else None: a
    booking whose day has passed was missed, or given and not yet recorded, and a decision to stop leaves it as it
    is. The booking the stopped-treatment notice (``injections/_stopped.html``) asks the clinic to cancel."""
    # coverage.selectors reads this module (the plans, the interval), so it is imported when called.
    from onaboard.web.coverage.selectors import booking_ahead

    if booking is None or booking_ahead([booking.date], today=today) is None:
        return None
    return booking


def patient_schedule(patient: Patient, *, today: dt.date) -> ScheduleStatus:
    """The engine's 12-week schedule on ``today`` from the recorded sessions up to today."""
    dates = list(recorded_sessions(patient).filter(date__lte=today).values_list("date", flat=True))
    return schedule_status(dates, today=today)


def side_effects_for(patient: Patient) -> QuerySet[SideEffect]:
    """The patient's side effects, latest onset first, with the session each is attributed to."""
    return SideEffect.objects.filter(patient=patient).select_related("session", "reviewed_by").order_by("-onset")


def side_effect_reviews(side_effect: SideEffect) -> list[SideEffectReview]:
    """Every review of the side effect, oldest first, with its reviewer and session: the latest is what the side
    effect holds; the earlier ones say who graded it how before, and why it changed."""
    return list(side_effect.reviews.select_related("reviewed_by", "session").order_by("reviewed_at", "pk"))


SIDE_EFFECT_REVIEW_FIELDS = (
    "external_id",
    "kind",
    "severity",
    "onset",
    "created",
    "patient__external_id",
    "patient__record_number",
    "patient__given_name",
    "patient__family_name",
)
"""The columns the worklist's "side effects to review" shows: the report and its patient's name and number."""


TO_REVIEW_LIMIT = 50
"""How many side effects to review the worklist lists: a backlog of old reports must not bury the page (the count
gives them all, and each patient's page lists its own)."""


def _reviewed_by_non_clinician() -> Q:
    """Side effects whose latest review (the one the side effect holds) is by someone who may not decide treatment
    (``Capability.DECIDE_TREATMENT``: a nurse): a review a clinician has not made."""
    clinicians = roles_with(Capability.DECIDE_TREATMENT)
    return Q(reviewed_by__isnull=False) & ~Q(reviewed_by__role__in=sorted(clinicians))


def side_effects_to_review(user: Any, *, limit: int = TO_REVIEW_LIMIT) -> tuple[list[SideEffect], int]:
    """The first ``limit`` side effects no clinician has reviewed yet, of the patients ``user`` may see
    (``patients_visible_to``), urgent kinds first (``URGENT_SIDE_EFFECTS``: the patient was told to seek care
    now), then the latest reported first, each with its patient; and how many there are in all. One query.

    A side effect stays listed until the review it holds is a clinician's (``Capability.DECIDE_TREATMENT``): not
    reviewed, or last reviewed by someone who may not decide treatment (a nurse's review, before or after a
    clinician's, is for a clinician to confirm), or sent back to review (a session entered in error clears the
    review). A review whose reviewer is not known (an import's, kept without one) counts as reviewed.

    Empty for a user without the clinical view (billing staff, administrators): side effects are clinical data.
    """
    if not can(user, Capability.VIEW_CLINICAL):
        return [], 0
    urgent_first = Case(
        When(kind__in=sorted(URGENT_SIDE_EFFECTS), then=Value(0)), default=Value(1), output_field=IntegerField()
    )
    listed = list(
        SideEffect.objects.filter(patient__in=patients_visible_to(user))
        .filter(Q(reviewed_at__isnull=True) | _reviewed_by_non_clinician())
        .select_related("patient")
        .only(*SIDE_EFFECT_REVIEW_FIELDS)
        .annotate(to_review=Window(Count("pk")))  # counted before the slice: every report, in the same query
        .order_by(urgent_first, "-created", "-pk")[:limit]
    )
    return listed, listed[0].to_review if listed else 0


def session_before(
    patient: Patient, day: dt.date, *, other_than: InjectionSession | None = None
) -> InjectionSession | None:
    """The patient's most recent recorded session on or before ``day`` (a side effect starting on the injection day
    follows that session), ``other_than`` one (a session about to be marked entered in error) if given."""
    sessions = recorded_sessions(patient).filter(date__lte=day)
    if other_than is not None:
        sessions = sessions.exclude(pk=other_than.pk)
    return sessions.order_by("-date").first()


def side_effect_booking(patient: Patient, onset: dt.date) -> InjectionSession | None:
    """The patient's open booking a side effect starting on ``onset`` follows, given and not recorded yet: dated on
    or before ``onset`` and after the latest recorded session on or before it (``session_before``), as on the day of
    treatment, before the clinic has recorded it (the patient treated this morning reports this afternoon). None when
    there is none: the report follows ``session_before``. A report after such a booking is saved with no session
    (``services.side_effect_report``), not put down to the session before it, and is put down again by this rule
    whenever the patient's sessions change (``services.relink_waiting_side_effects``: the booking recorded,
    cancelled or moved); its page names the booking meanwhile."""
    booking = open_booking(patient)
    if booking is None or booking.date > onset:
        return None
    before = session_before(patient, onset)
    return booking if before is None or booking.date > before.date else None


def side_effects_moved(session: InjectionSession) -> list[tuple[SideEffect, InjectionSession | None]]:
    """The side effects put down to ``session``, each with the session it would follow were ``session`` marked
    entered in error (``session_before`` its onset, other than it), None when none: what the marking page shows and
    ``services.injection_session_mark_in_error`` does (and refuses when any would follow none)."""
    effects = SideEffect.objects.filter(session=session).order_by("onset", "created")
    return [(effect, session_before(session.patient, effect.onset, other_than=session)) for effect in effects]


# --- Engine values ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteEntry:
    """One site as entered on the screen: muscle, side, units and, for the map, where it was placed."""

    muscle: str
    side: str
    units: int | None
    follow_the_pain: bool = False
    view: str | None = None
    x: int | None = None
    y: int | None = None


def volume_ml(units: int) -> Decimal:
    """The volume holding ``units`` at the label concentration the engine uses (5 U per 0.1 mL)."""
    return Decimal(units) * VOLUME_PER_SITE_ML / UNITS_PER_0_1_ML


def engine_sites(entries: Sequence[SiteEntry]) -> tuple[InjectionSite, ...]:
    """The engine's sites for what was entered; raises ``PlanError`` listing every site it refuses."""
    sites: list[InjectionSite] = []
    problems: list[str] = []
    for entry in entries:
        if entry.units is None:
            continue
        try:
            sites.append(
                InjectionSite(
                    entry.muscle,
                    entry.side,
                    entry.units,
                    volume_ml(entry.units) if entry.units > 0 else VOLUME_PER_SITE_ML,
                    follow_the_pain=entry.follow_the_pain,
                )
            )
        except PlanError as error:
            problems.extend(error.problems)
    if problems:
        raise PlanError(*problems)
    return tuple(sites)


def other_toxin_doses(patient: Patient) -> list[ToxinDose]:
    treatments = OtherToxinTreatment.objects.filter(patient=patient).order_by("date")
    return [ToxinDose(t.date, t.product, t.units, t.indication) for t in treatments if t.units]


def safety_input_for(patient: Patient, *, on: dt.date) -> SafetyInput:
    """The safety-screen answers on the patient's record, with the day they were answered (the answers about the day
    of injection count only on it); other toxins count as asked once any is recorded."""
    others = [dose for dose in other_toxin_doses(patient) if dose.date <= on]
    asked = patient.other_toxin_asked or bool(others)
    return SafetyInput(
        answered_on=patient.safety_answered_on,
        birth_date=patient.birth_date,
        other_toxin_treatments=tuple(others) if asked else None,
        **{flag: getattr(patient, flag) for flag in SAFETY_FLAGS},
    )


def safety_ask_on_the_day(patient: Patient, *, on: dt.date) -> tuple[FindingCode, ...]:
    """The checklist questions about the day of injection (the engine's ``PER_VISIT_ITEMS``) to ask on ``on``: every
    one when the checklist was not answered that day (an old "no" does not count, an old "yes" is to be confirmed),
    else those left unanswered."""
    if patient.safety_answered_on != on:
        return PER_VISIT_ITEMS
    return tuple(code for code in PER_VISIT_ITEMS if getattr(patient, code.value) is None)


def patient_safety_screen(patient: Patient, *, on: dt.date) -> SafetyScreen:
    return safety_screen(safety_input_for(patient, on=on), on=on)


class CheckCode(enum.StrEnum):
    """The checks that block recording until overridden with a reason."""

    INTERVAL = "interval"
    CUMULATIVE_DOSE = "cumulative_dose"
    CONTRAINDICATION = "contraindication"
    SITE_DOSE = "site_dose"
    PRIOR_AUTHORISATION = "prior_authorisation"
    STOP_DECISION = "stop_decision"
    """A clinician's decision to stop treatment is the latest on record (shown only when it is)."""
    LABEL_NOT_MET = "label_not_met"
    """Before a first session, the BOTOX label criteria are not met (under 18, not chronic migraine, fewer than 15
    days a month with headache of 4 hours or more; shown only then; not enough data stays a warning)."""


CLINICIAN_OVERRIDES = frozenset(
    {
        CheckCode.CONTRAINDICATION,
        CheckCode.STOP_DECISION,
        CheckCode.LABEL_NOT_MET,
        CheckCode.INTERVAL,
        CheckCode.CUMULATIVE_DOSE,
    }
)
"""The checks only a user who may decide treatment (``patients.access.Capability.DECIDE_TREATMENT``: a clinician, not
a nurse) may override: giving BOTOX despite a contraindication (BOTOX US PI 4), against a decision to stop, outside
the label's indication (adults with chronic migraine), sooner than the label's retreatment schedule (every 12 weeks)
or past its cumulative dose (400 U in a 3-month interval: clinical-facts.md section 2, the engine's ``cycles``) is a
prescribing decision. The label's dose and sites (a fixed site not given because the patient fainted, another
dose at a site) and a missing prior authorisation are what happened or the payer's matter: whoever records may give
the reason."""

CHECK_TITLES = {
    CheckCode.INTERVAL: gettext_noop("{weeks}-week interval"),
    CheckCode.CUMULATIVE_DOSE: gettext_noop("cumulative dose ({limit} U in {months} months)"),
    CheckCode.CONTRAINDICATION: gettext_noop("safety screen contraindication"),
    CheckCode.SITE_DOSE: gettext_noop(
        "the label's dose and sites ({sites} fixed sites at {per_site} U, follow-the-pain within its limits)"
    ),
    CheckCode.PRIOR_AUTHORISATION: gettext_noop("prior authorisation"),
    CheckCode.STOP_DECISION: gettext_noop("decision to stop treatment"),
    CheckCode.LABEL_NOT_MET: gettext_noop("BOTOX label criteria before the first session"),
}
"""Each check's title, its numbers filled in from the engine's constants by ``check_title``."""


def interval_weeks() -> int:
    """The engine's retreatment interval (``RETREATMENT_INTERVAL_DAYS``) in whole weeks, as the screens name it."""
    return RETREATMENT_INTERVAL_DAYS // 7


def check_title(code: CheckCode) -> str:
    """A check's title in the active language, with the engine's interval, cumulative limit and label dose."""
    return gettext(CHECK_TITLES[code]).format(
        weeks=interval_weeks(),
        limit=CUMULATIVE_LIMIT_UNITS,
        months=CUMULATIVE_WINDOW_MONTHS,
        sites=FIXED_SITE_COUNT,
        per_site=UNITS_PER_SITE,
    )


def check_titles(codes: str) -> list[str]:
    """The titles of the checks stored comma-separated on a session (``overridden_checks``)."""
    known = {code.value: code for code in CheckCode}
    return [check_title(known[code]) for code in codes.split(",") if code in known]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One pre-recording check: passed or failed (``None`` when it could not run yet) and the engine's reasons."""

    code: CheckCode
    passed: bool | None
    reasons: tuple[str, ...]
    caution: bool = False
    """Passed, but with findings the clinician should weigh (safety-screen warnings or unanswered items)."""
    not_answered: str = ""
    """What the check shows instead of a result when the questions it rests on were not asked (``passed`` is None:
    neither passed nor failed, so recording needs no override)."""

    @property
    def title(self) -> str:
        return check_title(self.code)

    @property
    def failed(self) -> bool:
        return self.passed is False

    @property
    def tone(self) -> str:
        """The verdict style: ok, warn (not run yet, not answered, or passed with caution) or bad."""
        if self.passed is None or (self.passed and self.caution):
            return "warn"
        return "ok" if self.passed else "bad"


@dataclass(frozen=True, slots=True)
class SessionChecks:
    """The plan the engine built (or why it refused), and the checks recording must pass or override: five always,
    and ``eligibility`` (a decision to stop, the label criteria not met before a first session) when one fails."""

    plan: InjectionPlan | None
    plan_problems: tuple[str, ...]
    interval: CheckResult
    cumulative_dose: CheckResult
    contraindication: CheckResult
    site_dose: CheckResult
    prior_authorisation: CheckResult
    safety: SafetyScreen | None
    interval_checks: tuple[IntervalCheck, ...] = ()
    dose_check: DoseCheck | None = None
    warnings: tuple[SessionWarning, ...] = ()
    """What to weigh before injecting that blocks nothing (``session_warnings``); stored with a recorded session
    after the checks' reasons (``SessionChecks.warning_reasons``), apart from them."""
    patient: Patient | None = None
    """The patient screened (none before the day is known): the screen links to their checklist and says when it
    was answered."""
    safety_ask_today: tuple[FindingCode, ...] = ()
    """The questions about the day of injection (``PER_VISIT_ITEMS``) to ask on the session's day: all of them when
    the checklist was answered on another day (or a day not recorded), else those not answered
    (``safety_ask_on_the_day``)."""
    eligibility: tuple[CheckResult, ...] = ()
    """The failed checks taken from the pathway (``eligibility_checks``): a decision to stop, the label not met."""

    @property
    def checks(self) -> tuple[CheckResult, ...]:
        return (
            self.interval,
            self.cumulative_dose,
            self.contraindication,
            self.site_dose,
            self.prior_authorisation,
            *self.eligibility,
        )

    @property
    def clinician_only(self) -> tuple[CheckResult, ...]:
        """The failing checks only a user who may decide treatment may override (``CLINICIAN_OVERRIDES``)."""
        return tuple(check for check in self.failing if check.code in CLINICIAN_OVERRIDES)

    @property
    def failing(self) -> tuple[CheckResult, ...]:
        return tuple(check for check in self.checks if check.failed)

    @property
    def failing_codes(self) -> tuple[str, ...]:
        return tuple(check.code.value for check in self.failing)

    @property
    def failing_digest(self) -> str:
        """A short digest of the failing checks and their reasons: the screen posts the one it showed beside an
        override reason, and recording refuses the reason when the checks failing then differ (another session
        recorded meanwhile, say), so a reason written for one failure never covers another unseen
        (``services.injection_session_record``'s ``checks_shown``). Empty when none fails."""
        if not self.failing:
            return ""
        lines = sorted(f"{check.code}: {reason}" for check in self.failing for reason in (check.reasons or ("",)))
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every check's reasons, prefixed with its code: what is stored with the recorded session."""
        lines = [f"{check.code}: {reason}" for check in self.checks for reason in check.reasons]
        return tuple(lines)

    @property
    def warning_reasons(self) -> tuple[str, ...]:
        """Every warning's reasons, prefixed with its code, each on one line (a clinician's reason for a decision
        may hold line breaks, and ``check_reasons`` holds one reason a line): stored after ``reasons`` with the
        recorded session, the warnings in force when it was recorded (``recorded_checks``)."""
        return tuple(
            f"{warning.code}: {' '.join(reason.split())}" for warning in self.warnings for reason in warning.reasons
        )

    @property
    def safety_ask_today_questions(self) -> list[str]:
        """The questions of ``safety_ask_today`` as the checklist form words them (its fields' labels)."""
        return [str(Patient._meta.get_field(code.value).verbose_name) for code in self.safety_ask_today]

    @property
    def safety_unknown(self) -> tuple[SafetyFinding, ...]:
        """The safety-screen questions not yet answered on the patient's record."""
        if self.safety is None:
            return ()
        return tuple(finding for finding in self.safety.findings if finding.kind is FindingKind.UNKNOWN)


def cycle_check_results(
    day: dt.date,
    units: int | None,
    *,
    sessions: Iterable[tuple[dt.date, int | None]],
    other_doses: Iterable[ToxinDose],
) -> tuple[CheckResult, CheckResult, SessionCycleChecks]:
    """The 12-week and cumulative-dose checks of a session of ``units`` on ``day``, as the session screen shows and
    the recording service enforces them: the engine's ``session_cycle_checks`` against ``sessions`` (the patient's
    other recorded sessions, day and units) and ``other_doses`` (their other botulinum toxin treatments).

    Reads nothing: ``session_checks`` passes what the database holds, an import the history as its file leaves it
    (``interop.services._session_check_failures``), so both ask the one rule. Without units the dose check has not
    run (``NO_UNITS``)."""
    cycle = session_cycle_checks(day, units, product=BOTOX_PRODUCT, sessions=sessions, other_doses=other_doses)
    interval = CheckResult(CheckCode.INTERVAL, cycle.interval_allowed, cycle.interval_reasons)
    if cycle.dose is None:
        return interval, CheckResult(CheckCode.CUMULATIVE_DOSE, None, (gettext(NO_UNITS),)), cycle
    return interval, CheckResult(CheckCode.CUMULATIVE_DOSE, cycle.dose_allowed, cycle.dose_reasons), cycle


def session_checks(
    *,
    patient: Patient,
    date: dt.date | None,
    sites: Sequence[SiteEntry],
    vial_units: int | None,
    exclude: InjectionSession | None = None,
) -> SessionChecks:
    """Build the plan with the engine and run the 12-week, cumulative-dose, safety, dose-per-site and
    prior-authorisation checks for a session.

    ``exclude`` is the session being recorded (a booking), left out of the patient's history. The 12-week rule is
    checked against the recorded sessions before and after ``date``, and fails on the day of another session
    already recorded (``SESSION_ALREADY_ON_DAY``: recording refuses that day); the cumulative dose counts recorded
    sessions and other toxin treatments (BOTOX PI, 400 U in 3 months); the safety screen runs on ``date``, and
    while a contraindication question is unanswered the check is "not answered" rather than passed; the prior
    authorisation is ``coverage.selectors.approval_on`` on ``date`` (``_prior_authorisation_result``). ``warnings``
    (``session_warnings``) block nothing and are not among ``reasons`` (recording stores them after, as
    ``warning_reasons``). Nothing here refuses: the caller
    decides what a failed check means.
    """
    try:
        plan = plan_from_sites(engine_sites(sites), vial_units=vial_units if vial_units is not None else 0)
        problems: tuple[str, ...] = ()
    except PlanError as error:
        plan, problems = None, error.problems
    units = plan.total_units if plan else sum(entry.units or 0 for entry in sites if (entry.units or 0) > 0)
    site_dose = _site_dose_result(plan)
    before_birth = patient.predates_birth(date)
    if date is None or before_birth:
        waiting = (
            gettext(BEFORE_BIRTH).format(date=date, birth=patient.birth_date)
            if before_birth
            else gettext(NO_DATE).format(weeks=interval_weeks()),
        )
        return SessionChecks(
            plan,
            problems,
            CheckResult(CheckCode.INTERVAL, None, waiting),
            CheckResult(CheckCode.CUMULATIVE_DOSE, None, waiting),
            CheckResult(CheckCode.CONTRAINDICATION, None, waiting),
            site_dose,
            CheckResult(CheckCode.PRIOR_AUTHORISATION, None, waiting),
            None,
        )
    recorded = recorded_sessions(patient)
    if exclude is not None and exclude.pk is not None:
        recorded = recorded.exclude(pk=exclude.pk)
    history = list(recorded.values_list("date", "total_units"))
    interval, dose, cycle = cycle_check_results(date, units, sessions=history, other_doses=other_toxin_doses(patient))
    if any(day == date for day, _units in history):  # the engine passes over a session on the day itself
        interval = CheckResult(CheckCode.INTERVAL, False, (gettext(SESSION_ALREADY_ON_DAY).format(date=date),))
    screen = patient_safety_screen(patient, on=date)
    warnings, eligibility = eligibility_checks(session_warnings(patient, day=date))
    return SessionChecks(
        plan,
        problems,
        interval,
        dose,
        _contraindication_result(screen),
        site_dose,
        _prior_authorisation_result(patient, date),
        screen,
        cycle.intervals,
        cycle.dose,
        warnings,
        patient,
        safety_ask_on_the_day(patient, on=date),
        eligibility,
    )


def eligibility_checks(
    warnings: Sequence[SessionWarning],
) -> tuple[tuple[SessionWarning, ...], tuple[CheckResult, ...]]:
    """The warnings that stay warnings, and those that become failed checks asking for an override reason: a
    clinician's decision to stop on record (ADR 0004: recording is not refused, but a session given against it says
    why) and, before a first session, the BOTOX label criteria not met (the label's indication is adults with chronic
    migraine: BOTOX US PI 1). Not enough data to judge the label, a chronic-migraine verdict other than yes (the label
    check carries it when it fails) and NICE TA260's suggestion stay warnings: they block nothing."""
    kept, failed = [], []
    for warning in warnings:
        # each reason on one line, as ``warning_reasons`` stores them: a clinician's reason may hold line breaks
        reasons = tuple(" ".join(reason.split()) for reason in warning.reasons)
        if warning.code is WarningCode.TREATMENT_STOPPED:
            failed.append(CheckResult(CheckCode.STOP_DECISION, False, reasons))
        elif warning.code is WarningCode.LABEL_CRITERIA and warning.verdict == LabelCriteria.NOT_MET:
            failed.append(CheckResult(CheckCode.LABEL_NOT_MET, False, reasons))
        else:
            kept.append(warning)
    return tuple(kept), tuple(failed)


CONTRAINDICATION_QUESTIONS = {
    FindingCode.INJECTION_SITE_INFECTION: _("injection-site infection"),
    FindingCode.HYPERSENSITIVITY: _("hypersensitivity"),
}
"""How the check names the safety screen's contraindication questions. Which questions those are is the engine's
``CONTRAINDICATION_ITEMS`` (BOTOX US PI 4); a test keeps this mapping naming every one of them."""


def _contraindication_question(code: FindingCode) -> str:
    """The check's name for a contraindication question; the item's own words should the mapping above miss it."""
    name = CONTRAINDICATION_QUESTIONS.get(code)
    return str(name) if name is not None else code.value.replace("_", " ")


def contraindication_check(patient: Patient, *, on: dt.date) -> CheckResult:
    """The safety screen's contraindication check on ``on``, as the session screen runs it (``session_checks``)."""
    return _contraindication_result(patient_safety_screen(patient, on=on))


def _contraindication_result(screen: SafetyScreen) -> CheckResult:
    """The safety screen as a check: failed on a contraindication; "not answered" (neither passed nor failed, so
    no override is needed) while a contraindication question was never answered; else passed, with caution unless
    the screen is clear. The not-answered line leads the stored reasons, with the label section it comes from."""
    contraindicated = screen.verdict is SafetyVerdict.CONTRAINDICATED
    unasked = [
        finding
        for finding in screen.findings
        if finding.kind is FindingKind.UNKNOWN and finding.code in CONTRAINDICATION_ITEMS
    ]
    if unasked and not contraindicated:
        questions = ", ".join(_contraindication_question(finding.code) for finding in unasked)
        headline = gettext(CONTRAINDICATION_NOT_ANSWERED).format(questions=questions)
        reasons = (f"{headline} ({unasked[0].source})", *screen.reasons)
        return CheckResult(CheckCode.CONTRAINDICATION, None, reasons, caution=True, not_answered=headline)
    return CheckResult(
        CheckCode.CONTRAINDICATION,
        not contraindicated,
        screen.reasons,
        caution=screen.verdict is not SafetyVerdict.CLEAR,
    )


def _site_dose_result(plan: InjectionPlan | None) -> CheckResult:
    """The engine's departures from the label's dose per site (``label_dose_departures``): recorded as given, but
    only with an override reason, like the other checks."""
    if plan is None:
        return CheckResult(CheckCode.SITE_DOSE, None, (gettext(NO_PLAN),))
    departures = label_dose_departures(plan)
    if departures:
        return CheckResult(CheckCode.SITE_DOSE, False, departures)
    return CheckResult(CheckCode.SITE_DOSE, True, (gettext(LABEL_DOSES).format(per_site=UNITS_PER_SITE),))


def _prior_authorisation_result(patient: Patient, day: dt.date) -> CheckResult:
    """Whether a prior authorisation covers ``day`` (``coverage.selectors.approval_on``, the coverage page's rule)
    as a check: failed when the patient's payer asks for one at the clinic's site of service (a commercial policy
    anywhere, Medicare in a hospital outpatient department) and none is in force on ``day``, naming the denial, the
    end, the start to come, the request awaiting the payer or "no request"; passed with the approval in force, or
    under a policy that asks for none there (NICE TA260, the label, a consensus statement anywhere; Medicare in a
    physician's office), saying why; "not answered" (neither passed nor failed, so no override is needed, as an
    unasked safety question) without insurance recorded or with a policy no longer shipped: the payer's rule is not
    known.

    Decision support: a failed check asks for an override reason (the patient funds it, an appeal is under way); the
    clinician decides. The imports do not ask it (``interop.services._session_check_failures`` runs only
    ``cycle_check_results``): a session given in the past is restored under whatever approval held then, which the
    clinic may never have recorded here."""
    # coverage.selectors reads this module (the plan of a session), so it is imported when called.
    from onaboard.web.coverage.selectors import ApprovalNeed, approval_on

    found = approval_on(patient, day)
    if found.need is ApprovalNeed.NOT_KNOWN:
        return CheckResult(
            CheckCode.PRIOR_AUTHORISATION, None, (found.reason,), caution=True, not_answered=found.reason
        )
    return CheckResult(CheckCode.PRIOR_AUTHORISATION, not found.missing, (found.reason,))


# --- What to weigh before injecting ------------------------------------------------------------------------------


class WarningCode(enum.StrEnum):
    """What the session screen shows beside the checks without blocking recording."""

    CHRONIC_MIGRAINE = "chronic_migraine"
    LABEL_CRITERIA = "label_criteria"
    TREATMENT_STOPPED = "treatment_stopped"
    NICE_TA260 = "nice_ta260"
    SIDE_EFFECTS = "side_effects"


WARNING_TITLES = {
    WarningCode.CHRONIC_MIGRAINE: _("chronic migraine (ICHD-3 1.3) before the first session"),
    WarningCode.LABEL_CRITERIA: _("BOTOX label criteria before the first session"),
    WarningCode.TREATMENT_STOPPED: _("Continue or stop treatment"),
    WarningCode.NICE_TA260: _("NICE TA260 stopping rules"),
    WarningCode.SIDE_EFFECTS: _("side effects since the last session"),
}

WARNING_LABELS = {
    "no": _("no"),
    "insufficient_data": _("not enough data"),
    "not_met": _("not met"),
    "stop": _("stop suggested"),
    "stopped": _("treatment stopped"),
    "urgent": _("urgent"),
    "severe": _("severe"),
    "moderate": _("moderate"),
    "mild": _("mild"),
}
"""How each verdict value that raises a warning reads (the patient page's words for the engine's values)."""


@dataclass(frozen=True, slots=True)
class SessionWarning:
    """Something to weigh before injecting that does not block recording: what, the verdict and its reasons."""

    code: WarningCode
    verdict: str
    reasons: tuple[str, ...]
    tone: str = "warn"
    """The colour it is shown in (onaboard.css: warn; empty, neutral, for a stop a clinician's decision answered)."""

    @property
    def title(self) -> str:
        return str(WARNING_TITLES[self.code])

    @property
    def label(self) -> str:
        return str(WARNING_LABELS.get(self.verdict, self.verdict))


def session_warnings(patient: Patient, *, day: dt.date) -> tuple[SessionWarning, ...]:
    """What the session screen shows for a session on ``day`` beside the checks, none of it blocking recording.

    From the patient's pathway on ``day`` (``clinic.selectors.patient_pathway_state``, the patient page's own
    verdicts, computed once): before a first session, a chronic-migraine verdict (ICHD-3 1.3) other than yes and
    BOTOX label criteria not met; once treated, a clinician's decision to stop on record (on or before ``day``:
    who, when, why), and NICE TA260 suggesting to stop. A "continue" that answers that stop, by the pathway's rule
    (``outcomes.selectors.continue_answers_stop``), is named after the engine's reasons and the warning is shown
    without alarm; the engine's verdict stands. Then the side effects that started since the last session up to
    ``day`` (``notable_side_effects``). Each carries the engine's reasons."""
    # clinic.selectors reads this module (the side effects to review), so it is imported when called.
    from onaboard.web.clinic.selectors import CONTINUED_AGAINST_RULE, STOPPED_ON, patient_pathway_state

    pathway = patient_pathway_state(patient, day)
    decision = pathway.decision
    warnings = []
    if pathway.assessment is not None:
        chronic, label = pathway.assessment.chronic_migraine, pathway.assessment.label_criteria
        if chronic.verdict is not ChronicMigraine.YES:
            warnings.append(SessionWarning(WarningCode.CHRONIC_MIGRAINE, chronic.verdict.value, chronic.reasons))
        if label.verdict is not LabelCriteria.MET:
            warnings.append(SessionWarning(WarningCode.LABEL_CRITERIA, label.verdict.value, label.reasons))
    if decision is not None and decision.decision is Decision.STOP:
        warnings.append(SessionWarning(WarningCode.TREATMENT_STOPPED, "stopped", (decision.line(STOPPED_ON),)))
    if pathway.outcomes is not None and pathway.outcomes.nice_ta260.stop_suggested:
        nice = pathway.outcomes.nice_ta260
        if decision is not None and continue_answers_stop(pathway.outcomes, decision):
            answered = (*nice.reasons, decision.line(CONTINUED_AGAINST_RULE))
            warnings.append(SessionWarning(WarningCode.NICE_TA260, NiceTa260.STOP.value, answered, tone=""))
        else:
            warnings.append(SessionWarning(WarningCode.NICE_TA260, NiceTa260.STOP.value, nice.reasons))
    effects = notable_side_effects(patient, since=pathway.last_session, until=day)
    if effects:
        verdict = side_effects_verdict(effects)
        reasons = tuple(side_effect_reason(e) for e in effects)
        tone = "" if verdict == Severity.MILD else "warn"
        warnings.append(SessionWarning(WarningCode.SIDE_EFFECTS, verdict, reasons, tone=tone))
    return tuple(warnings)


def notable_side_effects(patient: Patient, *, since: dt.date | None, until: dt.date) -> list[SideEffect]:
    """The patient's side effects that started from ``since`` (the last session; any day when None) to ``until``,
    oldest first, that a clinician has not judged unrelated to treatment, whatever their grade: what the injector
    weighs before the next session (a drooping eyelid or neck weakness changes where and how much is injected:
    the label's warnings, clinical-facts.md 1.4), reviewed or not. "Not related" in a review by someone who may not
    decide treatment (a nurse's, ``_reviewed_by_non_clinician``) leaves it listed. One query."""
    found = SideEffect.objects.filter(patient=patient, onset__lte=until).filter(
        ~Q(related_to_treatment=False) | _reviewed_by_non_clinician()
    )
    if since is not None:
        found = found.filter(onset__gte=since)
    return list(found.order_by("onset", "created"))


def _effective_grade(effect: SideEffect) -> str:
    """The clinician's grade, or the patient's own until a clinician grades it."""
    return str(effect.clinician_grade or effect.severity)


def side_effects_verdict(effects: Sequence[SideEffect]) -> str:
    """How the session screen heads its side effects: "urgent" when any is (``URGENT_SIDE_EFFECTS``), else the most
    serious grade among them (``_effective_grade``)."""
    if any(effect.urgent for effect in effects):
        return "urgent"
    return max((_effective_grade(effect) for effect in effects), key=Severity.rank)


def side_effect_reason(effect: SideEffect) -> str:
    """One side effect as the session screen lists it: what, when, its grade and relation, and the urgent kind's
    label warning."""
    if effect.clinician_grade:
        reviewer, graded = effect.reviewed_by, effect.get_clinician_grade_display()
        if reviewer is not None:
            name = reviewer.get_full_name() or reviewer.username
            grade = gettext(SIDE_EFFECT_GRADED).format(grade=graded, name=name)
        else:
            grade = gettext(SIDE_EFFECT_GRADED_UNNAMED).format(grade=graded)
    else:
        grade = gettext(SIDE_EFFECT_REPORTED).format(severity=effect.get_severity_display())
    if effect.related_to_treatment is None:
        relation = gettext(SIDE_EFFECT_RELATION_UNKNOWN)
    elif effect.related_to_treatment:
        relation = gettext(SIDE_EFFECT_RELATED)
    else:  # listed only when a clinician has not judged it so (notable_side_effects)
        relation = gettext(SIDE_EFFECT_NOT_RELATED_UNCONFIRMED)
    reason = gettext(SIDE_EFFECT_REASON).format(
        kind=capfirst(effect.get_kind_display()),
        onset=effect.onset.isoformat(),
        grade=grade,
        relation=relation,
    )
    if effect.distant_spread:
        return f"{reason}: {gettext(SIDE_EFFECT_DISTANT_SPREAD)}"
    if effect.urgent:
        return f"{reason}: {gettext(SIDE_EFFECT_HYPERSENSITIVITY)}"
    return reason


# --- Recorded sessions as the engine and the map see them -------------------------------------------------------


def session_sites(session: InjectionSession) -> list[InjectionSiteRecord]:
    return list(session.sites.all())


def session_plan(session: InjectionSession) -> InjectionPlan | None:
    """The recorded sites as an engine plan (vials, discarded units, billing lines), or None before recording."""
    records = session_sites(session)
    if session.status != SessionStatus.RECORDED or not records:
        return None
    sites = engine_sites([SiteEntry(r.muscle, r.side, r.units, r.follow_the_pain) for r in records])
    return InjectionPlan(sites, session.vial_units)


def session_plan_or_none(session: InjectionSession) -> InjectionPlan | None:
    """``session_plan``, or None as well when the engine refuses the stored sites as a plan (``PlanError``: a
    session stored before a rule it breaks): documents and lists then fall back on the stored figures."""
    try:
        return session_plan(session)
    except PlanError:
        return None


FIXED_SPOT_NUMBERS: Mapping[tuple[str, str, sitemap.MapPoint], int] = {
    (muscle.value, side.value, point): index for (muscle, side, index), point in sitemap.FIXED_POSITIONS.items()
}
"""Each fixed site's drawing position, back to its number within its muscle and side."""


def session_map_sites(session: InjectionSession) -> list[sitemap.MapSite]:
    """The recorded sites for the map and the sites table, numbered per muscle and side: a fixed site by the spot it
    was drawn on (so a session that left "temporalis left 2" out shows 1, 3, 4, not 1, 2, 3), else in the order
    given."""
    fixed: Counter[tuple[str, str]] = Counter()
    extra: Counter[tuple[str, str]] = Counter()
    drawn = []
    for record in session_sites(session):
        counter = extra if record.follow_the_pain else fixed
        counter[record.muscle, record.side] += 1
        index = counter[record.muscle, record.side]
        point = (
            sitemap.MapPoint(sitemap.View(record.view), record.x, record.y)
            if record.x is not None and record.y is not None
            else None
        )
        if not record.follow_the_pain and point is not None:
            index = FIXED_SPOT_NUMBERS.get((record.muscle, record.side, point), index)
        key = (
            f"ftp-{record.muscle}-{record.side}-{index}"
            if record.follow_the_pain
            else sitemap.fixed_site_key(record.muscle, record.side, index)
        )
        drawn.append(
            sitemap.map_site(
                key=key,
                muscle=record.muscle,
                side=record.side,
                index=index,
                units=record.units,
                follow_the_pain=record.follow_the_pain,
                point=point,
            )
        )
    return drawn


def session_sites_not_given(session: InjectionSession, plan: InjectionPlan | None) -> list[sitemap.MapSite]:
    """The fixed PREEMPT sites ``session`` did not give (left out, or stored at 0 U), each on its drawing position at
    0 U (the engine's "not given") and numbered as ``session_map_sites`` numbers the sites given, in PREEMPT order;
    none for a session stored without its sites (``plan`` None: recorded elsewhere), which says no sites were
    recorded instead. The one rule for the session page's map and table and the procedure note
    (``coverage.documents.fixed_sites_not_given``), so the page and the PDF name the same sites."""
    if plan is None:
        return []
    given = {site.key for site in session_map_sites(session) if not site.follow_the_pain and site.units}
    return [
        sitemap.map_site(
            key=sitemap.fixed_site_key(muscle, side, index),
            muscle=muscle,
            side=side,
            index=index,
            units=0,
            follow_the_pain=False,
        )
        for muscle, side, index in sitemap.FIXED_POSITIONS
        if sitemap.fixed_site_key(muscle, side, index) not in given
    ]


def session_sites_shown(
    session: InjectionSession, plan: InjectionPlan | None
) -> tuple[list[sitemap.MapSite], list[sitemap.MapSite]]:
    """What the session page draws: the sites given (``session_map_sites``, a fixed site stored at 0 U left out) and
    the fixed sites not given (``session_sites_not_given``), each fixed site once."""
    not_given = session_sites_not_given(session, plan)
    missing = {site.key for site in not_given}
    given = [site for site in session_map_sites(session) if site.key not in missing]
    return given, not_given
