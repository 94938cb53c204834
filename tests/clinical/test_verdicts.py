"""Verdicts over periods: chronic migraine (ICHD-3 1.3), medication overuse (ICHD-3 8.2), BOTOX label criteria."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from onaboard.clinical import OVERUSE_DAYS, AcuteClass
from onaboard.clinical.assessment import assess
from onaboard.clinical.verdicts import (
    MOH_FREQUENCY_MET,
    MOH_FREQUENCY_NOT_MET,
    OVERUSE_SECTION,
    ChronicMigraine,
    LabelCriteria,
    MedicationOveruse,
)
from tests.clinical.factories import diary, make_day, period_days

AS_OF = date(2026, 3, 1)
BIRTH = date(1980, 6, 1)


def period_start(index: int) -> date:
    """First day of period ``index`` before AS_OF."""
    return AS_OF - timedelta(days=28 * index - 1)


def three_periods(*, headache=(20, 20, 20), migraine=(10, 10, 10), recorded=(28, 28, 28), hours=6.0, **fields) -> list:
    """Days for periods 1..3 before AS_OF with the given counts per period (index 1 first)."""
    days = []
    for index in (1, 2, 3):
        i = index - 1
        days += period_days(
            period_start(index),
            recorded=recorded[i],
            headache=headache[i],
            migraine=migraine[i],
            hours=hours,
            **fields,
        )
    return days


def judge(days, **kwargs):
    kwargs.setdefault("birth_date", BIRTH)
    return assess(diary(days), as_of=AS_OF, **kwargs)


def test_chronic_migraine_yes_with_its_reasons():
    """Three complete periods of >= 15 headache and >= 8 migraine days with >= 5 attacks give yes, citing 1.3 A-D."""
    result = judge(three_periods())
    assert result.chronic_migraine.verdict is ChronicMigraine.YES
    assert result.chronic_migraine.reasons == (
        "ICHD-3 1.3 A: each of the 3 periods has >= 15 headache days (20, 20, 20)",
        "ICHD-3 1.3 C: each of the 3 periods has >= 8 migraine days (10, 10, 10)",
        "ICHD-3 1.3 B: 30 migraine attacks recorded (>= 5)",
        "ICHD-3 1.3 D: whether another ICHD-3 diagnosis accounts better for the headache is the clinician's judgement",
    )


@pytest.mark.parametrize(("headache", "verdict"), [(14, ChronicMigraine.NO), (15, ChronicMigraine.YES)])
def test_chronic_migraine_headache_day_boundary(headache, verdict):
    """14 headache days in one period fails ICHD-3 1.3 A; 15 passes."""
    result = judge(three_periods(headache=(20, headache, 20)))
    assert result.chronic_migraine.verdict is verdict
    if verdict is ChronicMigraine.NO:
        assert result.chronic_migraine.reasons == (
            "ICHD-3 1.3 A: period 2 (2026-01-05..2026-02-01) has 14 headache days (< 15)",
        )


@pytest.mark.parametrize(("migraine", "verdict"), [(7, ChronicMigraine.NO), (8, ChronicMigraine.YES)])
def test_chronic_migraine_migraine_day_boundary(migraine, verdict):
    """7 migraine days in one period fails ICHD-3 1.3 C; 8 passes."""
    result = judge(three_periods(migraine=(10, migraine, 10)))
    assert result.chronic_migraine.verdict is verdict
    if verdict is ChronicMigraine.NO:
        assert result.chronic_migraine.reasons == (
            "ICHD-3 1.3 C: period 2 (2026-01-05..2026-02-01) has 7 migraine days (< 8)",
        )


@pytest.mark.parametrize(("recorded", "verdict"), [(19, ChronicMigraine.INSUFFICIENT_DATA), (20, ChronicMigraine.YES)])
def test_chronic_migraine_needs_complete_periods(recorded, verdict):
    """A period with 19 recorded days leaves the verdict open; 20 recorded days is enough."""
    result = judge(three_periods(recorded=(28, 28, recorded), headache=(20, 20, 19)))
    assert result.chronic_migraine.verdict is verdict


def test_a_failing_complete_period_decides_before_an_incomplete_one():
    """A complete period below threshold gives no even when another period is incomplete."""
    result = judge(three_periods(headache=(10, 20, 5), migraine=(8, 10, 0), recorded=(28, 28, 5)))
    assert result.chronic_migraine.verdict is ChronicMigraine.NO
    assert result.chronic_migraine.reasons == (
        "ICHD-3 1.3 A: period 1 (2026-02-02..2026-03-01) has 10 headache days (< 15)",
    )


def test_a_period_before_the_first_row_is_missing():
    """A period ending before the first diary row is missing, so the verdict is insufficient_data."""
    days = [d for d in three_periods() if d.date >= period_start(2)]
    result = judge(days)
    assert result.chronic_migraine.verdict is ChronicMigraine.INSUFFICIENT_DATA
    assert "ICHD-3 1.3 A: period 3 (2025-12-08..2026-01-04) ends before the first diary row: missing" in (
        result.chronic_migraine.reasons
    )


def test_every_reason_of_insufficient_data_names_its_rule():
    """An incomplete or missing period is named with the criterion that needs it (ICHD-3 1.3 A for chronic
    migraine, 8.2 B for overuse), as every reason names its rule and its numbers (shared/spec/cli.md)."""
    periods = three_periods(headache=(20, 12, 20), recorded=(28, 12, 28))
    days = [d for d in periods if period_start(2) <= d.date < period_start(1)]
    result = judge(days)
    assert result.chronic_migraine.reasons[1:] == (
        "ICHD-3 1.3 A: period 1 (2026-02-02..2026-03-01) has 0 of 28 days recorded (< 20): incomplete",
        "ICHD-3 1.3 A: period 2 (2026-01-05..2026-02-01) has 12 of 28 days recorded (< 20): incomplete",
        "ICHD-3 1.3 A: period 3 (2025-12-08..2026-01-04) ends before the first diary row: missing",
    )
    assert result.medication_overuse.verdict is MedicationOveruse.INSUFFICIENT_DATA
    assert all(reason.startswith("ICHD-3 8.2 B: ") for reason in result.medication_overuse.reasons)


@pytest.mark.parametrize(("attacks", "verdict"), [(4, ChronicMigraine.NO), (5, ChronicMigraine.YES)])
def test_chronic_migraine_needs_five_attacks(attacks, verdict):
    """Four attacks fail ICHD-3 1.3 B; five pass (migraine days of under 4 hours are not attacks)."""
    days = three_periods(hours=2)
    for i in range(attacks):
        days[i] = make_day(days[i].date, 5, intensity=days[i].intensity, unilateral=True, pulsating=True, nausea=True)
    result = judge(days)
    assert result.migraine_attacks == attacks
    assert result.chronic_migraine.verdict is verdict


def test_attacks_are_counted_over_the_whole_diary_up_to_as_of():
    """Attacks before the periods count toward ICHD-3 1.3 B; attacks after as_of do not."""
    days = three_periods(hours=2)
    days.append(make_day(period_start(3) - timedelta(days=40), 6, aura=True))
    days.append(make_day(AS_OF + timedelta(days=1), 6, aura=True))
    assert judge(days).migraine_attacks == 1


@pytest.mark.parametrize(
    ("medication", "days_each", "classes"),
    [
        ("triptan", 9, None),
        ("triptan", 10, ["triptan"]),
        ("ergot", 10, ["ergot"]),
        ("opioid", 10, ["opioid"]),
        ("combination_analgesic", 10, ["combination_analgesic"]),
        ("simple_analgesic", 14, None),
        ("simple_analgesic", 15, ["simple_analgesic"]),
        ("gepant", 28, None),
        ("ditan", 28, None),
        ("other", 28, None),
    ],
)
def test_overuse_thresholds_per_class(medication, days_each, classes):
    """Each ICHD-3 8.2 class is overused at its own threshold (10 days; simple analgesics 15); others never count."""
    days = three_periods(headache=(days_each, days_each, days_each), migraine=(0, 0, 0), acute_medication=[medication])
    result = judge(days).medication_overuse
    if classes is None:
        assert result.verdict is MedicationOveruse.NOT_SUSPECTED
        assert result.classes == ()
    else:
        assert result.verdict is MedicationOveruse.SUSPECTED
        assert list(result.classes) == classes


def test_multiple_classes_none_overused_alone_meet_8_2_6():
    """Two counted classes on >= 10 days in all, none at its own threshold, meet ICHD-3 8.2.6 as `multiple`."""
    days = three_periods(headache=(20, 20, 20), migraine=(0, 0, 0))
    for index in (1, 2, 3):
        start = period_start(index)
        for i in range(10):
            drug = "triptan" if i < 5 else "simple_analgesic"
            day = start + timedelta(days=i)
            days = [d for d in days if d.date != day] + [make_day(day, 2, acute_medication=[drug])]
    result = judge(days).medication_overuse
    assert result.verdict is MedicationOveruse.SUSPECTED
    assert result.classes == ("multiple",)
    assert result.reasons[0] == (
        "ICHD-3 8.2.6: period 1 (2026-02-02..2026-03-01) has 2 classes (triptan 5, simple_analgesic 5) on 10 days "
        "in all (>= 10), none at its own threshold"
    )


@pytest.mark.parametrize("headache", [(10, 10, 10), (20, 14, 20), (15, 15, 15)], ids=["episodic", "one-short", "daily"])
def test_suspected_overuse_says_whether_headache_frequency_meets_8_2_a(headache):
    """A suspected overuse states ICHD-3 8.2 A with the headache days: met when every period has >= 15, otherwise
    overuse of the medicines without medication-overuse headache (the verdict screens criterion B)."""
    days = three_periods(headache=headache, migraine=(0, 0, 0), acute_medication=["triptan"])
    result = judge(days).medication_overuse
    assert result.verdict is MedicationOveruse.SUSPECTED
    counts = ", ".join(str(n) for n in headache)
    template = MOH_FREQUENCY_MET if min(headache) >= 15 else MOH_FREQUENCY_NOT_MET
    expected = template.format(n=3, minimum=15, counts=counts)
    assert result.reasons[-2:] == (
        expected,
        "ICHD-3 8.2 C: whether another diagnosis accounts better is the clinician's judgement",
    )


def test_one_period_asked_for_is_worded_as_one_period_not_as_more_than_3_months():
    """Judging one period, the reasons say "period 1 ... has 20 headache days (>= 15)" and that "> 3 months" is read
    as three periods while one was asked for (a "yes" or "suspected" too: the duration is not established by one
    period), never "each of the 1 periods" or "needs 1 complete periods"."""
    days = three_periods(acute_medication=["triptan"])
    result = judge(days, periods=1)
    period_1 = "period 1 (2026-02-02..2026-03-01)"
    assert result.chronic_migraine.reasons[:2] == (
        f"ICHD-3 1.3 A: {period_1} has 20 headache days (>= 15)",
        f"ICHD-3 1.3 C: {period_1} has 10 migraine days (>= 8)",
    )
    assert result.medication_overuse.reasons[-3] == f"ICHD-3 8.2 A: {period_1} has 20 headache days (>= 15)"
    assert result.label_criteria.reasons[-1] == (
        f"BOTOX label (Indications): {period_1} has 20 days with headache lasting >= 4 hours (>= 15)"
    )
    # a verdict that holds on one period says the duration ("> 3 months") is not established by it
    assert result.chronic_migraine.verdict.value == "yes"
    assert result.chronic_migraine.reasons[-1] == (
        "ICHD-3 1.3 A: headache for > 3 months is read as 3 complete periods; this assessment judges only 1 period, "
        "so the duration is not established by it"
    )
    assert result.medication_overuse.verdict.value == "suspected"
    assert result.medication_overuse.reasons[-1] == (
        "ICHD-3 8.2 B: overuse for > 3 months is read as 3 complete periods; this assessment judges only 1 period, "
        "so the duration is not established by it"
    )
    assert not any("not established by it" in r for r in judge(days).chronic_migraine.reasons)  # 3 periods
    episodic = judge(three_periods(headache=(12, 12, 12), migraine=(0, 0, 0), acute_medication=["triptan"]), periods=1)
    assert episodic.medication_overuse.reasons[-3] == (
        f"ICHD-3 8.2 A: {period_1} has 12 headache days (< 15): the medicines are overused, but medication-overuse "
        "headache needs headache on 15 or more days a month"
    )
    incomplete = judge(
        three_periods(recorded=(12, 28, 28), headache=(12, 20, 20), acute_medication=["triptan"]), periods=1
    )
    assert incomplete.chronic_migraine.reasons[0] == (
        "ICHD-3 1.3 A: headache for > 3 months is read as 3 complete periods; this assessment judges 1 period and "
        "needs it complete"
    )
    assert incomplete.medication_overuse.reasons[0] == (
        "ICHD-3 8.2 B: overuse for > 3 months is read as 3 complete periods; this assessment judges 1 period and "
        "needs it complete"
    )


@pytest.mark.parametrize(("periods", "asked"), [(2, "2 periods and needs each"), (4, "4 periods and needs each")])
def test_another_number_of_periods_is_the_assessments_not_more_than_3_months(periods, asked):
    """With two or four periods asked for, waiting for complete periods names the number asked for beside the
    three that "> 3 months" is read as; with the default three the reason keeps its wording."""
    days = three_periods(recorded=(12, 28, 28), headache=(12, 20, 20), acute_medication=["triptan"])
    reasons = judge(days, periods=periods).chronic_migraine.reasons
    assert reasons[0] == (
        f"ICHD-3 1.3 A: headache for > 3 months is read as 3 complete periods; this assessment judges {asked} complete"
    )
    default = judge(days)
    assert default.chronic_migraine.reasons[0] == "ICHD-3 1.3 A: headache for > 3 months needs 3 complete periods"
    assert default.medication_overuse.reasons[0] == "ICHD-3 8.2 B: overuse for > 3 months needs 3 complete periods"


def test_nine_days_of_multiple_classes_do_not_meet_8_2_6():
    """Two classes on 9 distinct days in all fall short of ICHD-3 8.2.6."""
    days = three_periods(headache=(9, 9, 9), migraine=(0, 0, 0), acute_medication=["triptan", "opioid"])
    assert judge(days).medication_overuse.verdict is MedicationOveruse.NOT_SUSPECTED


def test_one_class_alone_below_threshold_is_not_8_2_6():
    """One class on 9 days is not 'multiple', whatever gepants were also taken."""
    days = three_periods(headache=(12, 12, 12), migraine=(0, 0, 0), acute_medication=["triptan", "gepant"])
    days = [make_day(d.date, 2, acute_medication=["gepant"]) if d.date.day % 4 == 0 else d for d in days]
    assert judge(days).medication_overuse.verdict is MedicationOveruse.NOT_SUSPECTED


def test_overuse_insufficient_when_periods_meet_it_but_one_is_incomplete():
    """Overuse in every complete period with one incomplete period leaves the verdict open, with no classes."""
    days = three_periods(recorded=(28, 28, 12), headache=(12, 12, 12), migraine=(0, 0, 0), acute_medication=["opioid"])
    result = judge(days).medication_overuse
    assert result.verdict is MedicationOveruse.INSUFFICIENT_DATA
    assert result.classes == ()


def test_label_criteria_met_with_reasons():
    """An adult with chronic migraine and >= 15 four-hour headache days in every period meets the label criteria."""
    result = judge(three_periods()).label_criteria
    assert result.verdict is LabelCriteria.MET
    assert result.reasons[0] == "BOTOX label 8.4: adult (age 45 on 2026-03-01, >= 18)"


@pytest.mark.parametrize(("long_days", "verdict"), [(14, LabelCriteria.NOT_MET), (15, LabelCriteria.MET)])
def test_label_needs_15_four_hour_headache_days(long_days, verdict):
    """14 headache days lasting >= 4 hours in a period fail the label; 15 pass."""
    days = three_periods(hours=6)
    start = period_start(2)
    short = {start + timedelta(days=i) for i in range(long_days, 20)}
    days = [make_day(d.date, 3, **_features(d)) if d.date in short else d for d in days]
    result = judge(days)
    assert result.chronic_migraine.verdict is ChronicMigraine.YES
    assert result.label_criteria.verdict is verdict


def _features(day):
    return {"intensity": day.intensity, "unilateral": day.unilateral, "pulsating": day.pulsating, "nausea": day.nausea}


@pytest.mark.parametrize(
    ("birth", "verdict"),
    [
        (date(2008, 3, 2), LabelCriteria.NOT_MET),  # 17 the day before the 18th birthday
        (date(2008, 3, 1), LabelCriteria.MET),  # the birthday itself counts
        (None, LabelCriteria.INSUFFICIENT_DATA),
    ],
)
def test_label_needs_an_adult(birth, verdict):
    """Age 17 fails the label; 18 on the birthday itself meets it; an unknown age leaves it open."""
    result = assess(diary(three_periods()), as_of=AS_OF, birth_date=birth).label_criteria
    assert result.verdict is verdict


def test_a_29_february_birthday_is_reached_on_1_march_in_common_years():
    """Someone born on 29 February 2008 turns 18 on 1 March 2026, not on 28 February."""
    days = three_periods()
    assert assess(diary(days), as_of=date(2026, 2, 28), birth_date=date(2008, 2, 29)).age_years == 17
    assert assess(diary(days), as_of=date(2026, 3, 1), birth_date=date(2008, 2, 29)).age_years == 18


def test_label_not_met_when_chronic_migraine_is_no():
    """No chronic migraine means the label criteria are not met, whatever the 4-hour days."""
    result = judge(three_periods(migraine=(3, 3, 3)))
    assert result.label_criteria.verdict is LabelCriteria.NOT_MET
    assert result.label_criteria.reasons[0].startswith("BOTOX label (Indications): chronic migraine is not established")


def test_as_of_defaults_to_the_last_diary_date_and_later_rows_are_left_out():
    """Without as_of the last diary date is used; with it, rows after as_of are ignored."""
    days = three_periods()
    assert assess(diary(days)).as_of == AS_OF
    later = [*days, make_day(AS_OF + timedelta(days=3), 0)]
    assert assess(diary(later), as_of=AS_OF).periods == assess(diary(days), as_of=AS_OF).periods


def test_eligibility_is_assessed_the_day_before_treatment_never_before_birth():
    """Before treatment: today; after: the day before the first session, or the birth date when that is later."""
    from datetime import date

    from onaboard.clinical import eligibility_day

    today, first = date(2026, 6, 1), date(2026, 3, 2)
    assert eligibility_day(first_session=None, today=today) == today
    assert eligibility_day(first_session=first, today=today, birth_date=date(1980, 1, 1)) == date(2026, 3, 1)
    assert eligibility_day(first_session=first, today=today, birth_date=first) == first


def test_not_suspected_overuse_still_names_the_period_that_met_a_threshold():
    """A period meeting an ICHD-3 8.2 threshold is named among the reasons even when another complete period meets
    none (so overuse is not suspected): the clinician sees the month of overuse, not only the months without."""
    days = three_periods(headache=(12, 12, 12), migraine=(0, 0, 0))
    start = period_start(2)
    overused = {start + timedelta(days=i) for i in range(OVERUSE_DAYS[AcuteClass.TRIPTAN])}
    days = [make_day(d.date, 2, acute_medication=["triptan"]) if d.date in overused else d for d in days]
    result = judge(days).medication_overuse
    section = OVERUSE_SECTION[AcuteClass.TRIPTAN]
    assert result.verdict is MedicationOveruse.NOT_SUSPECTED
    assert result.classes == ()
    assert [reason.split(":")[0] for reason in result.reasons] == ["ICHD-3 8.2", "ICHD-3 8.2", f"ICHD-3 {section}"]
    assert "period 1 " in result.reasons[0]
    assert "period 3 " in result.reasons[1]
    assert result.reasons[2].startswith(f"ICHD-3 {section}: period 2 (")
    assert result.reasons[2].endswith(f"has triptan on {len(overused)} days (>= {OVERUSE_DAYS[AcuteClass.TRIPTAN]})")


def test_a_chronic_migraine_no_on_a_period_with_days_not_recorded_says_they_could_reach_the_threshold():
    """Period 2 counted from 20 of 28 days recorded: 12 headache days (< 15) and 6 migraine days (< 8) fail ICHD-3
    1.3 A and C, but its 8 unrecorded days could hold enough for 15 and 8, so each reason says so after its
    unchanged start. 6 headache days could not reach 15 (at most 14): that reason carries no note. The same period
    fully recorded gives the reasons without a note."""
    period_2 = "period 2 (2026-01-05..2026-02-01)"
    doubtful = judge(three_periods(headache=(20, 12, 20), migraine=(10, 6, 10), recorded=(28, 20, 28)))
    assert doubtful.chronic_migraine.verdict is ChronicMigraine.NO
    assert doubtful.chronic_migraine.reasons == (
        (
            f"ICHD-3 1.3 A: {period_2} has 12 headache days (< 15); its 8 unrecorded days could hold enough "
            "headache days for 15 or more"
        ),
        (
            f"ICHD-3 1.3 C: {period_2} has 6 migraine days (< 8); its 8 unrecorded days could hold enough migraine "
            "days for 8 or more"
        ),
    )
    firm = judge(three_periods(headache=(20, 6, 20), migraine=(10, 6, 10), recorded=(28, 20, 28)))
    assert firm.chronic_migraine.reasons[0] == f"ICHD-3 1.3 A: {period_2} has 6 headache days (< 15)"
    recorded = judge(three_periods(headache=(20, 12, 20), migraine=(10, 6, 10)))
    assert recorded.chronic_migraine.reasons == (
        f"ICHD-3 1.3 A: {period_2} has 12 headache days (< 15)",
        f"ICHD-3 1.3 C: {period_2} has 6 migraine days (< 8)",
    )


def test_a_label_not_met_on_a_period_with_days_not_recorded_says_they_could_reach_15_four_hour_days():
    """Period 2 with 12 four-hour headache days in 20 of 28 days recorded fails the label (< 15), but its 8
    unrecorded days could hold enough for 15: the reason says so after its unchanged start; 6 (at most 14) and the
    same period fully recorded give the reason without a note."""
    period_2 = "period 2 (2026-01-05..2026-02-01)"
    start = f"BOTOX label (Indications): {period_2} has 12 days with headache lasting >= 4 hours (< 15)"
    doubtful = judge(three_periods(headache=(20, 12, 20), recorded=(28, 20, 28))).label_criteria
    assert doubtful.verdict is LabelCriteria.NOT_MET
    assert (
        f"{start}; its 8 unrecorded days could hold enough days with headache lasting >= 4 hours for 15 or more"
        in doubtful.reasons
    )
    firm = judge(three_periods(headache=(20, 6, 20), migraine=(10, 6, 10), recorded=(28, 20, 28))).label_criteria
    assert f"BOTOX label (Indications): {period_2} has 6 days with headache lasting >= 4 hours (< 15)" in firm.reasons
    assert start in judge(three_periods(headache=(20, 12, 20))).label_criteria.reasons


def test_overuse_not_suspected_on_a_period_with_days_not_recorded_says_which_criteria_they_could_meet():
    """Period 2 with triptan on 5 of 20 recorded days meets no ICHD-3 8.2 threshold (overuse not suspected), but
    its 8 unrecorded days could bring triptan to 10 (8.2.2) or two classes to 10 days in all (8.2.6), not simple
    analgesics to 15: the reason names those after its unchanged start. Triptan on 1 day (at most 9) and the same
    period fully recorded give the reason without a note."""
    start = (
        "ICHD-3 8.2: period 2 (2026-01-05..2026-02-01) meets no overuse threshold (triptan {n}, ergot 0, "
        "simple_analgesic 0, combination_analgesic 0, opioid 0 days; {n} with any counted class)"
    )
    doubtful = judge(
        three_periods(headache=(12, 5, 12), migraine=(0, 0, 0), recorded=(28, 20, 28), acute_medication=["triptan"])
    ).medication_overuse
    assert doubtful.verdict is MedicationOveruse.NOT_SUSPECTED
    assert doubtful.reasons[0] == (
        f"{start.format(n=5)}; its 8 unrecorded days could hold enough medication days for 8.2.2 (triptan on >= 10 "
        "days) or 8.2.6 (2 or more classes on >= 10 days in all)"
    )
    firm = judge(
        three_periods(headache=(12, 1, 12), migraine=(0, 0, 0), recorded=(28, 20, 28), acute_medication=["triptan"])
    ).medication_overuse
    assert firm.reasons[0] == start.format(n=1)
    recorded = judge(
        three_periods(headache=(12, 5, 12), migraine=(0, 0, 0), acute_medication=["triptan"])
    ).medication_overuse
    assert recorded.reasons[0] == start.format(n=5)
