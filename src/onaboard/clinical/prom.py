"""Patient-reported outcome scores: HIT-6 and MIDAS, and which answer stands for a visit (the baseline: day 0).

Sources:
- HIT-6 (Headache Impact Test, (c) QualityMetric; licence needed for the item text): Kosinski M, et al. "A six-item
  short-form survey for measuring headache impact: the HIT-6." Qual Life Res 2003;12:963-74. The NINDS Common Data
  Element page confirms six items answered never / rarely / sometimes / very often / always, each worth 6 to 13
  points, total 36-78, higher meaning more impact. The impact bands (<= 49 little or no, 50-55 some, 56-59
  substantial, >= 60 severe) are confirmed from the HIT-6 result text (web-neurosurgery.com, HIT-6 Japanese
  version) and the PREEMPT baseline tables.
- HIT-6 individual responder: a drop of 5 points or more (Diener HC, et al. Pain Ther 2020, PREEMPT post hoc).
- MIDAS (Stewart WF, Lipton RB, et al.): five questions counting days in the last 3 months; Q2 excludes days counted
  in Q1 and Q4 days counted in Q3; score = Q1+...+Q5; grades I 0-5 little or no disability, II 6-10 mild, III 11-20
  moderate, IV >= 21 severe; A (headache days) and B (average pain 0-10) are recorded but not scored.
- The baseline answer (``prom_baseline``): PREEMPT's 28-day baseline phase before day 0 (Dodick et al., Headache
  2010; clinical-facts.md 3.1), the engine's baseline of the 28 days before cycle 1 (clinical-facts.md 5.4), EHF's
  4 weeks before vs after each cycle (Bendtsen et al., J Headache Pain 2018; clinical-facts.md 5.2) and HIT-6's
  4-week recall (clinical-facts.md 8.1).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType

from onaboard.clinical.errors import RefusedError
from onaboard.clinical.periods import PERIOD_DAYS, months_before

__all__ = [
    "HIT6_ITEM_COUNT",
    "HIT6_MAX_TOTAL",
    "HIT6_MIN_TOTAL",
    "HIT6_POINTS",
    "HIT6_RECALL_DAYS",
    "HIT6_RESPONDER_DROP",
    "HIT6_RESPONDER_RULE",
    "HIT6_SEVERE_MIN",
    "HIT6_SOME_MIN",
    "HIT6_SUBSTANTIAL_MIN",
    "MIDAS_GRADE_III_MIN",
    "MIDAS_GRADE_II_MIN",
    "MIDAS_GRADE_IV_MIN",
    "MIDAS_MAX_DAYS",
    "MIDAS_MAX_PAIN",
    "MIDAS_RECALL_MONTHS",
    "PROM_WINDOW_DAYS",
    "Hit6Answer",
    "Hit6Change",
    "Hit6Impact",
    "Hit6Result",
    "MidasGrade",
    "MidasResult",
    "PromError",
    "PromInstrument",
    "hit6_change",
    "hit6_score",
    "midas_score",
    "parse_hit6_answer",
    "prom_baseline",
    "prom_in_window",
    "prom_visit_answer",
    "recall_first_day",
    "recalls_only_after",
]


class Hit6Answer(enum.StrEnum):
    """The five HIT-6 response options (NINDS CDE; Kosinski 2003)."""

    NEVER = "never"
    RARELY = "rarely"
    SOMETIMES = "sometimes"
    VERY_OFTEN = "very_often"
    ALWAYS = "always"


class Hit6Impact(enum.StrEnum):
    """HIT-6 impact bands (QualityMetric interpretation)."""

    LITTLE_OR_NONE = "little_or_no_impact"
    SOME = "some_impact"
    SUBSTANTIAL = "substantial_impact"
    SEVERE = "severe_impact"


class MidasGrade(enum.StrEnum):
    """MIDAS disability grades (Stewart & Lipton)."""

    I = "I"  # noqa: E741 - the instrument's own grade name
    II = "II"
    III = "III"
    IV = "IV"


# --- HIT-6 constants --------------------------------------------------------------------------------------------

HIT6_ITEM_COUNT = 6
"""HIT-6 has six items (Kosinski 2003; NINDS CDE)."""

HIT6_POINTS: Mapping[Hit6Answer, int] = MappingProxyType(
    {
        Hit6Answer.NEVER: 6,
        Hit6Answer.RARELY: 8,
        Hit6Answer.SOMETIMES: 10,
        Hit6Answer.VERY_OFTEN: 11,
        Hit6Answer.ALWAYS: 13,
    }
)
"""Points per answer. UNCONFIRMED against a primary source: the QualityMetric scoring sheet and the weights in
Kosinski 2003 were not retrieved (the article abstract was; it gives no weights). Confirmed only that each item scores
6 to 13 and the total 36 to 78, which these weights meet (6 x 6 = 36, 6 x 13 = 78). Check before release."""

HIT6_MIN_TOTAL = 36
"""Lowest HIT-6 total: six answers of "never" (NINDS CDE: range 36-78)."""

HIT6_MAX_TOTAL = 78
"""Highest HIT-6 total: six answers of "always" (NINDS CDE: range 36-78)."""

HIT6_SOME_MIN = 50
"""HIT-6 50-55: some impact (<= 49 is little or no impact)."""

HIT6_SUBSTANTIAL_MIN = 56
"""HIT-6 56-59: substantial impact."""

HIT6_SEVERE_MIN = 60
"""HIT-6 60-78: severe impact."""

HIT6_RESPONDER_DROP = 5
"""Individual HIT-6 responder: total fell by 5 points or more (Diener et al., Pain Ther 2020)."""

_HIT6_BAND_TEXT: Mapping[Hit6Impact, str] = MappingProxyType(
    {
        Hit6Impact.LITTLE_OR_NONE: "<= 49 little or no impact",
        Hit6Impact.SOME: "50-55 some impact",
        Hit6Impact.SUBSTANTIAL: "56-59 substantial impact",
        Hit6Impact.SEVERE: ">= 60 severe impact",
    }
)

# --- MIDAS constants --------------------------------------------------------------------------------------------

MIDAS_MAX_DAYS = 92
"""Days in the MIDAS 3-month recall at most: the longest three consecutive calendar months (e.g. July-September)
hold 92 days. A question, and Q1+Q2 or Q3+Q4 (Q2 and Q4 exclude Q1 and Q3 days), cannot exceed it."""

MIDAS_MAX_PAIN = 10
"""MIDAS B: average pain on a 0-10 scale (0 no pain, 10 pain as bad as it can be)."""

MIDAS_GRADE_II_MIN = 6
"""MIDAS 6-10: grade II, mild disability (0-5 is grade I, little or no disability)."""

MIDAS_GRADE_III_MIN = 11
"""MIDAS 11-20: grade III, moderate disability."""

MIDAS_GRADE_IV_MIN = 21
"""MIDAS 21 or more: grade IV, severe disability."""

_MIDAS_GRADE_TEXT: Mapping[MidasGrade, str] = MappingProxyType(
    {
        MidasGrade.I: "0-5 little or no disability",
        MidasGrade.II: "6-10 mild disability",
        MidasGrade.III: "11-20 moderate disability",
        MidasGrade.IV: ">= 21 severe disability",
    }
)

# --- Messages (format strings; tests assert them exactly) -------------------------------------------------------

HIT6_COUNT = "HIT-6: expected 6 answers, got {count}"
HIT6_UNKNOWN_ANSWER = (
    "HIT-6 item {item}: unknown answer {answer!r}; expected never, rarely, sometimes, very often or always"
)
HIT6_TOTAL_RANGE = "HIT-6 {which}: a total must be a whole number 36..78, got {total!r}"
MIDAS_DAYS_RANGE = "MIDAS {question}: must be a whole number of days 0..92, got {value!r}"
MIDAS_PAIR_TOO_MANY = (
    "MIDAS {first}+{second}: {first_value} + {second_value} = {total} days, more than the 92 days of a 3-month "
    "recall ({second} excludes days counted in {first})"
)
MIDAS_PAIN_RANGE = "MIDAS B: average pain must be a whole number 0..10, got {value!r}"

HIT6_REASON = "HIT-6 total {total}: {band}"
HIT6_RESPONDER_RULE = "Diener et al., Pain Ther 2020"
"""The source of the individual responder threshold (``HIT6_RESPONDER_DROP``), named first in every change reason."""
HIT6_CHANGE_REASON = (
    "{rule}: HIT-6 {baseline} -> {follow_up}: drop of {drop} points ({comparison} {threshold}: {verdict})"
)
HIT6_RISE_REASON = (
    "{rule}: HIT-6 {baseline} -> {follow_up}: rise of {rise} points (no drop, < {threshold}: not a responder)"
)
MIDAS_REASON = "MIDAS score {total} (Q1-Q5 days): grade {grade}, {band}"


class PromError(RefusedError):
    """Questionnaire answers refused; ``problems`` lists every reason, one message each."""


# --- HIT-6 ------------------------------------------------------------------------------------------------------


def parse_hit6_answer(answer: str | Hit6Answer) -> Hit6Answer | None:
    """The answer for a response text, case-insensitive; "very often" and "very_often" both work. None if unknown."""
    if not isinstance(answer, str):
        return None
    key = "_".join(answer.strip().casefold().replace("_", " ").split())
    try:
        return Hit6Answer(key)
    except ValueError:
        return None


def _hit6_impact(total: int) -> Hit6Impact:
    if total >= HIT6_SEVERE_MIN:
        return Hit6Impact.SEVERE
    if total >= HIT6_SUBSTANTIAL_MIN:
        return Hit6Impact.SUBSTANTIAL
    if total >= HIT6_SOME_MIN:
        return Hit6Impact.SOME
    return Hit6Impact.LITTLE_OR_NONE


@dataclass(frozen=True, slots=True)
class Hit6Result:
    """A scored HIT-6: the parsed answers, total, impact band and a reason quoting the band."""

    answers: tuple[Hit6Answer, ...]
    total: int
    impact: Hit6Impact
    reason: str


def hit6_score(answers: Sequence[str | Hit6Answer]) -> Hit6Result:
    """Score six HIT-6 answers: the sum of the points per answer (``HIT6_POINTS``), 36..78, then the impact band.

    Bands: <= 49 little or no impact, 50-55 some, 56-59 substantial, >= 60 severe (QualityMetric interpretation).
    Raises ``PromError`` for a wrong number of answers, or naming every item (1-6) whose answer is unknown.
    """
    if isinstance(answers, str) or len(answers) != HIT6_ITEM_COUNT:
        count = 1 if isinstance(answers, str) else len(answers)
        raise PromError(HIT6_COUNT.format(count=count))
    parsed = [parse_hit6_answer(answer) for answer in answers]
    problems = [
        HIT6_UNKNOWN_ANSWER.format(item=item, answer=answer)
        for item, (answer, value) in enumerate(zip(answers, parsed, strict=True), start=1)
        if value is None
    ]
    if problems:
        raise PromError(*problems)
    known = tuple(value for value in parsed if value is not None)
    total = sum(HIT6_POINTS[value] for value in known)
    impact = _hit6_impact(total)
    return Hit6Result(known, total, impact, HIT6_REASON.format(total=total, band=_HIT6_BAND_TEXT[impact]))


@dataclass(frozen=True, slots=True)
class Hit6Change:
    """Change between two HIT-6 totals: the drop (positive = better) and whether it makes a responder."""

    baseline: int
    follow_up: int
    drop: int
    responder: bool
    reason: str


def _hit6_total_problem(which: str, total: object) -> str | None:
    if isinstance(total, bool) or not isinstance(total, int) or not HIT6_MIN_TOTAL <= total <= HIT6_MAX_TOTAL:
        return HIT6_TOTAL_RANGE.format(which=which, total=total)
    return None


def hit6_change(baseline: int, follow_up: int) -> Hit6Change:
    """An individual HIT-6 responder has a total at least 5 points below baseline (Diener et al., Pain Ther 2020).

    A drop of 5 is a response, 4 is not; the reason names that rule first, as every verdict's reason does.
    Raises ``PromError`` when a total is outside 36..78.
    """
    problems = [
        problem
        for problem in (_hit6_total_problem("baseline", baseline), _hit6_total_problem("follow-up", follow_up))
        if problem is not None
    ]
    if problems:
        raise PromError(*problems)
    drop = baseline - follow_up
    responder = drop >= HIT6_RESPONDER_DROP
    if drop < 0:  # worse: a "drop of -18 points" read as a drop
        reason = HIT6_RISE_REASON.format(
            rule=HIT6_RESPONDER_RULE, baseline=baseline, follow_up=follow_up, rise=-drop, threshold=HIT6_RESPONDER_DROP
        )
    else:
        reason = HIT6_CHANGE_REASON.format(
            rule=HIT6_RESPONDER_RULE,
            baseline=baseline,
            follow_up=follow_up,
            drop=drop,
            comparison=">=" if responder else "<",
            threshold=HIT6_RESPONDER_DROP,
            verdict="responder" if responder else "not a responder",
        )
    return Hit6Change(baseline, follow_up, drop, responder, reason)


# --- MIDAS ------------------------------------------------------------------------------------------------------


def _midas_grade(total: int) -> MidasGrade:
    if total >= MIDAS_GRADE_IV_MIN:
        return MidasGrade.IV
    if total >= MIDAS_GRADE_III_MIN:
        return MidasGrade.III
    if total >= MIDAS_GRADE_II_MIN:
        return MidasGrade.II
    return MidasGrade.I


def _is_whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True)
class MidasResult:
    """A scored MIDAS: the five day counts, total, grade, the unscored A and B, and a reason quoting the grade."""

    q1: int
    q2: int
    q3: int
    q4: int
    q5: int
    total: int
    grade: MidasGrade
    headache_days: int | None
    pain: int | None
    reason: str


def midas_score(
    *, q1: int, q2: int, q3: int, q4: int, q5: int, a: int | None = None, b: int | None = None
) -> MidasResult:
    """Score MIDAS: Q1+Q2+Q3+Q4+Q5 days over the last 3 months, graded I 0-5, II 6-10, III 11-20, IV >= 21.

    Each question is 0..92 days, and so are Q1+Q2 and Q3+Q4, since Q2 excludes Q1's days and Q4 excludes Q3's.
    ``a`` (headache days, 0..92) and ``b`` (average pain, 0..10) are checked and kept, not scored. Raises
    ``PromError`` naming every question that is not valid.
    """
    questions = {"Q1": q1, "Q2": q2, "Q3": q3, "Q4": q4, "Q5": q5}
    if a is not None:
        questions["A"] = a
    invalid = {name for name, value in questions.items() if not _is_whole(value) or not 0 <= value <= MIDAS_MAX_DAYS}
    problems = [MIDAS_DAYS_RANGE.format(question=name, value=questions[name]) for name in questions if name in invalid]
    for first, second in (("Q1", "Q2"), ("Q3", "Q4")):
        if invalid & {first, second}:
            continue
        pair_total = questions[first] + questions[second]
        if pair_total > MIDAS_MAX_DAYS:
            problems.append(
                MIDAS_PAIR_TOO_MANY.format(
                    first=first,
                    second=second,
                    first_value=questions[first],
                    second_value=questions[second],
                    total=pair_total,
                )
            )
    if b is not None and (not _is_whole(b) or not 0 <= b <= MIDAS_MAX_PAIN):
        problems.append(MIDAS_PAIN_RANGE.format(value=b))
    if problems:
        raise PromError(*problems)
    total = q1 + q2 + q3 + q4 + q5
    grade = _midas_grade(total)
    reason = MIDAS_REASON.format(total=total, grade=grade, band=_MIDAS_GRADE_TEXT[grade])
    return MidasResult(q1, q2, q3, q4, q5, total, grade, a, b, reason)


# --- Which answer stands for a visit ------------------------------------------------------------------------------

HIT6_RECALL_DAYS = 28
"""HIT-6 asks about the past 4 weeks (clinical-facts.md 8.1): the 28 days up to its answer, that day included."""

MIDAS_RECALL_MONTHS = 3
"""MIDAS asks about the last 3 months (clinical-facts.md 8.2), read as 3 calendar months (``months_before``)."""


class PromInstrument(enum.StrEnum):
    """The two questionnaires, by the values the web app stores them under."""

    HIT6 = "hit6"
    MIDAS = "midas"


def recall_first_day(instrument: PromInstrument, answered_on: date) -> date:
    """The first day an answer given on ``answered_on`` asks about: 27 days before it for HIT-6
    (``HIT6_RECALL_DAYS``), the day after the same day 3 calendar months before for MIDAS
    (``MIDAS_RECALL_MONTHS``)."""
    if instrument is PromInstrument.HIT6:
        return answered_on - timedelta(days=HIT6_RECALL_DAYS - 1)
    return months_before(answered_on, MIDAS_RECALL_MONTHS) + timedelta(days=1)


def recalls_only_after(instrument: PromInstrument, answered_on: date, first_injection: date) -> bool:
    """Whether every day an answer asks about is after the first injection (day 0), so that a change to it from the
    baseline is a change since treatment: a HIT-6 from day 28 (its 4 weeks are days 1 .. 28, none of the baseline
    answer's), a MIDAS from the same day 3 calendar months on. An answer given earlier still describes days up to
    the first injection or before it (a HIT-6 on day 7 recalls days -20 .. 7)."""
    return recall_first_day(instrument, answered_on) > first_injection


PROM_WINDOW_DAYS = PERIOD_DAYS
"""A HIT-6 or MIDAS answer stands for a visit (visit 1: day 0, the first injection) when it was given in the 28 days
up to the visit, the visit day included. PREEMPT took its baseline over a 28-day baseline phase ending at day 0
(Dodick et al., Headache 2010; clinical-facts.md 3.1), the diary's baseline is the 28 days before cycle 1
(clinical-facts.md 5.4) and EHF compares the 4 weeks before and after each cycle (Bendtsen et al. 2018;
clinical-facts.md 5.2); HIT-6 asks about the last 4 weeks (clinical-facts.md 8.1), so an answer in the window
describes the month before treatment. MIDAS asks about the last 3 months (clinical-facts.md 8.2): one given in the
window describes the quarter before treatment, one given earlier a quarter that ended a month or more before it.
One window for both keeps a visit's HIT-6 and MIDAS from the same visit, as the cohort's PROM table has them."""


def prom_in_window(answered_on: date, visit_day: date) -> bool:
    """Whether an answer given on ``answered_on`` stands for the visit on ``visit_day``: given in the
    ``PROM_WINDOW_DAYS`` (28) days up to it, the visit day included (days -27 .. 0)."""
    return visit_day - timedelta(days=PROM_WINDOW_DAYS - 1) <= answered_on <= visit_day


def prom_visit_answer(answered_on: Iterable[date], visit_day: date) -> date | None:
    """The day of the answer that stands for the visit on ``visit_day``: the latest answered in the 28 days up to it
    (``prom_in_window``); None when none was. ``answered_on`` holds one instrument's answer days, in any order."""
    return max((day for day in answered_on if prom_in_window(day, visit_day)), default=None)


def prom_baseline(answered_on: Iterable[date], first_injection: date) -> date | None:
    """The day of the baseline answer of one instrument (HIT-6 or MIDAS): the latest answered in the 28 days up to
    the first injection, that day included (``PROM_WINDOW_DAYS``; PREEMPT's 28-day baseline phase, Dodick et al.,
    Headache 2010; HIT-6's 4-week recall). None when none was: an answer older than that describes a time long
    before treatment (a HIT-6 given 60 days before recalls days 88 to 60 before), and a change from it is not a
    change since treatment. The one rule for the patient's pages, the letters and the cohort's visit 1."""
    return prom_visit_answer(answered_on, first_injection)
