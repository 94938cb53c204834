"""The clinic's four PDF documents: prior-authorisation letter, continuation letter, procedure note, patient summary.

Each document is a Django template under ``coverage/pdf/`` rendered by ``onaboard.web.common.pdf.render_pdf``; its
context is built here from the same selectors and engine results the pages show, so paper and screen agree. The web
views, the API and the ``onaboard document`` command all call ``document_pdf``; every rendering is audited as an
export.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from onaboard.clinical import (
    MIN_RECORDED_DAYS,
    ONSET_PERIOD,
    PERIOD_DAYS,
    PROM_WINDOW_DAYS,
    RETREATMENT_INTERVAL_DAYS,
    UNITS_PER_SITE,
    VOLUME_PER_SITE_ML,
    WEEK24_PERIOD,
    CoverageEvaluation,
    CoveragePolicy,
    CoverageStatus,
    CriterionOutcome,
    InjectionPlan,
    Muscle,
    Outcomes,
    PolicyKind,
    Side,
    Stage,
    age_in_years,
    label_dose_departures,
)
from onaboard.clinical.coverage import stage_due
from onaboard.policies import shipped_policies
from onaboard.web.accounts.models import Role
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.common.charts import SessionMark, headache_days_chart
from onaboard.web.common.context import RULE_NUMBERS
from onaboard.web.common.pdf import render_pdf
from onaboard.web.coverage.models import ICD10_CHRONIC_MIGRAINE, PriorAuthorisation
from onaboard.web.coverage.selectors import (
    CoverageUnavailableError,
    CoverageView,
    NextSession,
    PatientFacts,
    chosen_policy,
    engine_trial,
    evaluate,
    has_recorded_session,
    insurance_of,
    next_treatment,
    patient_facts,
    planned_date,
    policy_by_id,
    session_claim_overrides,
    stage_request,
)
from onaboard.web.injections import sitemap
from onaboard.web.injections.models import (
    URGENT_SIDE_EFFECTS,
    InjectionSession,
    SideEffect,
    SideEffectKind,
)
from onaboard.web.injections.recorded_checks import checks_overridden, safety_at_recording, warnings_at_recording
from onaboard.web.injections.selectors import (
    patient_safety_screen,
    session_plan,
    session_plan_or_none,
    session_sites,
    session_sites_not_given,
)
from onaboard.web.outcomes.models import Decision, Instrument, QuestionnaireResponse
from onaboard.web.outcomes.selectors import (
    Hit6ChangeForStaff,
    LatestDecision,
    baseline_and_latest,
    continue_answers_stop,
    hit6_change_from_baseline,
    latest_decision,
    stopped_decision,
    week24_period,
)
from onaboard.web.patients.access import Capability, can
from onaboard.web.patients.models import Patient
from onaboard.web.patients.selectors import verdict_label

NO_TREATMENT = gettext_noop(
    "No session is recorded for this patient: a continuation letter needs treatment to have started."
)
NO_SESSION = gettext_noop("No recorded session for this patient.")
SESSION_NOT_FOUND = gettext_noop("No recorded session {session_id} for this patient.")


class SessionNotFoundError(CoverageUnavailableError):
    """The ``session`` asked for names no recorded session of the patient: a missing resource (the page answers
    404), not a document the record as it stands cannot give."""


NICE_TA260_POLICY = "nice-ta260"
"""The shipped policy that is NICE TA260: only a letter under it states the engine's NICE TA260 verdict
(``outcomes.nice_ta260``); a letter to a US payer judges the patient by that payer's criteria alone."""

WEEKS_PER_PERIOD = PERIOD_DAYS // 7
"""A 28-day period is 4 weeks: relief may start in period 1 (week 4) and the response is judged on period 6
(week 24), the engine's ONSET_PERIOD and WEEK24_PERIOD."""


DOCUMENT_RULES: dict[str, Any] = {
    **RULE_NUMBERS,
    "units_per_site": UNITS_PER_SITE,
    "volume_per_site_ml": VOLUME_PER_SITE_ML,
    "interval_weeks": RETREATMENT_INTERVAL_DAYS // 7,
}
"""The engine's numbers a document states in words (``rules`` in its context, as on the pages, whose context
processor a PDF rendered without a request does not get): the period length, the PREEMPT dose and volume per site,
the retreatment interval in weeks; the responder thresholds come with ``RULE_NUMBERS``."""


def _period_chart_title() -> str:
    return _("Headache days per %(days)d-day period") % {"days": PERIOD_DAYS}


class DocumentKind(enum.StrEnum):
    PRIOR_AUTH = "prior-auth"
    CONTINUATION = "continuation"
    PROCEDURE = "procedure"
    PATIENT_SUMMARY = "patient-summary"

    @property
    def title(self) -> str:
        return {
            DocumentKind.PRIOR_AUTH: _("Prior-authorisation letter"),
            DocumentKind.CONTINUATION: _("Continuation letter"),
            DocumentKind.PROCEDURE: _("Procedure note"),
            DocumentKind.PATIENT_SUMMARY: _("Patient summary and after-care"),
        }[self]

    @property
    def need(self) -> Capability:
        """Letters and the procedure note are what a claim needs (billing staff may print them); the patient's
        after-care sheet is clinical."""
        return Capability.VIEW_CLINICAL if self is DocumentKind.PATIENT_SUMMARY else Capability.VIEW_BILLING

    @property
    def per_session(self) -> bool:
        return self in (DocumentKind.PROCEDURE, DocumentKind.PATIENT_SUMMARY)

    @property
    def template(self) -> str:
        return f"coverage/pdf/{self.value.replace('-', '_')}.html"

    @property
    def stage(self) -> Stage | None:
        """The stage of the request a letter makes (initial for the prior-authorisation letter, continuation for the
        continuation letter), the stage its criteria are judged at; None for the per-session documents."""
        return {DocumentKind.PRIOR_AUTH: Stage.INITIAL, DocumentKind.CONTINUATION: Stage.CONTINUATION}.get(self)


@dataclass(frozen=True, slots=True)
class Document:
    kind: DocumentKind
    filename: str
    pdf: bytes


def document_problems(
    patient: Patient,
    *,
    today: dt.date,
    policy_id: str | None = None,
    kinds: Iterable[DocumentKind | str] = tuple(DocumentKind),
) -> dict[DocumentKind, str]:
    """Why each of ``kinds`` cannot be written for ``patient`` from the record as it stands on ``today`` ("" when
    it can): the continuation letter needs a session recorded on or before today (``NO_TREATMENT``), the procedure
    note and the after-care sheet one too (``NO_SESSION``); the letters need a policy, the one asked for else the
    insurance's (``chosen_policy``'s refusal). The one rule behind both the document buttons (``document_links``)
    and ``document_pdf``'s refusals, read with one query for the sessions and one for the insurance at most."""
    wanted = [DocumentKind(kind) for kind in kinds]
    treated = has_recorded_session(patient, today)
    no_policy = ""
    if any(not kind.per_session for kind in wanted):
        try:
            chosen_policy(patient, policy_id)
        except CoverageUnavailableError as error:
            no_policy = str(error)
    problems = {}
    for kind in wanted:
        if kind is DocumentKind.CONTINUATION and not treated:
            problems[kind] = _(NO_TREATMENT)
        elif kind.per_session:
            problems[kind] = "" if treated else _(NO_SESSION)
        else:
            problems[kind] = no_policy
    return problems


def document_problem(
    kind: DocumentKind | str, patient: Patient, *, today: dt.date, policy_id: str | None = None
) -> str:
    """Why the document ``kind`` cannot be written for ``patient`` on ``today`` ("" when it can): ``document_problems``
    for one document."""
    kind = DocumentKind(kind)
    return document_problems(patient, today=today, policy_id=policy_id, kinds=(kind,))[kind]


@dataclass(frozen=True, slots=True)
class NotMet:
    """A criterion a letter's evaluation finds not met, and why: its last evidence line (the finding itself, after
    the lines saying what was judged)."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class LetterWarning:
    """A letter whose own evaluation is not approvable (``letter_evaluation``): the pages offer it with this beside
    it, the policy, the stage, each criterion not met and each the record lacks the information to judge, so nobody
    sends it believing the criteria are met. The letter says so too, in its opening (the criteria not met and those
    the record cannot judge); whether to send it is the clinician's decision.

    A continuation letter before the policy's ``after_cycles`` sessions are given (``stage_due`` is initial) is not
    due yet rather than refused: ``due_after`` is then that number of cycles and ``given`` the sessions given.

    A letter for a patient whose latest treatment decision is to stop carries that decision (``stopped``), whether
    or not its criteria are met: it asks for approval of treatment the clinic's record says has stopped. Both
    letters open with that stop and give the decision (``_treatment_given``). ``not_met`` is then empty when the
    criteria are met."""

    policy_title: str
    stage: Stage
    not_met: tuple[NotMet, ...]
    due_after: int | None = None
    given: int = 0
    stopped: LatestDecision | None = None
    missing: tuple[NotMet, ...] = ()
    """The criteria the record cannot judge, whether or not others are not met: the letter names them, so it is not
    sent as if they were met, nor as if the criteria not met were the only ones in doubt."""


def letter_evaluation(facts: PatientFacts, kind: DocumentKind, policy: CoveragePolicy) -> CoverageView:
    """The evaluation a letter prints: the patient under ``policy`` at the letter's stage (``DocumentKind.stage``).
    The one call behind the letter and the warning beside its link, so the two cannot differ."""
    assert kind.stage is not None  # noqa: S101 - only the letters make a request
    return evaluate(facts, policy, kind.stage)


def _criteria_with(evaluation: CoverageEvaluation, outcome: CriterionOutcome) -> tuple[NotMet, ...]:
    return tuple(
        NotMet(c.name, c.evidence[-1] if c.evidence else "") for c in evaluation.criteria if c.outcome is outcome
    )


def criteria_not_met(evaluation: CoverageEvaluation) -> tuple[NotMet, ...]:
    """The criteria ``evaluation`` finds not met, each with its last evidence line."""
    return _criteria_with(evaluation, CriterionOutcome.NOT_MET)


def criteria_missing(evaluation: CoverageEvaluation) -> tuple[NotMet, ...]:
    """The criteria the record lacks the information to judge, each with its last evidence line (what is missing)."""
    return _criteria_with(evaluation, CriterionOutcome.MISSING_INFORMATION)


def letter_warnings(
    patient: Patient, *, today: dt.date, policy_id: str | None, kinds: Iterable[DocumentKind]
) -> dict[DocumentKind, LetterWarning]:
    """A ``LetterWarning`` for each of the letters ``kinds`` whose evaluation is not approvable or lacks information
    (none for one that is approvable), and for both letters of a patient whose treatment a clinician has stopped
    (``outcomes.selectors.stopped_decision``): each asks for approval of treatment the record says has stopped. The
    letters must be writable (``document_problems``). The patient's facts are read once for both letters."""
    letters = [kind for kind in kinds if kind.stage is not None]
    if not letters:
        return {}
    policy = chosen_policy(patient, policy_id)
    facts = patient_facts(patient, today=today)
    given = len(facts.recorded)
    stopped = stopped_decision(patient, today)
    warnings = {}
    for kind in letters:
        evaluation = letter_evaluation(facts, kind, policy).evaluation
        if evaluation.status is CoverageStatus.APPROVABLE and stopped is None:
            continue
        early = kind.stage is Stage.CONTINUATION and facts.stage_due(policy) is Stage.INITIAL
        warnings[kind] = LetterWarning(
            evaluation.policy_title,
            evaluation.stage,
            criteria_not_met(evaluation),
            due_after=policy.continuation.after_cycles if early and policy.continuation else None,
            given=given,
            stopped=stopped,
            missing=criteria_missing(evaluation),
        )
    return warnings


@dataclass(frozen=True, slots=True)
class DocumentLink:
    """A document the user may download, and why it cannot be written now ("" when it can): the pages show the
    button disabled with the reason beside it instead of a download that cannot work. ``warning``: a letter that
    can be written but whose criteria are not met (``LetterWarning``)."""

    kind: DocumentKind
    problem: str = ""
    warning: LetterWarning | None = None


def document_links(user: Any, patient: Patient, *, today: dt.date, policy_id: str | None = None) -> list[DocumentLink]:
    """The documents ``user`` may have for ``patient``, each with the reason it cannot be written yet: the message
    ``document_pdf`` would refuse with (``document_problems``), and for a letter that can be, the warning that its
    criteria are not met (``letter_warnings``)."""
    kinds = [kind for kind in DocumentKind if can(user, kind.need)]
    problems = document_problems(patient, today=today, policy_id=policy_id, kinds=kinds)
    writable = [kind for kind in kinds if not problems[kind]]
    warnings = letter_warnings(patient, today=today, policy_id=policy_id, kinds=writable)
    return [DocumentLink(kind, problems[kind], warnings.get(kind)) for kind in kinds]


def _diagnosis(request: PriorAuthorisation | None) -> tuple[str, str] | None:
    if request is None or not request.diagnosis_code:
        return None
    return request.diagnosis_code, ICD10_CHRONIC_MIGRAINE.get(request.diagnosis_code, "")


def diagnosis_request(
    patient: Patient, stage: Stage, *, policy_id: str | None, on: dt.date | None = None
) -> PriorAuthorisation | None:
    """The request whose ICD-10-CM code a claim for ``stage`` carries: the stage's own request (``stage_request``)
    when it carries a code, else the latest request under the same policy, of any stage, that does (under any
    policy when ``policy_id`` is None, as ``stage_request``). The diagnosis does not change between stages, and a
    claim without one is rejected: the third session's note, before any continuation request is recorded, carries
    the initial request's code. A request to another payer is never borrowed. ``stage_request`` itself keeps its
    meaning: the attestations a stage's criteria read.

    ``on``, a session's day (its procedure note): the requests as they stood for that session (``stage_request``'s
    ``on``), a code borrowed from another stage only from a request made on or before that day too; a request
    recorded after the session is read only when none made by then carries a code."""
    request = stage_request(patient, stage, policy_id=policy_id, on=on)
    if request is not None and request.diagnosis_code and (on is None or request.requested_on <= on):
        return request
    others = PriorAuthorisation.objects.filter(patient=patient).exclude(diagnosis_code="")
    if policy_id is not None:
        others = others.filter(policy_id=policy_id)
    if on is not None:
        earlier = others.filter(requested_on__lte=on).first()
        if earlier is not None:
            return earlier
        if request is not None and request.diagnosis_code:
            return request
    return others.first() or request  # newest first (the model's ordering), as stage_request reads


@dataclass(frozen=True, slots=True)
class Attestation:
    """One statement the treating clinician made on a request (``PriorAuthorisation``'s attestation fields), as a
    letter sets it out: the statement in plain words and the clinician's answer (None: not answered). It is the
    clinician's statement, not a finding drawn from the record, and the letters word it so."""

    field: str
    statement: str
    answer: bool | None


ATTESTATIONS: tuple[tuple[str, str, tuple[Stage, ...]], ...] = (
    (
        "medication_overuse_managed",
        gettext_noop("Medication overuse is being managed"),
        (Stage.INITIAL, Stage.CONTINUATION),
    ),
    (
        "prescriber_attests_benefit",
        gettext_noop("Treatment has given the patient a clinically meaningful benefit"),
        (Stage.CONTINUATION,),
    ),
)
"""Each attestation a request carries (``coverage.services.ATTESTATION_FIELDS``), its statement in plain words, and
the stages whose requests ask it: a judgement of benefit is asked when continuation is, not before treatment, so an
initial request's letter names it only when the clinician answered it."""


def request_attestations(request: PriorAuthorisation | None, stage: Stage) -> list[Attestation]:
    """The clinician's attestations recorded on ``request`` (the one the letter for ``stage`` is for:
    ``stage_request``), each with its answer: those the stage asks, answered or not, and any other answered on it.
    Empty when no request is recorded, or when the request answers none of them: the letter then states no
    attestation, rather than a list of "not answered"."""
    if request is None:
        return []
    rows = [
        Attestation(field, _(statement), getattr(request, field))
        for field, statement, stages in ATTESTATIONS
        if stage in stages or getattr(request, field) is not None
    ]
    return rows if any(row.answer is not None for row in rows) else []


def _attestations_context(request: PriorAuthorisation | None, stage: Stage) -> dict[str, Any]:
    """What both letters say of the clinician's attestations on their request (``coverage/pdf/_attestations.html``):
    the list, the day and stage of the request they were recorded on, and the medication-overuse answer the
    prior-authorisation letter sets beside the overuse verdict."""
    attestations = request_attestations(request, stage)
    overuse = next((a.answer for a in attestations if a.field == "medication_overuse_managed"), None)
    return {
        "attestations": attestations,
        "attested_on": request.requested_on if attestations and request is not None else None,
        "attested_at_continuation": request is not None and request.stage == Stage.CONTINUATION.value,
        "overuse_attested": overuse,
    }


def _signer(user: Any) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return user.get_full_name() or user.username


def _signature(user: Any) -> dict[str, str]:
    """The attestation's name line and "prepared by" (``coverage/pdf/_signature.html``) of a letter printed by
    ``user``: the name line is the treating clinician's, so only a user who may decide treatment
    (``Capability.DECIDE_TREATMENT``, a prescribing decision) signs it by name; anyone else prepared it (a nurse,
    whose account does not say whether they prescribe, billing staff, an administrator), the line left for the
    treating clinician to fill."""
    signer = _signer(user)
    clinician = can(user, Capability.DECIDE_TREATMENT)
    return {"sign_name": signer if clinician else "", "prepared_by": "" if clinician else signer}


def _procedure_signature(session: InjectionSession, user: Any) -> dict[str, str]:
    """The procedure note's attestation is the injector's (who the note says gave the injections): their name is on
    the name line whoever prints it, and a printer who is someone else is named as having prepared it, never as the
    treating clinician. Without an injector on record (an imported session) the line is left to fill."""
    injector = session.injector
    same = injector is not None and user is not None and injector.pk == getattr(user, "pk", None)
    return {"sign_name": _signer(injector), "prepared_by": "" if same else _signer(user)}


def sees_clinical_notes(user: Any) -> bool:
    """Whether a document printed by ``user`` holds the clinical notes (complications, side effects, a check
    override): for staff who may see them in the app (``Capability.VIEW_CLINICAL``) and for the command line, run
    by the clinic's operator (``user`` None). Billing staff and administrators may print the letters and the
    procedure note for a claim, but see no clinical notes anywhere else in the app, so their copies leave them out
    and say so. One rule for every document."""
    return user is None or can(user, Capability.VIEW_CLINICAL)


def _common(facts: PatientFacts, user: Any) -> dict[str, Any]:
    patient = facts.patient
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "today": facts.today,
        "insurance": insurance_of(patient),
        **_signature(user),
        "age_years": age_in_years(patient.birth_date, facts.today),
    }


def insured_policy_if_other(patient: Patient, policy_id: str | None) -> str:
    """The title of the patient's insurance policy when ``policy_id`` (the policy a letter is written against) is
    another one, else "": the letter then says so beside the payer it names, and the coverage page beside its
    buttons, rather than address one payer under another payer's criteria unremarked. An unknown ``policy_id`` (no
    shipped policy: the letters say so themselves) gives "" too: no letter is written against it."""
    insurance = insurance_of(patient)
    policies = shipped_policies()
    if insurance is None or not policy_id or policy_id == insurance.policy_id or policy_id not in policies:
        return ""
    policy = policies.get(insurance.policy_id)
    return policy.title if policy is not None else insurance.policy_id


def _session_marks(facts: PatientFacts) -> list[SessionMark]:
    return [SessionMark(session.date, True) for session in facts.recorded]


def _treatment_given(facts: PatientFacts, policy: CoveragePolicy) -> dict[str, Any]:
    """What both letters say of the treatment already given: each recorded session with the units its sites give
    (``sessions_given``, the stored figures that disagree listed), and the latest decision to continue or stop on
    or before the letter's day (``latest_decision``). A letter for a patient whose latest decision is to stop opens
    with it (``LetterWarning.stopped``): it asks for treatment the record says has stopped; the clinician decides
    whether to send it."""
    decision = latest_decision(facts.patient, facts.today)
    given = sessions_given(facts.recorded)
    return {
        "sessions": facts.recorded,
        "sessions_given": given,
        "sessions_disagreeing": [row for row in given if row.disagreements],
        "decision": decision,
        "stopped": decision is not None and decision.decision is Decision.STOP,
        # a "continue" made against NICE TA260's stop (saw_stop: the verdict stop, or the return to episodic
        # migraine held while the verdict waited for a complete baseline) says so only in the letter that judges by
        # NICE TA260, as the letter gives its verdict only there
        "against_nice": (
            decision is not None
            and decision.decision is Decision.CONTINUE
            and decision.saw_stop
            and policy.id == NICE_TA260_POLICY
        ),
    }


def _week24_context(outcomes: Outcomes) -> dict[str, Any]:
    """Week 24's result as the letters word it (``coverage/pdf/_week24_result.html``): the period compared and
    where it stands, whether or not the diary reaches it."""
    return {
        "outcomes": outcomes,
        "min_recorded_days": MIN_RECORDED_DAYS,
        "week24": next((c for c in outcomes.periods if c.period.index == WEEK24_PERIOD), None),
        "week24_number": WEEK24_PERIOD * WEEKS_PER_PERIOD,
        "week24_period": WEEK24_PERIOD,
        # week 24's period whether or not the diary reaches it: the days recorded in it, where it stands
        "week24_days": week24_period(outcomes),
    }


def _prior_auth(facts: PatientFacts, user: Any, policy_id: str | None) -> dict[str, Any]:
    """The prior-authorisation (or, under a guideline, funding) letter. Its diary and criteria are the eligibility
    assessment's: before treatment, today's; after it, the day before the first session. A patient already treated
    gets the sessions given, week 24's result when the diary has it, and the latest decision (``_treatment_given``):
    the letter does not ask as if treatment had not started, nor, after a stop, as if it were going on."""
    policy = chosen_policy(facts.patient, policy_id)
    view = letter_evaluation(facts, DocumentKind.PRIOR_AUTH, policy)
    # The engine's order (index 1 the most recent first), the order its reasons under the table count them in; the
    # chart draws them oldest first itself.
    periods = sorted((p for p in facts.assessment.periods if not p.missing), key=lambda p: p.index)
    day, _note = planned_date(facts)
    request = stage_request(facts.patient, view.evaluation.stage, policy_id=policy.id)  # the one its criteria read
    safety = patient_safety_screen(facts.patient, on=day)
    assessment = facts.assessment
    outcomes = facts.outcomes
    return {
        **_common(facts, user),
        **_treatment_given(facts, policy),
        # the week-24 result of the treatment already given, in the continuation letter's words
        **(_week24_context(outcomes) if outcomes is not None else {}),
        "policy": policy,
        "guideline": is_guideline(policy),
        "evaluation": view.evaluation,
        "assumptions": view.assumptions,
        "assessment": facts.assessment,
        "periods": periods,
        "chart": headache_days_chart(periods, _session_marks(facts), title=_period_chart_title(), html_id="pa-chart"),
        "trials": [engine_trial(trial).describe(facts.today) for trial in facts.trials],
        "verdicts": {
            "chronic_migraine": verdict_label(assessment.chronic_migraine.verdict),
            "label_criteria": verdict_label(assessment.label_criteria.verdict),
            "medication_overuse": verdict_label(assessment.medication_overuse.verdict),
            "safety": verdict_label(safety.verdict),
        },
        "safety": safety,
        "safety_on": day,
        "clinical_notes": sees_clinical_notes(user),  # the screen's answers (pregnancy ...) are, its verdict not
        "plan": facts.plan,
        "plan_departures": label_dose_departures(facts.plan),
        "billing_lines": facts.plan.billing_lines,
        "diagnosis": _diagnosis(request),
        "request": request,
        **_attestations_context(request, view.evaluation.stage),
        "insured_policy": insured_policy_if_other(facts.patient, policy.id),
        "not_approvable": view.evaluation.status is CoverageStatus.NOT_APPROVABLE,
        "criteria_not_met": [item.name for item in criteria_not_met(view.evaluation)],
        "information_missing": view.evaluation.status is CoverageStatus.INFORMATION_MISSING,
        "criteria_missing": [item.name for item in criteria_missing(view.evaluation)],
    }


@dataclass(frozen=True, slots=True)
class ScoreChange:
    instrument: str
    baseline: QuestionnaireResponse
    latest: QuestionnaireResponse
    hit6: Hit6ChangeForStaff | None
    """The engine's HIT-6 change, judged (responder or not) only when ``before_treatment`` and the latest answer was
    given ``PROM_WINDOW_DAYS`` days or more after the first session (``Hit6ChangeForStaff.judged``); before that its
    reason is the raw difference and why (``outcomes.selectors.HIT6_TOO_SOON``): it still recalls days before it."""
    before_treatment: bool
    """The baseline answer is the engine's: answered in the 28 days up to the first session
    (``BaselineAndLatest.before_treatment``)."""
    days_before: int | None = None
    """How many days before the first session the compared answer was given when that is earlier than the 28 days
    a baseline is answered in (``BaselineAndLatest.older_than_window``); None otherwise."""
    too_soon_days: int | None = None
    """How many days after the first session the latest answer was given when what it asks about still reaches
    back to the first session (``BaselineAndLatest.latest_too_soon``: a MIDAS's 3 months, a HIT-6's 4 weeks) and
    the baseline is before treatment; None otherwise. The letter then calls the change not yet one since treatment."""

    @property
    def change(self) -> int:
        return self.latest.total - self.baseline.total


def _score_change(patient: Patient, instrument: str, first: dt.date) -> ScoreChange | None:
    """The baseline answer against the latest (``baseline_and_latest``), with the engine's HIT-6 judgement."""
    responses = list(QuestionnaireResponse.objects.filter(patient=patient, instrument=instrument).order_by("date"))
    pair = baseline_and_latest(responses, first)
    if pair is None:
        return None
    change = hit6_change_from_baseline(responses, first) if instrument == Instrument.HIT6 else None
    days_before = (first - pair.baseline.date).days if pair.older_than_window else None
    too_soon = pair.days_after_first if pair.before_treatment and pair.latest_too_soon else None
    return ScoreChange(instrument, pair.baseline, pair.latest, change, pair.before_treatment, days_before, too_soon)


def _continuation(facts: PatientFacts, user: Any, policy_id: str | None) -> dict[str, Any]:
    """The continuation letter; ``document_problems`` has checked that a session is recorded."""
    policy = chosen_policy(facts.patient, policy_id)
    view = letter_evaluation(facts, DocumentKind.CONTINUATION, policy)
    outcomes = facts.outcomes
    periods = [outcomes.baseline, *(c.period for c in outcomes.listed if not c.period.missing)]
    request = stage_request(facts.patient, view.evaluation.stage, policy_id=policy.id)  # the one its criteria read
    clinical = sees_clinical_notes(user)
    return {
        **_common(facts, user),
        "policy": policy,
        "guideline": is_guideline(policy),
        "evaluation": view.evaluation,
        "assumptions": view.assumptions,
        "nice_label": verdict_label(outcomes.nice_ta260.verdict),
        "show_nice": policy.id == NICE_TA260_POLICY,
        **_week24_context(outcomes),  # the outcomes, and week 24's period whether or not the diary reaches it
        "chart": headache_days_chart(
            periods, _session_marks(facts), title=_period_chart_title(), html_id="cont-chart", today=facts.today
        ),
        "hit6": _score_change(facts.patient, Instrument.HIT6, facts.first_session),
        "midas": _score_change(facts.patient, Instrument.MIDAS, facts.first_session),
        "prom_window_days": PROM_WINDOW_DAYS,
        "clinical_notes": clinical,
        "side_effects": list(
            SideEffect.objects.filter(patient=facts.patient).select_related("session").order_by("onset")
        )
        if clinical
        else [],
        # the plan asked for, as in the prior-authorisation letter: the next session's (PatientFacts.plan)
        "plan": facts.plan,
        "plan_departures": label_dose_departures(facts.plan),
        "billing_lines": facts.plan.billing_lines,
        # the continuation criteria read no code; the claim needs one, the same at every stage
        "diagnosis": _diagnosis(diagnosis_request(facts.patient, view.evaluation.stage, policy_id=policy.id)),
        "request": request,
        **_attestations_context(request, view.evaluation.stage),
        "insured_policy": insured_policy_if_other(facts.patient, policy.id),
        "not_approvable": view.evaluation.status is CoverageStatus.NOT_APPROVABLE,
        "criteria_not_met": [item.name for item in criteria_not_met(view.evaluation)],
        "information_missing": view.evaluation.status is CoverageStatus.INFORMATION_MISSING,
        "criteria_missing": [item.name for item in criteria_missing(view.evaluation)],
        **_treatment_given(facts, policy),
    }


def _session(facts: PatientFacts, session_id: str | uuid.UUID | None) -> InjectionSession:
    """The session asked for, else the last recorded (``document_problems`` has checked that one is);
    ``SessionNotFoundError`` when the id names no recorded session of the patient."""
    if session_id is None:
        return facts.recorded[-1]
    try:
        key = uuid.UUID(str(session_id))
    except ValueError:
        raise SessionNotFoundError(_(SESSION_NOT_FOUND).format(session_id=session_id)) from None
    found = next((s for s in facts.recorded if s.external_id == key), None)
    if found is None:
        raise SessionNotFoundError(_(SESSION_NOT_FOUND).format(session_id=session_id))
    return found


def _site_rows(session: InjectionSession) -> list[dict[str, Any]]:
    rows = []
    for record in session_sites(session):
        muscle = Muscle(record.muscle)
        side = Side(record.side)
        rows.append(
            {
                "muscle": sitemap.MUSCLE_LABELS[muscle],
                "side": sitemap.SIDE_LABELS[side],
                "units": record.units,
                "follow_the_pain": record.follow_the_pain,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class StoredFigure:
    """A figure stored with the session that disagrees with the one its recorded sites give."""

    name: str
    stored: int
    from_sites: int


def stored_disagreements(session: InjectionSession, plan: InjectionPlan) -> list[StoredFigure]:
    """The session's stored vials, units given and units discarded that differ from the sites' plan."""
    figures = (
        (_("vials opened"), session.vials_used, plan.vials),
        (_("units given"), session.total_units, plan.total_units),
        (_("units discarded"), session.discarded_units, plan.discarded_units),
    )
    return [
        StoredFigure(name, stored, computed)
        for name, stored, computed in figures
        if stored is not None and stored != computed
    ]


def _insured_policy(patient: Patient) -> tuple[str | None, CoveragePolicy | None]:
    """The id of the patient's insurance's policy and that policy when it is shipped (None, None without
    insurance): what a procedure note, written for no policy of its own, is claimed under."""
    insurance = insurance_of(patient)
    policy_id = insurance.policy_id if insurance is not None else None
    return policy_id, shipped_policies().get(policy_id) if policy_id is not None else None


def is_guideline(policy: CoveragePolicy | None) -> bool:
    """Whether ``policy`` is a national guideline (NICE TA260): whoever funds treatment under it reads no US claim
    codes (ICD-10-CM, CPT, HCPCS and their modifiers), so no document written under it prints them."""
    return policy is not None and policy.kind is PolicyKind.GUIDELINE


@dataclass(frozen=True, slots=True)
class SessionGiven:
    """A recorded session as the letters list it: its day and the units given, the sites' total when its sites are
    recorded (the figure its procedure note and claim lines give), else the figure stored with it; and the stored
    figures that disagree with its sites (``stored_disagreements``), which the letter lists as the note does."""

    session: InjectionSession
    units: int | None
    disagreements: tuple[StoredFigure, ...] = ()


def sessions_given(sessions: Iterable[InjectionSession]) -> list[SessionGiven]:
    """``sessions`` as the letters list them (``SessionGiven``); a session whose sites the engine refuses as a plan
    (``PlanError``) is listed by its stored figure, as one without sites."""
    rows = []
    for session in sessions:
        plan = session_plan_or_none(session)
        if plan is None:
            rows.append(SessionGiven(session, session.total_units))
        else:
            rows.append(SessionGiven(session, plan.total_units, tuple(stored_disagreements(session, plan))))
    return rows


def _session_request(facts: PatientFacts, session: InjectionSession) -> PriorAuthorisation | None:
    """The request whose diagnosis code the claim for ``session`` carries (``diagnosis_request``): the one of the
    stage due when the session was given, the engine's ``stage_due`` for the sessions before it under the
    insurance's policy (under a policy judging continuation after 2 cycles, the second session still falls under the
    initial approval), else the latest under that policy carrying a code, to that policy's payer (without insurance:
    to any). Each as it stood on the session's day: made on or before it, the approval covering it first
    (``diagnosis_request``'s ``on``), so a request recorded later does not change a reprinted note's code."""
    policy_id, policy = _insured_policy(facts.patient)
    stage = stage_due(policy, list(facts.recorded).index(session))
    return diagnosis_request(facts.patient, stage, policy_id=policy_id, on=session.date)


def fixed_sites_not_given(session: InjectionSession, plan: InjectionPlan | None) -> list[str]:
    """The fixed PREEMPT sites ``session`` did not give (left out, or stored at 0 U), named as the session page's map
    numbers them (``session_map_sites``); none for a session stored without its sites (``plan`` None: recorded
    elsewhere), which the documents say has no sites recorded instead. The rule is the session page's
    (``injections.selectors.session_sites_not_given``), so the page and the note name the same sites."""
    return [site.place for site in session_sites_not_given(session, plan)]


PATIENT_AREAS: dict[Muscle, str] = {
    Muscle.CORRUGATOR: gettext_noop("your forehead"),
    Muscle.PROCERUS: gettext_noop("your forehead"),
    Muscle.FRONTALIS: gettext_noop("your forehead"),
    Muscle.TEMPORALIS: gettext_noop("your temples"),
    Muscle.OCCIPITALIS: gettext_noop("the back of your head"),
    Muscle.CERVICAL_PARASPINAL: gettext_noop("your neck"),
    Muscle.TRAPEZIUS: gettext_noop("your shoulders"),
}
"""Where each PREEMPT muscle is, in the patient's words (the three muscles above the eyes are all the forehead)."""


def areas_injected(plan: InjectionPlan) -> str:
    """The parts of the body ``plan``'s sites were given in, in the patient's words and PREEMPT order, as one list
    ("your forehead, your temples and your neck"): only the muscles given units, so the after-care sheet of a
    session that left the shoulders out does not name them."""
    areas = dict.fromkeys(_(PATIENT_AREAS[muscle]) for muscle, dose in plan.by_muscle.items() if dose.units)
    return get_text_list(list(areas), _("and"))


def _procedure(facts: PatientFacts, user: Any, session_id: str | uuid.UUID | None) -> dict[str, Any]:
    """The procedure note. Complications, side effects and a check override are clinical notes: they are written
    for clinical staff (and the command line, run by the clinic's operator), and left out for billing and admin
    staff, who may print the note for a claim but see no clinical notes anywhere else in the app
    (``sees_clinical_notes``). An override a claim turns on (the 12-week interval, the prior authorisation:
    ``session_claim_overrides``) is on every copy, by the check's title and its figures only.

    Vials, units and the discarded units are the sites' (the engine plan's), the source of the claim lines beside
    them; figures stored with the session (an import may carry its own) that disagree are listed as a warning.

    The attestation is signed by the injector named on the note, not by whoever prints it
    (``_procedure_signature``).

    The fixed sites not given (left out, or stored at 0 U) are named as the session page's map numbers them
    (``session_map_sites``); each check overridden by its title with the reasons stored for it at recording
    (``checks_overridden``: the session page groups them so too).

    A patient insured under a national guideline (NICE TA260: ``is_guideline``) gets a note without the US claim
    codes, as the letters under it are written.

    Side effects give the clinician's grade when one is set, else the patient's severity marked as reported, as the
    continuation letter does (``coverage/pdf/_severity.html``)."""
    session = _session(facts, session_id)
    clinical = sees_clinical_notes(user)
    plan = session_plan(session)
    request = _session_request(facts, session)
    _policy_id, policy = _insured_policy(facts.patient)
    return {
        **_common(facts, user),
        **_procedure_signature(session, user),
        "guideline": is_guideline(policy),
        "session": session,
        "plan": plan,
        "sites": _site_rows(session),
        "by_muscle": [(sitemap.MUSCLE_LABELS[muscle], dose) for muscle, dose in plan.by_muscle.items() if dose.sites]
        if plan
        else [],
        "billing_lines": plan.billing_lines if plan else (),
        "stored_disagreements": stored_disagreements(session, plan) if plan else [],
        "cycle_number": list(facts.recorded).index(session) + 1,
        "clinical_notes": clinical,
        "side_effects": list(SideEffect.objects.filter(session=session).order_by("onset")) if clinical else [],
        "diagnosis": _diagnosis(request),
        "not_given": fixed_sites_not_given(session, plan),
        # the checks overridden that a claim turns on (12-week interval, prior authorisation), by title and figures:
        # every copy, billing's too; the other checks and the reason typed for overriding are clinical notes
        "claim_overrides": session_claim_overrides(session, recorded_days=[s.date for s in facts.recorded]),
        "overridden": checks_overridden(session) if clinical else [],
        "warnings_at_recording": warnings_at_recording(session) if clinical else [],
        "safety_at_recording": safety_at_recording(session) if clinical else None,
    }


def _next_date(facts: PatientFacts, session: InjectionSession) -> tuple[dt.date, NextSession]:
    """The session after this one (``next_treatment`` after its day): the next recorded, else the open booking on
    or after today when later, else the earliest date for the next (the engine's next due date after it), or
    ``DUE_SINCE`` when that day has passed (a sheet printed again after it): the portal's words then, "contact the
    clinic", not a day gone by as the earliest."""
    found = next_treatment(
        (s.date for s in facts.recorded),
        [facts.booked.date] if facts.booked else [],
        today=facts.today,
        after=session.date,
    )
    assert found is not None  # noqa: S101 - the session itself is recorded: at the least, the next is due
    return found.date, found.kind


def portal_open(patient: Patient) -> bool:
    """Whether the patient can sign in to their portal account now: a patient's login is linked to the record, it
    is active, and the portal has not been closed (``accounts.services.portal_account_close`` closes the portal and
    ends the login; ``patients_visible_to`` then shows the record to no patient). Only then does the after-care sheet
    send the patient to the portal to report a side effect; otherwise to the telephone alone."""
    user = patient.user
    return user is not None and user.is_active and user.role == Role.PATIENT and patient.portal_closed is None


def _patient_summary(facts: PatientFacts, user: Any, session_id: str | uuid.UUID | None) -> dict[str, Any]:
    """The after-care sheet of one session. Printed on the session's day it speaks of "today"; printed on another
    day (a copy, or the sheet of an earlier session) it names the session's date, and the next treatment is the
    one that followed it, not the patient's open booking. When none followed nor is booked and the latest decision
    is to stop (the pathway's "treatment stopped"), it promises no next one, as the portal does
    (``diary.selectors.next_treatment_of``): the sheet of a session given on a later day than that stop (no
    decision to continue since) says none is planned yet, without telling the patient just treated that treatment
    stopped before; a stop of the session's own day is that visit's decision, and the sheet gives it. A stop
    only suggested by NICE TA260 (its rule holds, no clinician has answered it) is the clinician's to settle with the
    patient: the sheet then gives no date and says the clinician will talk it over, without the word "stop" (the
    portal's rule: a stop is discussed before the patient reads it). A patient is sent to the portal to report a side
    effect only while they can sign in to it (``portal_open``)."""
    session = _session(facts, session_id)
    plan = session_plan(session)
    next_day, next_kind = _next_date(facts, session)
    # no next session given or booked, and the pathway is "treatment stopped" (the latest decision is to stop, as
    # for the portal's next_treatment_of, even after a session recorded since without a decision to continue)
    due = next_kind in (NextSession.DUE, NextSession.DUE_SINCE)
    stopped = stopped_decision(facts.patient, facts.today) if due else None
    # a stop of the session's own day is taken as its visit's decision (the last injection, then "stop"), whatever
    # order the two were typed in: only a stop of an earlier day came before the session
    stopped_before = stopped is not None and stopped.decided_on < session.date
    # NICE TA260's stop rule holds and no clinician has answered it: the next treatment is the clinician's to settle
    # with the patient, so the sheet promises no date (nor says "stop": the portal's rule, a stop is discussed first)
    outcomes = facts.outcomes
    review = (
        due
        and stopped is None
        and outcomes is not None
        and outcomes.nice_ta260.stop_suggested
        and not continue_answers_stop(outcomes, latest_decision(facts.patient, facts.today))
    )
    return {
        **_common(facts, user),
        "session": session,
        "plan": plan,
        # what was given, not the paradigm's five areas: a partial session names only the muscles injected, and says
        # that planned injections were left out (the procedure note names which)
        "areas": areas_injected(plan) if plan else "",
        "sites_not_given": bool(fixed_sites_not_given(session, plan)),
        "onset_week": ONSET_PERIOD * WEEKS_PER_PERIOD,
        "week24": WEEK24_PERIOD * WEEKS_PER_PERIOD,
        "interval_weeks": RETREATMENT_INTERVAL_DAYS // 7,
        "cycle_number": list(facts.recorded).index(session) + 1,
        "common_effects": [
            kind.label
            for kind in SideEffectKind
            if kind not in URGENT_SIDE_EFFECTS and kind is not SideEffectKind.OTHER
        ],
        "urgent_effects": [
            *(kind.label for kind in SideEffectKind if kind in URGENT_SIDE_EFFECTS),
        ],
        "next_date": next_day,
        "next_kind": next_kind.value,
        "stopped_on": stopped.decided_on if stopped is not None else None,
        "stopped_before_session": stopped_before,
        "review_before_next": review,
        "printed_on_session_day": session.date == facts.today,
        "has_portal": portal_open(facts.patient),
    }


def document_context(
    kind: DocumentKind | str,
    *,
    patient: Patient,
    today: dt.date,
    user: Any = None,
    session_id: str | uuid.UUID | None = None,
    policy_id: str | None = None,
) -> dict[str, Any]:
    """The template context of one document; ``CoverageUnavailableError`` when it cannot be written
    (``document_problem``'s reason, checked first), ``UnknownPolicyError`` when ``policy_id`` names no shipped
    policy and ``SessionNotFoundError`` when ``session_id`` names no recorded session of the patient."""
    kind = DocumentKind(kind)
    if policy_id:
        policy_by_id(policy_id)  # an unknown id is refused as such, before what the record lacks
    problem = document_problem(kind, patient, today=today, policy_id=policy_id)
    if problem:
        raise CoverageUnavailableError(problem)
    facts = patient_facts(patient, today=today)
    if kind is DocumentKind.PRIOR_AUTH:
        context = _prior_auth(facts, user, policy_id)
    elif kind is DocumentKind.CONTINUATION:
        context = _continuation(facts, user, policy_id)
    elif kind is DocumentKind.PROCEDURE:
        context = _procedure(facts, user, session_id)
    else:
        context = _patient_summary(facts, user, session_id)
    return {**context, "kind": kind, "title": kind.title, "rules": DOCUMENT_RULES}


def document_filename(kind: DocumentKind, patient: Patient, context: dict[str, Any]) -> str:
    day = context["session"].date if "session" in context else context["today"]
    return f"{kind.value}-{patient.record_number}-{day.isoformat()}.pdf"


def document_pdf(
    kind: DocumentKind | str,
    *,
    user: Any,
    patient: Patient,
    today: dt.date,
    session_id: str | uuid.UUID | None = None,
    policy_id: str | None = None,
    channel: str = "web",
) -> Document:
    """Render one document to PDF and record the export (who, which document, which patient, from where)."""
    kind = DocumentKind(kind)
    context = document_context(
        kind, patient=patient, today=today, user=user, session_id=session_id, policy_id=policy_id
    )
    pdf = render_pdf(kind.template, context)
    detail = f"{channel} {kind.value}"
    if "session" in context:
        detail += f" session {context['session'].external_id}"
    if "policy" in context:
        detail += f" policy {context['policy'].id}"
    audit_record(
        user=user,
        action=Action.EXPORT,
        object_type="document",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=detail,
    )
    return Document(kind, document_filename(kind, patient, context), pdf)
