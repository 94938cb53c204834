"""The demo clinic: made-up staff and patients spread over the pathway states, every date relative to today.

Each diary comes from ``onaboard.synthetic`` (seeded, so the same every day), ends on today and is long enough for
the engine's real verdicts; sessions follow the PREEMPT plan with the engine's vials and wastage; a clinician's
decision to stop (``DemoPatient.stopped_ago``) is recorded through the outcomes service, with the engine's verdict of
that day, as the continue-or-stop page records one. The states are not set: the engine computes them from these
rows, and ``tests/web/clinic/test_demo.py`` checks that each patient lands where ``DemoPatient.expected`` says.
The names, record numbers and logins are synthetic.

Seeds were picked once per patient (the first seed from 1 up that gives the expected state with the verdicts its
story needs) and frozen; a change to the generator may need new ones (``find_seed`` does the search).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from onaboard.clinical import (
    ADULT_AGE_YEARS,
    DiaryDay,
    LabelCriteria,
    MedicationOveruse,
    NiceTa260,
    PatientDiary,
    assess,
    preempt_plan,
)
from onaboard.synthetic import Profile, synthetic_patient_days
from onaboard.web.accounts.models import Clinic, Role, SiteOfService, User
from onaboard.web.clinic.selectors import Pathway, PathwayState, pathway_state
from onaboard.web.diary.models import ACUTE_CLASS_ORDER, DiaryEntry
from onaboard.web.injections import sitemap
from onaboard.web.injections.models import (
    InjectionSession,
    InjectionSiteRecord,
    SessionStatus,
    Severity,
    SideEffect,
    SideEffectKind,
    SideEffectReview,
)
from onaboard.web.outcomes.models import (
    Decision,
    Instrument,
    QuestionnaireResponse,
    SupersededQuestionnaireResponse,
    TreatmentDecision,
)
from onaboard.web.outcomes.selectors import LatestDecision
from onaboard.web.outcomes.services import questionnaire_response_record, treatment_decision_record
from onaboard.web.patients.models import (
    SAFETY_FLAGS,
    OtherToxinTreatment,
    Patient,
    PreventiveClass,
    PreventiveTrial,
    Sex,
    StopReason,
)

CLINIC_NAME = "Demo Headache Clinic"
SITE_OF_SERVICE = SiteOfService.HOSPITAL_OUTPATIENT
"""The demo clinic is a hospital outpatient department, set on every load and reset: its Medicare patient (demo
patient 7, coverage.demo.DEMO_INSURANCE) is asked for prior authorisation there, as the coverage demo's approvals
show."""
PASSWORD = "onaboard-demo"  # noqa: S105 - the published demo password, printed by load_demo
RECORD_PREFIX = "DEMO-"
PRODUCT_LOT = "C9999C3"
"""A made-up lot number in the usual BOTOX format."""

PRE_TREATMENT_DAYS = 90
"""Diary days before a treated patient's first injection: three 28-day periods for the eligibility verdict."""

APPROVAL_DENIED_DAYS_AGO = 4
"""How long ago the payer denied the request of the patient whose story says so."""


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    role: Role
    first_name: str
    last_name: str
    superuser: bool = False


STAFF: tuple[DemoStaff, ...] = (
    DemoStaff("dr.demo", Role.CLINICIAN, "Dana", "Whitfield"),
    DemoStaff("nurse.demo", Role.NURSE, "Noel", "Brannigan"),
    DemoStaff("billing.demo", Role.BILLING, "Bea", "Lindqvist"),
    DemoStaff("admin.demo", Role.ADMIN, "Ari", "Castellan", superuser=True),
    DemoStaff("trainee.demo", Role.TRAINEE, "Tam", "Oyelaran"),
)


@dataclass(frozen=True, slots=True)
class DemoPatient:
    """One made-up patient and the story their rows tell. Days are counted back from (or forward to) today."""

    number: int
    given_name: str
    family_name: str
    sex: Sex
    age_years: int
    profile: Profile
    expected: PathwayState
    story: str
    seed: int
    diary_days: int = 0
    """Diary length ending today; for treated patients it is worked out from the first session."""
    completeness: float = 0.95
    sessions_ago: tuple[int, ...] = ()
    """Recorded sessions, in days before today, oldest first."""
    responder: bool = True
    booked_in: int | None = None
    """A booked session this many days from today."""
    approval_requested: bool = False
    """An initial prior-authorisation request waits for the payer's answer (written by the coverage demo)."""
    approval_denied: bool = False
    """The payer denied the initial prior-authorisation request ``APPROVAL_DENIED_DAYS_AGO`` days ago (written by the
    coverage demo)."""
    gap: tuple[int, int] | None = None
    """Days-ago range (from, to) with no diary rows: a holiday without the diary."""
    follow_the_pain: Mapping[str, int] = field(default_factory=dict)
    safety: Mapping[str, bool | None] | None = field(default_factory=dict)
    """Answers other than "no" (every question not listed is answered "no"); None leaves the whole screen unasked."""
    stopped_ago: int | None = None
    """The clinician (dr.demo, ``DECIDED_BY``) recorded a decision to stop treatment this many days ago."""
    stop_reason: str = ""
    """Why, as the clinician wrote it."""

    @property
    def username(self) -> str:
        return f"patient{self.number}.demo"

    @property
    def record_number(self) -> str:
        return f"{RECORD_PREFIX}{self.number:04d}"

    @property
    def synthetic_id(self) -> str:
        return f"demo-{self.number:02d}"

    @property
    def treated(self) -> bool:
        return bool(self.sessions_ago)

    def diary_length(self) -> int:
        if self.treated:
            return self.sessions_ago[0] + PRE_TREATMENT_DAYS + 1
        return self.diary_days


PATIENTS: tuple[DemoPatient, ...] = (
    DemoPatient(
        1, "Robin", "Ashdown", Sex.FEMALE, 34, Profile.CHRONIC, PathwayState.DIARY_RUNNING,
        "New referral: five weeks of diary, not enough complete periods yet.", seed=1, diary_days=38, safety=None,
    ),
    DemoPatient(
        2, "Casey", "Brightwater", Sex.MALE, 41, Profile.EPISODIC, PathwayState.NOT_ELIGIBLE,
        "Episodic migraine: too few headache days for chronic migraine.", seed=1, diary_days=112,
    ),
    DemoPatient(
        3, "Jamie", "Cole", Sex.FEMALE, 16, Profile.CHRONIC, PathwayState.NOT_ELIGIBLE,
        "Chronic migraine at 16: the label covers adults only.", seed=3, diary_days=112,
    ),
    DemoPatient(
        4, "Morgan", "Dale", Sex.FEMALE, 45, Profile.CHRONIC, PathwayState.ELIGIBLE,
        "Chronic migraine, label criteria met; takes a muscle relaxant (caution).", seed=2, diary_days=120,
        safety={"muscle_relaxant": True},
    ),
    DemoPatient(
        5, "Taylor", "Ellery", Sex.MALE, 52, Profile.CHRONIC_OVERUSE, PathwayState.AWAITING_APPROVAL,
        "Chronic migraine with medication overuse; label criteria met; the insurer has the request.", seed=1,
        diary_days=120, approval_requested=True,
    ),
    DemoPatient(
        6, "Riley", "Fairbanks", Sex.FEMALE, 29, Profile.CHRONIC, PathwayState.BOOKED,
        "Eligible; first session booked next week; breastfeeding not asked yet.", seed=3, diary_days=110,
        booked_in=6, safety={"breastfeeding": None, "pregnant": None},
    ),
    DemoPatient(
        7, "Sam", "Greaves", Sex.MALE, 38, Profile.CHRONIC, PathwayState.ON_TREATMENT,
        "First session a month ago; next one not due yet.", seed=2, sessions_ago=(30,),
    ),
    DemoPatient(
        8, "Alex", "Hartley", Sex.FEMALE, 47, Profile.CHRONIC, PathwayState.DUE,
        "Second session due this week; had neck pain after the first.", seed=1, sessions_ago=(88,),
    ),
    DemoPatient(
        9, "Drew", "Ingram", Sex.FEMALE, 55, Profile.CHRONIC, PathwayState.OVERDUE,
        "Missed the second session; had BOTOX Cosmetic elsewhere last month.", seed=2, sessions_ago=(100,),
        responder=False,
    ),
    DemoPatient(
        10, "Quinn", "Jessop", Sex.FEMALE, 43, Profile.CHRONIC, PathwayState.WEEK24_DUE,
        "Two cycles given and week 24 complete: assess the response; reported a drooping eyelid.", seed=2,
        sessions_ago=(170, 86), gap=(46, 34), follow_the_pain={"temporalis": 2},
    ),
    DemoPatient(
        11, "Avery", "Kingsley", Sex.MALE, 50, Profile.CHRONIC, PathwayState.TREATMENT_STOPPED,
        "Two cycles without a 30 % response at week 24: NICE TA260 suggested stopping, and at the review dr.demo "
        "and the patient decided to stop.", seed=1, sessions_ago=(175, 91), responder=False, stopped_ago=4,
        stop_reason=(
            "Week-24 review: little change in headache days after two cycles, and he notices no benefit. "
            "Discussed NICE TA260's stopping rule; he chose to stop botulinum toxin and try a CGRP monoclonal "
            "antibody instead. Letter to GP."
        ),
    ),
    DemoPatient(
        12, "Jordan", "Lowell", Sex.FEMALE, 39, Profile.CHRONIC, PathwayState.STOP_SUGGESTED,
        "Under 15 headache days for three periods running (NICE TA260 1.2: stop, then watch for relapse).",
        seed=1, sessions_ago=(120, 36),
    ),
    DemoPatient(
        13, "Emerson", "Marsh", Sex.FEMALE, 61, Profile.CHRONIC, PathwayState.ON_TREATMENT,
        "Continuing responder after the week-24 review; third cycle under way.", seed=2,
        sessions_ago=(250, 166, 82), gap=(75, 62), follow_the_pain={"temporalis": 2, "trapezius": 2},
    ),
    DemoPatient(
        14, "Parker", "Nash", Sex.MALE, 58, Profile.CHRONIC, PathwayState.APPROVAL_DENIED,
        "Chronic migraine, label criteria met; the insurer denied the first request: appeal or fund otherwise.",
        seed=29, diary_days=118, approval_denied=True,
    ),
)  # fmt: skip
"""The demo patients, one line of story each (shown by ``load_demo``)."""

DECIDED_BY = STAFF[0]
"""The clinician who records the demo's treatment decisions (dr.demo)."""


# --- Building the rows --------------------------------------------------------------------------------------------


def demo_diary(spec: DemoPatient, today: dt.date, *, seed: int | None = None) -> tuple[DiaryDay, ...]:
    """The patient's synthetic diary ending on ``today`` (with the holiday gap, if any)."""
    length = spec.diary_length()
    start = today - dt.timedelta(days=length - 1)
    first_injection = today - dt.timedelta(days=spec.sessions_ago[0]) if spec.treated else None
    days = synthetic_patient_days(
        spec.synthetic_id,
        start=start,
        days=length,
        profile=spec.profile,
        seed=spec.seed if seed is None else seed,
        first_injection=first_injection,
        responder=spec.responder,
        completeness=spec.completeness,
    )
    if spec.gap is None:
        return days
    gap_from, gap_to = (today - dt.timedelta(days=ago) for ago in spec.gap)
    return tuple(day for day in days if not gap_from <= day.date <= gap_to)


def birth_date_for(spec: DemoPatient, today: dt.date) -> dt.date:
    """A birth date giving ``age_years`` today (birthday 100 + number days ago, so ages never change overnight)."""
    anchor = today - dt.timedelta(days=100 + spec.number)
    try:
        return anchor.replace(year=anchor.year - spec.age_years)
    except ValueError:  # 29 February in a common year
        return anchor.replace(year=anchor.year - spec.age_years, day=28)


def session_dates(spec: DemoPatient, today: dt.date) -> tuple[dt.date, ...]:
    return tuple(today - dt.timedelta(days=ago) for ago in spec.sessions_ago)


def stop_decision(spec: DemoPatient, today: dt.date) -> LatestDecision | None:
    """The decision to stop the patient's story records (``stopped_ago``), as the pathway reads it; None without."""
    if spec.stopped_ago is None:
        return None
    name = f"{DECIDED_BY.first_name} {DECIDED_BY.last_name}"
    return LatestDecision(Decision.STOP, today - dt.timedelta(days=spec.stopped_ago), name, spec.stop_reason)


def demo_pathway(spec: DemoPatient, today: dt.date, *, seed: int | None = None, on: dt.date | None = None) -> Pathway:
    """The engine's pathway state for the patient's rows built for ``today``, without the database (used to pick and
    check seeds); ``on`` an earlier day, the state the same rows gave then (rows after it unseen)."""
    days = demo_diary(spec, today, seed=seed)
    booked = (today + dt.timedelta(days=spec.booked_in),) if spec.booked_in is not None else ()
    return pathway_state(
        diary=PatientDiary(spec.synthetic_id, days),
        birth_date=birth_date_for(spec, today),
        recorded=session_dates(spec, today),
        booked=booked,
        today=today if on is None else on,
        approval_pending=spec.approval_requested,
        approval_denied_on=today - dt.timedelta(days=APPROVAL_DENIED_DAYS_AGO) if spec.approval_denied else None,
        decision=stop_decision(spec, today),
    )


def story_holds(spec: DemoPatient, today: dt.date, *, seed: int | None = None) -> bool:
    """Whether the rows give the expected state, eligibility before any treatment, and the story's verdicts."""
    pathway = demo_pathway(spec, today, seed=seed)
    if pathway.state is not spec.expected:
        return False
    days = demo_diary(spec, today, seed=seed)
    diary = PatientDiary(spec.synthetic_id, days)
    birth = birth_date_for(spec, today)
    if spec.treated:
        first = session_dates(spec, today)[0]
        before = assess(diary, as_of=first - dt.timedelta(days=1), birth_date=birth)
        if before.label_criteria.verdict is not LabelCriteria.MET:
            return False
    booked_eligible = assess(diary, as_of=today, birth_date=birth).label_criteria.verdict is LabelCriteria.MET
    if spec.booked_in is not None and not booked_eligible:
        return False
    if spec.age_years < ADULT_AGE_YEARS:
        # The story is the label's age limit: chronic migraine established, age the only unmet criterion.
        label = assess(diary, as_of=today, birth_date=birth).label_criteria
        if len(label.reasons) != 1 or "8.4" not in label.reasons[0]:
            return False
    if spec.profile is Profile.CHRONIC_OVERUSE:
        overuse = assess(diary, as_of=today, birth_date=birth).medication_overuse.verdict
        if overuse is not MedicationOveruse.SUSPECTED:
            return False
    if spec.expected in {PathwayState.STOP_SUGGESTED, PathwayState.TREATMENT_STOPPED} and pathway.outcomes is not None:
        # Stop suggested by the rule the story names; a stop decided on the engine's "stop" (of that day too).
        nice = pathway.outcomes.nice_ta260
        if nice.reverted_to_episodic == (not spec.responder):
            return False
        if spec.stopped_ago is not None:
            decided = demo_pathway(spec, today, seed=seed, on=today - dt.timedelta(days=spec.stopped_ago))
            outcomes = (pathway.outcomes, decided.outcomes)
            if any(seen is None or seen.nice_ta260.verdict is not NiceTa260.STOP for seen in outcomes):
                return False
    return True


def find_seed(spec: DemoPatient, today: dt.date, *, tries: int = 500) -> int | None:
    """The first seed from 1 up whose rows tell ``spec``'s story (for refreezing seeds after a generator change)."""
    return next((seed for seed in range(1, tries + 1) if story_holds(spec, today, seed=seed)), None)


def diary_entry_of(patient: Patient, day: DiaryDay) -> DiaryEntry:
    """An unsaved diary row holding the engine's day (for bulk creation)."""
    return DiaryEntry(
        patient=patient,
        date=day.date,
        headache_hours=day.headache_hours,
        intensity=day.intensity.value if day.intensity else "",
        unilateral=day.unilateral,
        pulsating=day.pulsating,
        worse_with_activity=day.worse_with_activity,
        nausea=day.nausea,
        vomiting=day.vomiting,
        photophobia=day.photophobia,
        phonophobia=day.phonophobia,
        aura=day.aura,
        acute_medication=";".join(c for c in ACUTE_CLASS_ORDER if c in day.acute_medication),
        acute_relief=day.acute_relief,
        believed_migraine=day.believed_migraine,
        notes=day.notes,
    )


def record_preempt_session(
    patient: Patient,
    day: dt.date,
    *,
    injector: User | None,
    follow_the_pain: Mapping[str, int] | None = None,
    today: dt.date,
) -> InjectionSession:
    """A recorded session with the PREEMPT plan's sites drawn on the map, and the engine's vials and wastage."""
    plan = preempt_plan(follow_the_pain=dict(follow_the_pain or {}), vial_units=200)
    session = InjectionSession.objects.create(
        patient=patient,
        date=day,
        status=SessionStatus.RECORDED,
        vial_units=plan.vial_units,
        vials_used=plan.vials,
        total_units=plan.total_units,
        discarded_units=plan.discarded_units,
        product_lot=PRODUCT_LOT,
        product_expiry=today + dt.timedelta(days=300),
        injector=injector,
    )
    InjectionSiteRecord.objects.bulk_create(
        InjectionSiteRecord(
            session=session,
            muscle=site.muscle.value,
            side=site.side.value,
            units=site.units,
            follow_the_pain=site.follow_the_pain,
            view=site.view.value,
            x=site.x,
            y=site.y,
        )
        for site in sitemap.plan_map_sites(plan)
    )
    return session


HIT6_BEFORE = ("always", "very_often", "very_often", "always", "sometimes", "very_often")
HIT6_RESPONDING = ("sometimes", "sometimes", "rarely", "sometimes", "rarely", "sometimes")
HIT6_NOT_RESPONDING = ("very_often", "very_often", "sometimes", "always", "sometimes", "very_often")
MIDAS_BEFORE: Mapping[str, int] = {"q1": 9, "q2": 7, "q3": 6, "q4": 5, "q5": 12, "a": 55, "b": 7}


def _questionnaires(patient: Patient, spec: DemoPatient, today: dt.date) -> None:
    """A HIT-6 and a MIDAS before treatment, and a HIT-6 at each later session, entered by the patient."""
    if spec.expected is PathwayState.DIARY_RUNNING:
        return
    sessions = session_dates(spec, today)
    before = (sessions[0] if sessions else today) - dt.timedelta(days=7)
    follow_up = HIT6_RESPONDING if spec.responder else HIT6_NOT_RESPONDING
    answered: list[tuple[Instrument, Any, dt.date]] = [
        (Instrument.MIDAS, MIDAS_BEFORE, before),
        (Instrument.HIT6, HIT6_BEFORE, before),
        *((Instrument.HIT6, follow_up, later) for later in sessions[1:]),
    ]
    for instrument, answers, day in answered:
        questionnaire_response_record(
            user=patient.user, patient=patient, instrument=instrument, answers=answers, date=day, today=today
        )


PREVENTIVES: tuple[tuple[str, PreventiveClass, str, int, int | None, StopReason], ...] = (
    ("propranolol", PreventiveClass.BETA_BLOCKER, "80 mg daily", 900, 780, StopReason.INEFFECTIVE),
    ("topiramate", PreventiveClass.ANTICONVULSANT, "50 mg twice daily", 740, 690, StopReason.NOT_TOLERATED),
    ("amitriptyline", PreventiveClass.TRICYCLIC, "25 mg at night", 640, 500, StopReason.INEFFECTIVE),
    ("candesartan", PreventiveClass.ARB_ACE, "16 mg daily", 460, None, StopReason.ONGOING),
)
"""Drug, class, dose, start and stop (days before the first session or today), why stopped."""

CGRP_ANTIBODY_TRIED = frozenset({6})
"""The patients who also tried a CGRP monoclonal antibody, stopped as ineffective before BOTOX: patient 6's insurance
(us-commercial-c in ``coverage.demo``) approves BOTOX only after one, and she is booked on its approval."""
CGRP_ANTIBODY = ("erenumab", PreventiveClass.CGRP_MAB, "140 mg monthly", 300, 120, StopReason.INEFFECTIVE)


def _preventives(patient: Patient, spec: DemoPatient, today: dt.date) -> None:
    count = 1 if spec.expected in {PathwayState.DIARY_RUNNING, PathwayState.NOT_ELIGIBLE} else len(PREVENTIVES)
    anchor = session_dates(spec, today)[0] if spec.treated else today
    PreventiveTrial.objects.bulk_create(
        PreventiveTrial(
            patient=patient,
            drug=drug,
            drug_class=drug_class,
            dose=dose,
            start=anchor - dt.timedelta(days=start),
            stop=anchor - dt.timedelta(days=stop) if stop is not None else None,
            stop_reason=reason,
        )
        for drug, drug_class, dose, start, stop, reason in (
            *PREVENTIVES[:count],
            *((CGRP_ANTIBODY,) if spec.number in CGRP_ANTIBODY_TRIED else ()),
        )
    )


def _side_effects(patient: Patient, spec: DemoPatient, sessions: list[InjectionSession], reviewer: User) -> None:
    """Neck pain after the first session (reviewed) for patient 8, a drooping eyelid not yet reviewed for 10."""
    if not sessions:
        return
    now = timezone.now()
    if spec.number == 8:
        reviewed = SideEffect.objects.create(
            patient=patient,
            session=sessions[0],
            kind=SideEffectKind.NECK_PAIN,
            description="Stiff and sore neck for about a week after the injections.",
            onset=sessions[0].date + dt.timedelta(days=2),
            severity=Severity.MILD,
            reported_by=patient.user,
            clinician_grade=Severity.MILD,
            related_to_treatment=True,
            reviewed_by=reviewer,
            reviewed_at=now,
        )
        SideEffectReview.objects.create(  # every review is kept (services.side_effect_review)
            side_effect=reviewed,
            grade=Severity.MILD,
            related_to_treatment=True,
            session=sessions[0],
            reviewed_by=reviewer,
            reviewed_at=now,
        )
    if spec.number == 10:
        SideEffect.objects.create(
            patient=patient,
            session=sessions[-1],
            kind=SideEffectKind.EYELID_PTOSIS,
            description="Left upper eyelid droops by the evening.",
            onset=sessions[-1].date + dt.timedelta(days=9),
            severity=Severity.MODERATE,
            reported_by=patient.user,
        )


def _safety_answers(spec: DemoPatient, *, today: dt.date, nurse: User) -> dict[str, Any]:
    """The demo patient's checklist: none asked, or every item answered (no, but for the story's yes) by the nurse
    today, the day the demo is loaded, so today's screens count the answers about the day of injection."""
    if spec.safety is None:
        return dict.fromkeys(SAFETY_FLAGS) | {"other_toxin_asked": False}
    answered = {"other_toxin_asked": True, "safety_answered_on": today, "safety_answered_by": nurse}
    return dict.fromkeys(SAFETY_FLAGS, False) | dict(spec.safety) | answered


def _user(
    username: str, *, role: Role, clinic: Clinic, first: str, last: str, password: str, superuser: bool = False
) -> User:
    """Create or reset a demo login; ``password`` is the already hashed demo password (hashed once: Argon2 is slow)."""
    user, _created = User.objects.get_or_create(username=username, defaults={"role": role})
    user.role = role
    user.clinic = clinic
    user.first_name = first
    user.last_name = last
    user.is_active = True
    user.is_staff = superuser
    user.is_superuser = superuser
    user.failed_logins = 0
    user.locked_until = None
    user.password = password
    user.save()
    return user


def _create_patient(
    spec: DemoPatient, *, clinic: Clinic, staff: Mapping[str, User], today: dt.date, password: str
) -> Patient:
    login = _user(
        spec.username,
        role=Role.PATIENT,
        clinic=clinic,
        first=spec.given_name,
        last=spec.family_name,
        password=password,
    )
    patient = Patient.objects.create(
        clinic=clinic,
        user=login,
        record_number=spec.record_number,
        given_name=spec.given_name,
        family_name=spec.family_name,
        birth_date=birth_date_for(spec, today),
        sex=spec.sex,
        **_safety_answers(spec, today=today, nurse=staff["nurse.demo"]),
    )
    DiaryEntry.objects.bulk_create(diary_entry_of(patient, day) for day in demo_diary(spec, today))
    # Entered by the patient before the sessions are recorded, as they were: once the first session is recorded a
    # patient no longer dates answers before it (diary.services.before_treatment_problem).
    _questionnaires(patient, spec, today)
    injectors = (staff["dr.demo"], staff["nurse.demo"])
    sessions = [
        record_preempt_session(
            patient, day, injector=injectors[i % 2], follow_the_pain=spec.follow_the_pain, today=today
        )
        for i, day in enumerate(session_dates(spec, today))
    ]
    if spec.booked_in is not None:
        InjectionSession.objects.create(
            patient=patient, date=today + dt.timedelta(days=spec.booked_in), status=SessionStatus.BOOKED
        )
    if spec.number == 9:
        OtherToxinTreatment.objects.create(
            patient=patient,
            date=today - dt.timedelta(days=40),
            product="BOTOX Cosmetic",
            units=20,
            indication="glabellar lines",
        )
    _preventives(patient, spec, today)
    _side_effects(patient, spec, sessions, staff["dr.demo"])
    if spec.stopped_ago is not None:
        treatment_decision_record(
            user=staff[DECIDED_BY.username],
            patient=patient,
            decision=Decision.STOP,
            reason=spec.stop_reason,
            decided_on=today - dt.timedelta(days=spec.stopped_ago),
            today=today,
        )
    return patient


# --- The clinic ---------------------------------------------------------------------------------------------------


def demo_clinic() -> Clinic | None:
    return Clinic.objects.filter(name=CLINIC_NAME).first()


def demo_built_on(clinic: Clinic) -> dt.date | None:
    """The day the demo was built for: its last diary day."""
    return DiaryEntry.objects.filter(patient__clinic=clinic).order_by("-date").values_list("date", flat=True).first()


def _remove_clinical_rows(clinic: Clinic) -> None:
    """Delete the demo clinic's patients and their records (demo data only: clinical records are otherwise kept).

    Staff and portal logins stay, so the audit trail keeps pointing at them.
    """
    patients = Patient.objects.filter(clinic=clinic)
    TreatmentDecision.objects.filter(patient__in=patients).delete()
    SideEffect.objects.filter(patient__in=patients).delete()
    InjectionSession.objects.filter(patient__in=patients).delete()
    QuestionnaireResponse.objects.filter(patient__in=patients).delete()
    SupersededQuestionnaireResponse.objects.filter(patient__in=patients).delete()
    DiaryEntry.objects.filter(patient__in=patients).delete()
    OtherToxinTreatment.objects.filter(patient__in=patients).delete()
    PreventiveTrial.objects.filter(patient__in=patients).delete()
    patients.delete()


@dataclass(frozen=True, slots=True)
class DemoResult:
    clinic: Clinic
    created: bool
    built_on: dt.date | None


def demo_clinic_load(
    *, today: dt.date, reset: bool = False, progress: Callable[[str], None] | None = None
) -> DemoResult:
    """Create the demo clinic for ``today``; if it exists, leave it as it is unless ``reset`` rebuilds it.

    Idempotent: running it twice creates nothing the second time. Everything happens in one transaction.
    """
    # The coverage and training demos build on this module's patients and staff, so they import it, not the reverse.
    from onaboard.web.coverage.demo import coverage_demo_load
    from onaboard.web.training.demo import demo_training_load

    say = progress or (lambda _message: None)
    with transaction.atomic():
        clinic = demo_clinic()
        if clinic is not None and not reset:
            return DemoResult(clinic, created=False, built_on=demo_built_on(clinic))
        if clinic is None:
            clinic = Clinic.objects.create(name=CLINIC_NAME, site_of_service=SITE_OF_SERVICE)
        else:
            _remove_clinical_rows(clinic)
            clinic.site_of_service = SITE_OF_SERVICE
            clinic.save(update_fields=["site_of_service", "modified"])
        password = make_password(PASSWORD)
        staff = {
            member.username: _user(
                member.username,
                role=member.role,
                clinic=clinic,
                first=member.first_name,
                last=member.last_name,
                superuser=member.superuser,
                password=password,
            )
            for member in STAFF
        }
        for spec in PATIENTS:
            _create_patient(spec, clinic=clinic, staff=staff, today=today, password=password)
            say(f"{spec.record_number} {spec.given_name} {spec.family_name}: {spec.expected.label}")
        coverage_demo_load(clinic, today=today)
        say("prices, insurance and prior authorisations")
        demo_training_load(clinic=clinic, trainer=staff["dr.demo"], trainee=staff["trainee.demo"], today=today)
        say("live training sessions and a trainee's progress")
    return DemoResult(clinic, created=True, built_on=today)


def demo_logins() -> Iterable[tuple[str, str, str]]:
    """(username, role, who) for every demo login, staff first."""
    for member in STAFF:
        yield member.username, str(member.role.label), f"{member.first_name} {member.last_name}"
    for spec in PATIENTS:
        yield spec.username, str(Role.PATIENT.label), f"{spec.given_name} {spec.family_name} ({spec.expected.label})"
