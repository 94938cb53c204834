"""Reading questionnaire answers, each read audited. The reasons shown are the engine's, recomputed from the answers.

Also the clinician's latest decision to continue or stop treatment as the screens read it (``LatestDecision``) and
the rule for when a "continue" answers NICE TA260's suggested stop (the engine's ``NiceVerdict.stop_suggested``;
``continue_answers_stop``), shared by the pathway (``clinic.selectors``), the session screen's warnings
(``injections.selectors``) and the letters (``coverage.documents``), which import this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from onaboard.clinical import (
    HIT6_RECALL_DAYS,
    PERIOD_DAYS,
    PROM_WINDOW_DAYS,
    WEEK24_PERIOD,
    Hit6Change,
    NiceTa260,
    NiceVerdict,
    Outcomes,
    PeriodSummary,
    PromError,
    PromInstrument,
    hit6_change,
    hit6_score,
    midas_score,
    prom_baseline,
    prom_in_window,
    recalls_only_after,
    week24_last_day,
)
from onaboard.clinical.outcomes import Week24State
from onaboard.web.audit.models import Action
from onaboard.web.audit.services import audit_record
from onaboard.web.injections.models import InjectionSession, SessionStatus
from onaboard.web.outcomes.models import Decision, Instrument, QuestionnaireResponse, TreatmentDecision
from onaboard.web.patients.models import Patient

if TYPE_CHECKING:
    from onaboard.web.clinic.selectors import Pathway


@dataclass(frozen=True, slots=True)
class ScoredResponse:
    """A stored response with the engine's reason for its band (e.g. ``HIT-6 total 62: >= 60 severe impact``)."""

    response: QuestionnaireResponse
    reason: str


@dataclass(frozen=True, slots=True)
class BaselineAndLatest:
    """The answer a change is measured from and the latest answer of one instrument (``baseline_and_latest``).

    ``before_treatment`` is true only when the baseline is the engine's (``onaboard.clinical.prom_baseline``):
    answered in the 28 days up to ``first_session`` (the first recorded injection session), as the cohort's visit 1
    is. Otherwise the baseline is the last answer before the first session when it is older than that
    (``older_than_window``), else the first answer, and no one may call the change one "since treatment"; nor while
    the latest answer still recalls days before the first session (``latest_too_soon``).
    """

    baseline: QuestionnaireResponse
    latest: QuestionnaireResponse
    first_session: date | None

    @property
    def before_treatment(self) -> bool:
        return self.first_session is not None and prom_in_window(self.baseline.date, self.first_session)

    @property
    def older_than_window(self) -> bool:
        """Answered before the first session but before the 28 days up to it: shown, labelled, not a baseline."""
        return (
            self.first_session is not None
            and self.baseline.date <= self.first_session
            and not prom_in_window(self.baseline.date, self.first_session)
        )

    @property
    def days_after_first(self) -> int | None:
        """Days from the first session to the latest answer; None with no session recorded."""
        return None if self.first_session is None else (self.latest.date - self.first_session).days

    @property
    def latest_too_soon(self) -> bool:
        """The latest answer was given after the first session but still asks about days up to it or before it
        (``onaboard.clinical.recalls_only_after``): a HIT-6 under 28 days after it (one on day 7 recalls days
        -20 .. 7, mostly before the first injection), a MIDAS under 3 calendar months after it. A change to it is
        not one since treatment."""
        return self.first_session is not None and not recalls_only_after(
            PromInstrument(self.latest.instrument), self.latest.date, self.first_session
        )

    @property
    def since_treatment(self) -> bool:
        """A change since treatment, to be judged: from a baseline before treatment (``before_treatment``) to an
        answer that recalls only days after the first session (not ``latest_too_soon``)."""
        return self.before_treatment and not self.latest_too_soon


BASELINE_BEFORE_FIRST_SESSION = _(
    "Baseline: the answer of %(day)s, the last on or before the first session (%(first)s)."
)
BASELINE_NO_SESSION = _(
    "Baseline: the first answer (%(day)s); no session is recorded, so this is not a change since treatment."
)
BASELINE_AFTER_FIRST_SESSION = _(
    "Baseline: the first answer (%(day)s); none was given on or before the first session (%(first)s), so this is "
    "not a change since treatment."
)
BASELINE_OLDER_THAN_WINDOW = _(
    "Compared with the answer of %(day)s, %(days_before)d days before the first session (%(first)s): a baseline is "
    "answered in the %(window)d days up to it, so this is not a change since treatment."
)
"""What the staff's change is measured from, beside the engine's reason (which names no dates)."""


def baseline_for_staff(compared: BaselineAndLatest) -> str:
    """Which answer the change is measured from, and whether it is from before treatment, in the staff's words."""
    numbers = {"day": date_format(compared.baseline.date, "j M Y")}
    if compared.first_session is None:
        return str(BASELINE_NO_SESSION) % numbers
    numbers["first"] = date_format(compared.first_session, "j M Y")
    if compared.before_treatment:
        return str(BASELINE_BEFORE_FIRST_SESSION) % numbers
    if compared.older_than_window:
        days_before = (compared.first_session - compared.baseline.date).days
        return str(BASELINE_OLDER_THAN_WINDOW) % {**numbers, "days_before": days_before, "window": PROM_WINDOW_DAYS}
    return str(BASELINE_AFTER_FIRST_SESSION) % numbers


HIT6_DIFFERENCE_ONLY = _(
    "HIT-6 %(baseline)d -> %(latest)d: %(difference)s points; not a change since treatment, so not judged as a response"
)
"""A HIT-6 change not measured from a baseline before treatment (``BaselineAndLatest.before_treatment`` false): the
raw difference, without the engine's responder verdict, which judges a change since treatment."""

HIT6_TOO_SOON = ngettext_lazy(
    "HIT-6 %(baseline)d -> %(latest)d: %(difference)s points; not judged as a response yet: answered %(days)d day "
    "after the first session, the 4 weeks it asks about still reach back to the first session or before it (an "
    "answer is judged from %(window)d days after it)",
    "HIT-6 %(baseline)d -> %(latest)d: %(difference)s points; not judged as a response yet: answered %(days)d days "
    "after the first session, the 4 weeks it asks about still reach back to the first session or before it (an "
    "answer is judged from %(window)d days after it)",
    "days",
)
"""A HIT-6 change from a baseline before treatment to an answer given less than ``HIT6_RECALL_DAYS`` days after the
first session (``BaselineAndLatest.latest_too_soon``): the raw difference, without the engine's responder verdict,
and why. HIT-6 recalls the last 4 weeks, so such an answer still describes days up to the first injection."""


@dataclass(frozen=True, slots=True)
class Hit6ChangeForStaff:
    """The engine's HIT-6 change (``hit6_change``) between the compared answers as the staff's pages and letters show
    it: judged (responder or not, and coloured so) only when measured from a baseline before treatment to an answer
    given ``HIT6_RECALL_DAYS`` days or more after the first session (``BaselineAndLatest.since_treatment``);
    otherwise the raw difference (``HIT6_DIFFERENCE_ONLY``, or ``HIT6_TOO_SOON`` saying why), with no verdict and no
    colour. A drop of 5 from an answer given months before the first session, or after it, says nothing about the
    response to treatment, nor does one to an answer whose 4 weeks are mostly before it."""

    engine: Hit6Change
    before_treatment: bool
    """The baseline answer is the engine's, before treatment (``BaselineAndLatest.before_treatment``)."""
    too_soon_days: int | None = None
    """Days after the first session the latest answer was given when that is less than ``HIT6_RECALL_DAYS``
    (``BaselineAndLatest.latest_too_soon``): it still recalls days before treatment. None otherwise."""

    @property
    def judged(self) -> bool:
        """A change since treatment: from a baseline before treatment to an answer recalling only days after it."""
        return self.before_treatment and self.too_soon_days is None

    @property
    def baseline(self) -> int:
        return self.engine.baseline

    @property
    def follow_up(self) -> int:
        return self.engine.follow_up

    @property
    def drop(self) -> int:
        return self.engine.drop

    @property
    def responder(self) -> bool | None:
        """The engine's verdict when the change is judged (``judged``); None (not judged) otherwise."""
        return self.engine.responder if self.judged else None

    @property
    def reason(self) -> str:
        """The engine's reason when the change is judged; otherwise the raw difference, with no verdict, and why."""
        if self.judged:
            return self.engine.reason
        difference = self.engine.follow_up - self.engine.baseline
        numbers: dict[str, object] = {
            "baseline": self.engine.baseline,
            "latest": self.engine.follow_up,
            "difference": f"{difference:+d}" if difference else "0",
        }
        if self.before_treatment and self.too_soon_days is not None:
            numbers.update(days=self.too_soon_days, window=HIT6_RECALL_DAYS)
            return str(HIT6_TOO_SOON % numbers)
        return str(HIT6_DIFFERENCE_ONLY) % numbers

    @property
    def tone(self) -> str:
        """The colour it is shown in (onaboard.css): ok for a responder, warn for none, neutral when not judged."""
        if self.responder is None:
            return ""
        return "ok" if self.responder else "warn"


@dataclass(frozen=True, slots=True)
class InstrumentHistory:
    """One instrument's responses, newest first; the baseline and latest answers they are compared by
    (``baseline_and_latest``) and, for HIT-6, the engine's change between them (``hit6_change_from_baseline``)."""

    instrument: Instrument
    responses: tuple[ScoredResponse, ...]
    change: Hit6ChangeForStaff | None
    compared: BaselineAndLatest | None

    @property
    def latest(self) -> ScoredResponse | None:
        return self.responses[0] if self.responses else None


def engine_reason(response: QuestionnaireResponse) -> str:
    """The engine's reason for the stored answers' band; the stored total and category if it refuses them."""
    try:
        if response.instrument == Instrument.HIT6:
            return hit6_score(response.answers).reason
        return midas_score(**response.answers).reason
    except (PromError, TypeError):
        return f"{response.get_instrument_display()} {response.total} ({response.category})"


def baseline_and_latest(
    responses: Sequence[QuestionnaireResponse], first_injection: date | None
) -> BaselineAndLatest | None:
    """The baseline answer and the latest, when they differ; ``responses`` of one instrument, oldest first. The one
    rule for the pages and the letters, the cohort's visit 1's (``onaboard.clinical.prom_baseline``):

    - the latest answered in the 28 days up to the first injection: the baseline before treatment;
    - else the last answered before it, older than that: shown, so the staff see what the patient answered, but
      not a baseline (``before_treatment`` false, ``older_than_window`` true, and worded so by
      ``baseline_for_staff``): a HIT-6 of months before describes a month long before treatment, and the cohort
      report does not count it either;
    - else (no session, or only answers after the first) the first answer, not "before treatment".

    The latest is the newest answer; a change to it is one since treatment only when it was given
    ``HIT6_RECALL_DAYS`` days (a MIDAS 3 calendar months) or more after the first injection
    (``BaselineAndLatest.latest_too_soon``): before that its recall still reaches back to the first injection.
    """
    if len(responses) < 2:
        return None
    baseline = responses[0]
    if first_injection is not None:
        on_day = {response.date: response for response in responses}
        chosen = prom_baseline(on_day, first_injection)
        before = [response for response in responses if response.date <= first_injection]
        if chosen is not None:
            baseline = on_day[chosen]
        elif before:
            baseline = before[-1]
    latest = responses[-1]
    return None if latest.pk == baseline.pk else BaselineAndLatest(baseline, latest, first_injection)


def _hit6_change(pair: BaselineAndLatest | None) -> Hit6ChangeForStaff | None:
    if pair is None:
        return None
    try:
        engine = hit6_change(pair.baseline.total, pair.latest.total)
    except PromError:
        return None
    too_soon = pair.days_after_first if pair.latest_too_soon else None
    return Hit6ChangeForStaff(engine, pair.before_treatment, too_soon)


def hit6_change_from_baseline(
    responses: Sequence[QuestionnaireResponse], first_injection: date | None
) -> Hit6ChangeForStaff | None:
    """HIT-6 change from the baseline to the latest answer (``baseline_and_latest``), judged by the engine (a drop
    of 5 or more is a response) only when the baseline is before treatment and the latest answer recalls only days
    after the first session (``BaselineAndLatest.since_treatment``; ``Hit6ChangeForStaff``). ``responses`` oldest
    first."""
    return _hit6_change(baseline_and_latest(responses, first_injection))


def questionnaire_history(*, user: Any, patient: Patient) -> dict[str, InstrumentHistory]:
    """Every HIT-6 and MIDAS response of the patient, by instrument; the read is audited."""
    responses = list(QuestionnaireResponse.objects.filter(patient=patient).order_by("-date", "-created"))
    audit_record(
        user=user,
        action=Action.READ,
        object_type="questionnaires",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"{len(responses)} responses",
    )
    first = (
        InjectionSession.objects.filter(patient=patient, status=SessionStatus.RECORDED)
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    history: dict[str, InstrumentHistory] = {}
    for instrument in Instrument:
        mine = tuple(ScoredResponse(r, engine_reason(r)) for r in responses if r.instrument == instrument)
        compared = baseline_and_latest(sorted((scored.response for scored in mine), key=lambda r: r.date), first)
        change = _hit6_change(compared) if instrument == Instrument.HIT6 else None
        history[instrument.value] = InstrumentHistory(instrument, mine, change, compared)
    return history


def questionnaire_response_on(
    *, user: Any, patient: Patient, instrument: Instrument, day: date
) -> QuestionnaireResponse | None:
    """The patient's response to ``instrument`` on ``day``, if any; the read is audited."""
    response = QuestionnaireResponse.objects.filter(patient=patient, instrument=instrument, date=day).first()
    audit_record(
        user=user,
        action=Action.READ,
        object_type=f"questionnaire_{instrument.value}",
        object_id=response.external_id if response else "",
        patient_id=patient.external_id,
        detail=day.isoformat(),
    )
    return response


@dataclass(frozen=True, slots=True)
class LatestDecision:
    """The latest decision a clinician recorded to continue or stop treatment (``outcomes.TreatmentDecision``), as
    the pathway and the session screen read it: what, on which day, by whom (their name as the reasons show it) and
    why."""

    decision: Decision
    decided_on: date
    decided_by: str
    reason: str
    saw_stop: bool = False
    """A stop was suggested on ``decided_on`` (``NiceVerdict.stop_suggested`` over the verdict stored with the decision:
    ``TreatmentDecision.saw_stop``), so a "continue" went against it: the verdict was stop, or the return to
    episodic migraine held while the verdict waited for a complete baseline. A "continue" that saw no stop answers
    none, and is not worded as going against a rule."""

    @classmethod
    def of(cls, record: TreatmentDecision) -> LatestDecision:
        user = record.decided_by
        name = user.get_full_name() or user.username
        return cls(Decision(record.decision), record.decided_on, name, record.reason, saw_stop=record.saw_stop)

    def line(self, template: Any) -> str:
        """This decision worded by ``template`` (``clinic.selectors``' ``STOPPED_ON``, ``CONTINUED_AGAINST_RULE``,
        ``CONTINUE_DECIDED``)."""
        return str(template % {"date": self.decided_on.isoformat(), "name": self.decided_by, "reason": self.reason})


def decisions_by_latest(on: date, *, patient: Any) -> QuerySet[TreatmentDecision]:
    """The treatment decisions made on or before ``on`` of ``patient`` (an ``OuterRef`` to the outer query's patient
    key), latest first in the model's order (day, then the order recorded): ``[:1]`` of it in a ``Subquery`` is
    that patient's latest decision, as ``latest_decision`` reads it, inside a query made anyway."""
    return TreatmentDecision.objects.filter(patient_id=patient, decided_on__lte=on).order_by(
        *TreatmentDecision._meta.ordering
    )


def latest_decision(patient: Patient, on: date) -> LatestDecision | None:
    """The patient's latest treatment decision made on or before ``on`` (the model's order: day, then the order
    they were recorded), with who made it; None when there is none. One query. The worklist reads the same decision
    inside the pathway's own query (``clinic.selectors._latest_decision``)."""
    record = TreatmentDecision.objects.filter(patient=patient, decided_on__lte=on).select_related("decided_by").first()
    return LatestDecision.of(record) if record is not None else None


def stopped_decision(patient: Patient, on: date) -> LatestDecision | None:
    """The patient's latest treatment decision on or before ``on`` when it is to stop (``latest_decision``): the
    pathway's "treatment stopped"; None when it is to continue or there is none."""
    decision = latest_decision(patient, on)
    return decision if decision is not None and decision.decision is Decision.STOP else None


@dataclass(frozen=True, slots=True)
class Week24Period:
    """Week 24's period (the engine's period ``WEEK24_PERIOD`` after the first injection) as the pages and letters
    word it: its days, how many of them are recorded (0 when the diary holds no row in it) and where it stands
    (``Outcomes.week24_state``)."""

    start: date
    end: date
    days_recorded: int
    state: Week24State

    @property
    def ended_incomplete(self) -> bool:
        """Over with too few days recorded: week 24 cannot be measured and will not be."""
        return self.state is Week24State.ENDED_INCOMPLETE


def week24_period(outcomes: Outcomes) -> Week24Period:
    """Week 24's period of ``outcomes`` (``Week24Period``), whether or not the diary reaches it."""
    end = week24_last_day(outcomes.first_injection)
    recorded = next((c.period.days_recorded for c in outcomes.listed if c.period.index == WEEK24_PERIOD), 0)
    return Week24Period(end - timedelta(days=PERIOD_DAYS - 1), end, recorded, outcomes.week24_state)


def stop_rests_on(outcomes: Outcomes) -> PeriodSummary | None:
    """The newest period NICE TA260's stop verdict rests on, which a clinician's "continue" must have seen: under the
    return to episodic migraine, the latest period that has ended complete (each one more under 15 headache days is
    a new fact); under week 24's reduction alone, week 24's period itself (its result never changes, so a
    "continue" after it answers it for good rather than every 28 days)."""
    if not outcomes.nice_ta260.reverted_to_episodic and outcomes.week24.available:
        return next(change.period for change in outcomes.periods if change.period.index == WEEK24_PERIOD)
    judged = [change.period for change in outcomes.periods if change.judged]
    return max(judged, key=lambda period: period.end) if judged else None


def continue_answers_stop(outcomes: Outcomes, decision: LatestDecision | None) -> bool:
    """Whether ``decision`` (the latest, on or before the day ``outcomes`` were computed for) is a "continue" that
    answers the stop suggested (``NiceVerdict.stop_suggested``): made against a stop (``saw_stop``, a return to
    episodic migraine held while the baseline was incomplete included) after the end of the newest period the verdict
    rests on (``stop_rests_on``): the engine judges a period only from the day after it ends, so on its last day
    it was still running and unseen. A stop later periods renewed, a stop decision, or none answer nothing."""
    if decision is None or decision.decision is not Decision.CONTINUE or not decision.saw_stop:
        return False
    rests_on = stop_rests_on(outcomes)
    return rests_on is None or rests_on.end < decision.decided_on


@dataclass(frozen=True, slots=True)
class TreatmentDecisions:
    """What the continue-or-stop page shows: the patient's pathway today (which reads the latest decision), the
    engine's NICE TA260 verdict (None before treatment) and every decision, newest first."""

    pathway: Pathway
    nice: NiceVerdict | None
    decisions: tuple[TreatmentDecision, ...]

    @property
    def stop_suggested(self) -> bool:
        """NICE TA260's stopping rule holds today (``NiceVerdict.stop_suggested``), whatever the verdict's own value."""
        return self.nice is not None and self.nice.stop_suggested

    @property
    def stop_held_back(self) -> bool:
        """The stopping rule holds but the engine's verdict is not stop: it waits for a complete baseline."""
        return self.stop_suggested and self.nice is not None and self.nice.verdict != NiceTa260.STOP


def treatment_decision_history(*, user: Any, patient: Patient, today: Any) -> TreatmentDecisions:
    """The patient's pathway and NICE TA260 verdict on ``today`` and their decisions to continue or stop, with who
    made them; the read is audited."""
    # clinic.selectors reads this app's models, so the pathway is imported when asked for.
    from onaboard.web.clinic.selectors import patient_pathway_state

    pathway = patient_pathway_state(patient, today)
    decisions = tuple(TreatmentDecision.objects.filter(patient=patient).select_related("decided_by"))
    audit_record(
        user=user,
        action=Action.READ,
        object_type="treatment_decisions",
        object_id=patient.external_id,
        patient_id=patient.external_id,
        detail=f"{len(decisions)} decisions; pathway {pathway.state.value}",
    )
    nice = pathway.outcomes.nice_ta260 if pathway.outcomes is not None else None
    return TreatmentDecisions(pathway, nice, decisions)
