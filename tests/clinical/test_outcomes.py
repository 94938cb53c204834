"""Outcomes after the first injection: change per period, week 24, NICE TA260 stopping rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical.outcomes import (
    EPISODIC_WAITS_FOR_BASELINE,
    NiceTa260,
    NiceVerdict,
    Week24State,
    percent_change,
    reduction_at_least,
    treatment_outcomes,
)
from tests.clinical.factories import diary, period_days

DAY0 = date(2026, 1, 5)


def course(baseline: int, after: list[int], *, baseline_recorded: int = 28, recorded: list[int] | None = None):
    """Days for the baseline and periods 1..len(after) with those headache-day counts."""
    recorded = recorded or [28] * len(after)
    days = period_days(DAY0 - timedelta(days=28), recorded=baseline_recorded, headache=baseline, migraine=baseline)
    for k, (headache, rows) in enumerate(zip(after, recorded, strict=True), start=1):
        days += period_days(DAY0 + timedelta(days=28 * (k - 1)), recorded=rows, headache=min(headache, rows))
    return diary(days)


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [(3, 1, "-66.7"), (8, 7, "-12.5"), (16, 14, "-12.5"), (3, 2, "-33.3"), (20, 20, "0.0"), (10, 15, "50.0"),
     (40, 1, "-97.5"), (6, 5, "-16.7"), (0, 4, None)],
)  # fmt: skip
def test_percent_change_rounds_half_away_from_zero(baseline, current, expected):
    """Percent change is exact, rounded to one decimal half away from zero, and None on a 0 baseline."""
    assert percent_change(baseline, current) == (None if expected is None else Decimal(expected))


@pytest.mark.parametrize(
    ("baseline", "current", "fifty", "thirty"),
    [(20, 10, True, True), (20, 11, False, True), (10, 7, False, True), (10, 8, False, False), (21, 10, True, True),
     (21, 11, False, True), (3, 2, False, True), (0, 0, True, True)],
)  # fmt: skip
def test_responders_are_decided_on_exact_integers(baseline, current, fifty, thirty):
    """50 % means 2(b-w) >= b and 30 % means 10(b-w) >= 3b, with no rounding."""
    assert reduction_at_least(baseline, current, 50) is fifty
    assert reduction_at_least(baseline, current, 30) is thirty


@given(st.integers(min_value=1, max_value=28), st.integers(min_value=0, max_value=28))
def test_responder_agrees_with_the_exact_percentage(baseline, current):
    """A 30 % responder is exactly one whose exact reduction is at least 30 %."""
    exact = 100 * (baseline - current) / baseline
    assert reduction_at_least(baseline, current, 30) is (exact >= 30 - 1e-9)


def test_change_per_period_against_baseline():
    """Each period after treatment carries its change and percent change against the baseline."""
    result = treatment_outcomes(course(20, [16, 12]), injections=[DAY0])
    assert [(c.period.index, c.change_headache_days, c.percent_change_headache_days) for c in result.periods] == [
        (1, -4, Decimal("-20.0")),
        (2, -8, Decimal("-40.0")),
    ]
    assert result.baseline.headache_days == 20
    assert result.week4 is result.periods[0]
    assert result.onset is result.periods[1]


def test_day_0_is_the_earliest_injection():
    """With several injection dates, periods are laid from the earliest."""
    result = treatment_outcomes(course(20, [16]), injections=[DAY0 + timedelta(days=84), DAY0])
    assert result.first_injection == DAY0
    assert result.injections == (DAY0, DAY0 + timedelta(days=84))


def test_week24_responder_and_nice_continue():
    """Period 6 complete with >= 50 % fewer headache days: responder at 50 % and 30 %, NICE continue."""
    result = treatment_outcomes(course(20, [16, 14, 15, 15, 16, 10]), injections=[DAY0])
    assert result.week24.available
    assert (result.week24.headache_days, result.week24.percent_change) == (10, Decimal("-50.0"))
    assert result.week24.responder_50
    assert result.week24.responder_30
    assert result.nice_ta260.verdict is NiceTa260.CONTINUE
    assert result.nice_ta260.reasons == (
        (
            "NICE TA260 1.2: headache days from 20 at baseline to 10 at week 24 (period 6), "
            "a reduction of 50.0 % (>= 30 %)"
        ),
    )


def test_a_responder_back_to_episodic_for_three_periods_is_told_to_stop():
    """A week-24 responder whose last three periods each have < 15 headache days meets NICE's episodic stop rule."""
    result = treatment_outcomes(course(20, [16, 14, 12, 12, 11, 10]), injections=[DAY0])
    assert result.week24.responder_50
    assert result.nice_ta260.verdict is NiceTa260.STOP
    assert result.nice_ta260.reverted_to_episodic


def test_nice_stop_at_week24_under_30_percent():
    """Fewer than 30 % fewer headache days at week 24 means stop (NICE TA260 1.2)."""
    result = treatment_outcomes(course(20, [19, 19, 18, 18, 17, 15]), injections=[DAY0])
    assert (result.week24.responder_30, result.week24.percent_change) == (False, Decimal("-25.0"))
    assert result.nice_ta260.verdict is NiceTa260.STOP


def test_week24_not_available_until_period_6_is_complete():
    """With period 6 incomplete, week 24 is unavailable and NICE is not yet assessable."""
    result = treatment_outcomes(
        course(20, [16, 16, 16, 16, 16, 16], recorded=[28, 28, 28, 28, 28, 19]), injections=[DAY0]
    )
    assert not result.week24.available
    assert result.week24.headache_days is None
    assert result.week24.responder_50 is None
    assert result.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE


def test_nice_stop_before_week24_when_reverted_to_episodic():
    """Three consecutive complete periods each under 15 headache days mean stop, even before week 24."""
    result = treatment_outcomes(course(20, [14, 14, 14]), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.STOP
    assert result.nice_ta260.reverted_to_episodic
    assert result.nice_ta260.reasons == (
        (
            "NICE TA260 1.2: periods 1, 2, 3 (2026-01-05..2026-03-29) each have < 15 headache days (14, 14, 14): "
            "changed to episodic migraine for 3 consecutive periods"
        ),
    )


@pytest.mark.parametrize(
    ("after", "recorded"),
    [([14, 15, 14], [28, 28, 28]), ([14, 14, 14, 14], [28, 28, 10, 28])],
)
def test_episodic_reversion_needs_three_consecutive_complete_periods(after, recorded):
    """A period of 15 days, or a gap of an incomplete period, breaks the run of three."""
    result = treatment_outcomes(course(20, after, recorded=recorded), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE
    assert not result.nice_ta260.reverted_to_episodic


def test_an_earlier_episodic_run_the_rule_no_longer_reads_is_named_beside_the_verdict():
    """Periods 2-6 each under 15 headache days, period 7 incomplete, period 8 complete: the three most recent
    complete periods (5, 6, 8) are not consecutive, so the rule does not stop (the spec's reading); the reasons name
    the latest earlier run (4, 5, 6) and the incomplete period, and leave the judgement to the clinician. A run the
    rule reads, or none at all, adds nothing."""
    after = [19, 12, 10, 5, 6, 5, 4, 7]
    result = treatment_outcomes(course(22, after, recorded=[28] * 6 + [13, 28]), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.CONTINUE
    assert not result.nice_ta260.reverted_to_episodic
    assert result.nice_ta260.reasons[-1] == (
        "NICE TA260 1.2: periods 4, 5, 6 (2026-03-30..2026-06-21) each had < 15 headache days (5, 6, 5), but the "
        "rule reads the 3 most recent complete periods (5, 6, 8), which are not consecutive: period 7 has 13 of 28 "
        "days recorded (< 20); whether the condition has changed to episodic migraine is the clinician's to judge"
    )
    steady = treatment_outcomes(
        course(22, [19, 18, 17, 16, 16, 15, 4, 16], recorded=[28] * 6 + [13, 28]), injections=[DAY0]
    )
    assert len(steady.nice_ta260.reasons) == 1


def test_an_incomplete_baseline_makes_nice_not_yet_assessable():
    """With fewer than 20 baseline days recorded the reduction cannot be measured."""
    result = treatment_outcomes(course(19, [8, 8, 8, 8, 8, 8], baseline_recorded=19), injections=[DAY0])
    assert result.week24.available
    assert result.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE
    assert result.nice_ta260.reasons[0].startswith("NICE TA260 1.2: baseline (2025-12-08..2026-01-04) has 19 of 28")


def test_periods_stop_at_the_last_period_holding_a_row():
    """Periods are listed up to the last one with a diary row, which may be incomplete."""
    result = treatment_outcomes(course(20, [16, 16, 5], recorded=[28, 28, 5]), injections=[DAY0])
    assert [c.period.index for c in result.periods] == [1, 2, 3]
    assert not result.periods[-1].period.complete


def test_a_zero_baseline_gives_no_percentages():
    """A baseline without headache days gives null percent changes."""
    result = treatment_outcomes(course(0, [3]), injections=[DAY0])
    assert result.periods[0].percent_change_headache_days is None
    assert result.onset is None


def test_a_period_still_running_on_the_assessment_day_judges_nothing():
    """Period 6 with 20 of its 28 days recorded is complete, but on a day inside it its last 8 days are still to
    come and could turn 'continue' into 'stop': with ``as_of`` it is the running period, not among the periods the
    verdicts judge, and week 24 waits."""
    days = course(20, [16, 16, 15, 15, 15, 13], recorded=[28, 28, 28, 28, 28, 20])
    inside = DAY0 + timedelta(days=28 * 5 + 22)  # period 6 runs to DAY0 + 167
    running = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=84)], as_of=inside)
    assert [c.period.index for c in running.periods] == [1, 2, 3, 4, 5]
    assert running.running.period.index == 6
    assert running.running.running
    assert [c.period.index for c in running.listed] == [1, 2, 3, 4, 5, 6]
    assert not running.week24.available
    assert running.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE
    assert running.nice_ta260.reasons[-1].endswith("is in progress (20 of 28 days recorded so far)")
    ended = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=84)], as_of=DAY0 + timedelta(days=168))
    assert ended.week24.available
    assert ended.running is None
    assert ended.nice_ta260.verdict is NiceTa260.CONTINUE
    assert treatment_outcomes(days, injections=[DAY0]).week24.available  # without as_of the diary is finished


def test_a_period_6_without_rows_after_week_24_is_missing_not_to_come():
    """The diary stopped after period 1 and week 24 is over: the reason says period 6 has no day recorded instead
    of 'not reached yet'."""
    days = course(20, [16])
    outcomes = treatment_outcomes(days, injections=[DAY0], as_of=DAY0 + timedelta(days=200))
    assert outcomes.nice_ta260.reasons[-1].endswith("week 24 (period 6): no day of it recorded (< 20)")
    early = treatment_outcomes(days, injections=[DAY0], as_of=DAY0 + timedelta(days=60))
    assert early.nice_ta260.reasons[-1].endswith("week 24 (period 6): not reached yet")
    for inside in (140, 150, 167):  # period 6 under way without a row yet
        under_way = treatment_outcomes(days, injections=[DAY0], as_of=DAY0 + timedelta(days=inside))
        assert under_way.nice_ta260.reasons[-1].endswith("(period 6): in progress (0 of 28 days recorded so far)")


@pytest.mark.parametrize(
    ("baseline", "week24", "wording"),
    [
        (0, 5, "from 0 at baseline to 5 at week 24 (period 6), no reduction from a baseline of 0 (< 30 %)"),
        (
            0,
            0,
            (
                "from 0 at baseline to 0 at week 24 (period 6), no headache day before or after treatment, so no "
                "reduction to measure"
            ),
        ),
        (20, 21, "from 20 at baseline to 21 at week 24 (period 6), an increase of 5.0 %, no reduction (< 30 %)"),
        (20, 20, "from 20 at baseline to 20 at week 24 (period 6), no change (< 30 %)"),
        (20, 10, "from 20 at baseline to 10 at week 24 (period 6), a reduction of 50.0 % (>= 30 %)"),
    ],
)
def test_the_week_24_reason_words_a_rise_or_a_zero_baseline_as_such(baseline, week24, wording):
    """More headache days read as an increase, not 'a reduction of -5.0 %'; a baseline of 0 has no reduction to
    measure (it read 'a reduction of no change'), and 0 before and after says so without claiming '>= 30 %' beside
    'no reduction' (the spec's whole-day rule still counts it as a response)."""
    days = course(baseline, [16, 16, 16, 16, 16, week24])
    reason = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=84)]).nice_ta260.reasons[-1]
    assert reason == f"NICE TA260 1.2: headache days {wording}"


def test_today_without_as_of_words_a_missing_period_6_as_missing_and_changes_nothing_else():
    """A finished diary that stopped in period 3, read with ``today`` after week 24, says period 6 has no day
    recorded instead of 'not reached yet', and lists and judges the same periods as without ``today``."""
    days = course(20, [16, 16, 2], recorded=[28, 28, 4])
    after_week24 = treatment_outcomes(days, injections=[DAY0], today=DAY0 + timedelta(days=400))
    finished = treatment_outcomes(days, injections=[DAY0])
    assert after_week24.nice_ta260.reasons[-1] == (
        "NICE TA260 1.2: response is judged at week 24 (period 6): no day of it recorded (< 20)"
    )
    assert finished.nice_ta260.reasons[-1].endswith("(period 6): not reached yet")
    assert after_week24.periods == finished.periods
    assert after_week24.running is None
    assert (after_week24.week24, after_week24.nice_ta260.verdict) == (finished.week24, finished.nice_ta260.verdict)
    before = treatment_outcomes(days, injections=[DAY0], today=DAY0 + timedelta(days=100))
    assert before.nice_ta260.reasons[-1].endswith("(period 6): not reached yet")


def test_today_inside_period_6_says_it_is_in_progress():
    """With ``today`` inside period 6, a finished diary's period 6 (rows so far) or its absence reads 'in progress'."""
    days = course(20, [16, 16, 16, 16, 16, 5], recorded=[28, 28, 28, 28, 28, 10])
    inside = DAY0 + timedelta(days=28 * 5 + 12)
    outcomes = treatment_outcomes(days, injections=[DAY0], today=inside)
    assert outcomes.nice_ta260.reasons[-1] == (
        "NICE TA260 1.2: response is judged at week 24 (period 6): period 6 (2026-05-25..2026-06-21) is in progress "
        "(10 of 28 days recorded so far)"
    )
    assert [c.period.index for c in outcomes.periods] == [1, 2, 3, 4, 5, 6]
    no_row = treatment_outcomes(course(20, [16, 16, 16, 16, 16]), injections=[DAY0], today=inside)
    assert no_row.nice_ta260.reasons[-1].endswith("(period 6): in progress (0 of 28 days recorded so far)")


def test_week24_state_gives_the_facts_the_week_24_reason_was_worded_from():
    """``week24_state`` says where period 6 stands as the week-24 reason does: complete, in progress on today or as
    the running period, over (or listed in a finished diary) with too few days, or still to come."""
    stopped = course(20, [16, 16, 2], recorded=[28, 28, 4])
    six = course(20, [16, 16, 16, 16, 16, 5], recorded=[28, 28, 28, 28, 28, 10])
    inside = DAY0 + timedelta(days=28 * 5 + 12)
    cases = [
        (course(20, [16] * 6), {}, Week24State.AVAILABLE),
        (six, {"today": inside}, Week24State.UNDER_WAY),
        (six, {"as_of": inside}, Week24State.UNDER_WAY),
        (course(20, [16] * 5), {"today": inside}, Week24State.UNDER_WAY),
        (six, {}, Week24State.ENDED_INCOMPLETE),
        (six, {"today": DAY0 + timedelta(days=400)}, Week24State.ENDED_INCOMPLETE),
        (stopped, {"today": DAY0 + timedelta(days=400)}, Week24State.ENDED_INCOMPLETE),
        (stopped, {"today": DAY0 + timedelta(days=100)}, Week24State.NOT_REACHED),
        (stopped, {}, Week24State.NOT_REACHED),
    ]
    assert [treatment_outcomes(days, injections=[DAY0], **when).week24_state for days, when, _ in cases] == [
        state for _, _, state in cases
    ]


def test_an_incomplete_baseline_with_a_return_to_episodic_migraine_says_both():
    """Incomplete baseline and three consecutive periods under 15 headache days: the verdict stays not yet assessable,
    the baseline's reason first, then the episodic rule that holds and that the verdict waits for the baseline."""
    result = treatment_outcomes(course(10, [5, 5, 5], baseline_recorded=13), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.NOT_YET_ASSESSABLE
    assert result.nice_ta260.reverted_to_episodic
    assert result.nice_ta260.reasons == (
        (
            "NICE TA260 1.2: baseline (2025-12-08..2026-01-04) has 13 of 28 days recorded (< 20): incomplete, so the "
            "reduction cannot be measured"
        ),
        (
            "NICE TA260 1.2: periods 1, 2, 3 (2026-01-05..2026-03-29) each have < 15 headache days (5, 5, 5): "
            f"changed to episodic migraine for 3 consecutive periods; {EPISODIC_WAITS_FOR_BASELINE}"
        ),
    )


def test_week_24s_last_day_is_the_last_of_period_6_as_the_outcomes_lay_it():
    """``week24_last_day`` is the end of the period ``treatment_outcomes`` judges as week 24 (day 167 after the
    first injection), the one day the coverage page and the outcomes share."""
    from onaboard.clinical import week24_last_day

    days = course(20, [16, 16, 16, 16, 16, 10])
    (period6,) = (c.period for c in treatment_outcomes(days, injections=[DAY0]).listed if c.period.index == 6)
    assert week24_last_day(DAY0) == period6.end == DAY0 + timedelta(days=167)


def test_a_week_24_stop_after_a_single_cycle_says_nice_judges_after_two():
    """NICE TA260 1.2 judges the reduction "after 2 treatment cycles": with one session before week 24 ended the
    contract's verdict stands (stop below 30 % at week 24) and a reason says only one cycle was given, for the
    clinician to weigh; with two it is not said."""
    from onaboard.clinical.outcomes import FEWER_CYCLES, NICE_CYCLES

    days = course(20, [18, 18, 18, 18, 18, 18])
    one = treatment_outcomes(days, injections=[DAY0]).nice_ta260
    assert one.verdict is NiceTa260.STOP
    assert one.reasons[-1] == FEWER_CYCLES.format(given=1, cycles=NICE_CYCLES, period=6)
    two = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=84)]).nice_ta260
    assert two.verdict is NiceTa260.STOP
    assert all("treatment cycles" not in reason for reason in two.reasons)


def test_a_second_session_given_during_week_24_is_not_a_cycle_week_24_comes_after():
    """A session given inside period 6 (days 140..167) cannot have shaped the period it falls in: a week-24 stop
    after it still says NICE judges after two cycles, of which one was given before period 6 began; a second
    session on day 139 counts."""
    from onaboard.clinical.outcomes import FEWER_CYCLES, NICE_CYCLES

    days = course(20, [18, 18, 18, 18, 18, 16])
    late = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=140)]).nice_ta260
    assert late.verdict is NiceTa260.STOP
    assert late.reasons[-1] == FEWER_CYCLES.format(given=1, cycles=NICE_CYCLES, period=6)
    in_time = treatment_outcomes(days, injections=[DAY0, DAY0 + timedelta(days=139)]).nice_ta260
    assert all("treatment cycles" not in reason for reason in in_time.reasons)


def test_an_episodic_run_a_later_chronic_period_ended_is_not_named_as_set_aside():
    """Periods 1-3 under 15 headache days, period 4 chronic again (18), period 5 incomplete, period 6 under 15: the
    three most recent complete periods (3, 4, 6) are not consecutive, but the earlier run was ended by period 4's
    relapse, not by a gap, so no reason names it."""
    result = treatment_outcomes(course(22, [10, 10, 10, 18, 10, 10], recorded=[28] * 4 + [12, 28]), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.CONTINUE
    assert all("each had <" not in reason for reason in result.nice_ta260.reasons)


def test_the_episodic_reason_names_days_not_recorded_that_could_make_a_period_chronic():
    """A period counted from 20 of 28 days recorded is shown with its days recorded; when its 8 unrecorded days
    could lift its 13 headache days to 15 or more, the reason says so (the verdict reads the days recorded). A
    period whose unrecorded days could not reach 15 is shown with its days recorded and no doubt."""
    result = treatment_outcomes(course(20, [13, 5, 5], recorded=[20, 20, 28]), injections=[DAY0])
    assert result.nice_ta260.verdict is NiceTa260.STOP
    assert result.nice_ta260.reasons == (
        (
            "NICE TA260 1.2: periods 1, 2, 3 (2026-01-05..2026-03-29) each have < 15 headache days "
            "(13 in 20 of 28 days recorded, 5 in 20 of 28 days recorded, 5): changed to episodic migraine for 3 "
            "consecutive periods; the unrecorded days of period 1 (8) could hold enough headache days for 15 or more"
        ),
    )


def test_a_week_24_continue_resting_on_days_not_recorded_says_so():
    """12 headache days at week 24 from 20 of 28 days recorded, against a baseline of 20, is a 40 % reduction
    (continue), but the 8 unrecorded days could bring it under 30 %: the reason says so. 4 in 20 days recorded
    (at most 12 with the unrecorded days: still a 40 % reduction) does not."""
    doubtful = treatment_outcomes(course(20, [16] * 5 + [12], recorded=[28] * 5 + [20]), injections=[DAY0])
    assert doubtful.nice_ta260.verdict is NiceTa260.CONTINUE
    assert doubtful.nice_ta260.reasons[-1] == (
        "NICE TA260 1.2: headache days from 20 at baseline to 12 in 20 of 28 days recorded at week 24 (period 6), "
        "a reduction of 40.0 % (>= 30 %); its 8 unrecorded days could hold enough headache days for a reduction "
        "< 30 %"
    )
    firm = treatment_outcomes(course(20, [16] * 5 + [4], recorded=[28] * 5 + [20]), injections=[DAY0])
    assert firm.nice_ta260.reasons[-1].endswith("a reduction of 80.0 % (>= 30 %)")


@pytest.mark.parametrize(
    ("verdict", "reverted", "suggested"),
    [
        (NiceTa260.STOP, False, True),
        (NiceTa260.STOP, True, True),
        (NiceTa260.NOT_YET_ASSESSABLE, True, True),
        (NiceTa260.NOT_YET_ASSESSABLE, False, False),
        (NiceTa260.CONTINUE, False, False),
    ],
)
def test_a_stop_is_suggested_when_the_verdict_is_stop_or_the_return_to_episodic_migraine_holds(
    verdict, reverted, suggested
):
    """The one rule for "stop suggested" (``NiceVerdict.stop_suggested``): the engine's stop, or its return to
    episodic migraine holding while the verdict waits for a complete baseline (not yet assessable)."""
    assert NiceVerdict(verdict, ("first", "second"), reverted_to_episodic=reverted).stop_suggested is suggested


def test_a_week_24_stop_on_a_baseline_with_days_not_recorded_says_they_could_make_it_a_response():
    """15 headache days at baseline from 20 of 28 days recorded, 12 at a fully recorded week 24, is a 20 % reduction
    (stop), but the baseline's 8 unrecorded days could lift it to 23 and the reduction to 47.8 %: the reason says so,
    after its unchanged start. 17 at week 24 (at best 23 to 17, 26.1 %) carries no note, and neither does the same
    stop on a fully recorded baseline."""
    cycles = [DAY0, DAY0 + timedelta(days=84)]
    start = (
        "NICE TA260 1.2: headache days from 15 at baseline to 12 at week 24 (period 6), a reduction of 20.0 % (< 30 %)"
    )
    doubtful = treatment_outcomes(course(15, [16] * 5 + [12], baseline_recorded=20), injections=cycles).nice_ta260
    assert doubtful.verdict is NiceTa260.STOP
    assert doubtful.reasons == (
        f"{start}; the baseline's 8 unrecorded days could hold enough headache days for a reduction >= 30 %",
    )
    firm = treatment_outcomes(course(15, [16] * 5 + [17], baseline_recorded=20), injections=cycles).nice_ta260
    assert firm.verdict is NiceTa260.STOP
    assert firm.reasons[0].endswith("an increase of 13.3 %, no reduction (< 30 %)")
    recorded = treatment_outcomes(course(15, [16] * 5 + [12]), injections=cycles).nice_ta260
    assert recorded.reasons == (start,)
