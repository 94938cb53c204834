"""Treatment cycles: the 12-week retreatment schedule and the 400 U cumulative-dose limit."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onaboard.clinical.cycles import (
    CUMULATIVE_LIMIT_UNITS,
    DOSE_PRODUCT,
    DOSE_UNITS,
    DUE_WINDOW_DAYS,
    DUPLICATE_SESSION,
    FUTURE_SESSION,
    PROPOSED_BEFORE_PREVIOUS,
    PROPOSED_NOT_BOTOX,
    REASON_NOT_STARTED,
    RETREATMENT_INTERVAL_DAYS,
    CycleStatus,
    ScheduleError,
    ToxinDose,
    cumulative_dose_check,
    cumulative_window,
    interval_check,
    is_onabotulinumtoxin_a,
    later_window_checks,
    schedule_status,
    session_cycle_checks,
)

# --- Strategies -------------------------------------------------------------------------------------------------

days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31))
gaps = st.integers(min_value=0, max_value=400)

JAN_5 = dt.date(2026, 1, 5)
MAR_30 = dt.date(2026, 3, 30)  # 2026-01-05 + 84 days


def _botox(day: dt.date, units: int, indication: str = "chronic migraine") -> ToxinDose:
    return ToxinDose(day, "BOTOX", units, indication)


# --- Constants --------------------------------------------------------------------------------------------------


def test_retreatment_interval_is_12_weeks() -> None:
    """The retreatment interval is 12 weeks, 84 days, with a 7-day due window."""
    assert RETREATMENT_INTERVAL_DAYS == 12 * 7 == 84
    assert DUE_WINDOW_DAYS == 7
    assert JAN_5 + dt.timedelta(days=84) == MAR_30


# --- interval_check ---------------------------------------------------------------------------------------------


def test_first_session_has_no_interval_to_respect() -> None:
    """Without a previous session any date is allowed and starts cycle 1."""
    check = interval_check(None, JAN_5)
    assert (check.allowed, check.days_since_previous, check.earliest_allowed) == (True, None, None)
    assert check.reason == "12-week rule: no previous session, so 2026-01-05 starts cycle 1"


def test_83_days_after_the_previous_session_is_refused() -> None:
    """A session 83 days after the previous one is refused (< 84)."""
    check = interval_check(JAN_5, dt.date(2026, 3, 29))
    assert (check.allowed, check.days_since_previous, check.earliest_allowed) == (False, 83, MAR_30)
    assert check.reason == "12-week rule: 2026-03-29 is 83 days after the session of 2026-01-05 (< 84)"


def test_84_days_after_the_previous_session_is_allowed() -> None:
    """A session exactly 84 days after the previous one is allowed."""
    check = interval_check(JAN_5, MAR_30)
    assert (check.allowed, check.days_since_previous) == (True, 84)
    assert check.reason == "12-week rule: 2026-03-30 is 84 days after the session of 2026-01-05 (>= 84)"


def test_interval_reason_matches_the_documented_example() -> None:
    """A session 64 days after the last one reads as in the brief's example."""
    assert interval_check(JAN_5, dt.date(2026, 3, 10)).reason == (
        "12-week rule: 2026-03-10 is 64 days after the session of 2026-01-05 (< 84)"
    )


def test_same_day_as_the_previous_session_is_refused() -> None:
    """A second session on the same day is 0 days later and refused."""
    check = interval_check(JAN_5, JAN_5)
    assert (check.allowed, check.days_since_previous) == (False, 0)


def test_proposed_date_before_the_previous_session_is_an_error() -> None:
    """A proposed date earlier than the previous session is refused as an error."""
    with pytest.raises(ScheduleError) as error:
        interval_check(JAN_5, dt.date(2026, 1, 1))
    assert str(error.value) == PROPOSED_BEFORE_PREVIOUS.format(proposed="2026-01-01", previous="2026-01-05")


@given(previous=days, gap=gaps)
def test_interval_is_allowed_exactly_from_84_days(previous: dt.date, gap: int) -> None:
    """A session is allowed exactly when it is 84 days or more after the previous one."""
    check = interval_check(previous, previous + dt.timedelta(days=gap))
    assert check.allowed is (gap >= 84)
    assert check.earliest_allowed == previous + dt.timedelta(days=84)


# --- schedule_status --------------------------------------------------------------------------------------------


def test_no_sessions_means_not_started() -> None:
    """Before any session the status is not_started, cycle 0, with no dates."""
    status = schedule_status([], today=JAN_5)
    assert status.status is CycleStatus.NOT_STARTED
    assert (status.cycle_number, status.last_session, status.next_due, status.earliest_allowed) == (0, None, None, None)
    assert (status.days_overdue, status.reasons) == (0, (REASON_NOT_STARTED,))


def test_the_not_started_reason_holds_for_an_eligible_patient_too() -> None:
    """The reason says cycle 1 starts with the first session, not "when the patient is eligible": it is shown on an
    eligible patient's page as well, where waiting for eligibility would be untrue."""
    assert REASON_NOT_STARTED == "no injection session recorded yet; cycle 1 starts with the first session"


def test_83_days_after_the_last_session_is_not_yet_due() -> None:
    """83 days after the last session the next one is not yet due."""
    status = schedule_status([JAN_5], today=dt.date(2026, 3, 29))
    assert status.status is CycleStatus.NOT_YET_DUE
    assert (status.next_due, status.earliest_allowed, status.days_overdue) == (MAR_30, MAR_30, 0)
    assert status.reasons == (
        "BOTOX label, chronic migraine: retreat every 12 weeks (84 days); last session 2026-01-05, next due 2026-03-30",
        "not yet due: 2026-03-29 is 83 days after the last session (< 84); earliest 2026-03-30",
    )


def test_84_days_after_the_last_session_is_due() -> None:
    """On the due date itself (84 days) the session is due, 0 days overdue."""
    status = schedule_status([JAN_5], today=MAR_30)
    assert (status.status, status.days_overdue, status.cycle_number) == (CycleStatus.DUE, 0, 1)


def test_seven_days_past_the_due_date_is_still_due() -> None:
    """Seven days past the due date is the last day of the due window."""
    status = schedule_status([JAN_5], today=dt.date(2026, 4, 6))
    assert (status.status, status.due_until, status.days_overdue) == (CycleStatus.DUE, dt.date(2026, 4, 6), 0)
    assert status.reasons[1] == (
        "due: 2026-04-06 is 7 days past the due date 2026-03-30, within the 7-day window "
        "(clinic convention from COMPEL's 12 weeks +/- 7 days)"
    )


def test_eight_days_past_the_due_date_is_overdue() -> None:
    """Eight days past the due date is overdue, by 8 days counted from the due date."""
    status = schedule_status([JAN_5], today=dt.date(2026, 4, 7))
    assert (status.status, status.days_overdue) == (CycleStatus.OVERDUE, 8)
    assert status.reasons[1] == (
        "overdue: 2026-04-07 is 8 days past the due date 2026-03-30, beyond the 7-day window "
        "(clinic convention from COMPEL's 12 weeks +/- 7 days)"
    )


def test_a_session_today_is_not_yet_due_again() -> None:
    """On the day of a session the next one is not yet due."""
    assert schedule_status([JAN_5], today=JAN_5).status is CycleStatus.NOT_YET_DUE


def test_sessions_in_any_order_count_from_the_latest() -> None:
    """Unsorted dates are read in date order: the latest is the last session and all of them count as cycles."""
    sessions = [dt.date(2026, 3, 30), dt.date(2025, 10, 6), JAN_5]
    status = schedule_status(sessions, today=dt.date(2026, 4, 1))
    assert (status.last_session, status.cycle_number, status.next_due) == (
        dt.date(2026, 3, 30),
        3,
        dt.date(2026, 6, 22),
    )


def test_earlier_sessions_too_close_together_are_reported() -> None:
    """A past pair of sessions closer than 84 days adds the 12-week rule's reason with the numbers."""
    status = schedule_status([JAN_5, dt.date(2026, 3, 10)], today=dt.date(2026, 3, 20))
    assert status.reasons[-1] == "12-week rule: 2026-03-10 is 64 days after the session of 2026-01-05 (< 84)"
    assert len(status.reasons) == 3


def test_duplicate_session_dates_are_refused() -> None:
    """The same date listed twice is refused, naming the date and how often it appears."""
    with pytest.raises(ScheduleError) as error:
        schedule_status([JAN_5, MAR_30, JAN_5], today=dt.date(2026, 4, 1))
    assert str(error.value) == DUPLICATE_SESSION.format(date="2026-01-05", count=2)


def test_sessions_after_today_are_refused() -> None:
    """A session dated after today is refused."""
    with pytest.raises(ScheduleError) as error:
        schedule_status([JAN_5, MAR_30], today=dt.date(2026, 3, 1))
    assert str(error.value) == FUTURE_SESSION.format(date="2026-03-30", today="2026-03-01")


@given(last=days, gap=gaps)
def test_status_follows_days_since_the_last_session(last: dt.date, gap: int) -> None:
    """Under 84 days: not yet due; 84 to 91 days: due; from 92 days: overdue by days past the due date."""
    status = schedule_status([last], today=last + dt.timedelta(days=gap))
    expected = CycleStatus.NOT_YET_DUE if gap < 84 else CycleStatus.DUE if gap <= 91 else CycleStatus.OVERDUE
    assert status.status is expected
    assert status.days_overdue == (gap - 84 if expected is CycleStatus.OVERDUE else 0)
    assert status.next_due == status.earliest_allowed == last + dt.timedelta(days=84)


# --- Cumulative window ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("end", "start"),
    [
        (dt.date(2026, 4, 9), dt.date(2026, 1, 10)),
        (dt.date(2026, 5, 31), dt.date(2026, 3, 1)),  # 2026-02-31 clamps to 02-28
        (dt.date(2024, 5, 30), dt.date(2024, 3, 1)),  # leap year: 2024-02-29
        (dt.date(2024, 5, 29), dt.date(2024, 3, 1)),
        (dt.date(2024, 5, 28), dt.date(2024, 2, 29)),
        (dt.date(2026, 3, 31), dt.date(2026, 1, 1)),  # across the year end: 2025-12-31
        (dt.date(2026, 1, 15), dt.date(2025, 10, 16)),
    ],
)
def test_window_is_three_calendar_months_ending_on_the_date(end: dt.date, start: dt.date) -> None:
    """The window runs from the day after the same day 3 calendar months earlier (clamped) to the date itself."""
    assert cumulative_window(end) == (start, end)


@given(end=days)
def test_window_spans_89_to_92_days(end: dt.date) -> None:
    """Three calendar months hold 89 to 92 days, so the window is that long, ending on its date."""
    start, last = cumulative_window(end)
    assert last == end
    assert 89 <= (end - start).days + 1 <= 92


# --- Cumulative dose --------------------------------------------------------------------------------------------

APR_9 = dt.date(2026, 4, 9)


def test_455_units_in_three_months_are_refused() -> None:
    """155 U proposed on top of 300 U in the window makes 455 U, above the label's 400 U."""
    check = cumulative_dose_check(_botox(APR_9, 155), [_botox(dt.date(2026, 1, 10), 300, "spasticity")])
    assert (check.allowed, check.window_units, check.total_units, check.limit_units) == (False, 300, 455, 400)
    assert (check.window_start, check.window_end) == (dt.date(2026, 1, 10), APR_9)
    assert check.reasons == (
        "BOTOX label: 155 U proposed + 300 U in 2026-01-10..2026-04-09 = 455 U (> 400 U in 3 months)",
    )


def test_exactly_400_units_are_allowed() -> None:
    """155 U proposed with 245 U already given makes exactly 400 U, which is allowed."""
    check = cumulative_dose_check(_botox(APR_9, 155), [_botox(dt.date(2026, 2, 1), 245, "cervical dystonia")])
    assert (check.allowed, check.total_units) == (True, 400)
    assert check.reasons[0].endswith("= 400 U (<= 400 U in 3 months)")


def test_a_dose_entered_late_is_judged_in_the_windows_of_later_doses() -> None:
    """A session dated before doses already given falls in their 3-month windows: each window holding the proposed
    date is judged with it added; a later dose beyond 3 months, or another product, has no window to judge."""
    history = [
        _botox(dt.date(2026, 5, 1), 246, "cervical dystonia"),
        _botox(dt.date(2026, 7, 10), 100, "bladder"),
    ]
    checks = later_window_checks(_botox(APR_9, 155), history)
    assert checks == (
        (
            False,
            (
                "BOTOX label: with 155 U on 2026-04-09, the 3 months 2026-02-02..2026-05-01 (to the dose of "
                "2026-05-01) hold 401 U (> 400 U in 3 months)"
            ),
        ),
    )  # the dose of 2026-07-10 is more than 3 months later: its window (from 2026-04-11) does not hold 2026-04-09
    assert later_window_checks(_botox(APR_9, 155), [_botox(dt.date(2026, 5, 1), 245)])[0][0] is True
    same_day = [_botox(dt.date(2026, 5, 1), 100), _botox(dt.date(2026, 5, 1), 100, "bladder")]
    assert len(later_window_checks(_botox(APR_9, 155), same_day)) == 1  # one window per day, not per dose


def test_401_units_are_refused() -> None:
    """155 U proposed with 246 U already given makes 401 U, which is refused."""
    check = cumulative_dose_check(_botox(APR_9, 155), [_botox(dt.date(2026, 2, 1), 246, "cervical dystonia")])
    assert (check.allowed, check.total_units) == (False, 401)


def test_a_dose_exactly_three_months_earlier_falls_outside_the_window() -> None:
    """A dose on the same day 3 months earlier is outside the window; the next day is inside."""
    outside = cumulative_dose_check(_botox(APR_9, 155), [_botox(dt.date(2026, 1, 9), 300)])
    inside = cumulative_dose_check(_botox(APR_9, 155), [_botox(dt.date(2026, 1, 10), 300)])
    assert (outside.window_units, outside.allowed) == (0, True)
    assert (inside.window_units, inside.allowed) == (300, False)


def test_doses_on_the_proposed_day_count_and_later_ones_do_not() -> None:
    """A dose earlier on the proposed day counts; a dose after the proposed day is outside the window."""
    check = cumulative_dose_check(
        _botox(APR_9, 155), [_botox(APR_9, 100, "hyperhidrosis"), _botox(dt.date(2026, 4, 10), 300)]
    )
    assert (check.window_units, check.total_units) == (100, 255)
    assert [dose.date for dose in check.counted] == [APR_9]


def test_other_toxin_products_are_listed_but_not_counted() -> None:
    """Dysport units are not added to BOTOX units; the dose is listed with the interchangeability reason."""
    dysport = ToxinDose(dt.date(2026, 2, 1), "Dysport", 500, "cervical dystonia")
    check = cumulative_dose_check(_botox(APR_9, 155), [dysport])
    assert (check.allowed, check.window_units, check.not_counted) == (True, 0, (dysport,))
    assert check.reasons[1] == (
        "not counted: Dysport 500 U on 2026-02-01 (units of other botulinum toxin products cannot be converted to "
        "BOTOX units; BOTOX label, Lack of Interchangeability)"
    )


def test_botox_cosmetic_counts_toward_the_limit() -> None:
    """BOTOX Cosmetic is onabotulinumtoxinA, so its units count toward the 400 U."""
    check = cumulative_dose_check(_botox(APR_9, 155), [ToxinDose(dt.date(2026, 3, 1), "Botox Cosmetic", 64)])
    assert check.window_units == 64


def test_the_proposed_dose_must_be_botox() -> None:
    """The 400 U limit is in BOTOX units, so a proposed dose of another product is refused."""
    with pytest.raises(ScheduleError) as error:
        cumulative_dose_check(ToxinDose(APR_9, "Xeomin", 100), [])
    assert str(error.value) == PROPOSED_NOT_BOTOX.format(product="Xeomin")


@given(
    proposed=st.integers(1, 400),
    history=st.lists(st.tuples(st.integers(0, 120), st.integers(1, 200)), max_size=6),
)
def test_the_limit_holds_exactly_at_400_units(proposed: int, history: list[tuple[int, int]]) -> None:
    """A dose is allowed exactly when it plus the BOTOX units of the window's doses is 400 U or less."""
    doses = [_botox(APR_9 - dt.timedelta(days=back), units) for back, units in history]
    check = cumulative_dose_check(_botox(APR_9, proposed), doses)
    start, _ = cumulative_window(APR_9)
    in_window = sum(dose.units for dose in doses if dose.date >= start)
    assert check.window_units == in_window
    assert check.allowed is (proposed + in_window <= CUMULATIVE_LIMIT_UNITS)


# --- A session's checks against the patient's history -----------------------------------------------------------


def test_a_session_is_checked_against_its_neighbours_and_every_window_it_falls_in() -> None:
    """A session entered between two others is checked 12 weeks from the one before and to the one after; its dose
    counts the sessions' units as BOTOX and the other doses, in its own window and in the later session's."""
    sessions = [(JAN_5, 155), (dt.date(2026, 5, 1), 200), (dt.date(2026, 9, 1), None)]
    dysport = ToxinDose(dt.date(2026, 3, 1), "Dysport", 500)
    checks = session_cycle_checks(
        APR_9, 155, product="BOTOX", sessions=sessions, other_doses=[_botox(dt.date(2026, 3, 2), 50), dysport]
    )
    assert [check.previous_session for check in checks.intervals] == [JAN_5, APR_9]
    assert checks.interval_allowed is False  # 2026-04-09 to 2026-05-01 is 22 days
    assert checks.interval_reasons == tuple(check.reason for check in checks.intervals)
    assert checks.intervals[0] == interval_check(JAN_5, APR_9)
    assert checks.intervals[1] == interval_check(APR_9, dt.date(2026, 5, 1))
    history = [_botox(JAN_5, 155), _botox(dt.date(2026, 5, 1), 200), _botox(dt.date(2026, 3, 2), 50), dysport]
    assert checks.dose == cumulative_dose_check(_botox(APR_9, 155), history)
    assert checks.dose is not None
    assert checks.dose.window_units == 50
    assert checks.dose.not_counted == (dysport,)
    assert checks.later_windows == later_window_checks(_botox(APR_9, 155), history)
    assert checks.dose_allowed is False  # 2026-05-01's window: 155 + 50 + 200 = 405 U
    assert checks.dose_reasons == (*checks.dose.reasons, checks.later_windows[0][1])


def test_a_session_on_a_recorded_day_is_not_its_own_neighbour_and_its_dose_waits_for_units() -> None:
    """A session on the day of another (the one being entered, or a second that day) is not an interval: the first
    session after none is cycle 1; without units (None, 0) the dose check has not run, neither allowed nor
    refused, and a session without units (None, 0) counts none."""
    checks = session_cycle_checks(APR_9, None, product="BOTOX", sessions=[(APR_9, 155)])
    assert checks.intervals == (interval_check(None, APR_9),)
    assert checks.interval_allowed is True
    assert (checks.dose, checks.dose_allowed, checks.dose_reasons) == (None, None, ())
    assert session_cycle_checks(APR_9, 0, product="BOTOX", sessions=[]).dose is None
    counted = session_cycle_checks(
        APR_9, 155, product="BOTOX", sessions=[(APR_9, 100), (dt.date(2026, 3, 1), None), (dt.date(2026, 3, 2), 0)]
    )
    assert counted.dose is not None
    assert counted.dose.window_units == 100
    assert counted.dose_allowed is True
    assert counted.dose_reasons == counted.dose.reasons


def test_a_session_of_another_product_is_refused() -> None:
    """The checks are a BOTOX session's: another product is refused as ``cumulative_dose_check`` refuses it."""
    with pytest.raises(ScheduleError) as error:
        session_cycle_checks(APR_9, None, product="Xeomin", sessions=[])
    assert str(error.value) == PROPOSED_NOT_BOTOX.format(product="Xeomin")


# --- Doses and products -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("product", "is_ona"),
    [
        ("BOTOX", True),
        ("Botox", True),
        ("Botox Cosmetic", True),
        ("BOTOX\u00ae 200 U", True),
        ("onabotulinumtoxinA", True),
        ("Dysport", False),
        ("abobotulinumtoxinA", False),
        ("Xeomin", False),
        ("Myobloc", False),
        ("Daxxify", False),
    ],
)
def test_product_names_recognise_onabotulinumtoxin_a(product: str, is_ona: bool) -> None:
    """BOTOX and onabotulinumtoxinA names are recognised; other botulinum toxin products are not."""
    assert is_onabotulinumtoxin_a(product) is is_ona


@pytest.mark.parametrize(
    "product",
    [
        "onabotulinumtoxin A",
        "Onabotulinum toxin A",
        "ona-botulinumtoxinA",
        "OnabotulinumtoxinA 200 U",
        "Onabotulinumtoxin A 300 U",
        "onabotulinumtoxin type A",
        "Botox100U",
        "BOTOX®100U",
        "\uff22\uff2f\uff34\uff2f\uff38",  # full-width BOTOX
        "Vistabel",
        "VISTABEL 4 Allergan Units/0.1 ml",
    ],
)
def test_spellings_of_onabotulinumtoxin_a_are_recognised(product: str) -> None:
    """Spaced, hyphenated or run-together spellings of onabotulinumtoxinA / BOTOX, and the EU/UK brand Vistabel,
    are onabotulinumtoxinA; all but "OnabotulinumtoxinA 200 U" and "BOTOX\u00ae100U" were missed when the name had
    to hold the word "botox" or "onabotulinumtoxina"."""
    assert is_onabotulinumtoxin_a(product) is True


@pytest.mark.parametrize(
    "product",
    [
        "abobotulinumtoxinA",
        "abobotulinum toxin A",
        "Dysport",
        "incobotulinumtoxinA",
        "Xeomin",
        "Bocouture",
        "daxibotulinumtoxinA",
        "daxibotulinumtoxinA-lanm",
        "Daxxify",
        "rimabotulinumtoxinB",
        "Myobloc",
        "prabotulinumtoxinA",
        "prabotulinumtoxinA-xvfs",
        "Jeuveau",
        "letibotulinumtoxinA",
        "letibotulinumtoxinA-wlbg",
        "Letybo",
        "Botulax",
        "Neuronox",
        "botulinum toxin type A",
    ],
)
def test_other_botulinum_toxins_are_not_onabotulinumtoxin_a(product: str) -> None:
    """No other botulinum toxin product's brand or nonproprietary name contains an onabotulinumtoxinA fragment, so
    their units stay out of the BOTOX total (BOTOX label, Lack of Interchangeability)."""
    assert is_onabotulinumtoxin_a(product) is False


def test_a_spaced_onabotulinumtoxin_a_dose_counts_toward_the_limit() -> None:
    """A dose written "Onabotulinumtoxin A 300 U" 20 days before a 155 U session is BOTOX: the total is 455 U,
    refused, and the dose is not listed as a product whose units cannot be converted."""
    earlier = ToxinDose(APR_9 - dt.timedelta(days=20), "Onabotulinumtoxin A 300 U", 300, "spasticity")
    check = cumulative_dose_check(_botox(APR_9, 155), [earlier])
    assert (check.allowed, check.window_units, check.total_units) == (False, 300, 455)
    assert (check.counted, check.not_counted) == ((earlier,), ())
    assert check.reasons == (
        "BOTOX label: 155 U proposed + 300 U in 2026-01-10..2026-04-09 = 455 U (> 400 U in 3 months)",
    )


@pytest.mark.parametrize("units", [0, -10, True, 1.5])
def test_dose_units_must_be_a_positive_whole_number(units: object) -> None:
    """A dose of 0, negative, bool or fractional units is refused."""
    with pytest.raises(ScheduleError) as error:
        ToxinDose(APR_9, "BOTOX", units)  # type: ignore[arg-type]
    assert str(error.value) == DOSE_UNITS.format(units=units)


@pytest.mark.parametrize("product", ["", "   ", None])
def test_dose_product_must_be_named(product: object) -> None:
    """A dose without a product name is refused."""
    with pytest.raises(ScheduleError) as error:
        ToxinDose(APR_9, product, 100)  # type: ignore[arg-type]
    assert str(error.value) == DOSE_PRODUCT.format(product=product)


def test_schedule_error_is_a_value_error() -> None:
    """ScheduleError is a ValueError, so callers that catch bad input catch it."""
    assert issubclass(ScheduleError, ValueError)


def test_a_single_day_is_written_in_the_singular():
    """One day apart reads "1 day", not "1 days", in the interval check and the schedule's reasons."""
    check = interval_check(dt.date(2026, 1, 5), dt.date(2026, 1, 6))
    assert check.reason == "12-week rule: 2026-01-06 is 1 day after the session of 2026-01-05 (< 84)"
    status = schedule_status([dt.date(2026, 1, 5)], today=dt.date(2026, 1, 6))
    assert "not yet due: 2026-01-06 is 1 day after the last session (< 84)" in status.reasons[-1]
