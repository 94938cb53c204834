"""Reading a patient's record for the clinician's page and the billing page.

Callers reach the patient through ``access.patient_for`` first; these functions take the patient it returned, call
the engine for every verdict (eligibility, outcomes, schedule, safety screen, questionnaire scores) and record the
read in the audit trail. Nothing here decides a clinical question itself.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from onaboard.clinical import (
    HIT6_MAX_TOTAL,
    HIT6_MIN_TOTAL,
    HIT6_SEVERE_MIN,
    HIT6_SOME_MIN,
    HIT6_SUBSTANTIAL_MIN,
    MIDAS_GRADE_II_MIN,
    MIDAS_GRADE_III_MIN,
    MIDAS_GRADE_IV_MIN,
    Assessment,
    BillingLine,
    FindingKind,
    InjectionPlan,
    Outcomes,
    SafetyFinding,
    SafetyScreen,
    ScheduleStatus,
    age_in_years,
    assess,
    eligibility_day,
)
from onaboard.web.accounts.models import Clinic
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.clinic.selectors import Pathway, patient_pathway_state
from onaboard.web.common.charts import (
    HeadacheDaysChart,
    ScorePoint,
    ScoreTrendChart,
    SessionMark,
    headache_days_chart,
    score_trend_chart,
)
from onaboard.web.diary.models import DiaryEntry
from onaboard.web.diary.selectors import chart_periods, patient_diary
from onaboard.web.injections.models import InjectionSession, SessionStatus, SideEffect
from onaboard.web.injections.selectors import (
    BOTOX_PRODUCT,
    patient_safety_screen,
    session_plan_or_none,
    sessions_for,
)
from onaboard.web.outcomes.models import Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import (
    Hit6ChangeForStaff,
    baseline_and_latest,
    baseline_for_staff,
    hit6_change_from_baseline,
)
from onaboard.web.patients.access import Capability
from onaboard.web.patients.models import OtherToxinTreatment, Patient, PreventiveTrial

TRIAL_NOT_FOUND = gettext_noop("No such preventive medicine on this record.")

MIDAS_CHART_TOP = 40
"""The MIDAS trend's scale runs 0..40 (grade IV starts at 21) unless a total is higher."""

VERDICT_LABELS: dict[str, Any] = {
    "yes": _("yes"),
    "no": _("no"),
    "insufficient_data": _("not enough data"),
    "suspected": _("suspected"),
    "not_suspected": _("not suspected"),
    "met": _("met"),
    "not_met": _("not met"),
    "continue": _("continue"),
    "stop": _("stop suggested"),
    "not_yet_assessable": _("not yet assessable"),
    "clear": _("clear"),
    "caution": _("caution"),
    "contraindicated": _("contraindicated"),
    "unknown": _("unanswered items"),
}
"""How the engine's verdict values read on the page."""


def verdict_label(value: str) -> str:
    """An engine verdict (``not_met``, ``insufficient_data``, ``not_yet_assessable`` ...) in the words the patient
    page uses (``VERDICT_LABELS``), translated: the letters, the continue-or-stop page and this page agree."""
    return str(VERDICT_LABELS.get(value, value))


VERDICT_TONES: dict[str, str] = {
    "yes": "ok",
    "met": "ok",
    "not_suspected": "ok",
    "continue": "ok",
    "clear": "ok",
    "suspected": "warn",
    "caution": "warn",
    "unknown": "warn",
    "no": "bad",
    "not_met": "bad",
    "stop": "bad",
    "contraindicated": "bad",
}
"""The colour of each verdict value (onaboard.css verdict ok / warn / bad); others are neutral."""


@dataclass(frozen=True, slots=True)
class VerdictCard:
    """One engine verdict as the page shows it: what was judged, the answer, and every reason the engine gave."""

    title: str
    value: str
    reasons: tuple[str, ...]
    detail: str = ""

    @property
    def label(self) -> str:
        return str(VERDICT_LABELS.get(self.value, self.value))

    @property
    def tone(self) -> str:
        return VERDICT_TONES.get(self.value, "")


@dataclass(frozen=True, slots=True)
class Questionnaires:
    """One instrument's responses, oldest first, with the engine-scored totals as a trend."""

    responses: tuple[QuestionnaireResponse, ...]
    chart: ScoreTrendChart


@dataclass(frozen=True, slots=True)
class PatientPage:
    """Everything the clinician's patient page shows, each verdict computed by the engine."""

    patient: Patient
    today: dt.date
    age_years: int
    pathway: Pathway
    eligibility: Assessment
    eligibility_before_treatment: bool
    """True when ``eligibility`` was judged on the day before the first injection, not on today."""
    verdicts: tuple[VerdictCard, ...]
    outcomes: Outcomes | None
    schedule: ScheduleStatus | None
    safety: SafetyScreen
    safety_on: dt.date
    chart: HeadacheDaysChart
    hit6: Questionnaires
    hit6_change: Hit6ChangeForStaff | None
    hit6_baseline: str
    """Which answer the HIT-6 change is measured from and whether it is from before treatment (empty: no change)."""
    midas: Questionnaires
    sessions: tuple[InjectionSession, ...]
    preventive_trials: tuple[PreventiveTrial, ...]
    other_toxins: tuple[OtherToxinTreatment, ...]
    diary_days: int

    @property
    def nice(self) -> VerdictCard | None:
        if self.outcomes is None:
            return None
        nice = self.outcomes.nice_ta260
        return VerdictCard(str(_("NICE TA260 stopping rules")), nice.verdict.value, nice.reasons)

    @property
    def unanswered(self) -> tuple[SafetyFinding, ...]:
        """The screen's "not asked" findings (shown folded, after the contraindications and warnings)."""
        return tuple(finding for finding in self.safety.findings if finding.kind is FindingKind.UNKNOWN)

    @property
    def safety_card(self) -> VerdictCard:
        return VerdictCard(str(_("Safety screen")), self.safety.verdict.value, ())


def record_number_taken(*, clinic: Clinic, record_number: str, exclude: Patient | None = None) -> bool:
    """Whether another patient of ``clinic`` already has ``record_number`` (it is unique per clinic)."""
    others = Patient.objects.filter(clinic=clinic, record_number=record_number)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    return others.exists()


def first_record_date(patient: Patient) -> dt.date | None:
    """The earliest day the patient's record describes: their first diary day, recorded session, questionnaire,
    side-effect onset, preventive start or other toxin treatment (a birth date after it would be impossible, and
    the engine refuses to assess before birth)."""
    firsts = (
        DiaryEntry.objects.filter(patient=patient).order_by("date").values_list("date", flat=True),
        InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED)
        .order_by("date")
        .values_list("date", flat=True),
        QuestionnaireResponse.objects.filter(patient=patient).order_by("date").values_list("date", flat=True),
        SideEffect.objects.filter(patient=patient).order_by("onset").values_list("onset", flat=True),
        PreventiveTrial.objects.filter(patient=patient).order_by("start").values_list("start", flat=True),
        OtherToxinTreatment.objects.filter(patient=patient).order_by("date").values_list("date", flat=True),
    )
    known = [day for first in firsts if (day := first.first()) is not None]
    return min(known) if known else None


def record_day_before_birth(patient: Patient, birth: dt.date | None) -> dt.date | None:
    """The record's first dated entry (``first_record_date``) when ``birth`` would fall after it, else None: the one
    rule the details form and every import (through ``patient_update``) apply. The day itself is allowed, as the
    diary and the session screen allow it."""
    first = first_record_date(patient) if birth is not None else None
    return first if first is not None and birth is not None and birth > first else None


def preventive_trial_of(
    patient: Patient, external_id: uuid.UUID | str, *, user: Any, need: Capability
) -> PreventiveTrial:
    """The patient's preventive trial with this public id; 404 when it is not on this patient's record. The refusal
    of an id is audited as ``injections.selectors._reached_or_not_found`` audits a session's or side effect's: what
    was asked for (``preventive_trial``, the id asked, ``need``) with the patient whose trial it is where it is one's
    (of this clinic or another: that patient's clinic finds the attempt in its trail), the 404 the same either way."""
    try:
        key = uuid.UUID(str(external_id))
    except ValueError:
        raise Http404(gettext(TRIAL_NOT_FOUND)) from None  # not an id at all: nothing was probed
    found = PreventiveTrial.objects.select_related("patient").filter(external_id=key).first()
    if found is not None and found.patient_id == patient.pk:
        return found
    audit_record(
        user=user,
        action=Action.DENIED,
        object_type="preventive_trial",
        object_id=key,
        patient_id=found.patient.external_id if found is not None else None,
        detail=need.value,
    )
    raise Http404(gettext(TRIAL_NOT_FOUND))


# --- Chart --------------------------------------------------------------------------------------------------------


def _session_marks(sessions: tuple[InjectionSession, ...]) -> tuple[SessionMark, ...]:
    return tuple(SessionMark(session.date, session.status == SessionStatus.RECORDED) for session in sessions)


# --- Questionnaires -----------------------------------------------------------------------------------------------


def _responses(patient: Patient, instrument: str) -> tuple[QuestionnaireResponse, ...]:
    return tuple(QuestionnaireResponse.objects.filter(patient=patient, instrument=instrument).order_by("date"))


def _hit6_band(category: str) -> str:
    """The engine's HIT-6 impact band as words ("severe_impact" -> "severe impact")."""
    return category.replace("_", " ")


def _midas_band(category: str) -> str:
    return str(_("grade %(grade)s") % {"grade": category})


# --- The pages ------------------------------------------------------------------------------------------------------


def _verdicts(assessment: Assessment) -> tuple[VerdictCard, ...]:
    overuse = assessment.medication_overuse
    classes = ", ".join(name.replace("_", " ") for name in overuse.classes)
    return (
        VerdictCard(
            str(_("Chronic migraine (ICHD-3 1.3)")),
            assessment.chronic_migraine.verdict.value,
            assessment.chronic_migraine.reasons,
        ),
        VerdictCard(str(_("Medication overuse (ICHD-3 8.2)")), overuse.verdict.value, overuse.reasons, classes),
        VerdictCard(
            str(_("BOTOX label criteria")), assessment.label_criteria.verdict.value, assessment.label_criteria.reasons
        ),
    )


def _hit6_baseline(hit6: Sequence[QuestionnaireResponse], first: dt.date | None) -> str:
    compared = baseline_and_latest(hit6, first)
    return baseline_for_staff(compared) if compared is not None else ""


def patient_page(*, user: Any, patient: Patient, today: dt.date) -> PatientPage:
    """The clinician's page for ``patient`` on ``today``; the read is audited."""
    diary = patient_diary(patient, until=today)
    pathway = patient_pathway_state(patient, today, diary=diary)
    first = pathway.first_session
    if first is None:
        eligibility = pathway.assessment or assess(diary, as_of=today, birth_date=patient.birth_date)
    else:
        as_of = eligibility_day(first_session=first, today=today, birth_date=patient.birth_date)
        eligibility = assess(diary, as_of=as_of, birth_date=patient.birth_date, age_on=first)
    sessions = tuple(sessions_for(patient))
    safety_on = pathway.booked_for or today
    hit6 = _responses(patient, Instrument.HIT6)
    midas = _responses(patient, Instrument.MIDAS)
    page = PatientPage(
        patient=patient,
        today=today,
        age_years=_age(patient, today),
        pathway=pathway,
        eligibility=eligibility,
        eligibility_before_treatment=first is not None,
        verdicts=_verdicts(eligibility),
        outcomes=pathway.outcomes,
        schedule=pathway.schedule,
        safety=patient_safety_screen(patient, on=safety_on),
        safety_on=safety_on,
        chart=headache_days_chart(
            chart_periods(diary, first_injection=first, today=today),
            _session_marks(sessions),
            title=str(_("Headache days per 28-day period")),
            today=today,
        ),
        hit6=Questionnaires(
            hit6,
            score_trend_chart(
                [ScorePoint(r.date, r.total, _hit6_band(r.category)) for r in hit6],
                title="HIT-6",
                low=HIT6_MIN_TOTAL,
                high=HIT6_MAX_TOTAL,
                cut_points=(HIT6_SOME_MIN, HIT6_SUBSTANTIAL_MIN, HIT6_SEVERE_MIN),
            ),
        ),
        hit6_change=hit6_change_from_baseline(hit6, first),
        hit6_baseline=_hit6_baseline(hit6, first),
        midas=Questionnaires(
            midas,
            score_trend_chart(
                [ScorePoint(r.date, r.total, _midas_band(r.category)) for r in midas],
                title="MIDAS",
                low=0,
                high=MIDAS_CHART_TOP,
                cut_points=(MIDAS_GRADE_II_MIN, MIDAS_GRADE_III_MIN, MIDAS_GRADE_IV_MIN),
            ),
        ),
        sessions=sessions,
        preventive_trials=tuple(PreventiveTrial.objects.filter(patient=patient).order_by("-start")),
        other_toxins=tuple(OtherToxinTreatment.objects.filter(patient=patient).order_by("-date")),
        diary_days=len(diary.days),
    )
    audit_record(
        user=user,
        action=Action.READ,
        object_type="patient",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail="clinical page",
    )
    return page


def _age(patient: Patient, today: dt.date) -> int:
    return age_in_years(patient.birth_date, today)


@dataclass(frozen=True, slots=True)
class BillingSession:
    """What a claim needs from one session: the stored facts and the engine's billing lines (JW / JZ)."""

    session: InjectionSession
    product: str
    plan: InjectionPlan | None
    stored_disagreements: tuple[Any, ...] = ()
    """The figures stored with the session (vials opened, units given, units discarded) that differ from those its
    recorded sites give (``coverage.documents.StoredFigure``, the procedure note's warning): the row shows the stored
    figures beside claim lines computed from the sites, so it says where they disagree."""

    @property
    def billing_lines(self) -> tuple[BillingLine, ...]:
        return self.plan.billing_lines if self.plan is not None else ()


@dataclass(frozen=True, slots=True)
class BillingPage:
    patient: Patient
    age_years: int
    sessions: tuple[BillingSession, ...]


def patient_billing(*, user: Any, patient: Patient, today: dt.date) -> BillingPage:
    """Demographics and each session's billing facts, nothing clinical; the read is audited. A session entered in
    error is listed as such, with no claim lines (``session_plan``), so a claim already sent for it can be voided.
    Each row names the stored figures that disagree with its claim lines, by the procedure note's rule
    (``coverage.documents.stored_disagreements``), so the page and the note warn alike."""
    # Imported here: coverage.documents imports this module (``verdict_label``).
    from onaboard.web.coverage.documents import stored_disagreements

    sessions = (
        InjectionSession.objects.filter(patient=patient)
        .exclude(status=SessionStatus.CANCELLED)
        .select_related("injector")
        .prefetch_related("sites")
        .order_by("-date")
    )
    rows = []
    for session in sessions:
        plan = session_plan_or_none(session)
        disagreements = tuple(stored_disagreements(session, plan)) if plan is not None else ()
        rows.append(BillingSession(session, BOTOX_PRODUCT, plan, disagreements))
    audit_record(
        user=user,
        action=Action.READ,
        object_type="patient",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail="billing page",
    )
    return BillingPage(patient, _age(patient, today), tuple(rows))
