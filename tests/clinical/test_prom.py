"""Patient-reported outcomes: HIT-6 and MIDAS scoring."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical import PERIOD_DAYS, RETREATMENT_INTERVAL_DAYS
from onaboard.clinical.prom import (
    HIT6_COUNT,
    HIT6_POINTS,
    HIT6_RESPONDER_DROP,
    HIT6_RESPONDER_RULE,
    HIT6_TOTAL_RANGE,
    HIT6_UNKNOWN_ANSWER,
    MIDAS_DAYS_RANGE,
    MIDAS_PAIN_RANGE,
    MIDAS_PAIR_TOO_MANY,
    PROM_WINDOW_DAYS,
    Hit6Answer,
    Hit6Impact,
    MidasGrade,
    PromError,
    PromInstrument,
    hit6_change,
    hit6_score,
    midas_score,
    parse_hit6_answer,
    prom_baseline,
    prom_in_window,
    prom_visit_answer,
    recall_first_day,
    recalls_only_after,
)

# --- Strategies -------------------------------------------------------------------------------------------------

hit6_answers = st.lists(st.sampled_from(list(Hit6Answer)), min_size=6, max_size=6)
midas_days = st.integers(0, 46)  # any two of these stay within the 92-day recall


def _answers_for(total: int) -> list[Hit6Answer]:
    """Six answers whose points add up to ``total``."""
    for combination in itertools.combinations_with_replacement(list(Hit6Answer), 6):
        if sum(HIT6_POINTS[answer] for answer in combination) == total:
            return list(combination)
    raise AssertionError(total)


def _midas(total: int) -> dict[str, int]:
    """Five MIDAS answers adding up to ``total`` (spread over Q1, Q3 and Q5)."""
    q1, rest = min(total, 40), total - min(total, 40)
    q3, q5 = min(rest, 40), rest - min(rest, 40)
    return {"q1": q1, "q2": 0, "q3": q3, "q4": 0, "q5": q5}


# --- HIT-6 answers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("never", Hit6Answer.NEVER),
        ("Rarely", Hit6Answer.RARELY),
        ("SOMETIMES", Hit6Answer.SOMETIMES),
        ("very often", Hit6Answer.VERY_OFTEN),
        ("Very Often", Hit6Answer.VERY_OFTEN),
        ("very_often", Hit6Answer.VERY_OFTEN),
        ("  very   often ", Hit6Answer.VERY_OFTEN),
        ("Always", Hit6Answer.ALWAYS),
        (Hit6Answer.ALWAYS, Hit6Answer.ALWAYS),
    ],
)
def test_answers_are_read_case_insensitively(text: str, answer: Hit6Answer) -> None:
    """Answers are read whatever their case, with "very often" written with a space or an underscore."""
    assert parse_hit6_answer(text) is answer


@pytest.mark.parametrize("text", ["often", "", "very", "6", None, 6])
def test_unknown_answers_are_not_read(text: object) -> None:
    """Anything but the five response options reads as no answer."""
    assert parse_hit6_answer(text) is None  # type: ignore[arg-type]


def test_points_per_answer_are_6_8_10_11_13() -> None:
    """The points per answer are never 6, rarely 8, sometimes 10, very often 11, always 13."""
    assert [HIT6_POINTS[answer] for answer in Hit6Answer] == [6, 8, 10, 11, 13]


# --- HIT-6 totals and bands -------------------------------------------------------------------------------------


def test_all_never_scores_36_and_all_always_78() -> None:
    """Six "never" answers score the minimum 36 and six "always" the maximum 78."""
    assert hit6_score(["never"] * 6).total == 36
    assert hit6_score(["always"] * 6).total == 78


def test_mixed_answers_add_their_points() -> None:
    """Never, rarely, sometimes, very often, always, always add to 6+8+10+11+13+13 = 61, severe impact."""
    result = hit6_score(["Never", "rarely", "Sometimes", "very often", "ALWAYS", "always"])
    assert (result.total, result.impact) == (61, Hit6Impact.SEVERE)
    assert result.answers[3] is Hit6Answer.VERY_OFTEN


@pytest.mark.parametrize(
    ("total", "impact", "reason"),
    [
        (49, Hit6Impact.LITTLE_OR_NONE, "HIT-6 total 49: <= 49 little or no impact"),
        (50, Hit6Impact.SOME, "HIT-6 total 50: 50-55 some impact"),
        (55, Hit6Impact.SOME, "HIT-6 total 55: 50-55 some impact"),
        (56, Hit6Impact.SUBSTANTIAL, "HIT-6 total 56: 56-59 substantial impact"),
        (59, Hit6Impact.SUBSTANTIAL, "HIT-6 total 59: 56-59 substantial impact"),
        (60, Hit6Impact.SEVERE, "HIT-6 total 60: >= 60 severe impact"),
    ],
)
def test_impact_bands_change_at_50_56_and_60(total: int, impact: Hit6Impact, reason: str) -> None:
    """The bands are <= 49 little or no, 50-55 some, 56-59 substantial, >= 60 severe impact."""
    result = hit6_score(_answers_for(total))
    assert (result.total, result.impact, result.reason) == (total, impact, reason)


@given(answers=hit6_answers)
def test_total_is_the_sum_of_points_within_36_to_78(answers: list[Hit6Answer]) -> None:
    """Any six answers score the sum of their points, between 36 and 78, in the band for that total."""
    result = hit6_score(answers)
    assert result.total == sum(HIT6_POINTS[answer] for answer in answers)
    assert 36 <= result.total <= 78
    expected = (
        Hit6Impact.SEVERE
        if result.total >= 60
        else Hit6Impact.SUBSTANTIAL
        if result.total >= 56
        else Hit6Impact.SOME
        if result.total >= 50
        else Hit6Impact.LITTLE_OR_NONE
    )
    assert result.impact is expected


# --- HIT-6 errors -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 5, 7])
def test_hit6_needs_exactly_six_answers(count: int) -> None:
    """Fewer or more than six answers are refused with the count."""
    with pytest.raises(PromError) as error:
        hit6_score(["never"] * count)
    assert str(error.value) == HIT6_COUNT.format(count=count)


def test_hit6_refuses_a_bare_string() -> None:
    """A single string is one answer, not six."""
    with pytest.raises(PromError) as error:
        hit6_score("never")
    assert str(error.value) == "HIT-6: expected 6 answers, got 1"


def test_hit6_names_every_item_with_an_unknown_answer() -> None:
    """Unknown answers at items 2 and 5 are refused, each named by its item number."""
    with pytest.raises(PromError) as error:
        hit6_score(["never", "often", "never", "never", "", "never"])
    assert error.value.problems == (
        HIT6_UNKNOWN_ANSWER.format(item=2, answer="often"),
        HIT6_UNKNOWN_ANSWER.format(item=5, answer=""),
    )
    assert error.value.problems[0] == (
        "HIT-6 item 2: unknown answer 'often'; expected never, rarely, sometimes, very often or always"
    )


# --- HIT-6 responders -------------------------------------------------------------------------------------------


def test_a_five_point_drop_is_a_responder() -> None:
    """A drop of exactly 5 points makes an individual responder."""
    change = hit6_change(65, 60)
    assert (change.drop, change.responder) == (5, True)
    assert change.reason == "Diener et al., Pain Ther 2020: HIT-6 65 -> 60: drop of 5 points (>= 5: responder)"
    assert HIT6_RESPONDER_DROP == 5


def test_a_four_point_drop_is_not_a_responder() -> None:
    """A drop of 4 points is not a response."""
    change = hit6_change(65, 61)
    assert (change.drop, change.responder) == (4, False)
    assert change.reason == "Diener et al., Pain Ther 2020: HIT-6 65 -> 61: drop of 4 points (< 5: not a responder)"


def test_a_rise_is_a_negative_drop() -> None:
    """A total that rises shows as a negative drop and no response."""
    change = hit6_change(55, 60)
    assert (change.drop, change.responder) == (-5, False)


@pytest.mark.parametrize(
    ("baseline", "follow_up", "refused"),
    [
        (35, 50, [("baseline", 35)]),
        (50, 79, [("follow-up", 79)]),
        (True, 50, [("baseline", True)]),
        (60.0, 30, [("baseline", 60.0), ("follow-up", 30)]),
    ],
)
def test_hit6_totals_outside_36_to_78_are_refused(
    baseline: object, follow_up: object, refused: list[tuple[str, object]]
) -> None:
    """A total outside 36..78, or not a whole number, is refused naming which total."""
    with pytest.raises(PromError) as error:
        hit6_change(baseline, follow_up)  # type: ignore[arg-type]
    assert error.value.problems == tuple(HIT6_TOTAL_RANGE.format(which=which, total=total) for which, total in refused)


def test_hit6_total_message_reads_plainly() -> None:
    """An out-of-range baseline is refused with the range in the message."""
    with pytest.raises(PromError) as error:
        hit6_change(30, 50)
    assert str(error.value) == "HIT-6 baseline: a total must be a whole number 36..78, got 30"


# --- MIDAS ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade", "band"),
    [
        (0, MidasGrade.I, "0-5 little or no disability"),
        (5, MidasGrade.I, "0-5 little or no disability"),
        (6, MidasGrade.II, "6-10 mild disability"),
        (10, MidasGrade.II, "6-10 mild disability"),
        (11, MidasGrade.III, "11-20 moderate disability"),
        (20, MidasGrade.III, "11-20 moderate disability"),
        (21, MidasGrade.IV, ">= 21 severe disability"),
    ],
)
def test_midas_grades_change_at_6_11_and_21(total: int, grade: MidasGrade, band: str) -> None:
    """Grades are I 0-5, II 6-10, III 11-20, IV 21 or more, and the reason quotes the band."""
    result = midas_score(**_midas(total))
    assert (result.total, result.grade) == (total, grade)
    assert result.reason == f"MIDAS score {total} (Q1-Q5 days): grade {grade}, {band}"


def test_midas_score_is_the_sum_of_q1_to_q5() -> None:
    """The score adds Q1 to Q5; A and B are kept but not scored."""
    result = midas_score(q1=3, q2=4, q3=2, q4=1, q5=5, a=40, b=7)
    assert (result.total, result.grade, result.headache_days, result.pain) == (15, MidasGrade.III, 40, 7)


@given(q1=midas_days, q2=midas_days, q3=midas_days, q4=midas_days, q5=st.integers(0, 92))
def test_midas_total_is_always_the_sum(q1: int, q2: int, q3: int, q4: int, q5: int) -> None:
    """Any valid answers score their sum."""
    assert midas_score(q1=q1, q2=q2, q3=q3, q4=q4, q5=q5).total == q1 + q2 + q3 + q4 + q5


@pytest.mark.parametrize("question", ["q1", "q2", "q3", "q4", "q5"])
def test_each_question_accepts_92_days_and_refuses_93(question: str) -> None:
    """92 days (three consecutive calendar months at most) is accepted and 93 refused, naming the question."""
    answers = dict.fromkeys(["q1", "q2", "q3", "q4", "q5"], 0)
    assert midas_score(**{**answers, question: 92}).total == 92
    with pytest.raises(PromError) as error:
        midas_score(**{**answers, question: 93})
    assert str(error.value) == MIDAS_DAYS_RANGE.format(question=question.upper(), value=93)


@pytest.mark.parametrize("value", [-1, True, 2.5, "3", None])
def test_midas_days_must_be_whole_numbers_from_zero(value: object) -> None:
    """Negative, bool, fractional, text or missing days are refused."""
    with pytest.raises(PromError) as error:
        midas_score(q1=0, q2=0, q3=value, q4=0, q5=0)  # type: ignore[arg-type]
    assert str(error.value) == MIDAS_DAYS_RANGE.format(question="Q3", value=value)


@pytest.mark.parametrize(("first", "second"), [("q1", "q2"), ("q3", "q4")])
def test_paired_questions_share_the_92_days(first: str, second: str) -> None:
    """Q1+Q2 and Q3+Q4 may reach 92 days but not 93, since Q2 and Q4 exclude Q1 and Q3 days."""
    answers = dict.fromkeys(["q1", "q2", "q3", "q4", "q5"], 0)
    assert midas_score(**{**answers, first: 50, second: 42}).total == 92
    with pytest.raises(PromError) as error:
        midas_score(**{**answers, first: 50, second: 43})
    assert str(error.value) == MIDAS_PAIR_TOO_MANY.format(
        first=first.upper(), second=second.upper(), first_value=50, second_value=43, total=93
    )


def test_pair_message_reads_plainly() -> None:
    """The Q1+Q2 message gives the numbers and why they cannot add up."""
    with pytest.raises(PromError) as error:
        midas_score(q1=60, q2=40, q3=0, q4=0, q5=0)
    assert str(error.value) == (
        "MIDAS Q1+Q2: 60 + 40 = 100 days, more than the 92 days of a 3-month recall (Q2 excludes days counted in Q1)"
    )


def test_midas_a_is_headache_days_up_to_92() -> None:
    """A, the headache days, accepts 92 and refuses 93."""
    assert midas_score(q1=0, q2=0, q3=0, q4=0, q5=0, a=92).headache_days == 92
    with pytest.raises(PromError) as error:
        midas_score(q1=0, q2=0, q3=0, q4=0, q5=0, a=93)
    assert str(error.value) == MIDAS_DAYS_RANGE.format(question="A", value=93)


@pytest.mark.parametrize(("pain", "valid"), [(0, True), (10, True), (11, False), (-1, False), (5.5, False)])
def test_midas_b_is_pain_from_0_to_10(pain: object, valid: bool) -> None:
    """B, the average pain, is a whole number from 0 to 10."""
    if valid:
        assert midas_score(q1=0, q2=0, q3=0, q4=0, q5=0, b=pain).pain == pain  # type: ignore[arg-type]
    else:
        with pytest.raises(PromError) as error:
            midas_score(q1=0, q2=0, q3=0, q4=0, q5=0, b=pain)  # type: ignore[arg-type]
        assert str(error.value) == MIDAS_PAIN_RANGE.format(value=pain)


def test_midas_reports_every_problem_at_once() -> None:
    """Several invalid answers are all reported, questions first, then pairs, then pain."""
    with pytest.raises(PromError) as error:
        midas_score(q1=60, q2=40, q3=93, q4=0, q5=-1, b=11)
    assert error.value.problems == (
        MIDAS_DAYS_RANGE.format(question="Q3", value=93),
        MIDAS_DAYS_RANGE.format(question="Q5", value=-1),
        MIDAS_PAIR_TOO_MANY.format(first="Q1", second="Q2", first_value=60, second_value=40, total=100),
        MIDAS_PAIN_RANGE.format(value=11),
    )


def test_prom_error_is_a_value_error() -> None:
    """PromError is a ValueError, so callers that catch bad input catch it."""
    assert issubclass(PromError, ValueError)


def test_a_worse_hit6_is_worded_as_a_rise():
    """48 -> 66 is a rise of 18 points, not 'a drop of -18 points'."""
    from onaboard.clinical import hit6_change

    change = hit6_change(48, 66)
    assert (change.drop, change.responder) == (-18, False)
    assert (
        change.reason
        == "Diener et al., Pain Ther 2020: HIT-6 48 -> 66: rise of 18 points (no drop, < 5: not a responder)"
    )


@pytest.mark.parametrize(("baseline", "follow_up"), [(69, 60), (69, 66), (60, 66)])
def test_every_hit6_change_reason_names_its_rule_first(baseline, follow_up):
    """A responder, a drop too small and a rise each name the 5-point rule's source first, as every verdict does."""
    assert HIT6_RESPONDER_RULE == "Diener et al., Pain Ther 2020"
    assert hit6_change(baseline, follow_up).reason.startswith(
        f"{HIT6_RESPONDER_RULE}: HIT-6 {baseline} -> {follow_up}:"
    )


# --- Which answer stands for a visit (the baseline: day 0) --------------------------------------------------------

DAY0 = date(2026, 3, 2)


def test_the_prom_window_is_the_28_day_baseline_period():
    """A HIT-6 or MIDAS answer stands for a visit when given in the 28 days up to it (PREEMPT's 28-day baseline,
    HIT-6's four-week recall), the visit day included."""
    assert PROM_WINDOW_DAYS == PERIOD_DAYS == 28
    assert prom_in_window(DAY0, DAY0)
    assert prom_in_window(DAY0 - timedelta(days=27), DAY0)
    assert not prom_in_window(DAY0 - timedelta(days=28), DAY0)
    assert not prom_in_window(DAY0 + timedelta(days=1), DAY0)


@pytest.mark.parametrize(
    ("days_before", "baseline"),
    [(0, True), (1, True), (27, True), (28, False), (60, False), (120, False), (-1, False)],
)
def test_the_baseline_is_an_answer_in_the_28_days_up_to_the_first_injection(days_before, baseline):
    """An answer 0 to 27 days before the first injection is its baseline; one 28 or more days before (60, 120: it
    describes months long before treatment) or after the injection is not, however many there are."""
    answered = DAY0 - timedelta(days=days_before)
    assert prom_baseline([answered], DAY0) == (answered if baseline else None)


def test_the_latest_answer_in_the_window_is_the_baseline():
    """Of several answers in the window the latest is the baseline; older and later ones are passed over."""
    days = [DAY0 - timedelta(days=n) for n in (120, 20, 3)] + [DAY0 + timedelta(days=1)]
    assert prom_baseline(days, DAY0) == DAY0 - timedelta(days=3)
    assert prom_baseline(reversed(days), DAY0) == DAY0 - timedelta(days=3)
    assert prom_baseline([], DAY0) is None


def test_a_later_visit_takes_its_answer_by_the_same_rule():
    """Visit 3 (week 24) takes the latest answer in the 28 days up to its day, as visit 1 takes the baseline."""
    week24 = DAY0 + timedelta(days=2 * RETREATMENT_INTERVAL_DAYS)
    days = [DAY0, week24 - timedelta(days=28), week24 - timedelta(days=5), week24 + timedelta(days=2)]
    assert prom_visit_answer(days, week24) == week24 - timedelta(days=5)
    assert prom_visit_answer(days[:2], week24) is None


@pytest.mark.parametrize(
    ("instrument", "answered", "only_after"),
    [
        (PromInstrument.HIT6, date(2026, 2, 6), False),  # day 27: its 4 weeks begin on day 0
        (PromInstrument.HIT6, date(2026, 2, 7), True),  # day 28: days 1 .. 28
        (PromInstrument.MIDAS, date(2026, 4, 9), False),  # its 3 months begin on 2026-01-10, day 0
        (PromInstrument.MIDAS, date(2026, 4, 10), True),  # 3 calendar months on: 2026-01-11 .. 2026-04-10
    ],
)
def test_an_answer_recalls_only_days_after_the_first_injection_once_its_recall_period_has_passed(
    instrument, answered, only_after
):
    """HIT-6 recalls 4 weeks (clinical-facts.md 8.1), MIDAS 3 months (8.2): an answer describes treatment alone
    only once every day it asks about follows day 0 (2026-01-10 here)."""
    assert recalls_only_after(instrument, answered, date(2026, 1, 10)) is only_after


def test_the_midas_recall_is_three_calendar_months_clamped_to_a_shorter_month():
    """A MIDAS answered on 31 May asks about the days from 1 March (28 February is 3 calendar months before)."""
    assert recall_first_day(PromInstrument.MIDAS, date(2026, 5, 31)) == date(2026, 3, 1)
    assert recall_first_day(PromInstrument.HIT6, date(2026, 5, 31)) == date(2026, 5, 4)
